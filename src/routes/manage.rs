//! `GET /manage` (the dashboard) and `GET /manage/<id>/reconnect`.

use bindify_core::flow::{ConnectError, FlowExtras};
use bindify_core::pages;
use bindify_core::settings::Settings;
use bindify_core::upstream::validate_server_url;
use worker::{Env, Request, Response, Result};

use super::connect::{begin_flow, redirect_or_problem};
use crate::admin::{self, PageAccess};
use crate::{api, clock, connection_client, respond};

pub async fn dashboard(req: &Request, env: &Env, settings: &Settings) -> Result<Response> {
    let access = admin::page_access(req, settings);
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
        old_url_answers_for_seconds: settings.old_url_answers_for_seconds(),
        local_development_notice: open_notice,
    };
    respond::html(200, pages::dashboard_page(&dashboard))
}

/// Re-authorizes connection `id`, keeping its URL.
pub async fn reconnect(
    req: &Request,
    env: &Env,
    settings: &Settings,
    id: &str,
) -> Result<Response> {
    let access = admin::page_access(req, settings);
    if !matches!(access, PageAccess::Allowed { .. }) {
        return admin::page_refusal(&access, req);
    }
    reconnect_by_id(req, env, settings, id).await
}

/// Starts the reconnect flow of connection `id`. The caller has checked who may.
pub async fn reconnect_by_id(
    req: &Request,
    env: &Env,
    settings: &Settings,
    id: &str,
) -> Result<Response> {
    let view = match connection_client::view(env, id).await {
        Ok(Some(view)) => view,
        Ok(None) => return respond::not_found(),
        Err(failed) => {
            let problem = ConnectError::Own(failed).problem();
            return respond::problem_page(&problem);
        }
    };
    let begun = match validate_server_url(&view.upstream, settings.upstream_policy()) {
        Ok(server) => {
            let extras = FlowExtras {
                reconnect_id: Some(view.id),
                cli_code: None,
            };
            begin_flow(req, env, settings, &server, extras).await
        }
        Err(e) => Err(e.into()),
    };
    redirect_or_problem(begun)
}
