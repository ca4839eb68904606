//! `GET /connect/<preset>` and `GET /connect?server=<url>`: start the OAuth flow.

use bindify_core::flow::{self, ConnectError};
use bindify_core::presets;
use bindify_core::upstream::validate_server_url;
use worker::{Env, Request, Response, Result};

use crate::storage::Kv;
use crate::{clock, config, fetch_http, respond};

#[derive(serde::Deserialize)]
struct Query {
    server: Option<String>,
}

pub async fn start(req: &Request, env: &Env, preset: Option<&str>) -> Result<Response> {
    let begun = match requested_server(req, env, preset) {
        Ok(server) => begin_flow(req, env, &server, None).await,
        Err(error) => Err(error),
    };
    match begun {
        Ok(begun) => respond::redirect(begun.authorize_url.as_str(), Some(&begun.set_cookie)),
        Err(error) => {
            worker::console_warn!("connect failed: {error}");
            respond::problem_page(&error.problem())
        }
    }
}

/// The MCP server named by the preset or the `server` parameter, checked against the policy.
/// A missing or malformed encryption key is reported first: nothing can be stored without it.
fn requested_server(
    req: &Request,
    env: &Env,
    preset: Option<&str>,
) -> std::result::Result<url::Url, ConnectError> {
    config::keyring(env)?;
    let server = match preset {
        Some(slug) => {
            let all = presets::all(config::demo_server_url(env).as_deref());
            presets::find(&all, slug)
                .ok_or_else(|| ConnectError::UnknownPreset(slug.to_owned()))?
                .server_url
        }
        None => req
            .query::<Query>()
            .ok()
            .and_then(|q| q.server)
            .filter(|s| !s.trim().is_empty())
            .ok_or(ConnectError::ServerMissing)?,
    };
    Ok(validate_server_url(&server, config::upstream_policy(env))?)
}

/// Starts a flow to `server` (already validated); `reconnect_id` re-authorizes a connection.
pub(crate) async fn begin_flow(
    req: &Request,
    env: &Env,
    server: &url::Url,
    reconnect_id: Option<String>,
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
        reconnect_id,
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
