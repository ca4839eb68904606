//! `GET /s/<secret>/reconnect`: authorize the same upstream again and bind the new grant to
//! this connection, keeping its URL. The link appears in MCP errors; following it needs the
//! owner, like every change to a connection.

use worker::{Env, Request, Response, Result};

use super::manage::reconnect_by_id;
use crate::admin::{self, PageAccess};
use crate::{resolve, respond};

pub async fn start(req: &Request, env: &Env, secret: &str) -> Result<Response> {
    let found = match resolve::connection(env, secret).await {
        Ok(Some(found)) => found,
        Ok(None) => return respond::not_found(),
        Err(e) => {
            worker::console_error!("reconnect lookup failed: {e}");
            return respond::json(503, &serde_json::json!({ "error": "storage_unavailable" }));
        }
    };
    let access = admin::page_access(req, env);
    if !matches!(access, PageAccess::Allowed { .. }) {
        return admin::page_refusal(&access, req);
    }
    // The URL must still lead to this connection (not a rotated-away secret).
    let status = crate::connection_client::status(env, &found.id, &found.hash).await?;
    if status.status_code() != 200 {
        return respond::not_found();
    }
    reconnect_by_id(req, env, &found.id).await
}
