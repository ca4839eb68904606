//! `/s/<secret>/mcp`: the permanent URL as a Streamable HTTP MCP endpoint. The request goes
//! through named phases: resolve the connection, admit the request (Origin, method, size,
//! JSON-RPC shape: all before any token is attached), load a token from the connection's
//! object, forward upstream with the client's credentials stripped and the bearer injected,
//! refresh and replay once on a 401, and respond with the upstream body streamed through
//! untouched. The decisions live in `bindify_core::proxy`.

mod body;
mod bridge;
pub mod legacy;
mod upstream;

use bindify_core::connection_service::Grant;
use bindify_core::jsonrpc::Inbound;
use bindify_core::proxy::{self, Refusal};
use bindify_core::refresh::Unavailable;
use worker::{Env, Headers, Method, Request, Response, Result};

use crate::connection_client::{self, TokenAnswer};
use crate::resolve::{self, Resolved};
use crate::{config, respond};

/// A request that passed admission.
struct Admitted {
    method: Method,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    inbound: Option<Inbound>,
}

pub async fn mcp(mut req: Request, env: &Env, secret: &str) -> Result<Response> {
    let found = match resolve::connection(env, secret).await {
        Ok(Some(found)) => found,
        Ok(None) => return respond::not_found(),
        Err(e) => {
            worker::console_error!("proxy: index lookup failed: {e}");
            return refusal(&proxy::upstream_unreachable(
                None,
                "Bindify storage",
                "temporarily unavailable",
            ));
        }
    };
    let origin = req.url()?.origin().ascii_serialization();
    let admitted = match admit(&mut req, env, &origin).await? {
        Ok(admitted) => admitted,
        Err(refused) => return refusal(&refused),
    };
    let reconnect_url = format!("{origin}/s/{}/reconnect", found.secret.expose());
    if let Some(session) = bridge::session_of(&admitted) {
        return bridge::forward(env, &found, &admitted, &session).await;
    }

    let (mut response, grant) = match attempt(env, &found, &admitted, None, &reconnect_url).await? {
        Ok(answered) => answered,
        Err(refused) => return Ok(refused),
    };
    if response.status_code() == 401 {
        // The upstream refused the token: one refresh through the object, then one replay.
        let rejected = Some(&grant.access_token);
        response = match attempt(env, &found, &admitted, rejected, &reconnect_url).await? {
            Ok((replayed, _)) => replayed,
            Err(refused) => return Ok(refused),
        };
        if response.status_code() == 401 {
            return refusal(&proxy::unavailable(
                admitted.inbound.as_ref(),
                &Unavailable::NeedsReauth,
                &reconnect_url,
            ));
        }
    }
    if bridge::means_legacy_upstream(&admitted, response.status_code()) {
        return bridge::start(env, &found, &admitted, &reconnect_url).await;
    }
    upstream::relay(response)
}

/// Phases 3 and 4 once: a token from the connection's object, then the upstream's answer with
/// it. `rejected` is the token the upstream just refused, when this is the replay. `Err` is
/// the response to give the client instead.
async fn attempt(
    env: &Env,
    found: &Resolved,
    admitted: &Admitted,
    rejected: Option<&oauth2::AccessToken>,
    reconnect_url: &str,
) -> Result<std::result::Result<(Response, Grant), Response>> {
    let grant = match load_token(env, found, rejected).await? {
        // Rotated away or revoked: the same answer as an unknown secret.
        None => return respond::not_found().map(Err),
        Some(Ok(grant)) => grant,
        Some(Err(why)) => {
            let refused = proxy::unavailable(admitted.inbound.as_ref(), &why, reconnect_url);
            return refusal(&refused).map(Err);
        }
    };
    match upstream::send(admitted, &grant).await {
        Ok(response) => Ok(Ok((response, grant))),
        Err(detail) => {
            let refused =
                proxy::upstream_unreachable(admitted.inbound.as_ref(), &grant.upstream, &detail);
            refusal(&refused).map(Err)
        }
    }
}

/// Phase 2: refuse what must not reach the upstream.
async fn admit(
    req: &mut Request,
    env: &Env,
    own_origin: &str,
) -> Result<std::result::Result<Admitted, Refusal>> {
    let origin = req.headers().get("origin")?;
    if let Err(refused) =
        proxy::check_origin(origin.as_deref(), own_origin, &config::allowed_origins(env))
    {
        return Ok(Err(refused));
    }
    let method = req.method();
    let headers = bindify_core::proxy_headers::filter_request_headers(req.headers().entries());
    match method {
        Method::Post => {
            if let Err(refused) =
                proxy::check_declared_length(req.headers().get("content-length")?.as_deref())
            {
                return Ok(Err(refused));
            }
            let Some(bytes) = body::read_limited(req).await? else {
                return Ok(Err(proxy::too_large()));
            };
            match proxy::check_body(&bytes) {
                Ok(inbound) => Ok(Ok(Admitted {
                    method,
                    headers,
                    body: Some(bytes),
                    inbound: Some(inbound),
                })),
                Err(refused) => Ok(Err(refused)),
            }
        }
        Method::Get | Method::Delete => Ok(Ok(Admitted {
            method,
            headers,
            body: None,
            inbound: None,
        })),
        _ => Ok(Err(Refusal {
            status: 405,
            body: bindify_core::jsonrpc::error_response(
                serde_json::Value::Null,
                bindify_core::jsonrpc::INVALID_REQUEST,
                "Method not allowed: use POST, GET or DELETE",
                None,
            ),
            retry_after: None,
        })),
    }
}

/// Phase 3: a token from the connection's object (which refreshes if needed, one at a time).
/// `None` when the object does not know this secret (rotated away or revoked).
async fn load_token(
    env: &Env,
    found: &Resolved,
    rejected: Option<&oauth2::AccessToken>,
) -> Result<Option<std::result::Result<Grant, Unavailable>>> {
    Ok(
        match connection_client::token(env, &found.id, &found.hash, rejected).await? {
            TokenAnswer::Token(grant) => Some(Ok(grant)),
            TokenAnswer::NeedsReauth => Some(Err(Unavailable::NeedsReauth)),
            TokenAnswer::Transient { retry_at } => Some(Err(Unavailable::Transient { retry_at })),
            TokenAnswer::NotFound => None,
        },
    )
}

/// A refusal as an HTTP response with a JSON-RPC body.
pub(crate) fn refusal(refused: &Refusal) -> Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    headers.set("cache-control", "no-store")?;
    if refused.status == 405 {
        headers.set("allow", "GET, POST, DELETE")?;
    }
    if let Some(seconds) = refused.retry_after {
        headers.set("retry-after", &seconds.to_string())?;
    }
    Ok(Response::ok(refused.body.clone())?
        .with_status(refused.status)
        .with_headers(headers))
}
