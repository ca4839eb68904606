//! What a client of a permanent URL gets back: the upstream's answer as
//! `bindify_core::mcp::relay` allows it, or a JSON-RPC refusal. Every answer built here carries the
//! sandbox `Content-Security-Policy` and `nosniff`, so nothing on a permanent URL renders as a
//! page of Bindify's origin.

use bindify_core::failure::{self, Refusal};
use bindify_core::headers as header;
use bindify_core::mcp::jsonrpc::Inbound;
use bindify_core::mcp::relay::{Foreign, NOSNIFF, RELAY_CSP, Verdict};
use worker::{Headers, Response, ResponseBuilder, Result};

use crate::forward::Failure;
use crate::{clock, respond};

/// Sets the headers every answer on a permanent URL carries.
pub fn guard(headers: &Headers) -> Result<()> {
    headers.set(header::CONTENT_SECURITY_POLICY, RELAY_CSP)?;
    headers.set(header::X_CONTENT_TYPE_OPTIONS, NOSNIFF)?;
    Ok(())
}

/// A refusal as an HTTP response with a JSON-RPC body.
pub fn refusal(refused: &Refusal) -> Result<Response> {
    let headers = Headers::new();
    headers.set(header::CONTENT_TYPE, "application/json")?;
    headers.set(header::CACHE_CONTROL, "no-store")?;
    guard(&headers)?;
    if refused.status == 405 {
        headers.set(header::ALLOW, "GET, POST, DELETE")?;
    }
    if let Some(seconds) = refused.retry_after {
        headers.set(header::RETRY_AFTER, &seconds.to_string())?;
    }
    Ok(Response::ok(refused.body.clone())?
        .with_status(refused.status)
        .with_headers(headers))
}

/// An answer of Bindify's own with no body (a 202 to a message, a 200 to a DELETE).
pub fn empty(status: u16) -> Result<Response> {
    let headers = Headers::new();
    guard(&headers)?;
    Ok(Response::empty()?.with_status(status).with_headers(headers))
}

/// The refusal for a failure on the way upstream; `None` when the connection is gone, which
/// is answered like an unknown secret.
pub fn failure_refusal(
    failure: &Failure,
    inbound: Option<&Inbound>,
    reconnect_url: &str,
) -> Option<Refusal> {
    match failure {
        Failure::Gone => None,
        Failure::Failed(failed) => Some(failed.refusal(inbound, reconnect_url, clock::now())),
    }
}

/// The answer to a failure on the way upstream.
pub fn failure(
    failure: &Failure,
    inbound: Option<&Inbound>,
    reconnect_url: &str,
) -> Result<Response> {
    match failure_refusal(failure, inbound, reconnect_url) {
        Some(refused) => refusal(&refused),
        None => respond::not_found(),
    }
}

/// The answer to a failure that is not a connection's: nothing of the upstream was reached.
pub fn refused(failed: &failure::Failure, inbound: Option<&Inbound>) -> Result<Response> {
    refusal(&failed.refusal(inbound, "", clock::now()))
}

/// The upstream's answer as it may reach the client: its status, the header fields
/// `bindify_core::mcp::proxy_headers` allows, and its body streamed through untouched (an SSE
/// answer reaches the client event by event; when the client goes away the runtime cancels
/// the upstream read). An answer `bindify_core::mcp::relay` refuses becomes a JSON-RPC error naming
/// `upstream`.
pub async fn relayed(
    mut response: Response,
    inbound: Option<&Inbound>,
    upstream: &str,
) -> Result<Response> {
    let status = response.status_code();
    let content_type = response.headers().get(header::CONTENT_TYPE)?;
    let content_length = response.headers().get(header::CONTENT_LENGTH)?;
    let verdict = bindify_core::mcp::relay::verdict(
        status,
        content_type.as_deref(),
        content_length.as_deref(),
    );
    let with_body = match verdict {
        Verdict::Relay(_) => true,
        Verdict::RelayWithoutBody => false,
        Verdict::RelayIfEmpty => match crate::forward::body_is_empty(&mut response).await {
            Ok(true) => false,
            Ok(false) => {
                let foreign = Foreign::NoContentType { status };
                return refused(&bad_answer(upstream, foreign), inbound);
            }
            Err(detail) => {
                let unreachable = failure::Failure::UpstreamUnreachable {
                    upstream: upstream.to_owned(),
                    detail,
                };
                return refused(&unreachable, inbound);
            }
        },
        Verdict::Refuse(foreign) => {
            return refused(&bad_answer(upstream, foreign), inbound);
        }
    };
    let headers = Headers::new();
    for (name, value) in
        bindify_core::mcp::proxy_headers::filter_response_headers(response.headers().entries())
    {
        headers.append(&name, &value)?;
    }
    guard(&headers)?;
    let builder = ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers);
    if !with_body {
        return Ok(builder.empty());
    }
    let (_, body) = response.into_parts();
    Ok(builder.body(body))
}

fn bad_answer(upstream: &str, foreign: Foreign) -> failure::Failure {
    failure::Failure::UpstreamBadAnswer {
        upstream: upstream.to_owned(),
        foreign,
    }
}
