//! `GET /api/health`: what `bindify doctor` checks.

use bindify_core::envelope::KeyError;
use bindify_core::flow::ConnectError;
use bindify_core::settings::Settings;
use worker::{Env, Response, Result};

use crate::{api::connections::list_views, respond, storage};

pub async fn show(env: &Env, settings: &Settings) -> Result<Response> {
    let key = match settings.keyring() {
        Ok(_) => "ok",
        Err(ConnectError::KeyMissing) | Err(ConnectError::KeyMalformed(KeyError::Missing)) => {
            "missing"
        }
        Err(_) => "malformed",
    };
    let admin = if settings.admin_token.is_ok() {
        "set"
    } else {
        "missing"
    };
    let last_cron = match storage::kv(env) {
        Ok(kv) => bindify_core::cron::last_run(&kv).await.ok().flatten(),
        Err(_) => None,
    }
    .map(bindify_core::time::rfc3339);
    let connections = list_views(env).await.map(|v| v.len()).ok();
    respond::json(
        200,
        &serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
            "encryption_key": key,
            "admin_token": admin,
            "last_cron_run": last_cron,
            "connections": connections,
        }),
    )
}
