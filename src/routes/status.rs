//! `GET /s/<secret>/status`: the connection's state, never a token.

use worker::{Env, Response, Result};

use crate::{connection_client, resolve, respond};

pub async fn show(env: &Env, secret: &str) -> Result<Response> {
    match resolve::connection(env, secret).await {
        Ok(Some(found)) => connection_client::status(env, &found.id, &found.hash).await,
        Ok(None) => respond::not_found(),
        Err(e) => {
            worker::console_error!("status lookup failed: {e}");
            respond::json(503, &serde_json::json!({ "error": "storage_unavailable" }))
        }
    }
}
