//! The one path from Bindify to an upstream MCP server, for `/mcp` and for the `SseSession`
//! objects alike: take a grant (from the isolate's memory or the connection's object, see
//! `crate::grants`), send the request with it, and on a 401 ask the object for a new token and
//! replay once. A `403 insufficient_scope` goes to the object, which records the scopes the
//! next authorization asks for (scope step-up), and becomes an error with the owner's reconnect
//! link. Every request waits for its response
//! headers at most `UPSTREAM_HEADERS_TIMEOUT_MS`; bodies are read (capped) or relayed by the
//! caller.

use std::time::Duration;

use bindify_core::failure;
use bindify_core::lifecycle::connection_service::Grant;
use bindify_core::lifecycle::object_protocol::connection::ConnectionReply;
use bindify_core::mcp::proxy::UPSTREAM_HEADERS_TIMEOUT_MS;
use bindify_core::oauth::step_up;
use bindify_core::secret::SecretHash;
use futures_util::StreamExt;
use futures_util::future::{Either, select};
use futures_util::stream::LocalBoxStream;
use worker::{AbortController, Delay, Env, Fetch, Request, Response, ResponseBody};

use crate::connection_client;
use crate::grants::{self, Warm};

/// The connection a request is for: its id and the hash of the URL secret it came with, which
/// the connection's object checks on every token request.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    pub id: &'a str,
    pub hash: &'a SecretHash,
}

/// Why no usable upstream answer came back.
#[derive(Debug)]
pub enum Failure {
    /// The URL secret no longer opens the connection (rotated away or revoked).
    Gone,
    /// Anything else, knowing its source (see `bindify_core::failure`).
    Failed(bindify_core::failure::Failure),
}

impl From<bindify_core::failure::Failure> for Failure {
    fn from(failure: bindify_core::failure::Failure) -> Self {
        Failure::Failed(failure)
    }
}

/// Sends the request `build` makes for a grant, with a grant from `crate::grants` (the
/// isolate's memory or the connection's object); on a 401, gets a new one from the object (it
/// refreshes at most as its limits allow) and replays once. The response is the upstream's,
/// whatever its status besides a second 401.
pub async fn authorized<F>(
    env: &Env,
    warm: Warm<'_>,
    target: Target<'_>,
    build: F,
) -> Result<(Response, Grant), Failure>
where
    F: Fn(&Grant) -> worker::Result<Request>,
{
    let grant = grants::for_request(env, warm, target).await?;
    let response = send(&grant, build(&grant)).await?;
    if response.status_code() == 401 {
        let replacement = grants::after_refusal(env, warm, target, &grant).await?;
        let response = send(&replacement, build(&replacement)).await?;
        if response.status_code() == 401 {
            return Err(refused(replacement.upstream.clone(), &replacement, None).into());
        }
        return stepped_up(env, target, response, replacement).await;
    }
    if challenged_scopes(&response, &grant).is_none() {
        return Ok((response, grant));
    }
    // The isolate's grant can predate the owner's reconnect with more scopes: the object's
    // current one is tried once before the client is sent to authorize again.
    match grants::after_scope_refusal(env, warm, target, &grant).await? {
        Some(newer) => {
            let response = send(&newer, build(&newer)).await?;
            stepped_up(env, target, response, newer).await
        }
        None => stepped_up(env, target, response, grant).await,
    }
}

/// The scopes a `403 insufficient_scope` answer to an OAuth token asks for, if it is one.
fn challenged_scopes(response: &Response, grant: &Grant) -> Option<Vec<String>> {
    if response.status_code() != 403 || !grant.is_oauth() {
        return None;
    }
    let challenge = response.headers().get("www-authenticate").ok().flatten();
    step_up::challenged_scopes(challenge.as_deref())
}

/// The upstream's answer, unless it is a `403 insufficient_scope` to an OAuth token: then the
/// connection's object records the scopes the next authorization asks for, and the client gets
/// the owner's reconnect link (or, once the attempts are used up, an error without one).
async fn stepped_up(
    env: &Env,
    target: Target<'_>,
    response: Response,
    grant: Grant,
) -> Result<(Response, Grant), Failure> {
    let Some(scopes) = challenged_scopes(&response, &grant) else {
        return Ok((response, grant));
    };
    let reply = connection_client::step_up(env, target.id, target.hash, scopes)
        .await
        .map_err(|own| Failure::Failed(own.into()))?;
    match reply {
        None => Err(Failure::Gone),
        Some(ConnectionReply::SteppedUp { scopes, exhausted }) => {
            Err(failure::Failure::InsufficientScope {
                upstream: grant.upstream,
                scopes,
                exhausted,
            }
            .into())
        }
        Some(_) => Ok((response, grant)),
    }
}

/// The failure for an upstream that refused `grant`'s credential: an access token Bindify
/// could not (or may not yet) renew, or the owner's API key.
pub fn refused(upstream: String, grant: &Grant, retry_at: Option<i64>) -> failure::Failure {
    if grant.is_oauth() {
        failure::Failure::TokenRefused { upstream, retry_at }
    } else {
        failure::Failure::KeyRefused { upstream }
    }
}

async fn send(grant: &Grant, request: worker::Result<Request>) -> Result<Response, Failure> {
    let unreachable = |detail: String| {
        Failure::from(failure::Failure::UpstreamUnreachable {
            upstream: grant.upstream.clone(),
            detail,
        })
    };
    let request = request.map_err(|e| unreachable(e.to_string()))?;
    until_headers(request).await.map_err(unreachable)
}

/// Sends `request` and waits at most [`UPSTREAM_HEADERS_TIMEOUT_MS`] for the response
/// headers; the body is not bound by it. `Err` is a reason safe to show.
pub async fn until_headers(request: Request) -> Result<Response, String> {
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(request);
    let sending = std::pin::pin!(fetch.send_with_signal(&signal));
    let timer = std::pin::pin!(Delay::from(Duration::from_millis(
        UPSTREAM_HEADERS_TIMEOUT_MS
    )));
    match select(sending, timer).await {
        Either::Left((Ok(response), _)) => Ok(response),
        Either::Left((Err(e), _)) => {
            worker::console_warn!("upstream unreachable: {e}");
            Err("the server did not answer".to_owned())
        }
        Either::Right(((), _)) => {
            controller.abort();
            Err(format!(
                "the server sent no response headers within {} s",
                UPSTREAM_HEADERS_TIMEOUT_MS / 1000
            ))
        }
    }
}

/// Whether a response body of unknown length is empty: read until its end or its first byte,
/// for at most [`UPSTREAM_HEADERS_TIMEOUT_MS`] (an answer without a body ends with its
/// headers). `Err` is a reason safe to show.
pub async fn body_is_empty(response: &mut Response) -> Result<bool, String> {
    let Some(mut stream) = body_stream(response).map_err(|e| e.to_string())? else {
        return Ok(true);
    };
    let reading = std::pin::pin!(async {
        while let Some(chunk) = stream.next().await {
            if !chunk.map_err(|e| e.to_string())?.is_empty() {
                return Ok(false);
            }
        }
        Ok(true)
    });
    let timer = std::pin::pin!(Delay::from(Duration::from_millis(
        UPSTREAM_HEADERS_TIMEOUT_MS
    )));
    match select(reading, timer).await {
        Either::Left((result, _)) => result,
        Either::Right(((), _)) => Err(format!(
            "the server did not end its answer within {} s",
            UPSTREAM_HEADERS_TIMEOUT_MS / 1000
        )),
    }
}

/// Reads a response body Bindify needs whole, stopping at `limit` bytes instead of reading on.
pub async fn read_capped(response: &mut Response, limit: usize) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    let Some(mut stream) = body_stream(response).map_err(|e| e.to_string())? else {
        return Ok(body);
    };
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| e.to_string())?;
        bindify_core::http::append_capped(&mut body, &chunk, limit).map_err(|e| e.to_string())?;
    }
    Ok(body)
}

/// A response's body as a stream of chunks; `None` when it has no body at all.
pub fn body_stream(
    response: &mut Response,
) -> worker::Result<Option<LocalBoxStream<'static, worker::Result<Vec<u8>>>>> {
    match response.body() {
        ResponseBody::Empty => Ok(None),
        ResponseBody::Body(bytes) => Ok(Some(
            futures_util::stream::once(std::future::ready(Ok(bytes.clone()))).boxed_local(),
        )),
        ResponseBody::Stream(_) => Ok(Some(response.stream()?.boxed_local())),
    }
}
