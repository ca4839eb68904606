//! `GET /oauth/callback`: finish the flow, store the connection, show the permanent URLs (or,
//! for a reconnect, say the URL works again; for the CLI, leave the result for it).

use bindify_core::connect::cli_flow::CliStatus;
use bindify_core::connect::flow::revoke::ReplacedGrant;
use bindify_core::connect::flow::{self, CallbackParams, Completed, ConnectError, Failure};
use bindify_core::headers as header;
use bindify_core::pages;
use bindify_core::settings::Settings;
use worker::{Env, Request, Response, Result};

use crate::{cli_codes, clock, connection_client, fetch_http, resolve, respond, storage};

pub async fn finish(req: &Request, env: &Env, settings: &Settings) -> Result<Response> {
    let origin = req.url()?.origin().ascii_serialization();
    let (done, replaced) = match complete(req, env, settings).await {
        Ok(done) => done,
        Err(failure) => {
            worker::console_warn!("callback failed: {}", failure.error);
            let problem = failure.error.problem();
            if let Some(code) = &failure.extras.cli_code {
                let status = CliStatus::Failed {
                    error: problem.code.to_owned(),
                    message: problem.message(),
                };
                cli_codes::finish(env, code, status).await;
            }
            return respond::problem_page(&problem);
        }
    };
    let page = if let Some(replaced) = replaced {
        pages::reconnected_page(&done.record.server_url, replaced)
    } else {
        let base = format!("{origin}/s/{}", done.secret.expose());
        let (mcp_url, sse_url) = (format!("{base}/mcp"), format!("{base}/sse"));
        match &done.extras.cli_code {
            Some(code) => {
                let status = CliStatus::Connected {
                    id: done.record.id.clone(),
                    label: done.record.label.clone(),
                    upstream: done.record.server_url.clone(),
                    mcp_url,
                    sse_url,
                };
                cli_codes::finish(env, code, status).await;
                pages::cli_done_page(&done.record.server_url)
            }
            None => pages::success_page(&done.record.server_url, &mcp_url, &sse_url),
        }
    };
    let response = respond::html(200, page)?;
    response
        .headers()
        .append(header::SET_COOKIE, &done.clear_cookie)?;
    Ok(response)
}

/// The new connection, or for a reconnect what became of the grant it replaced.
async fn complete(
    req: &Request,
    env: &Env,
    settings: &Settings,
) -> std::result::Result<(Completed, Option<ReplacedGrant>), Failure> {
    let keyring = settings.keyring()?;
    let origin = req
        .url()
        .map_err(|_| bindify_core::connect::flow::ConnectError::StateMissing)?;
    let connect = settings.connect_settings(&origin)?;
    let params: CallbackParams = req.query().unwrap_or_default();
    let cookie = req.headers().get(header::COOKIE).ok().flatten();
    let kv = storage::kv(env).map_err(ConnectError::from)?;
    let done = flow::complete(
        &fetch_http::send,
        &kv,
        keyring,
        &connect,
        &params,
        cookie.as_deref(),
        clock::now(),
    )
    .await?;
    let failed = |error| Failure {
        error,
        extras: done.extras.clone(),
    };

    if let Some(id) = &done.extras.reconnect_id {
        let rebound = connection_client::rebind(env, id, &done.record)
            .await
            .map_err(failed)?;
        return Ok((done, Some(rebound.replaced_grant)));
    }
    // The record exists before any URL leads to it; without its URL, it is removed again.
    resolve::create(env, &done.record).await.map_err(failed)?;
    Ok((done, None))
}
