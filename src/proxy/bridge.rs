//! A Streamable HTTP client in front of an upstream that only speaks HTTP+SSE: Bindify holds
//! the session in an `SseSession` object and gives the client an `Mcp-Session-Id` of its own,
//! which routes the client's later requests back to that object.

use bindify_core::lifecycle::object_protocol::sse_session::{Opening, SseCall, UNKNOWN_SESSION};
use bindify_core::mcp::session::BRIDGE_SESSION_PREFIX;
use bindify_core::secret::{b64url, random_bytes};
use worker::{Headers, Method, Response, ResponseBuilder, Result};

use super::{Admitted, legacy};
use crate::relay::guard;
use crate::resolve::Resolved;

/// The bridge session a request names, if its `Mcp-Session-Id` is one of Bindify's.
pub fn session_of(admitted: &Admitted) -> Option<String> {
    admitted
        .headers
        .iter()
        .find(|(name, _)| name == bindify_core::mcp::proxy_headers::MCP_SESSION_ID)
        .map(|(_, value)| value.clone())
        .filter(|value| value.starts_with(BRIDGE_SESSION_PREFIX))
}

/// Starts a bridged session with the client's `initialize`.
pub async fn start(
    env: &worker::Env,
    found: &Resolved,
    admitted: &Admitted,
    reconnect_url: &str,
) -> Result<Response> {
    let session = format!(
        "{BRIDGE_SESSION_PREFIX}{}",
        b64url(&random_bytes::<16>().map_err(|e| worker::Error::RustError(e.to_string()))?)
    );
    let call = SseCall::BridgePost {
        opening: Some(Opening {
            session: session.clone(),
            connection_id: found.id.clone(),
            reconnect_url: reconnect_url.to_owned(),
        }),
        body: admitted.body.clone().unwrap_or_default(),
    };
    let response = legacy::call(env, &session, found, &call).await?;
    // A response from an object has immutable headers: build a new one around its body.
    let status = response.status_code();
    let headers = Headers::new();
    for (name, value) in response.headers().entries() {
        headers.append(&name, &value)?;
    }
    headers.set(bindify_core::mcp::proxy_headers::MCP_SESSION_ID, &session)?;
    guard(&headers)?;
    let (_, body) = response.into_parts();
    Ok(ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers)
        .body(body))
}

/// A later request of a bridged session: POST, GET or DELETE.
pub async fn forward(
    env: &worker::Env,
    found: &Resolved,
    admitted: &Admitted,
    session: &str,
) -> Result<Response> {
    // A POST asks the connection's object for a token, which checks the secret; a GET stream
    // or a DELETE does not, so they check it here.
    if admitted.method != Method::Post {
        match legacy::live(env, found).await {
            Ok(true) => {}
            Ok(false) => return crate::respond::not_found(),
            Err(failed) => return crate::relay::refused(&failed, None),
        }
    }
    let call = match admitted.method {
        Method::Post => SseCall::BridgePost {
            opening: None,
            body: admitted.body.clone().unwrap_or_default(),
        },
        Method::Delete => SseCall::BridgeEnd,
        _ => SseCall::BridgeListen,
    };
    let response = legacy::call(env, session, found, &call).await?;
    // An unknown or foreign session: the client must initialize again (Streamable HTTP §session).
    if response.status_code() == UNKNOWN_SESSION {
        return crate::relay::empty(404);
    }
    Ok(response)
}
