//! `GET /manage` (the dashboard) and `GET /manage/<id>/reconnect`.

use bindify_core::connect::flow::{ConnectError, FlowExtras};
use bindify_core::oauth::upstream::validate_server_url;
use bindify_core::pages;
use bindify_core::settings::Settings;
use worker::{Env, Request, Response, Result};

use super::connect::{begin_flow, redirect_or_problem};
use super::credentials::{begun_or_form, credentials_form, key_form};
use crate::admin::{self, PageAccess};
use crate::{api, clock, connection_client, respond};
use bindify_core::connect::api_key;
use bindify_core::oauth::discovery::MachineGrants;
use bindify_core::vault::record::ConnectionKind;

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
                &ConnectError::Store(bindify_core::vault::store::StoreError {
                    op: "list",
                    reason: e.to_string(),
                })
                .problem(),
            );
        }
    };
    let activity = api::connections::activities(env, &connections).await;
    // A listing failure leaves the section empty; the connections still show.
    let entered_clients = api::clients::listed(env).await.unwrap_or_else(|e| {
        worker::console_error!("dashboard: listing entered clients failed: {e}");
        Vec::new()
    });
    let redirect_uri = req
        .url()
        .ok()
        .and_then(|origin| origin.join("/oauth/callback").ok())
        .map(String::from)
        .unwrap_or_default();
    let dashboard = pages::Dashboard {
        connections: &connections,
        activity: &activity,
        now: clock::now(),
        old_url_answers_for_seconds: settings.old_url_answers_for_seconds(),
        local_development_notice: open_notice,
        entered_clients: &entered_clients,
        redirect_uri: &redirect_uri,
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

/// Starts the reconnect of connection `id`: the browser flow asking for the stored scopes, or
/// the form for the credential it was made with. The caller has checked who may.
pub async fn reconnect_by_id(
    req: &Request,
    env: &Env,
    settings: &Settings,
    id: &str,
) -> Result<Response> {
    let plan = match connection_client::reconnect_plan(env, id).await {
        Ok(Some(plan)) => plan,
        Ok(None) => return respond::not_found(),
        Err(failed) => {
            let problem = ConnectError::Own(failed).problem();
            return respond::problem_page(&problem);
        }
    };
    let server = match validate_server_url(&plan.server_url, settings.upstream_policy()) {
        Ok(server) => server,
        Err(e) => return redirect_or_problem(Err(e.into())),
    };
    // A connection without a browser sign-in is reconnected by entering its credential again.
    let grants = |client_credentials, identity_assertion| MachineGrants {
        client_credentials,
        identity_assertion,
    };
    let client_id = plan.client_id.as_deref().unwrap_or_default();
    let id = Some(plan.id.as_str());
    match plan.kind {
        ConnectionKind::ApiKey | ConnectionKind::Open => {
            let header = plan
                .header_name
                .as_deref()
                .unwrap_or(api_key::DEFAULT_HEADER);
            return key_form(req, settings, &server, id, header);
        }
        ConnectionKind::ClientCredentials => {
            return credentials_form(req, settings, &server, id, grants(true, false), client_id);
        }
        ConnectionKind::IdentityAssertion => {
            return credentials_form(req, settings, &server, id, grants(false, true), client_id);
        }
        ConnectionKind::Oauth => {}
    }
    // The authorization asks for the scopes the connection had, or the union a step-up needs.
    let extras = FlowExtras {
        reconnect_id: Some(plan.id.clone()),
        cli_code: None,
        reconnect_scopes: plan.scopes.clone(),
    };
    let begun = begin_flow(req, env, settings, &server, extras).await;
    begun_or_form(req, settings, &server, id, begun)
}
