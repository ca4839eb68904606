//! The `Connection` Durable Object: one per connection, the single writer of its tokens. Its
//! `fetch` only translates requests into calls on `bindify_core::vault`; the functions at the
//! bottom are the Worker's side of that internal protocol.

use bindify_core::flow::{ConnectError, Problem};
use bindify_core::record::ConnectionRecord;
use bindify_core::secret::SecretHash;
use bindify_core::vault::{Vault, VaultError};
use worker::{
    DurableObject, Env, Headers, Method, Request, RequestInit, Response, Result, State,
    durable_object,
};

use crate::storage::{Kv, ObjectStore};
use crate::{config, respond};

/// Internal paths; the host is never resolved.
const CREATE_URL: &str = "https://connection.internal/create";
const STATUS_URL: &str = "https://connection.internal/status";
/// Carries the hash (never the secret) of the URL secret presented by the client.
const SECRET_HASH_HEADER: &str = "x-bindify-secret-hash";
/// The connection id, which is also the object's name.
const CONNECTION_ID_HEADER: &str = "x-bindify-connection-id";

#[durable_object]
pub struct Connection {
    state: State,
    env: Env,
}

impl DurableObject for Connection {
    fn new(state: State, env: Env) -> Self {
        Self { state, env }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let keyring = match config::keyring(&self.env) {
            Ok(k) => k,
            Err(e) => return key_problem(&e),
        };
        let object = ObjectStore(self.state.storage());
        let kv = Kv(self.env.kv(config::KV_BINDING)?);
        let vault = Vault {
            object: &object,
            kv: &kv,
            keyring: &keyring,
        };
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Post, "/create") => {
                let record: ConnectionRecord = req.json().await?;
                match vault.create(&record).await {
                    Ok(()) => Response::empty().map(|r| r.with_status(201)),
                    Err(VaultError::AlreadyExists) => Response::error("exists", 409),
                    Err(e) => vault_failure(&e),
                }
            }
            (Method::Get, "/status") => {
                let Some(hash) = presented_hash(&req) else {
                    return respond::not_found();
                };
                let Some(id) = req.headers().get(CONNECTION_ID_HEADER).ok().flatten() else {
                    return respond::not_found();
                };
                // A wrong id cannot open the record: its associated data names the real one.
                match vault.status(&id, &hash).await {
                    Ok(Some(view)) => respond::json(200, &view),
                    Ok(None) => respond::not_found(),
                    Err(e) => vault_failure(&e),
                }
            }
            _ => respond::not_found(),
        }
    }
}

fn presented_hash(req: &Request) -> Option<SecretHash> {
    let header = req.headers().get(SECRET_HASH_HEADER).ok().flatten()?;
    SecretHash::from_hex(&header)
}

fn key_problem(error: &ConnectError) -> Result<Response> {
    let Problem {
        status,
        code,
        detail,
        ..
    } = error.problem();
    respond::json(
        status,
        &serde_json::json!({ "error": code, "message": detail }),
    )
}

fn vault_failure(error: &VaultError) -> Result<Response> {
    worker::console_error!("connection vault failed: {error}");
    respond::json(503, &serde_json::json!({ "error": "storage_unavailable" }))
}

fn stub(env: &Env, id: &str) -> Result<worker::Stub> {
    env.durable_object(config::CONNECTION_BINDING)?
        .get_by_name(id)
}

/// Stores a new connection in its object. The record crosses into the object as JSON: a
/// Durable Object call stays inside the runtime, and the object seals it before writing.
pub async fn create(env: &Env, record: &ConnectionRecord) -> std::result::Result<(), ConnectError> {
    let fail = |e: worker::Error| {
        ConnectError::Store(bindify_core::store::StoreError {
            op: "create",
            reason: e.to_string(),
        })
    };
    let body = serde_json::to_string(record).map_err(|e| {
        ConnectError::Store(bindify_core::store::StoreError {
            op: "create",
            reason: e.to_string(),
        })
    })?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post).with_body(Some(body.into()));
    let request = Request::new_with_init(CREATE_URL, &init).map_err(fail)?;
    let response = stub(env, &record.id)
        .map_err(fail)?
        .fetch_with_request(request)
        .await
        .map_err(fail)?;
    match response.status_code() {
        201 => Ok(()),
        status => Err(ConnectError::Store(bindify_core::store::StoreError {
            op: "create",
            reason: format!("the connection object answered {status}"),
        })),
    }
}

/// The status of connection `id`, if `hash` is its current secret's hash.
pub async fn status(env: &Env, id: &str, hash: &SecretHash) -> Result<Response> {
    let headers = Headers::new();
    headers.set(SECRET_HASH_HEADER, &hash.to_hex())?;
    headers.set(CONNECTION_ID_HEADER, id)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let request = Request::new_with_init(STATUS_URL, &init)?;
    stub(env, id)?.fetch_with_request(request).await
}
