//! The forms that give Bindify what a server needs besides a browser sign-in
//! (`bindify_core::pages::credentials`): `POST /connect/client` (a client the owner registered
//! by hand, then the usual flow), `POST /connect/credentials` (a client's own credentials),
//! `GET` and `POST /connect/key` (an API key, or none). Each needs the owner's session, a post
//! from the Worker's own origin (or `Origin: null`), and the sealed confirmation the form
//! carries, bound to the server, the session and the connection a form reconnects.

use bindify_core::connect::flow::confirm::{
    self, ConfirmToken, MAX_CREDENTIALS_FORM_BYTES, SecretForm,
};
use bindify_core::connect::flow::direct::{self, StaticCredential};
use bindify_core::connect::flow::{self, ConnectError, Created, FlowExtras, machine};
use bindify_core::connect::owner_client::{self, OwnerClient, OwnerClients};
use bindify_core::oauth::discovery::{self, MachineGrants};
use bindify_core::oauth::registration::RegistrationError;
use bindify_core::pages::{self, FormTarget};
use bindify_core::settings::Settings;
use bindify_core::{admin as rules, connect::api_key, headers as header};
use worker::{Env, Request, Response, Result};

use super::connect::{begin_flow, redirect_or_problem, resolve_server};
use crate::admin::{self, PageAccess};
use crate::{clock, connection_client, fetch_http, request_body, resolve, respond, storage};

#[derive(serde::Deserialize)]
struct Query {
    server: Option<String>,
}

/// The page for a flow that could not start because the server needs something the owner
/// must enter: the client form on the error page, or the credentials form. Anything else is
/// the usual redirect or error page. `reconnect` is the connection being reconnected.
pub(crate) fn begun_or_form(
    req: &Request,
    settings: &Settings,
    server: &url::Url,
    reconnect: Option<&str>,
    begun: std::result::Result<flow::Begun, ConnectError>,
) -> Result<Response> {
    match &begun {
        Err(ConnectError::MachineCredentials(grants)) => {
            credentials_form(req, settings, server, reconnect, *grants, "")
        }
        Err(error @ ConnectError::Registration(RegistrationError::Unsupported)) => {
            let Some(token) = confirmation(req, settings, server, reconnect) else {
                return redirect_or_problem(begun);
            };
            let redirect = redirect_uri(req, settings).unwrap_or_default();
            let target = FormTarget {
                server: server.as_str(),
                confirm: token.expose(),
                reconnect,
            };
            let problem = error.problem();
            respond::html(
                problem.status,
                pages::client_needed_page(&problem, &target, &redirect),
            )
        }
        _ => redirect_or_problem(begun),
    }
}

/// The credentials form for `server`.
pub(crate) fn credentials_form(
    req: &Request,
    settings: &Settings,
    server: &url::Url,
    reconnect: Option<&str>,
    grants: MachineGrants,
    client_id: &str,
) -> Result<Response> {
    let Some(token) = confirmation(req, settings, server, reconnect) else {
        return redirect_or_problem(Err(ConnectError::ConfirmationInvalid));
    };
    let target = FormTarget {
        server: server.as_str(),
        confirm: token.expose(),
        reconnect,
    };
    respond::html(
        200,
        pages::credentials_page(&host(server), &target, grants, client_id),
    )
}

/// The API key form for `server`.
pub(crate) fn key_form(
    req: &Request,
    settings: &Settings,
    server: &url::Url,
    reconnect: Option<&str>,
    header_name: &str,
) -> Result<Response> {
    let Some(token) = confirmation(req, settings, server, reconnect) else {
        return redirect_or_problem(Err(ConnectError::ConfirmationInvalid));
    };
    let target = FormTarget {
        server: server.as_str(),
        confirm: token.expose(),
        reconnect,
    };
    respond::html(
        200,
        pages::api_key_page(&host(server), &target, header_name),
    )
}

/// `GET /connect/key?server=`: the API key form for a pasted server.
pub async fn key_page(req: &Request, env: &Env, settings: &Settings) -> Result<Response> {
    if let Err(error) = settings.keyring() {
        return respond::problem_page(&error.problem());
    }
    let access = admin::page_access(req, settings);
    if !matches!(access, PageAccess::Allowed { .. }) {
        return admin::page_refusal(&access, req);
    }
    let requested = req.query::<Query>().ok().and_then(|q| q.server);
    match resolve_server(req, env, settings, None, requested.as_deref()).await {
        Ok(server) => key_form(req, settings, &server, None, api_key::DEFAULT_HEADER),
        Err(error) => redirect_or_problem(Err(error)),
    }
}

/// `POST /connect/client`: stores the client the owner entered for the server's
/// authorization server, then starts the usual flow, which now finds it.
pub async fn client(mut req: Request, env: &Env, settings: &Settings) -> Result<Response> {
    let (form, server, reconnect) = match accepted_form(&mut req, env, settings).await? {
        Ok(accepted) => accepted,
        Err(response) => return Ok(response),
    };
    let saved = save_client(&req, env, settings, &server, &form).await;
    if let Err(error) = saved {
        return redirect_or_problem(Err(error));
    }
    let extras = FlowExtras {
        reconnect_id: reconnect.clone(),
        ..FlowExtras::default()
    };
    let begun = begin_flow(&req, env, settings, &server, extras).await;
    begun_or_form(&req, settings, &server, reconnect.as_deref(), begun)
}

async fn save_client(
    req: &Request,
    env: &Env,
    settings: &Settings,
    server: &url::Url,
    form: &SecretForm,
) -> std::result::Result<(), ConnectError> {
    let (client_id, client_secret) = owner_client::checked(
        form.get("client_id").unwrap_or_default(),
        form.get("client_secret").unwrap_or_default(),
    )
    .map_err(|e| ConnectError::Credentials(e.to_string()))?;
    let keyring = settings.keyring()?;
    let origin = req.url().map_err(|_| ConnectError::ServerMissing)?;
    let connect = settings.connect_settings(&origin)?;
    let found = discovery::discover(&fetch_http::send, server, connect.policy).await?;
    let kv = storage::kv(env)?;
    let clients = OwnerClients {
        store: &kv,
        keyring,
        redirect_uri: connect.redirect_uri.as_str(),
    };
    clients
        .save(&OwnerClient {
            issuer: found.issuer.to_string(),
            client_id,
            client_secret,
            entered_at: clock::now(),
        })
        .await?;
    Ok(())
}

/// `POST /connect/credentials`: connects with a client's own credentials.
pub async fn credentials(mut req: Request, env: &Env, settings: &Settings) -> Result<Response> {
    let (form, server, reconnect) = match accepted_form(&mut req, env, settings).await? {
        Ok(accepted) => accepted,
        Err(response) => return Ok(response),
    };
    let created = async {
        let credentials = machine::from_fields(|name| form.get(name))?;
        let origin = req.url().map_err(|_| ConnectError::ServerMissing)?;
        let connect = settings.connect_settings(&origin)?;
        // A reconnect asks for the connection's scopes, or the union a step-up recorded.
        let scopes = match &reconnect {
            Some(id) => connection_client::reconnect_plan(env, id)
                .await
                .map_err(ConnectError::Own)?
                .map(|plan| plan.scopes)
                .unwrap_or_default(),
            None => Vec::new(),
        };
        machine::connect(
            &fetch_http::send,
            &connect,
            &server,
            credentials,
            &scopes,
            clock::now(),
        )
        .await
    }
    .await;
    finish(&req, env, created, reconnect.as_deref()).await
}

/// `POST /connect/key`: connects with an API key, or with none.
pub async fn key(mut req: Request, env: &Env, settings: &Settings) -> Result<Response> {
    let (form, server, reconnect) = match accepted_form(&mut req, env, settings).await? {
        Ok(accepted) => accepted,
        Err(response) => return Ok(response),
    };
    let created = async {
        let value = form.get("api_key").unwrap_or_default();
        let credential = if value.trim().is_empty() {
            StaticCredential::Open
        } else {
            StaticCredential::ApiKey {
                name: api_key::header_name(form.get("header_name").unwrap_or_default())?,
                value: api_key::header_value(value)?,
            }
        };
        let origin = req.url().map_err(|_| ConnectError::ServerMissing)?;
        let connect = settings.connect_settings(&origin)?;
        direct::connect(
            &fetch_http::send,
            &connect,
            &server,
            credential,
            clock::now(),
        )
        .await
    }
    .await;
    finish(&req, env, created, reconnect.as_deref()).await
}

/// Stores a connection made from a form (or gives a reconnected one its new credential) and
/// shows the page for it.
async fn finish(
    req: &Request,
    env: &Env,
    created: std::result::Result<Created, ConnectError>,
    reconnect: Option<&str>,
) -> Result<Response> {
    let created = match created {
        Ok(created) => created,
        Err(error) => return redirect_or_problem(Err(error)),
    };
    if let Some(id) = reconnect {
        return match connection_client::rebind(env, id, &created.record).await {
            Ok(rebound) => respond::html(
                200,
                pages::reconnected_page(&created.record.server_url, rebound.replaced_grant),
            ),
            Err(error) => redirect_or_problem(Err(error)),
        };
    }
    if let Err(error) = store_new(env, &created).await {
        return redirect_or_problem(Err(error));
    }
    let origin = req.url()?.origin().ascii_serialization();
    let base = format!("{origin}/s/{}", created.secret.expose());
    respond::html(
        200,
        pages::success_page(
            &created.record.server_url,
            &format!("{base}/mcp"),
            &format!("{base}/sse"),
        ),
    )
}

/// The record exists in its object before any URL leads to it; without its URL, it is removed
/// again.
pub(crate) async fn store_new(
    env: &Env,
    created: &Created,
) -> std::result::Result<(), ConnectError> {
    resolve::create(env, &created.record).await
}

/// A posted credentials form the owner may send: access, origin, size, and a confirmation
/// for its server (and connection). `Err` is the page to answer with.
async fn accepted_form(
    req: &mut Request,
    env: &Env,
    settings: &Settings,
) -> Result<std::result::Result<(SecretForm, url::Url, Option<String>), Response>> {
    let keyring = match settings.keyring() {
        Ok(keyring) => keyring,
        Err(error) => return Ok(Err(respond::problem_page(&error.problem())?)),
    };
    let access = admin::page_access(req, settings);
    if !matches!(access, PageAccess::Allowed { .. }) {
        return Ok(Err(admin::page_refusal(&access, req)?));
    }
    let refused = || redirect_or_problem(Err(ConnectError::ConfirmationInvalid));
    // Pages here send no referrer, so a browser may say `Origin: null` for the page's own
    // post: then the confirmation alone decides.
    let origin = req.headers().get(header::ORIGIN)?.filter(|o| o != "null");
    if origin.is_some() && !rules::from_own_origin(origin.as_deref(), &admin::own_origin(req)) {
        return Ok(Err(refused()?));
    }
    let Some(body) = request_body::read_capped(req, MAX_CREDENTIALS_FORM_BYTES).await? else {
        return Ok(Err(refused()?));
    };
    let form = SecretForm::parse(&body);
    let server = match resolve_server(req, env, settings, None, form.get("server")).await {
        Ok(server) => server,
        Err(error) => return Ok(Err(redirect_or_problem(Err(error))?)),
    };
    let reconnect = form
        .get("reconnect")
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    let session = admin::session_value(req);
    if !confirm::confirmed_for(
        keyring,
        &form.confirmation(),
        &server,
        reconnect.as_deref(),
        session.as_ref(),
        clock::now(),
    ) {
        return Ok(Err(refused()?));
    }
    Ok(Ok((form, server, reconnect)))
}

/// A confirmation for a form about `server` (and the connection it reconnects).
fn confirmation(
    req: &Request,
    settings: &Settings,
    server: &url::Url,
    reconnect: Option<&str>,
) -> Option<ConfirmToken> {
    let keyring = settings.keyring().ok()?;
    let session = admin::session_value(req);
    confirm::confirm_token_for(keyring, server, reconnect, session.as_ref(), clock::now()).ok()
}

fn redirect_uri(req: &Request, settings: &Settings) -> Option<String> {
    let origin = req.url().ok()?;
    Some(
        settings
            .connect_settings(&origin)
            .ok()?
            .redirect_uri
            .to_string(),
    )
}

fn host(server: &url::Url) -> String {
    let host = server.host_str().unwrap_or_default();
    match server.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}
