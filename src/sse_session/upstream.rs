//! A held session's side toward the upstream: delivering the client's messages, as Streamable
//! HTTP POSTs or to a legacy server's endpoint, and pumping what the upstream sends back onto
//! the client's stream. The transport rules (which transport, when the session is lost, the
//! replayed `initialize`, the `endpoint` wait, the reconnect backoff) are
//! `bindify_core::mcp::upstream_session`'s; every request goes through `crate::forward`.

use std::time::Duration;

use bindify_core::failure::{self, Refusal};
use bindify_core::headers as header;
use bindify_core::lifecycle::connection_service::Grant;
use bindify_core::mcp::jsonrpc::Inbound;
use bindify_core::mcp::legacy_sse;
use bindify_core::mcp::relay::{Body, Verdict};
use bindify_core::mcp::session::{is_initialize, messages_of_json_body, negotiated_version};
use bindify_core::mcp::sse::{MAX_EVENT_BYTES, SseItem, SseParser};
use bindify_core::mcp::upstream_session::{
    ENDPOINT_WAIT_MS, EndpointWait, INITIALIZED, LEGACY_STREAM_STABLE_MS, UpstreamState, Waited,
    is_reinitialize_answer, legacy_reconnect_delay_ms, lost_session, means_legacy_upstream,
    reinitialize_body,
};
use futures_util::StreamExt;
use futures_util::future::{Either, select};
use worker::{
    ByteStream, Delay, Env, Headers, Method, Request, RequestInit, RequestRedirect, Response,
};

use super::state::{Shared, client_connected, emit, end};
use crate::forward::{self, Failure, Target};
use crate::grants::{Background, Warm};
use crate::{clock, config};

/// Why a client message was not delivered, when the client must hear it on its POST.
pub enum Undelivered {
    /// A notification that could not be delivered: its refusal.
    Refused(Refusal),
    /// The URL secret no longer opens the connection: the session is over.
    Gone,
}

/// Delivers one client message. `Ok` means accepted (the client gets 202); answers, and
/// errors for requests, arrive on the stream.
pub async fn deliver(
    env: &Env,
    shared: &Shared,
    body: Vec<u8>,
    inbound: &Inbound,
) -> Result<(), Undelivered> {
    if is_initialize(&body)
        && let Some(session) = shared.borrow_mut().as_mut()
    {
        session.initialize = Some(body.clone());
    }
    let result = match current_upstream(shared) {
        UpstreamState::Legacy { post_url } => post_legacy(env, shared, &post_url, &body).await,
        UpstreamState::Unknown | UpstreamState::Streamable { .. } => {
            deliver_streamable(env, shared, &body).await
        }
    };
    if result.is_ok() && inbound.first_method() == Some("notifications/initialized") {
        start_listening(env, shared);
    }
    match result {
        Ok(()) => Ok(()),
        Err(failure) => fail(shared, inbound, &failure),
    }
}

/// Turns a delivery failure into JSON-RPC errors on the stream (for requests), a refusal (for
/// notifications), or the end of the session (when its URL no longer opens the connection).
fn fail(shared: &Shared, inbound: &Inbound, failure: &Failure) -> Result<(), Undelivered> {
    let reconnect_url = shared
        .borrow()
        .as_ref()
        .map(|s| s.reconnect_url.clone())
        .unwrap_or_default();
    let Some(refusal) = crate::relay::failure_refusal(failure, Some(inbound), &reconnect_url)
    else {
        end(shared);
        return Err(Undelivered::Gone);
    };
    if !inbound.has_requests() {
        return Err(Undelivered::Refused(refusal));
    }
    for message in messages_of_json_body(refusal.body.as_bytes()).unwrap_or_default() {
        emit(shared, legacy_sse::message_event(message));
    }
    Ok(())
}

fn current_upstream(shared: &Shared) -> UpstreamState {
    shared
        .borrow()
        .as_ref()
        .map(|s| s.upstream.clone())
        .unwrap_or(UpstreamState::Unknown)
}

fn update_upstream(shared: &Shared, change: impl FnOnce(&mut UpstreamState)) {
    if let Some(session) = shared.borrow_mut().as_mut() {
        change(&mut session.upstream);
    }
}

/// The upstream's MCP URL as far as the session knows it, for messages.
fn upstream_name(shared: &Shared) -> String {
    shared
        .borrow()
        .as_ref()
        .and_then(|s| s.upstream_url.clone())
        .unwrap_or_else(|| "the MCP server".to_owned())
}

fn unreachable(shared: &Shared, detail: impl Into<String>) -> Failure {
    Failure::Failed(failure::Failure::UpstreamUnreachable {
        upstream: upstream_name(shared),
        detail: detail.into(),
    })
}

/// Sends a request built by `build` through `crate::forward` (token, send, one refresh and
/// replay on a 401), as the connection this session belongs to.
async fn authorized<F>(env: &Env, shared: &Shared, build: F) -> Result<(Response, Grant), Failure>
where
    F: Fn(&Grant) -> worker::Result<Request>,
{
    let Some((id, hash)) = shared
        .borrow()
        .as_ref()
        .map(|s| (s.connection_id.clone(), s.hash))
    else {
        return Err(Failure::Gone);
    };
    // Read once per upstream request: this object runs no request of the Worker's own.
    let warm = Warm {
        bound_ms: config::read(env).revocation_bound_ms,
        background: Background::Object,
    };
    let answered = forward::authorized(
        env,
        warm,
        Target {
            id: &id,
            hash: &hash,
        },
        build,
    )
    .await?;
    if let Some(session) = shared.borrow_mut().as_mut() {
        session.upstream_url = Some(answered.1.upstream.clone());
    }
    Ok(answered)
}

fn request(
    method: Method,
    url: &str,
    grant: &Grant,
    headers: &[(&str, String)],
    body: Option<&[u8]>,
) -> worker::Result<Request> {
    let h = Headers::new();
    for (name, value) in headers {
        h.set(name, value)?;
    }
    if let Some((name, value)) = grant.authorization() {
        h.set(name, &value)?;
    }
    let mut init = RequestInit::new();
    init.with_method(method)
        .with_headers(h)
        .with_redirect(RequestRedirect::Manual);
    if let Some(body) = body {
        init.with_body(Some(worker::js_sys::Uint8Array::from(body).into()));
    }
    Request::new_with_init(url, &init)
}

async fn post_streamable(
    env: &Env,
    shared: &Shared,
    body: &[u8],
) -> Result<(Response, Grant), Failure> {
    let headers = current_upstream(shared).post_headers();
    authorized(env, shared, |grant| {
        request(Method::Post, &grant.upstream, grant, &headers, Some(body))
    })
    .await
}

/// The Streamable HTTP path, detecting a legacy-only upstream on `initialize`.
async fn deliver_streamable(env: &Env, shared: &Shared, body: &[u8]) -> Result<(), Failure> {
    let before = current_upstream(shared);
    let initialize = is_initialize(body);
    let (response, _) = post_streamable(env, shared, body).await?;
    let status = response.status_code();
    if before == UpstreamState::Unknown && means_legacy_upstream(initialize, false, status) {
        let post_url = open_legacy(env, shared).await?;
        return post_legacy(env, shared, &post_url, body).await;
    }
    if lost_session(before.has_session(), status) {
        reinitialize_streamable(env, shared).await?;
        let (response, _) = post_streamable(env, shared, body).await?;
        return relay_streamable(shared, response, initialize).await;
    }
    relay_streamable(shared, response, initialize).await
}

/// Relays a Streamable HTTP answer onto the client's stream, as far as `bindify_core::mcp::relay`
/// lets it through.
async fn relay_streamable(
    shared: &Shared,
    mut response: Response,
    initialize: bool,
) -> Result<(), Failure> {
    let status = response.status_code();
    if !(200..300).contains(&status) {
        return Err(unreachable(
            shared,
            format!("the server answered HTTP {status}"),
        ));
    }
    let session_id = response
        .headers()
        .get(header::MCP_SESSION_ID)
        .ok()
        .flatten();
    update_upstream(shared, |upstream| upstream.after_post(session_id));
    if status == 202 {
        return Ok(());
    }
    let content_type = response.headers().get(header::CONTENT_TYPE).ok().flatten();
    let content_length = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .ok()
        .flatten();
    match bindify_core::mcp::relay::verdict(
        status,
        content_type.as_deref(),
        content_length.as_deref(),
    ) {
        Verdict::Relay(Body::EventStream) => {
            let stream = response
                .stream()
                .map_err(|e| unreachable(shared, e.to_string()))?;
            // Pumped in the background: the client's POST is answered 202 at once, as HTTP+SSE
            // expects.
            worker::wasm_bindgen_futures::spawn_local(pump(
                shared.clone(),
                stream,
                SseParser::new(),
                initialize,
            ));
            Ok(())
        }
        Verdict::Relay(Body::Json) => {
            // Every message becomes one event, so one answer is as large as an event may be.
            let bytes = forward::read_capped(&mut response, MAX_EVENT_BYTES)
                .await
                .map_err(|detail| unreachable(shared, detail))?;
            for message in messages_of_json_body(&bytes).unwrap_or_default() {
                relay_message(shared, message, initialize);
            }
            Ok(())
        }
        Verdict::RelayWithoutBody | Verdict::RelayIfEmpty => Ok(()),
        Verdict::Refuse(foreign) => Err(Failure::Failed(failure::Failure::UpstreamBadAnswer {
            upstream: upstream_name(shared),
            foreign,
        })),
    }
}

/// Relays one upstream message, noting the negotiated version and hiding Bindify's own
/// re-initialization.
fn relay_message(shared: &Shared, message: String, initialize: bool) {
    if is_reinitialize_answer(&message) {
        return;
    }
    if initialize && let Some(version) = negotiated_version(&message) {
        update_upstream(shared, |upstream| upstream.negotiated(version));
    }
    emit(shared, legacy_sse::message_event(message));
}

/// Reads SSE events from the upstream and relays their messages until the stream ends.
async fn pump(shared: Shared, mut stream: ByteStream, mut parser: SseParser, initialize: bool) {
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else { break };
        for item in parser.push(&chunk) {
            if let SseItem::Event(event) = item
                && legacy_sse::is_message_event(&event)
                && !event.data.is_empty()
            {
                relay_message(&shared, event.data, initialize);
            }
        }
    }
}

/// The client's `initialize`, replayed with Bindify's own id.
fn reinitialize(shared: &Shared) -> Option<Vec<u8>> {
    let original = shared
        .borrow()
        .as_ref()
        .and_then(|s| s.initialize.clone())?;
    reinitialize_body(&original)
}

async fn reinitialize_streamable(env: &Env, shared: &Shared) -> Result<(), Failure> {
    let Some(body) = reinitialize(shared) else {
        return Err(unreachable(shared, "the server lost the session"));
    };
    update_upstream(shared, UpstreamState::forget);
    let (response, _) = post_streamable(env, shared, &body).await?;
    if !(200..300).contains(&response.status_code()) {
        return Err(unreachable(
            shared,
            "the server refused to start a new session",
        ));
    }
    let session_id = response
        .headers()
        .get(header::MCP_SESSION_ID)
        .ok()
        .flatten();
    update_upstream(shared, |upstream| upstream.after_post(session_id));
    post_streamable(env, shared, INITIALIZED).await?;
    Ok(())
}

/// Opens the upstream's GET stream for server-initiated messages, once per session.
fn start_listening(env: &Env, shared: &Shared) {
    let mut should = false;
    update_upstream(shared, |upstream| should = upstream.start_listening());
    if !should {
        return;
    }
    let (env, shared) = (env.clone(), shared.clone());
    worker::wasm_bindgen_futures::spawn_local(async move {
        let headers = current_upstream(&shared).listen_headers();
        let Ok((mut response, _)) = authorized(&env, &shared, |grant| {
            request(Method::Get, &grant.upstream, grant, &headers, None)
        })
        .await
        else {
            return;
        };
        // 405: the server offers no such stream; that is allowed. Anything but an event
        // stream is not read.
        let content_type = response.headers().get(header::CONTENT_TYPE).ok().flatten();
        let verdict = bindify_core::mcp::relay::verdict(
            response.status_code(),
            content_type.as_deref(),
            None,
        );
        if response.status_code() != 200 || verdict != Verdict::Relay(Body::EventStream) {
            return;
        }
        if let Ok(stream) = response.stream() {
            pump(shared, stream, SseParser::new(), false).await;
        }
    });
}

/// Connects to a legacy upstream's SSE stream and returns the URL its `endpoint` event names;
/// the rest of the stream is relayed in the background, and reconnected (with backoff) if it
/// drops.
async fn open_legacy(env: &Env, shared: &Shared) -> Result<String, Failure> {
    let headers = [(header::ACCEPT, "text/event-stream".to_owned())];
    let (mut response, grant) = authorized(env, shared, |grant| {
        request(Method::Get, &grant.upstream, grant, &headers, None)
    })
    .await?;
    let status = response.status_code();
    let content_type = response.headers().get(header::CONTENT_TYPE).ok().flatten();
    match bindify_core::mcp::relay::verdict(status, content_type.as_deref(), None) {
        Verdict::Relay(Body::EventStream) if status == 200 => {}
        Verdict::Refuse(foreign) => {
            return Err(Failure::Failed(failure::Failure::UpstreamBadAnswer {
                upstream: grant.upstream,
                foreign,
            }));
        }
        _ => {
            return Err(unreachable(
                shared,
                format!("the server answered its stream's GET with HTTP {status}"),
            ));
        }
    }
    let stream_url =
        url::Url::parse(&grant.upstream).map_err(|e| unreachable(shared, e.to_string()))?;
    let mut stream = response
        .stream()
        .map_err(|e| unreachable(shared, e.to_string()))?;
    let mut wait = EndpointWait::new(stream_url);
    let found = {
        let waiting = std::pin::pin!(async {
            loop {
                let Some(Ok(chunk)) = stream.next().await else {
                    return Err("the server closed its stream before naming an endpoint".to_owned());
                };
                match wait.push(&chunk) {
                    Ok(Waited::More) => {}
                    Ok(Waited::Endpoint { post_url, messages }) => {
                        return Ok((post_url, messages));
                    }
                    Err(e) => return Err(e.to_string()),
                }
            }
        });
        let timer = std::pin::pin!(Delay::from(Duration::from_millis(ENDPOINT_WAIT_MS)));
        match select(waiting, timer).await {
            Either::Left((found, _)) => found,
            Either::Right(((), _)) => Err(format!(
                "the server named no endpoint within {} s",
                ENDPOINT_WAIT_MS / 1000
            )),
        }
    };
    let (post_url, early) = found.map_err(|detail| unreachable(shared, detail))?;
    let post_url = post_url.to_string();
    update_upstream(shared, |upstream| {
        *upstream = UpstreamState::Legacy {
            post_url: post_url.clone(),
        }
    });
    for message in early {
        relay_message(shared, message, false);
    }
    let parser = wait.into_parser();
    let (env, shared) = (env.clone(), shared.clone());
    worker::wasm_bindgen_futures::spawn_local(async move {
        let opened_at = clock::now();
        pump(shared.clone(), stream, parser, false).await;
        if clock::now().saturating_sub(opened_at) >= LEGACY_STREAM_STABLE_MS
            && let Some(session) = shared.borrow_mut().as_mut()
        {
            session.legacy_failures = 0;
        }
        reconnect_legacy(env, shared).await;
    });
    Ok(post_url)
}

/// The legacy upstream dropped its stream: wait as `legacy_reconnect_delay_ms` says, open a
/// new one and re-initialize, while the client is still there. After too many failures in a
/// row the session ends, and the client starts a new one.
async fn reconnect_legacy(env: Env, shared: Shared) {
    loop {
        let attempt = match shared.borrow_mut().as_mut() {
            Some(session) => {
                session.legacy_failures = session.legacy_failures.saturating_add(1);
                session.legacy_failures
            }
            None => return,
        };
        let Some(delay) = legacy_reconnect_delay_ms(attempt) else {
            worker::console_warn!("sse session: the legacy upstream keeps dropping its stream");
            end(&shared);
            return;
        };
        Delay::from(Duration::from_millis(delay)).await;
        if !client_connected(&shared) {
            return;
        }
        let Some(body) = reinitialize(&shared) else {
            return;
        };
        match Box::pin(open_legacy(&env, &shared)).await {
            Ok(post_url) => {
                let _ = post_legacy(&env, &shared, &post_url, &body).await;
                let _ = post_legacy(&env, &shared, &post_url, INITIALIZED).await;
                return;
            }
            Err(_) => {
                worker::console_warn!("sse session: the legacy upstream could not be reconnected")
            }
        }
    }
}

async fn post_legacy(
    env: &Env,
    shared: &Shared,
    post_url: &str,
    body: &[u8],
) -> Result<(), Failure> {
    let headers = [(header::CONTENT_TYPE, "application/json".to_owned())];
    let (response, _) = authorized(env, shared, |grant| {
        request(Method::Post, post_url, grant, &headers, Some(body))
    })
    .await?;
    match response.status_code() {
        200..=299 => Ok(()),
        status => Err(unreachable(
            shared,
            format!("the server answered HTTP {status}"),
        )),
    }
}
