//! `/s/<secret>/mcp`: the permanent URL as a Streamable HTTP MCP endpoint. A request goes
//! through five steps (see `bindify_core::mcp::proxy`): [`resolve`] the secret to its connection,
//! [`admit`] the request before any token is attached, load a token and forward it upstream
//! (both in `crate::forward`, which refreshes and replays once on a 401), and relay the answer
//! through `crate::relay`. An upstream that only speaks HTTP+SSE is bridged (see `bridge`).

mod body;
mod bridge;
pub mod legacy;

use bindify_core::failure::{self, OwnFailure, Refusal, StorageFailure};
use bindify_core::headers as header;
use bindify_core::mcp::jsonrpc::Inbound;
use bindify_core::mcp::proxy;
use bindify_core::mcp::upstream_session::means_legacy_upstream;
use bindify_core::settings::Settings;
use worker::{
    Context, Env, Headers, Method, Request, RequestInit, RequestRedirect, Response, Result,
};

use crate::activity::Visit;
use crate::forward::{self, Target};
use crate::grants::{Background, Warm};
use crate::relay::{self, refusal};
use crate::resolve::{self, Resolved};
use crate::respond;

/// A request that passed admission.
struct Admitted {
    method: Method,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    inbound: Option<Inbound>,
}

pub async fn mcp(
    mut req: Request,
    env: &Env,
    settings: &Settings,
    ctx: &Context,
    visit: &Visit,
    secret: &str,
) -> Result<Response> {
    let found = resolve(env, secret).await;
    if let Ok(Some(found)) = &found {
        visit.found(&found.id);
    }
    if let Ok(None) = found {
        return respond::not_found();
    }
    let origin = req.url()?.origin().ascii_serialization();
    let admitted = match admit(&mut req, settings, &origin).await? {
        Ok(admitted) => admitted,
        Err(refused) => return refusal(&refused),
    };
    let found = match found {
        Ok(Some(found)) => found,
        Ok(None) => return respond::not_found(),
        Err(failed) => return relay::refused(&failed, admitted.inbound.as_ref()),
    };
    let reconnect_url = proxy::reconnect_url(&origin, &found.id);
    if let Some(session) = bridge::session_of(&admitted) {
        return bridge::forward(env, &found, &admitted, &session).await;
    }
    let target = Target {
        id: &found.id,
        hash: &found.hash,
    };
    let warm = Warm {
        bound_ms: settings.revocation_bound_ms,
        background: Background::Request(ctx),
    };
    let sent = forward::authorized(env, warm, target, |grant| {
        upstream_request(&admitted, grant)
    });
    let (response, grant) = match sent.await {
        Ok(answered) => answered,
        Err(failure) => {
            return relay::failure(&failure, admitted.inbound.as_ref(), &reconnect_url);
        }
    };
    let initialize = admitted.method == Method::Post
        && admitted.inbound.as_ref().and_then(Inbound::first_method) == Some("initialize");
    if means_legacy_upstream(initialize, false, response.status_code()) {
        return bridge::start(env, &found, &admitted, &reconnect_url).await;
    }
    relay::relayed(response, admitted.inbound.as_ref(), &grant.upstream).await
}

/// Resolve: the connection a secret names; `Ok(None)` for an unknown secret. A failing index
/// is Bindify's own storage failing.
async fn resolve(
    env: &Env,
    secret: &str,
) -> std::result::Result<Option<Resolved>, failure::Failure> {
    resolve::connection(env, secret).await.map_err(|e| {
        worker::console_error!("proxy: index lookup failed: {e}");
        OwnFailure::storage(StorageFailure::UrlIndex).into()
    })
}

/// Admit: refuse what must not reach the upstream.
async fn admit(
    req: &mut Request,
    settings: &Settings,
    own_origin: &str,
) -> Result<std::result::Result<Admitted, Refusal>> {
    let origin = req.headers().get(header::ORIGIN)?;
    if let Err(refused) =
        proxy::check_origin(origin.as_deref(), own_origin, &settings.allowed_origins)
    {
        return Ok(Err(refused));
    }
    let method = req.method();
    let headers = bindify_core::mcp::proxy_headers::filter_request_headers(req.headers().entries());
    match method {
        Method::Post => {
            let declared = match proxy::check_declared_length(
                req.headers().get(header::CONTENT_LENGTH)?.as_deref(),
            ) {
                Ok(declared) => declared,
                Err(refused) => return Ok(Err(refused)),
            };
            let Some(bytes) = body::read_limited(req, declared).await? else {
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
        _ => Ok(Err(proxy::method_not_allowed())),
    }
}

/// Forward: the admitted request for the upstream, with the client's credentials already
/// stripped (admission filtered the headers) and `grant`'s bearer token. Redirects are never
/// followed: a redirect reaches `crate::relay`, which refuses it.
fn upstream_request(
    admitted: &Admitted,
    grant: &bindify_core::lifecycle::connection_service::Grant,
) -> Result<Request> {
    let headers = Headers::new();
    for (name, value) in &admitted.headers {
        headers.append(name, value)?;
    }
    if let Some((name, value)) = grant.authorization() {
        headers.set(name, &value)?;
    }
    let mut init = RequestInit::new();
    init.with_method(admitted.method.clone())
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    if let Some(body) = &admitted.body {
        init.with_body(Some(
            worker::js_sys::Uint8Array::from(body.as_slice()).into(),
        ));
    }
    Request::new_with_init(&grant.upstream, &init)
}
