//! The Worker's side of the internal protocol with `Connection` objects. Requests never leave
//! the runtime; the URL host is a placeholder. The URL secret itself never crosses: only its
//! hash, which the object compares in constant time against the record's.

use bindify_core::connection_service::{CronOutcome, Grant};
use bindify_core::flow::ConnectError;
use bindify_core::flow::revoke::ReplacedGrant;
use bindify_core::record::{ConnectionRecord, ConnectionView};
use bindify_core::secret::{SecretHash, b64url};
use bindify_core::store::StoreError;
use oauth2::AccessToken;
use serde::{Deserialize, Serialize};
use worker::{Env, Headers, Method, Request, RequestInit, Response, Result};

use crate::config;

pub const SECRET_HASH_HEADER: &str = "x-bindify-secret-hash";
pub const CONNECTION_ID_HEADER: &str = "x-bindify-connection-id";
/// SHA-256 (base64url) of an access token the upstream answered 401 to.
pub const REJECTED_TOKEN_HEADER: &str = "x-bindify-rejected-token";

const BASE: &str = "https://connection.internal";

#[derive(Debug, Serialize, Deserialize)]
pub struct CronRequest {
    pub window_ms: i64,
}

/// What the object said about a token request.
pub enum TokenAnswer {
    Token(Grant),
    NeedsReauth,
    Transient {
        retry_at: i64,
    },
    /// The upstream refused the current token, and a refresh for that is not allowed yet.
    RefreshLimited {
        retry_at: Option<i64>,
    },
    NotFound,
}

#[derive(Deserialize)]
struct TransientBody {
    retry_at: i64,
}

#[derive(Deserialize)]
struct LimitedBody {
    retry_at: Option<i64>,
}

async fn call(
    env: &Env,
    id: &str,
    method: Method,
    path: &str,
    hash: Option<&SecretHash>,
    extra: Option<(&str, &str)>,
    body: Option<String>,
) -> Result<Response> {
    let headers = Headers::new();
    headers.set(CONNECTION_ID_HEADER, id)?;
    if let Some(hash) = hash {
        headers.set(SECRET_HASH_HEADER, &hash.to_hex())?;
    }
    if let Some((name, value)) = extra {
        headers.set(name, value)?;
    }
    let mut init = RequestInit::new();
    init.with_method(method).with_headers(headers);
    if let Some(body) = body {
        init.with_body(Some(body.into()));
    }
    let request = Request::new_with_init(&format!("{BASE}{path}"), &init)?;
    env.durable_object(config::CONNECTION_BINDING)?
        .get_by_name(id)?
        .fetch_with_request(request)
        .await
}

fn store_error(op: &'static str, reason: String) -> ConnectError {
    ConnectError::Store(StoreError { op, reason })
}

/// Stores a new connection in its object. The record crosses into the object as JSON: a
/// Durable Object call stays inside the runtime, and the object seals it before writing.
pub async fn create(env: &Env, record: &ConnectionRecord) -> std::result::Result<(), ConnectError> {
    let body = serde_json::to_string(record).map_err(|e| store_error("create", e.to_string()))?;
    let response = call(
        env,
        &record.id,
        Method::Post,
        "/create",
        None,
        None,
        Some(body),
    )
    .await
    .map_err(|e| store_error("create", e.to_string()))?;
    match response.status_code() {
        201 => Ok(()),
        status => Err(store_error(
            "create",
            format!("the connection object answered {status}"),
        )),
    }
}

/// What a reconnect did to the grant it replaced.
#[derive(Deserialize)]
pub struct Rebound {
    pub replaced_grant: ReplacedGrant,
}

/// Binds the grant in `fresh` to connection `id` (a reconnect); the object revokes the grant
/// it replaced at its server.
pub async fn rebind(
    env: &Env,
    id: &str,
    fresh: &ConnectionRecord,
) -> std::result::Result<Rebound, ConnectError> {
    let body = serde_json::to_string(fresh).map_err(|e| store_error("rebind", e.to_string()))?;
    let mut response = call(env, id, Method::Post, "/rebind", None, None, Some(body))
        .await
        .map_err(|e| store_error("rebind", e.to_string()))?;
    match response.status_code() {
        200 => response
            .json()
            .await
            .map_err(|e| store_error("rebind", e.to_string())),
        status => Err(store_error(
            "rebind",
            format!("the connection object answered {status}"),
        )),
    }
}

/// The status of connection `id`, if `hash` is its current secret's hash. The object's
/// response (JSON, or the shared 404) is passed through.
pub async fn status(env: &Env, id: &str, hash: &SecretHash) -> Result<Response> {
    call(env, id, Method::Get, "/status", Some(hash), None, None).await
}

/// A usable access token for connection `id`. `rejected` is the token the upstream just
/// answered 401 to, if any.
pub async fn token(
    env: &Env,
    id: &str,
    hash: &SecretHash,
    rejected: Option<&AccessToken>,
) -> Result<TokenAnswer> {
    let rejected = rejected.map(|t| b64url(&bindify_core::secret::sha256(t.secret().as_bytes())));
    let extra = rejected.as_deref().map(|r| (REJECTED_TOKEN_HEADER, r));
    let mut response = call(env, id, Method::Post, "/token", Some(hash), extra, None).await?;
    Ok(match response.status_code() {
        200 => TokenAnswer::Token(response.json::<Grant>().await?),
        409 => TokenAnswer::NeedsReauth,
        503 => match response.json::<TransientBody>().await {
            Ok(body) => TokenAnswer::Transient {
                retry_at: body.retry_at,
            },
            Err(_) => TokenAnswer::Transient { retry_at: 0 },
        },
        429 => TokenAnswer::RefreshLimited {
            retry_at: response
                .json::<LimitedBody>()
                .await
                .ok()
                .and_then(|b| b.retry_at),
        },
        _ => TokenAnswer::NotFound,
    })
}

/// The cron's visit to connection `id`.
pub async fn refresh_if_due(env: &Env, id: &str, window_ms: i64) -> Result<CronOutcome> {
    let body = serde_json::to_string(&CronRequest { window_ms })?;
    let mut response = call(
        env,
        id,
        Method::Post,
        "/refresh-if-due",
        None,
        None,
        Some(body),
    )
    .await?;
    if response.status_code() != 200 {
        return Err(worker::Error::RustError(format!(
            "refresh of {id} answered {}",
            response.status_code()
        )));
    }
    response.json().await
}

/// The owner's view of connection `id`.
pub async fn view(env: &Env, id: &str) -> Result<Option<ConnectionView>> {
    let mut response = call(env, id, Method::Get, "/view", None, None, None).await?;
    owner_answer(&mut response).await
}

/// Sets the label of connection `id`.
pub async fn set_label(env: &Env, id: &str, label: &str) -> Result<Option<ConnectionView>> {
    let body = serde_json::json!({ "label": label }).to_string();
    let mut response = call(env, id, Method::Post, "/label", None, None, Some(body)).await?;
    owner_answer(&mut response).await
}

#[derive(Deserialize)]
struct OldHash {
    old_hash: String,
}

/// Points connection `id` at a new URL secret; returns the old secret's hash.
pub async fn rotate(env: &Env, id: &str, new_hash: &SecretHash) -> Result<Option<SecretHash>> {
    let body = serde_json::json!({ "hash": new_hash.to_hex() }).to_string();
    let mut response = call(env, id, Method::Post, "/rotate", None, None, Some(body)).await?;
    Ok(owner_answer::<OldHash>(&mut response)
        .await?
        .and_then(|o| SecretHash::from_hex(&o.old_hash)))
}

/// What deleting a connection did.
#[derive(Deserialize)]
pub struct Deleted {
    pub old_hash: String,
    pub upstream_revocation: serde_json::Value,
}

/// Deletes connection `id` (its object revokes the tokens upstream where it can).
pub async fn delete(env: &Env, id: &str) -> Result<Option<Deleted>> {
    let mut response = call(env, id, Method::Post, "/delete", None, None, None).await?;
    owner_answer(&mut response).await
}

async fn owner_answer<T: serde::de::DeserializeOwned>(
    response: &mut Response,
) -> Result<Option<T>> {
    match response.status_code() {
        200 => Ok(Some(response.json().await?)),
        404 => Ok(None),
        status => Err(worker::Error::RustError(format!(
            "the connection object answered {status}"
        ))),
    }
}
