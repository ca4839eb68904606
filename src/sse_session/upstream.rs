//! A legacy session's side toward the upstream: delivering the client's messages, as
//! Streamable HTTP POSTs or to a legacy server's endpoint, and pumping what the upstream sends
//! back onto the client's stream. When the upstream loses the session (a 404 on its session
//! id, or a dropped legacy stream), Bindify re-initializes it with the client's original
//! `initialize` and hides the answer, so the client does not notice.

use bindify_core::connection_service::Grant;
use bindify_core::jsonrpc::Inbound;
use bindify_core::legacy_sse::{self, resolve_endpoint};
use bindify_core::proxy::{self, Refusal};
use bindify_core::refresh::Unavailable;
use bindify_core::session::{is_initialize, messages_of_json_body, negotiated_version};
use bindify_core::sse::{SseItem, SseParser};
use futures_util::StreamExt;
use oauth2::AccessToken;
use worker::{
    ByteStream, Env, Fetch, Headers, Method, Request, RequestInit, RequestRedirect, Response,
};

use super::state::{Shared, Upstream, client_connected, emit};
use crate::connection_client::{self, TokenAnswer};

/// The JSON-RPC id of the `initialize` Bindify replays itself; its answer is not relayed.
const REINITIALIZE_ID: &str = "bindify-reinitialize";
const INITIALIZED: &[u8] = br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

/// Why a message could not be delivered.
enum Failure {
    Unavailable(Unavailable),
    Unreachable(String),
}

/// Delivers one client message. `Ok` means accepted (the client gets 202); answers, and
/// errors for requests, arrive on the stream. `Err` is for a notification that could not be
/// delivered, which has no other way to fail.
pub async fn deliver(
    env: &Env,
    shared: &Shared,
    body: Vec<u8>,
    inbound: &Inbound,
) -> Result<(), Refusal> {
    if is_initialize(&body)
        && let Some(session) = shared.borrow_mut().as_mut()
    {
        session.initialize = Some(body.clone());
    }
    let result = match current_upstream(shared) {
        Upstream::Legacy { post_url } => post_legacy(env, shared, &post_url, &body).await,
        Upstream::Unknown | Upstream::Streamable { .. } => {
            deliver_streamable(env, shared, &body).await
        }
    };
    if result.is_ok() && inbound.first_method() == Some("notifications/initialized") {
        start_listening(env, shared);
    }
    match result {
        Ok(()) => Ok(()),
        Err(failure) => fail(shared, inbound, failure),
    }
}

/// Turns a delivery failure into JSON-RPC errors on the stream (for requests) or a refusal.
fn fail(shared: &Shared, inbound: &Inbound, failure: Failure) -> Result<(), Refusal> {
    let reconnect_url = shared
        .borrow()
        .as_ref()
        .map(|s| s.reconnect_url.clone())
        .unwrap_or_default();
    let upstream = "the MCP server";
    let refusal = match failure {
        Failure::Unavailable(why) => proxy::unavailable(Some(inbound), &why, &reconnect_url),
        Failure::Unreachable(detail) => {
            proxy::upstream_unreachable(Some(inbound), upstream, &detail)
        }
    };
    if !inbound.has_requests() {
        return Err(refusal);
    }
    for message in messages_of_json_body(refusal.body.as_bytes()).unwrap_or_default() {
        emit(shared, legacy_sse::message_event(message));
    }
    Ok(())
}

fn current_upstream(shared: &Shared) -> Upstream {
    shared
        .borrow()
        .as_ref()
        .map(|s| s.upstream.clone())
        .unwrap_or(Upstream::Unknown)
}

fn ids(shared: &Shared) -> Option<(String, bindify_core::secret::SecretHash)> {
    shared
        .borrow()
        .as_ref()
        .map(|s| (s.connection_id.clone(), s.hash))
}

async fn token(
    env: &Env,
    shared: &Shared,
    rejected: Option<&AccessToken>,
) -> Result<Grant, Failure> {
    let Some((id, hash)) = ids(shared) else {
        return Err(Failure::Unavailable(Unavailable::NeedsReauth));
    };
    match connection_client::token(env, &id, &hash, rejected).await {
        Ok(TokenAnswer::Token(grant)) => Ok(grant),
        Ok(TokenAnswer::NeedsReauth | TokenAnswer::NotFound) => {
            Err(Failure::Unavailable(Unavailable::NeedsReauth))
        }
        Ok(TokenAnswer::Transient { retry_at }) => {
            Err(Failure::Unavailable(Unavailable::Transient { retry_at }))
        }
        Err(e) => Err(Failure::Unreachable(e.to_string())),
    }
}

/// Sends a request built by `build` with a bearer token; on a 401, refreshes once and replays.
async fn authorized<F>(env: &Env, shared: &Shared, build: F) -> Result<Response, Failure>
where
    F: Fn(&Grant) -> worker::Result<Request>,
{
    authorized_with_upstream(env, shared, build)
        .await
        .map(|(response, _)| response)
}

/// [`authorized`], also returning the upstream MCP URL the token is for.
async fn authorized_with_upstream<F>(
    env: &Env,
    shared: &Shared,
    build: F,
) -> Result<(Response, String), Failure>
where
    F: Fn(&Grant) -> worker::Result<Request>,
{
    let grant = token(env, shared, None).await?;
    let response = send(build(&grant)).await?;
    if response.status_code() != 401 {
        return Ok((response, grant.upstream));
    }
    let grant = token(env, shared, Some(&grant.access_token)).await?;
    let response = send(build(&grant)).await?;
    if response.status_code() == 401 {
        return Err(Failure::Unavailable(Unavailable::NeedsReauth));
    }
    Ok((response, grant.upstream))
}

async fn send(request: worker::Result<Request>) -> Result<Response, Failure> {
    let request = request.map_err(|e| Failure::Unreachable(e.to_string()))?;
    Fetch::Request(request).send().await.map_err(|e| {
        worker::console_warn!("sse session: upstream unreachable: {e}");
        Failure::Unreachable("the server did not answer".into())
    })
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
    h.set(
        "authorization",
        &format!("Bearer {}", grant.access_token.secret()),
    )?;
    let mut init = RequestInit::new();
    init.with_method(method)
        .with_headers(h)
        .with_redirect(RequestRedirect::Manual);
    if let Some(body) = body {
        init.with_body(Some(worker::js_sys::Uint8Array::from(body).into()));
    }
    Request::new_with_init(url, &init)
}

/// Headers of a Streamable HTTP POST in this session.
fn streamable_headers(shared: &Shared) -> Vec<(&'static str, String)> {
    let mut headers = vec![
        ("content-type", "application/json".to_owned()),
        ("accept", "application/json, text/event-stream".to_owned()),
    ];
    if let Upstream::Streamable {
        session_id,
        version,
        ..
    } = current_upstream(shared)
    {
        if let Some(id) = session_id {
            headers.push(("mcp-session-id", id));
        }
        if let Some(version) = version {
            headers.push(("mcp-protocol-version", version));
        }
    }
    headers
}

async fn post_streamable(env: &Env, shared: &Shared, body: &[u8]) -> Result<Response, Failure> {
    let headers = streamable_headers(shared);
    authorized(env, shared, |grant| {
        request(Method::Post, &grant.upstream, grant, &headers, Some(body))
    })
    .await
}

/// The Streamable HTTP path, detecting a legacy-only upstream on `initialize`.
async fn deliver_streamable(env: &Env, shared: &Shared, body: &[u8]) -> Result<(), Failure> {
    let unknown = matches!(current_upstream(shared), Upstream::Unknown);
    let response = post_streamable(env, shared, body).await?;
    let status = response.status_code();
    if unknown && is_initialize(body) && matches!(status, 400 | 404 | 405) {
        // The MCP backwards-compatibility rule: a 4xx to POST initialize means HTTP+SSE.
        let post_url = open_legacy(env, shared).await?;
        return post_legacy(env, shared, &post_url, body).await;
    }
    let had_session = matches!(
        current_upstream(shared),
        Upstream::Streamable {
            session_id: Some(_),
            ..
        }
    );
    if status == 404 && had_session {
        reinitialize_streamable(env, shared).await?;
        let response = post_streamable(env, shared, body).await?;
        return relay_streamable(shared, response, is_initialize(body)).await;
    }
    relay_streamable(shared, response, is_initialize(body)).await
}

/// Relays a Streamable HTTP answer onto the client's stream.
async fn relay_streamable(
    shared: &Shared,
    mut response: Response,
    initialize: bool,
) -> Result<(), Failure> {
    let status = response.status_code();
    if !(200..300).contains(&status) {
        return Err(Failure::Unreachable(format!(
            "the server answered HTTP {status}"
        )));
    }
    remember_session(shared, &response);
    if status == 202 {
        return Ok(());
    }
    let content_type = response
        .headers()
        .get("content-type")
        .ok()
        .flatten()
        .unwrap_or_default();
    if content_type.starts_with("text/event-stream") {
        let stream = response
            .stream()
            .map_err(|e| Failure::Unreachable(e.to_string()))?;
        // Pumped in the background: the client's POST is answered 202 at once, as HTTP+SSE expects.
        worker::wasm_bindgen_futures::spawn_local(pump(
            shared.clone(),
            stream,
            SseParser::new(),
            initialize,
        ));
        return Ok(());
    }
    let bytes = response
        .bytes()
        .await
        .map_err(|e| Failure::Unreachable(e.to_string()))?;
    for message in messages_of_json_body(&bytes).unwrap_or_default() {
        relay_message(shared, message, initialize);
    }
    Ok(())
}

fn remember_session(shared: &Shared, response: &Response) {
    let session_id = response.headers().get("mcp-session-id").ok().flatten();
    if let Some(session) = shared.borrow_mut().as_mut() {
        match &mut session.upstream {
            Upstream::Streamable {
                session_id: current,
                ..
            } => {
                if session_id.is_some() {
                    *current = session_id;
                }
            }
            Upstream::Unknown => {
                session.upstream = Upstream::Streamable {
                    session_id,
                    version: None,
                    listening: false,
                };
            }
            Upstream::Legacy { .. } => {}
        }
    }
}

/// Relays one upstream message, noting the negotiated version and hiding Bindify's own
/// re-initialization.
fn relay_message(shared: &Shared, message: String, initialize: bool) {
    if message.contains(REINITIALIZE_ID) && is_reinitialize_answer(&message) {
        return;
    }
    if initialize
        && let Some(version) = negotiated_version(&message)
        && let Some(session) = shared.borrow_mut().as_mut()
        && let Upstream::Streamable { version: v, .. } = &mut session.upstream
    {
        *v = Some(version);
    }
    emit(shared, legacy_sse::message_event(message));
}

fn is_reinitialize_answer(message: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(message)
        .ok()
        .and_then(|v| {
            v.get("id")
                .and_then(|id| id.as_str().map(|s| s == REINITIALIZE_ID))
        })
        .unwrap_or(false)
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

/// The client's replayed `initialize` with Bindify's own id.
fn reinitialize_body(shared: &Shared) -> Option<Vec<u8>> {
    let original = shared
        .borrow()
        .as_ref()
        .and_then(|s| s.initialize.clone())?;
    let mut value: serde_json::Value = serde_json::from_slice(&original).ok()?;
    value.as_object_mut()?.insert(
        "id".into(),
        serde_json::Value::String(REINITIALIZE_ID.into()),
    );
    serde_json::to_vec(&value).ok()
}

async fn reinitialize_streamable(env: &Env, shared: &Shared) -> Result<(), Failure> {
    let Some(body) = reinitialize_body(shared) else {
        return Err(Failure::Unreachable("the server lost the session".into()));
    };
    if let Some(session) = shared.borrow_mut().as_mut() {
        session.upstream = Upstream::Unknown;
    }
    let response = post_streamable(env, shared, &body).await?;
    if !(200..300).contains(&response.status_code()) {
        return Err(Failure::Unreachable(
            "the server refused to start a new session".into(),
        ));
    }
    remember_session(shared, &response);
    post_streamable(env, shared, INITIALIZED).await?;
    Ok(())
}

/// Opens the upstream's GET stream for server-initiated messages, once per session.
fn start_listening(env: &Env, shared: &Shared) {
    let should = match shared.borrow_mut().as_mut().map(|s| &mut s.upstream) {
        Some(Upstream::Streamable {
            session_id: Some(_),
            listening,
            ..
        }) if !*listening => {
            *listening = true;
            true
        }
        _ => false,
    };
    if !should {
        return;
    }
    let (env, shared) = (env.clone(), shared.clone());
    worker::wasm_bindgen_futures::spawn_local(async move {
        let mut headers = streamable_headers(&shared);
        headers.retain(|(name, _)| *name != "content-type");
        headers
            .iter_mut()
            .filter(|(n, _)| *n == "accept")
            .for_each(|(_, v)| *v = "text/event-stream".into());
        let Ok(mut response) = authorized(&env, &shared, |grant| {
            request(Method::Get, &grant.upstream, grant, &headers, None)
        })
        .await
        else {
            return;
        };
        // 405: the server offers no such stream; that is allowed.
        if response.status_code() != 200 {
            return;
        }
        if let Ok(stream) = response.stream() {
            pump(shared, stream, SseParser::new(), false).await;
        }
    });
}

/// Connects to a legacy upstream's SSE stream and returns the URL its `endpoint` event names;
/// the rest of the stream is relayed in the background, and reconnected if it drops.
async fn open_legacy(env: &Env, shared: &Shared) -> Result<String, Failure> {
    let headers = [("accept", "text/event-stream".to_owned())];
    let (mut response, upstream) = authorized_with_upstream(env, shared, |grant| {
        request(Method::Get, &grant.upstream, grant, &headers, None)
    })
    .await?;
    if response.status_code() != 200 {
        return Err(Failure::Unreachable(format!(
            "the server answered HTTP {}",
            response.status_code()
        )));
    }
    let stream_url = url::Url::parse(&upstream).map_err(|e| Failure::Unreachable(e.to_string()))?;
    let mut stream = response
        .stream()
        .map_err(|e| Failure::Unreachable(e.to_string()))?;
    let mut parser = SseParser::new();
    let mut early = Vec::new();
    let post_url = 'found: loop {
        let Some(Ok(chunk)) = stream.next().await else {
            return Err(Failure::Unreachable(
                "the server closed its stream before naming an endpoint".into(),
            ));
        };
        for item in parser.push(&chunk) {
            match item {
                SseItem::Event(event) if legacy_sse::is_endpoint_event(&event) => {
                    let url = resolve_endpoint(&stream_url, &event.data)
                        .map_err(|e| Failure::Unreachable(e.to_string()))?;
                    break 'found url.to_string();
                }
                SseItem::Event(event) if legacy_sse::is_message_event(&event) => {
                    early.push(event.data)
                }
                _ => {}
            }
        }
    };
    if let Some(session) = shared.borrow_mut().as_mut() {
        session.upstream = Upstream::Legacy {
            post_url: post_url.clone(),
        };
    }
    for message in early {
        relay_message(shared, message, false);
    }
    let (env, shared) = (env.clone(), shared.clone());
    worker::wasm_bindgen_futures::spawn_local(async move {
        pump(shared.clone(), stream, parser, false).await;
        reconnect_legacy(env, shared).await;
    });
    Ok(post_url)
}

/// The legacy upstream dropped its stream: open a new one and re-initialize, while the client
/// is still there.
async fn reconnect_legacy(env: Env, shared: Shared) {
    if !client_connected(&shared) {
        return;
    }
    let Some(body) = reinitialize_body(&shared) else {
        return;
    };
    match Box::pin(open_legacy(&env, &shared)).await {
        Ok(post_url) => {
            let _ = post_legacy(&env, &shared, &post_url, &body).await;
            let _ = post_legacy(&env, &shared, &post_url, INITIALIZED).await;
        }
        Err(_) => {
            worker::console_warn!("sse session: the legacy upstream could not be reconnected")
        }
    }
}

async fn post_legacy(
    env: &Env,
    shared: &Shared,
    post_url: &str,
    body: &[u8],
) -> Result<(), Failure> {
    let headers = [("content-type", "application/json".to_owned())];
    let response = authorized(env, shared, |grant| {
        request(Method::Post, post_url, grant, &headers, Some(body))
    })
    .await?;
    match response.status_code() {
        200..=299 => Ok(()),
        status => Err(Failure::Unreachable(format!(
            "the server answered HTTP {status}"
        ))),
    }
}
