//! `GET /s/<secret>/status`: the connection's state, never a token. Bindify's own failures
//! (its storage, its configuration) are answered with their code and what the operator can do.

use bindify_core::failure::{OwnFailure, StorageFailure};
use worker::{Env, Response, Result};

use crate::{connection_client, resolve, respond};

pub async fn show(env: &Env, secret: &str) -> Result<Response> {
    let found = match resolve::connection(env, secret).await {
        Ok(Some(found)) => found,
        Ok(None) => return respond::not_found(),
        Err(e) => {
            worker::console_error!("status lookup failed: {e}");
            return respond::own_failure(&OwnFailure::storage(StorageFailure::UrlIndex));
        }
    };
    match connection_client::status(env, &found.id, &found.hash).await {
        Ok(Some(status)) => respond::json(200, &status),
        Ok(None) => respond::not_found(),
        Err(failed) => respond::own_failure(&failed),
    }
}
