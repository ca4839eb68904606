//! `/api/clients`: the clients the owner registered by hand at authorization servers without
//! dynamic registration (`bindify connect --client-id`, the dashboard). And `POST
//! /api/connections`: connections made without a browser (an API key, an open server, a
//! client's own credentials).

use bindify_core::connect::flow::direct::{self, StaticCredential};
use bindify_core::connect::flow::{ConnectError, machine};
use bindify_core::connect::owner_client::{self, OwnerClient, OwnerClientListing, OwnerClients};
use bindify_core::oauth::discovery;
use bindify_core::settings::Settings;
use bindify_core::vault::store::StoreError;
use serde::Deserialize;
use worker::{Env, Request, Response, Result};

use super::storage_failed;
use crate::routes::connect::resolve_server;
use crate::routes::credentials::store_new;
use crate::{admin, clock, fetch_http, respond, storage};

#[derive(Deserialize)]
struct ClientBody {
    server: String,
    client_id: String,
    #[serde(default)]
    client_secret: Option<String>,
}

/// `PUT /api/clients`: stores a client for the authorization server of `server`.
pub async fn put(req: &mut Request, env: &Env, settings: &Settings) -> Result<Response> {
    let Ok(body) = crate::request_body::json::<ClientBody>(req).await else {
        return admin::api_error(
            400,
            "invalid_request",
            "Send {\"server\": \"<MCP URL>\", \"client_id\": \"…\", \"client_secret\": \"…\"}.",
        );
    };
    let stored = async {
        let (client_id, client_secret) = owner_client::checked(
            &body.client_id,
            body.client_secret.as_deref().unwrap_or_default(),
        )
        .map_err(|e| ConnectError::Credentials(e.to_string()))?;
        let server = server(req, env, settings, &body.server).await?;
        let keyring = settings.keyring()?;
        let origin = req.url().map_err(|_| ConnectError::ServerMissing)?;
        let connect = settings.connect_settings(&origin)?;
        let found = discovery::discover(&fetch_http::send, &server, connect.policy).await?;
        let kv = storage::kv(env)?;
        let client = OwnerClient {
            issuer: found.issuer.as_str().trim_end_matches('/').to_owned(),
            client_id,
            client_secret,
            entered_at: clock::now(),
        };
        OwnerClients {
            store: &kv,
            keyring,
            redirect_uri: connect.redirect_uri.as_str(),
        }
        .save(&client)
        .await?;
        Ok::<_, ConnectError>((client, connect.redirect_uri.to_string()))
    }
    .await;
    match stored {
        Ok((client, redirect_uri)) => respond::json(
            200,
            &serde_json::json!({
                "issuer": client.issuer,
                "client_id": client.client_id,
                "redirect_uri": redirect_uri,
            }),
        ),
        Err(error) => flow_error(&error),
    }
}

/// `GET /api/clients`: the entered clients, from their plaintext metadata (no secret).
pub async fn list(env: &Env) -> Result<Response> {
    match listed(env).await {
        Ok(clients) => respond::json(200, &serde_json::json!({ "clients": clients })),
        Err(e) => storage_failed(e),
    }
}

/// Every entered client, by issuer.
pub async fn listed(env: &Env) -> std::result::Result<Vec<OwnerClientListing>, StoreError> {
    owner_client::list(&storage::kv(env)?).await
}

#[derive(Deserialize)]
struct RemoveBody {
    issuer: String,
}

/// `DELETE /api/clients` with `{"issuer"}`: forgets the client entered for that issuer.
pub async fn remove(req: &mut Request, env: &Env, settings: &Settings) -> Result<Response> {
    let Ok(body) = crate::request_body::json::<RemoveBody>(req).await else {
        return admin::api_error(400, "invalid_request", "Send {\"issuer\": \"…\"}.");
    };
    let origin = req.url()?;
    let (keyring, connect) = match (settings.keyring(), settings.connect_settings(&origin)) {
        (Ok(k), Ok(c)) => (k, c),
        (Err(e), _) | (_, Err(e)) => return flow_error(&e),
    };
    let kv = match storage::kv(env) {
        Ok(kv) => kv,
        Err(e) => return storage_failed(e),
    };
    let clients = OwnerClients {
        store: &kv,
        keyring,
        redirect_uri: connect.redirect_uri.as_str(),
    };
    match clients.find(&body.issuer).await {
        Ok(Some(_)) => match clients.remove(&body.issuer).await {
            Ok(()) => respond::json(200, &serde_json::json!({ "removed": true })),
            Err(e) => storage_failed(e),
        },
        Ok(None) => admin::api_error(
            404,
            "not_found",
            "No client is entered for this issuer; GET /api/clients lists them.",
        ),
        Err(e) => storage_failed(e),
    }
}

#[derive(Deserialize)]
struct CreateBody {
    server: String,
    kind: String,
    #[serde(default)]
    header_name: Option<String>,
    #[serde(default)]
    api_key: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    private_key_pem: Option<String>,
    #[serde(default)]
    signing_algorithm: Option<String>,
}

/// `POST /api/connections`: a connection made without a browser.
pub async fn create(req: &mut Request, env: &Env, settings: &Settings) -> Result<Response> {
    let Ok(body) = crate::request_body::json::<CreateBody>(req).await else {
        return admin::api_error(
            400,
            "invalid_request",
            "Send {\"server\": \"<MCP URL>\", \"kind\": \"api_key\" | \"open\" | \"client_credentials\", …}; see docs/api.md.",
        );
    };
    let created = async {
        let server = server(req, env, settings, &body.server).await?;
        let origin = req.url().map_err(|_| ConnectError::ServerMissing)?;
        let connect = settings.connect_settings(&origin)?;
        let now = clock::now();
        match body.kind.as_str() {
            "api_key" | "open" => {
                let credential = if body.kind == "open" {
                    StaticCredential::Open
                } else {
                    StaticCredential::ApiKey {
                        name: bindify_core::connect::api_key::header_name(
                            body.header_name.as_deref().unwrap_or_default(),
                        )?,
                        value: bindify_core::connect::api_key::header_value(
                            body.api_key.as_deref().unwrap_or_default(),
                        )?,
                    }
                };
                direct::connect(&fetch_http::send, &connect, &server, credential, now).await
            }
            "client_credentials" => {
                let field = |name: &str| match name {
                    "client_id" => body.client_id.as_deref(),
                    "client_secret" => body.client_secret.as_deref(),
                    "private_key_pem" => body.private_key_pem.as_deref(),
                    "signing_algorithm" => body.signing_algorithm.as_deref(),
                    _ => None,
                };
                let credentials = machine::from_fields(field)?;
                machine::connect(&fetch_http::send, &connect, &server, credentials, &[], now).await
            }
            other => Err(ConnectError::Credentials(format!(
                "unknown kind {:?}: use api_key, open or client_credentials",
                other.chars().take(32).collect::<String>()
            ))),
        }
    }
    .await;
    let created = match created {
        Ok(created) => created,
        Err(error) => return flow_error(&error),
    };
    if let Err(error) = store_new(env, &created).await {
        return flow_error(&error);
    }
    let origin = req.url()?.origin().ascii_serialization();
    let base = format!("{origin}/s/{}", created.secret.expose());
    let view = created.record.view();
    respond::json(
        201,
        &serde_json::json!({
            "status": "connected",
            "id": view.id,
            "label": view.label,
            "upstream": view.upstream,
            "kind": view.kind,
            "mcp_url": format!("{base}/mcp"),
            "sse_url": format!("{base}/sse"),
        }),
    )
}

/// A preset slug or a URL, checked.
async fn server(
    req: &Request,
    env: &Env,
    settings: &Settings,
    given: &str,
) -> std::result::Result<url::Url, ConnectError> {
    let is_url = given.contains("://");
    resolve_server(
        req,
        env,
        settings,
        (!is_url).then_some(given),
        is_url.then_some(given),
    )
    .await
}

/// A connect-flow error as the API's JSON error.
fn flow_error(error: &ConnectError) -> Result<Response> {
    let problem = error.problem();
    let status = if problem.status == 200 {
        400
    } else {
        problem.status
    };
    admin::api_error(status, problem.code, &problem.message())
}
