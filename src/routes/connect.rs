//! `GET /connect/<preset>` starts the OAuth flow at once. `GET /connect?server=<url>` shows a
//! confirmation page naming the host, and its `POST /connect` starts the flow (see
//! `bindify_core::connect::flow::confirm`). Connecting needs the owner (a dashboard session),
//! except in local development without `ADMIN_TOKEN`.

use bindify_core::connect::flow::confirm::{self, ConfirmForm, MAX_CONFIRM_FORM_BYTES};
use bindify_core::connect::flow::{self, ConnectError, FlowExtras};
use bindify_core::connect::owner_client::OwnerClients;
use bindify_core::headers as header;
use bindify_core::oauth::upstream::validate_server_url;
use bindify_core::settings::Settings;
use bindify_core::{admin as rules, connect::presets, pages};
use worker::{Env, Request, Response, Result};

use super::credentials::begun_or_form;
use crate::admin::{self, PageAccess};
use crate::{clock, fetch_http, request_body, respond, storage};

#[derive(serde::Deserialize)]
struct Query {
    server: Option<String>,
}

/// `GET /connect/<preset>` (starts the flow) and `GET /connect?server=` (asks to confirm).
pub async fn start(
    req: &Request,
    env: &Env,
    settings: &Settings,
    preset: Option<&str>,
) -> Result<Response> {
    // A missing or malformed encryption key is reported first: nothing can be stored without it.
    let keyring = match settings.keyring() {
        Ok(keyring) => keyring,
        Err(error) => return respond::problem_page(&error.problem()),
    };
    let access = admin::page_access(req, settings);
    if !matches!(access, PageAccess::Allowed { .. }) {
        return admin::page_refusal(&access, req);
    }
    let requested = req.query::<Query>().ok().and_then(|q| q.server);
    let server = match resolve_server(req, env, settings, preset, requested.as_deref()).await {
        Ok(server) => server,
        Err(error) => return redirect_or_problem(Err(error)),
    };
    if preset.is_some() {
        let begun = begin_flow(req, env, settings, &server, FlowExtras::default()).await;
        return begun_or_form(req, settings, &server, None, begun);
    }
    let session = admin::session_value(req);
    match confirm::confirm_token(keyring, &server, session.as_ref(), clock::now()) {
        Ok(token) => respond::html(200, pages::confirm_page(&server, token.expose())),
        Err(e) => redirect_or_problem(Err(e.into())),
    }
}

/// `POST /connect`: the confirmation page's button.
pub async fn confirmed(mut req: Request, env: &Env, settings: &Settings) -> Result<Response> {
    let keyring = match settings.keyring() {
        Ok(keyring) => keyring,
        Err(error) => return respond::problem_page(&error.problem()),
    };
    let access = admin::page_access(&req, settings);
    if !matches!(access, PageAccess::Allowed { .. }) {
        return admin::page_refusal(&access, &req);
    }
    // A form post from another site is refused outright. Pages here send no referrer, so a
    // browser may say `Origin: null` for the page's own post: then the token alone decides.
    let origin = req.headers().get(header::ORIGIN)?.filter(|o| o != "null");
    if origin.is_some() && !rules::from_own_origin(origin.as_deref(), &admin::own_origin(&req)) {
        return redirect_or_problem(Err(ConnectError::ConfirmationInvalid));
    }
    let Some(body) = request_body::read_capped(&mut req, MAX_CONFIRM_FORM_BYTES).await? else {
        return redirect_or_problem(Err(ConnectError::ConfirmationInvalid));
    };
    let form = ConfirmForm::parse(&body);
    let server = match resolve_server(&req, env, settings, None, form.server.as_deref()).await {
        Ok(server) => server,
        Err(error) => return redirect_or_problem(Err(error)),
    };
    let session = admin::session_value(&req);
    let confirmed = form.token.as_ref().is_some_and(|token| {
        confirm::confirmed(keyring, token, &server, session.as_ref(), clock::now())
    });
    if !confirmed {
        return redirect_or_problem(Err(ConnectError::ConfirmationInvalid));
    }
    let begun = begin_flow(&req, env, settings, &server, FlowExtras::default()).await;
    begun_or_form(&req, settings, &server, None, begun)
}

/// The flow's first redirect, or the page saying why it could not start.
pub(crate) fn redirect_or_problem(
    begun: std::result::Result<flow::Begun, ConnectError>,
) -> Result<Response> {
    match begun {
        Ok(begun) => respond::redirect(begun.authorize_url.as_str(), Some(&begun.set_cookie)),
        Err(error) => {
            worker::console_warn!("connect failed: {error}");
            respond::problem_page(&error.problem())
        }
    }
}

/// The MCP server named by a preset slug or given as a URL, checked against the policy.
pub(crate) async fn resolve_server(
    req: &Request,
    env: &Env,
    settings: &Settings,
    preset: Option<&str>,
    server: Option<&str>,
) -> std::result::Result<url::Url, ConnectError> {
    let server = match preset {
        Some(slug) => {
            let all = deployment_presets(req, env, settings).await;
            presets::find(&all, slug)
                .ok_or_else(|| ConnectError::UnknownPreset(slug.to_owned()))?
                .server_url
        }
        None => server
            .filter(|s| !s.trim().is_empty())
            .ok_or(ConnectError::ServerMissing)?
            .to_owned(),
    };
    Ok(validate_server_url(&server, settings.upstream_policy())?)
}

/// Starts a flow to `server` (already validated) for the purpose `extras` names.
pub(crate) async fn begin_flow(
    req: &Request,
    env: &Env,
    settings: &Settings,
    server: &url::Url,
    extras: FlowExtras,
) -> std::result::Result<flow::Begun, ConnectError> {
    let keyring = settings.keyring()?;
    let origin = req.url().map_err(|_| ConnectError::ServerMissing)?;
    let connect = settings.connect_settings(&origin)?;
    let kv = storage::kv(env)?;
    flow::begin(
        &fetch_http::send,
        &kv,
        keyring,
        &connect,
        server,
        extras,
        clock::now(),
    )
    .await
}

/// The presets this deployment offers: the built-in ones, the demo service when configured,
/// and GitHub or Asana once a client for their authorization server is configured in
/// `OAUTH_CLIENTS` or entered by the owner. Entered clients are looked up only for the owner
/// (a visitor's page view costs no storage read); a storage failure while looking for them
/// leaves those two out.
pub(crate) async fn deployment_presets(
    req: &Request,
    env: &Env,
    settings: &Settings,
) -> Vec<presets::Preset> {
    let mut issuers: Vec<String> = settings.oauth_clients.keys().cloned().collect();
    let owner = matches!(
        admin::page_access(req, settings),
        PageAccess::Allowed { .. }
    );
    let entered = async {
        if !owner {
            return None;
        }
        let keyring = settings.keyring().ok()?;
        let origin = req.url().ok()?;
        let connect = settings.connect_settings(&origin).ok()?;
        let kv = storage::kv(env).ok()?;
        let clients = OwnerClients {
            store: &kv,
            keyring,
            redirect_uri: connect.redirect_uri.as_str(),
        };
        let mut found = Vec::new();
        for gated in presets::gated() {
            if issuers
                .iter()
                .any(|i| i.trim_end_matches('/') == gated.issuer)
            {
                continue;
            }
            match clients.find(gated.issuer).await {
                Ok(Some(_)) => found.push(gated.issuer.to_owned()),
                Ok(None) => {}
                Err(e) => worker::console_warn!("presets: entered clients unreadable: {e}"),
            }
        }
        Some(found)
    }
    .await;
    issuers.extend(entered.unwrap_or_default());
    presets::all(settings.demo_server_url.as_deref(), &issuers)
}
