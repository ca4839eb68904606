//! `GET /s/<secret>/reconnect`: kept for links from before reconnecting moved to the dashboard.
//! It sends the holder of a live URL to `/manage/<id>/reconnect`, which needs the owner's
//! session like every change to a connection. The secret goes no further: not into the
//! redirect, and so never into the sign-in page's `?next=`.

use bindify_core::failure::{OwnFailure, StorageFailure};
use worker::{Env, Response, Result};

use crate::{connection_client, resolve, respond};

pub async fn start(env: &Env, secret: &str) -> Result<Response> {
    let found = match resolve::connection(env, secret).await {
        Ok(Some(found)) => found,
        Ok(None) => return respond::not_found(),
        Err(e) => {
            worker::console_error!("reconnect lookup failed: {e}");
            return respond::own_failure(&OwnFailure::storage(StorageFailure::UrlIndex));
        }
    };
    // The URL must still lead to this connection (not a rotated-away secret).
    match connection_client::status(env, &found.id, &found.hash).await {
        Ok(Some(_)) => {}
        Ok(None) => return respond::not_found(),
        Err(failed) => return respond::own_failure(&failed),
    }
    respond::redirect(
        &bindify_core::mcp::proxy::reconnect_url("", &found.id),
        None,
    )
}
