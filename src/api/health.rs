//! `GET /api/health`: what `bindify doctor` checks. Every field is read separately, so one
//! missing setting does not hide the others.

use bindify_core::connect::flow::ConnectError;
use bindify_core::settings::Settings;
use bindify_core::vault::envelope::KeyError;
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
    // `unbound`: the Worker was deployed without its VAULT KV namespace.
    let (storage, last_cron, connections) = match storage::kv(env) {
        Err(_) => ("unbound", None, None),
        Ok(kv) => {
            let last_cron = bindify_core::lifecycle::cron::last_run(&kv).await;
            let connections = list_views(env).await.map(|v| v.len());
            match (last_cron, connections) {
                (Ok(last), Ok(n)) => ("ok", last.map(bindify_core::time::rfc3339), Some(n)),
                (last, listed) => {
                    if let Err(e) = &last {
                        worker::console_error!("health: reading the last cron run failed: {e}");
                    }
                    if let Err(e) = &listed {
                        worker::console_error!("health: listing connections failed: {e}");
                    }
                    ("unavailable", None, None)
                }
            }
        }
    };
    respond::json(
        200,
        &serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
            "encryption_key": key,
            "admin_token": admin,
            "storage": storage,
            "last_cron_run": last_cron,
            "connections": connections,
        }),
    )
}
