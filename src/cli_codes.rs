//! The Worker's side of the `CliCode` objects: one per `bindify connect` code, named by the
//! code's hash, so storage never holds the code itself. The object decides; see
//! `bindify_core::cli_flow`.

use bindify_core::cli_flow::{CliRecord, CliStatus, ConnectCode, Poll};
use bindify_core::store::StoreError;
use worker::{Env, Headers, Method, Request, RequestInit, Response};

use crate::cli_code_object::HASH_HEADER;
use crate::config;

fn failed(op: &'static str) -> impl FnOnce(worker::Error) -> StoreError {
    move |e| StoreError {
        op,
        reason: e.to_string(),
    }
}

async fn call(
    env: &Env,
    hash: &str,
    method: Method,
    path: &str,
    body: Option<String>,
) -> worker::Result<Response> {
    let headers = Headers::new();
    headers.set(HASH_HEADER, hash)?;
    let mut init = RequestInit::new();
    init.with_method(method).with_headers(headers);
    if let Some(body) = body {
        init.with_body(Some(body.into()));
    }
    let request = Request::new_with_init(&format!("https://cli-code.internal{path}"), &init)?;
    env.durable_object(config::CLI_CODE_BINDING)?
        .get_by_name(hash)?
        .fetch_with_request(request)
        .await
}

fn unexpected(op: &'static str, status: u16) -> StoreError {
    StoreError {
        op,
        reason: format!("the code's object answered {status}"),
    }
}

/// Stores the record of a new code.
pub async fn create(env: &Env, code: &ConnectCode, record: &CliRecord) -> Result<(), StoreError> {
    let body = serde_json::to_string(record).map_err(|e| StoreError {
        op: "create",
        reason: e.to_string(),
    })?;
    let response = call(env, &code.hash_hex(), Method::Post, "/create", Some(body))
        .await
        .map_err(failed("create"))?;
    match response.status_code() {
        201 => Ok(()),
        status => Err(unexpected("create", status)),
    }
}

/// Starts code `code` once: its hash and server when this call started it, `None` when it is
/// unknown, expired or already used.
pub async fn start(env: &Env, code: &ConnectCode) -> Result<Option<(String, String)>, StoreError> {
    #[derive(serde::Deserialize)]
    struct Started {
        server: String,
    }
    let hash = code.hash_hex();
    let mut response = call(env, &hash, Method::Post, "/start", None)
        .await
        .map_err(failed("start"))?;
    match response.status_code() {
        200 => {
            let started: Started = response.json().await.map_err(failed("start"))?;
            Ok(Some((hash, started.server)))
        }
        404 => Ok(None),
        status => Err(unexpected("start", status)),
    }
}

/// Records how the flow of the code with hash `hash` ended. Failures are logged: the CLI then
/// times out with a message saying so.
pub async fn finish(env: &Env, hash: &str, status: CliStatus) {
    let result = async {
        let body = serde_json::to_string(&status).map_err(|e| StoreError {
            op: "finish",
            reason: e.to_string(),
        })?;
        let response = call(env, hash, Method::Post, "/finish", Some(body))
            .await
            .map_err(failed("finish"))?;
        match response.status_code() {
            204 => Ok(()),
            status => Err(unexpected("finish", status)),
        }
    }
    .await;
    if let Err(e) = result {
        worker::console_error!("cli code: recording the result failed: {e}");
    }
}

/// What the CLI learns about code `code`; a final result is read once.
pub async fn poll(env: &Env, code: &ConnectCode) -> Result<Poll, StoreError> {
    let mut response = call(env, &code.hash_hex(), Method::Get, "/poll", None)
        .await
        .map_err(failed("poll"))?;
    match response.status_code() {
        200 => {
            let status: CliStatus = response.json().await.map_err(failed("poll"))?;
            Ok(match status {
                CliStatus::Pending | CliStatus::Started => Poll::Pending,
                other => Poll::Final(other),
            })
        }
        404 => Ok(Poll::Gone),
        status => Err(unexpected("poll", status)),
    }
}
