//! `GET /s/<secret>/reconnect`: authorize the same upstream again and bind the new grant to
//! this connection, keeping its URL.

use bindify_core::flow::ConnectError;
use bindify_core::record::StatusView;
use bindify_core::upstream::validate_server_url;
use worker::{Env, Request, Response, Result};

use super::connect::begin_flow;
use crate::{config, connection_client, resolve, respond};

pub async fn start(req: &Request, env: &Env, secret: &str) -> Result<Response> {
    let found = match resolve::connection(env, secret).await {
        Ok(Some(found)) => found,
        Ok(None) => return respond::not_found(),
        Err(e) => {
            worker::console_error!("reconnect lookup failed: {e}");
            return respond::problem_page(
                &ConnectError::Store(bindify_core::store::StoreError {
                    op: "get",
                    reason: e.to_string(),
                })
                .problem(),
            );
        }
    };
    let mut status = connection_client::status(env, &found.id, &found.hash).await?;
    if status.status_code() != 200 {
        return respond::not_found();
    }
    let view: StatusView = status.json().await?;
    let server = match validate_server_url(&view.upstream, config::upstream_policy(env)) {
        Ok(server) => server,
        Err(e) => return respond::problem_page(&ConnectError::from(e).problem()),
    };
    match begin_flow(req, env, &server, Some(found.id)).await {
        Ok(begun) => respond::redirect(begun.authorize_url.as_str(), Some(&begun.set_cookie)),
        Err(error) => {
            worker::console_warn!("reconnect failed: {error}");
            respond::problem_page(&error.problem())
        }
    }
}
