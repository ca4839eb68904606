//! `GET /manage` (the dashboard) and `GET /manage/<id>/reconnect`.

use bindify_core::flow::{ConnectError, FlowExtras};
use bindify_core::pages;
use bindify_core::upstream::validate_server_url;
use worker::{Env, Request, Response, Result};

use super::connect::{begin_flow, redirect_or_problem};
use crate::admin::{self, PageAccess};
use crate::{api, clock, config, connection_client, respond};

/// How long a URL still answers after it was rotated away or revoked: every request resolves
/// its secret through the connection's object, so the old URL stops at once.
const OLD_URL_ANSWERS_FOR_SECONDS: u64 = 0;

pub async fn dashboard(req: &Request, env: &Env) -> Result<Response> {
    let access = admin::page_access(req, env);
    let PageAccess::Allowed { open_notice } = access else {
        return admin::page_refusal(&access, req);
    };
    let connections = match api::connections::list_views(env).await {
        Ok(list) => list,
        Err(e) => {
            worker::console_error!("dashboard: listing failed: {e}");
            return respond::problem_page(
                &ConnectError::Store(bindify_core::store::StoreError {
                    op: "list",
                    reason: e.to_string(),
                })
                .problem(),
            );
        }
    };
    let dashboard = pages::Dashboard {
        connections: &connections,
        now: clock::now(),
        refresh_window_ms: config::refresh_window_ms(env),
        old_url_answers_for_seconds: OLD_URL_ANSWERS_FOR_SECONDS,
        local_development_notice: open_notice,
    };
    respond::html(200, pages::dashboard_page(&dashboard))
}

/// Re-authorizes connection `id`, keeping its URL.
pub async fn reconnect(req: &Request, env: &Env, id: &str) -> Result<Response> {
    let access = admin::page_access(req, env);
    if !matches!(access, PageAccess::Allowed { .. }) {
        return admin::page_refusal(&access, req);
    }
    reconnect_by_id(req, env, id).await
}

/// Starts the reconnect flow of connection `id`. The caller has checked who may.
pub async fn reconnect_by_id(req: &Request, env: &Env, id: &str) -> Result<Response> {
    let Some(view) = connection_client::view(env, id).await? else {
        return respond::not_found();
    };
    let begun = match validate_server_url(&view.upstream, config::upstream_policy(env)) {
        Ok(server) => {
            let extras = FlowExtras {
                reconnect_id: Some(view.id),
                cli_code: None,
                reconnect_scopes: Vec::new(),
            };
            begin_flow(req, env, &server, extras).await
        }
        Err(e) => Err(e.into()),
    };
    redirect_or_problem(begun)
}
