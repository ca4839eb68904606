//! `/api/…`: the management API (docs/api.md). Every request is checked against the owner's
//! credential first; handlers live in one file per resource.

pub mod clients;
mod connect;
pub mod connections;
mod health;

use bindify_core::settings::Settings;
use worker::{Env, Method, Request, Response, Result};

use crate::admin;

pub async fn handle(
    mut req: Request,
    env: &Env,
    settings: &Settings,
    path: &[&str],
) -> Result<Response> {
    if let Err(refusal) = admin::check_api(&req, env, settings).await? {
        return Ok(refusal);
    }
    let method = req.method();
    match (method, path) {
        (Method::Get, ["health"]) => health::show(env, settings).await,
        (Method::Get, ["connections"]) => connections::list(env).await,
        (Method::Post, ["connections"]) => clients::create(&mut req, env, settings).await,
        (Method::Get, ["clients"]) => clients::list(env).await,
        (Method::Put, ["clients"]) => clients::put(&mut req, env, settings).await,
        (Method::Delete, ["clients"]) => clients::remove(&mut req, env, settings).await,
        (Method::Get, ["connections", id]) => connections::get(env, id).await,
        (Method::Patch, ["connections", id]) => connections::label(&mut req, env, id).await,
        (Method::Delete, ["connections", id]) => connections::revoke(env, id).await,
        (Method::Post, ["connections", id, "rotate"]) => connections::rotate(&req, env, id).await,
        (Method::Post, ["connections", id, "reconnect"]) => {
            connections::reconnect(&req, env, id).await
        }
        (Method::Post, ["connect"]) => connect::create(&mut req, env, settings).await,
        (Method::Get, ["connect", code]) => connect::poll(env, code).await,
        _ => admin::api_error(404, "not_found", "No such API endpoint; see docs/api.md."),
    }
}

/// The refusal for an unknown connection id.
pub fn unknown_connection() -> Result<Response> {
    admin::api_error(
        404,
        "not_found",
        "No connection has this id; `bindify list` shows the ids.",
    )
}

/// The refusal for a failure of Bindify's own storage or configuration.
pub fn own_failure(failed: &bindify_core::failure::OwnFailure) -> Result<Response> {
    crate::respond::own_failure(failed)
}

/// The refusal for a failure of Workers KV.
pub fn storage_failed(e: impl std::fmt::Display) -> Result<Response> {
    worker::console_error!("api: storage failed: {e}");
    own_failure(&bindify_core::failure::OwnFailure::storage(
        bindify_core::failure::StorageFailure::Kv,
    ))
}
