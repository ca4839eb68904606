//! `POST /api/connect` and `GET /api/connect/<code>`: `bindify connect`.

use bindify_core::connect::cli_flow::{CliRecord, ConnectCode, Poll};
use bindify_core::failure::{OwnFailure, StorageFailure};
use bindify_core::settings::Settings;
use bindify_core::time::rfc3339;
use worker::{Env, Request, Response, Result};

use super::own_failure;
use crate::routes::connect::resolve_server;
use crate::{admin, cli_codes, clock, respond};

#[derive(serde::Deserialize)]
struct ConnectBody {
    server: String,
}

pub async fn create(req: &mut Request, env: &Env, settings: &Settings) -> Result<Response> {
    let Ok(body) = crate::request_body::json::<ConnectBody>(req).await else {
        return admin::api_error(
            400,
            "invalid_request",
            "Send {\"server\": \"<preset or MCP URL>\"}.",
        );
    };
    // Nothing can be sealed without the key: say so before handing out a code.
    if let Err(e) = settings.keyring() {
        let p = e.problem();
        return admin::api_error(p.status, p.code, &p.message());
    }
    // A preset slug or a URL, checked now so the CLI hears about a bad one at once.
    let is_url = body.server.contains("://");
    let server = match resolve_server(
        req,
        env,
        settings,
        (!is_url).then_some(body.server.as_str()),
        is_url.then_some(body.server.as_str()),
    )
    .await
    {
        Ok(server) => server,
        Err(e) => {
            let p = e.problem();
            return admin::api_error(400, p.code, &p.message());
        }
    };
    let code = ConnectCode::generate().map_err(|e| worker::Error::RustError(e.to_string()))?;
    let now = clock::now();
    let record = CliRecord::new(server.to_string(), now);
    if let Err(e) = cli_codes::create(env, &code, &record).await {
        worker::console_error!("api: storing a connect code failed: {e}");
        return own_failure(&OwnFailure::storage(StorageFailure::CliCode));
    }
    let origin = req.url()?.origin().ascii_serialization();
    respond::json(
        201,
        &serde_json::json!({
            "code": code.expose(),
            "browser_url": format!("{origin}/cli/{}", code.expose()),
            "expires_at": rfc3339(record.expires_at),
        }),
    )
}

pub async fn poll(env: &Env, code: &str) -> Result<Response> {
    let code = ConnectCode::new(code.to_owned());
    match cli_codes::poll(env, &code).await {
        Ok(Poll::Final(status)) => respond::json(200, &status),
        // Started and pending look the same to the CLI: still waiting.
        Ok(Poll::Pending) => respond::json(200, &serde_json::json!({ "status": "pending" })),
        Ok(Poll::Gone) => admin::api_error(
            404,
            "not_found",
            "This code is unknown, expired or already used; run `bindify connect` again.",
        ),
        Err(e) => {
            worker::console_error!("api: reading a connect code failed: {e}");
            own_failure(&OwnFailure::storage(StorageFailure::CliCode))
        }
    }
}
