//! `GET /oauth/callback`: finish the flow, store the connection, show the permanent URLs.

use bindify_core::flow::{self, CallbackParams, Completed, ConnectError};
use bindify_core::store::{KvStore, PutOptions};
use bindify_core::{keys, pages};
use worker::{Env, Request, Response, Result};

use super::connect::store_error;
use crate::storage::Kv;
use crate::{clock, config, connection_client, fetch_http, respond};

pub async fn finish(req: &Request, env: &Env) -> Result<Response> {
    let origin = req.url()?;
    match complete(req, env).await {
        Ok(Finished::Reconnected {
            server_url,
            clear_cookie,
        }) => {
            let response = respond::html(200, pages::reconnected_page(&server_url))?;
            response.headers().append("set-cookie", &clear_cookie)?;
            Ok(response)
        }
        Ok(Finished::Created(done)) => {
            let base = format!(
                "{}/s/{}",
                origin.origin().ascii_serialization(),
                done.secret.expose()
            );
            let page = pages::success_page(
                &done.record.server_url,
                &format!("{base}/mcp"),
                &format!("{base}/sse"),
            );
            let response = respond::html(200, page)?;
            response
                .headers()
                .append("set-cookie", &done.clear_cookie)?;
            Ok(response)
        }
        Err(error) => {
            worker::console_warn!("callback failed: {error}");
            respond::problem_page(&error.problem())
        }
    }
}

/// How a successful callback ended.
enum Finished {
    Created(Box<Completed>),
    Reconnected {
        server_url: String,
        clear_cookie: String,
    },
}

async fn complete(req: &Request, env: &Env) -> std::result::Result<Finished, ConnectError> {
    let keyring = config::keyring(env)?;
    let origin = req.url().map_err(|_| ConnectError::StateMissing)?;
    let settings = config::connect_settings(env, &origin)?;
    let params: CallbackParams = req.query().unwrap_or_default();
    let cookie = req.headers().get("cookie").ok().flatten();
    let kv = Kv(env.kv(config::KV_BINDING).map_err(store_error)?);
    let done = flow::complete(
        &fetch_http::send,
        &kv,
        &keyring,
        &settings,
        &params,
        cookie.as_deref(),
        clock::now(),
    )
    .await?;

    if let Some(id) = &done.reconnect_id {
        connection_client::rebind(env, id, &done.record).await?;
        return Ok(Finished::Reconnected {
            server_url: done.record.server_url,
            clear_cookie: done.clear_cookie,
        });
    }
    // The record exists before any URL leads to it.
    connection_client::create(env, &done.record).await?;
    kv.put(
        &keys::url_index(&done.record.secret_hash),
        &done.record.id,
        PutOptions::default(),
    )
    .await?;
    Ok(Finished::Created(Box::new(done)))
}
