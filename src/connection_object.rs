//! The `Connection` Durable Object: one per connection, the single writer of its tokens. Its
//! `fetch` translates internal requests (see `connection_client`) into calls on
//! `bindify_core::connection_service` and decides nothing itself.

use bindify_core::connection_service::{ConnectionService, ObjectMemory, TokenOutcome};
use bindify_core::flow::revoke::{ReplacedGrant, grant_token, replaced_grant_token, revoke};
use bindify_core::record::ConnectionRecord;
use bindify_core::refresh::Unavailable;
use bindify_core::secret::SecretHash;
use bindify_core::vault::{Vault, VaultError};
use worker::{DurableObject, Env, Method, Request, Response, Result, State, durable_object};

use crate::connection_client::{
    CONNECTION_ID_HEADER, CronRequest, REJECTED_TOKEN_HEADER, SECRET_HASH_HEADER,
};
use crate::storage::{Kv, ObjectStore};
use crate::{clock, config, fetch_http, respond};

#[durable_object]
pub struct Connection {
    state: State,
    env: Env,
    memory: ObjectMemory,
}

impl DurableObject for Connection {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            memory: ObjectMemory::default(),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let keyring = match config::keyring(&self.env) {
            Ok(k) => k,
            Err(e) => return respond::connect_error_json(&e),
        };
        let object = ObjectStore(self.state.storage());
        let kv = Kv(self.env.kv(config::KV_BINDING)?);
        let service = ConnectionService {
            vault: Vault {
                object: &object,
                kv: &kv,
                keyring: &keyring,
            },
            memory: &self.memory,
        };
        let Some(id) = header(&req, CONNECTION_ID_HEADER) else {
            return respond::not_found();
        };
        // A KV mirror write that failed earlier is retried first (the cron's visit included).
        if let Err(e) = service.vault.catch_up_mirror(&id).await {
            worker::console_error!("connection {id}: mirror catch-up failed: {e}");
        }
        let path = req.path();
        let result = match (req.method(), path.as_str()) {
            (Method::Post, "/create") => {
                let record: ConnectionRecord = req.json().await?;
                if record.id != id {
                    return respond::not_found();
                }
                match service.vault.create(&record).await {
                    Ok(()) => return Response::empty().map(|r| r.with_status(201)),
                    Err(VaultError::AlreadyExists) => return Response::error("exists", 409),
                    Err(e) => Err(e),
                }
            }
            (Method::Post, "/rebind") => {
                let fresh: ConnectionRecord = req.json().await?;
                let new_tokens = fresh.tokens.clone();
                match service.rebind(&id, fresh, clock::now()).await {
                    Ok(Some(replaced)) => {
                        // The grant the reconnect replaced ends at its server (best effort).
                        let outcome = match replaced_grant_token(&replaced.tokens, &new_tokens) {
                            Some((token, hint)) => ReplacedGrant::from(
                                revoke(&fetch_http::send, &replaced, token, hint, clock::now())
                                    .await,
                            ),
                            None => ReplacedGrant::StillInUse,
                        };
                        Ok(Some(respond::json(
                            200,
                            &serde_json::json!({ "replaced_grant": outcome }),
                        )))
                    }
                    Ok(None) => Ok(None),
                    Err(e) => Err(e),
                }
            }
            (Method::Get, "/view") => service
                .view(&id)
                .await
                .map(|v| v.map(|v| respond::json(200, &v))),
            (Method::Post, "/label") => {
                let body: LabelBody = req.json().await?;
                service
                    .set_label(&id, &body.label)
                    .await
                    .map(|v| v.map(|v| respond::json(200, &v)))
            }
            (Method::Post, "/rotate") => {
                let body: RotateBody = req.json().await?;
                let Some(hash) = SecretHash::from_hex(&body.hash) else {
                    return respond::not_found();
                };
                service.rotate(&id, hash).await.map(|old| {
                    old.map(|old| {
                        respond::json(200, &serde_json::json!({ "old_hash": old.to_hex() }))
                    })
                })
            }
            (Method::Post, "/delete") => match service.delete(&id).await {
                Ok(Some(record)) => {
                    // The grant ends with its refresh token at servers that support RFC 7009.
                    let (token, hint) = grant_token(&record.tokens);
                    let revocation =
                        revoke(&fetch_http::send, &record, token, hint, clock::now()).await;
                    Ok(Some(respond::json(
                        200,
                        &serde_json::json!({ "old_hash": record.secret_hash.to_hex(), "upstream_revocation": revocation }),
                    )))
                }
                Ok(None) => Ok(None),
                Err(e) => Err(e),
            },
            (Method::Get, "/status") => {
                let Some(hash) = presented_hash(&req) else {
                    return respond::not_found();
                };
                service
                    .authorized(&id, &hash)
                    .await
                    .map(|r| r.map(|r| respond::json(200, &r.status_view())))
            }
            (Method::Post, "/token") => {
                let Some(hash) = presented_hash(&req) else {
                    return respond::not_found();
                };
                let rejected = header(&req, REJECTED_TOKEN_HEADER)
                    .and_then(|h| bindify_core::secret::b64url_decode(&h))
                    .and_then(|b| <[u8; 32]>::try_from(b).ok());
                service
                    .token(&fetch_http::send, &id, &hash, rejected, clock::now())
                    .await
                    .map(|o| o.map(|o| token_response(&o)))
            }
            (Method::Post, "/refresh-if-due") => {
                let cron: CronRequest = req.json().await?;
                service
                    .refresh_if_due(&fetch_http::send, &id, clock::now(), cron.window_ms)
                    .await
                    .map(|outcome| Some(respond::json(200, &outcome)))
            }
            _ => return respond::not_found(),
        };
        match result {
            Ok(Some(response)) => response,
            Ok(None) => respond::not_found(),
            Err(e) => {
                worker::console_error!("connection {id}: {e}");
                respond::json(503, &serde_json::json!({ "error": "storage_unavailable" }))
            }
        }
    }
}

#[derive(serde::Deserialize)]
struct LabelBody {
    label: String,
}

#[derive(serde::Deserialize)]
struct RotateBody {
    hash: String,
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}

fn presented_hash(req: &Request) -> Option<SecretHash> {
    SecretHash::from_hex(&header(req, SECRET_HASH_HEADER)?)
}

fn token_response(outcome: &TokenOutcome) -> Result<Response> {
    match outcome {
        TokenOutcome::Token(grant) => respond::json(200, grant),
        TokenOutcome::Unavailable(Unavailable::NeedsReauth) => {
            respond::json(409, &serde_json::json!({ "error": "needs_reauth" }))
        }
        TokenOutcome::Unavailable(Unavailable::Transient { retry_at }) => respond::json(
            503,
            &serde_json::json!({ "error": "transient", "retry_at": retry_at }),
        ),
        TokenOutcome::RefreshLimited(limited) => respond::json(
            429,
            &serde_json::json!({ "error": "refresh_limited", "retry_at": limited.retry_at }),
        ),
    }
}
