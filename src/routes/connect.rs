//! `GET /connect/<preset>` and `GET /connect?server=<url>`: start the OAuth flow. Connecting
//! needs the owner (a dashboard session), except in local development without `ADMIN_TOKEN`.

use bindify_core::flow::{self, ConnectError, FlowExtras};
use bindify_core::presets;
use bindify_core::upstream::validate_server_url;
use worker::{Env, Request, Response, Result};

use crate::admin::{self, PageAccess};
use crate::storage::Kv;
use crate::{clock, config, fetch_http, respond};

#[derive(serde::Deserialize)]
struct Query {
    server: Option<String>,
}

pub async fn start(req: &Request, env: &Env, preset: Option<&str>) -> Result<Response> {
    // A missing or malformed encryption key is reported first: nothing can be stored without it.
    if let Err(error) = config::keyring(env) {
        return respond::problem_page(&error.problem());
    }
    let access = admin::page_access(req, env);
    if !matches!(access, PageAccess::Allowed { .. }) {
        return admin::page_refusal(&access, req);
    }
    let requested = req.query::<Query>().ok().and_then(|q| q.server);
    let begun = match resolve_server(env, preset, requested.as_deref()) {
        Ok(server) => begin_flow(req, env, &server, FlowExtras::default()).await,
        Err(error) => Err(error),
    };
    redirect_or_problem(begun)
}

/// The flow's first redirect, or the page saying why it could not start.
pub(crate) fn redirect_or_problem(
    begun: std::result::Result<flow::Begun, ConnectError>,
) -> Result<Response> {
    match begun {
        Ok(begun) => respond::redirect(begun.authorize_url.as_str(), Some(&begun.set_cookie)),
        Err(error) => {
            worker::console_warn!("connect failed: {error}");
            respond::problem_page(&error.problem())
        }
    }
}

/// The MCP server named by a preset slug or given as a URL, checked against the policy.
pub(crate) fn resolve_server(
    env: &Env,
    preset: Option<&str>,
    server: Option<&str>,
) -> std::result::Result<url::Url, ConnectError> {
    let server = match preset {
        Some(slug) => {
            let all = presets::all(config::demo_server_url(env).as_deref());
            presets::find(&all, slug)
                .ok_or_else(|| ConnectError::UnknownPreset(slug.to_owned()))?
                .server_url
        }
        None => server
            .filter(|s| !s.trim().is_empty())
            .ok_or(ConnectError::ServerMissing)?
            .to_owned(),
    };
    Ok(validate_server_url(&server, config::upstream_policy(env))?)
}

/// Starts a flow to `server` (already validated) for the purpose `extras` names.
pub(crate) async fn begin_flow(
    req: &Request,
    env: &Env,
    server: &url::Url,
    extras: FlowExtras,
) -> std::result::Result<flow::Begun, ConnectError> {
    let keyring = config::keyring(env)?;
    let origin = req.url().map_err(|_| ConnectError::ServerMissing)?;
    let settings = config::connect_settings(env, &origin)?;
    let kv = Kv(env.kv(config::KV_BINDING).map_err(store_error)?);
    flow::begin(
        &fetch_http::send,
        &kv,
        &keyring,
        &settings,
        server,
        extras,
        clock::now(),
    )
    .await
}

pub(crate) fn store_error(e: worker::Error) -> ConnectError {
    ConnectError::Store(bindify_core::store::StoreError {
        op: "bind",
        reason: e.to_string(),
    })
}
