//! The `Connection` Durable Object: one per connection, the single writer of its tokens. Its
//! `fetch` reads a call of `bindify_core::object_protocol::connection`, runs it on
//! `bindify_core::connection_service`, and answers with the reply; it decides nothing itself.

use bindify_core::connection_service::{ConnectionService, ObjectMemory};
use bindify_core::failure::OwnFailure;
use bindify_core::object_protocol::connection::{ConnectionCall, ConnectionReply};
use bindify_core::vault::{Vault, VaultError};
use worker::{DurableObject, Env, Request, Response, Result, State, durable_object};

use crate::object_call::{self, Incoming};
use crate::storage::{self, ObjectStore};
use crate::{clock, config, fetch_http};

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
        let incoming = Incoming::read(&mut req).await?;
        let reply = match incoming
            .received()
            .ok_or(bindify_core::object_protocol::ProtocolError::UnknownCall)
            .and_then(|received| ConnectionCall::receive(&received))
        {
            Ok((id, call)) => self.answer(&id, call).await,
            Err(e) => {
                worker::console_error!("connection: a call that does not follow the protocol: {e}");
                ConnectionReply::BadCall
            }
        };
        object_call::reply(&reply.encode())
    }
}

impl Connection {
    async fn answer(&self, id: &str, call: ConnectionCall) -> ConnectionReply {
        let settings = config::read(&self.env);
        let keyring = match settings.keyring() {
            Ok(k) => k,
            Err(e) => {
                worker::console_error!("connection {id}: {e}");
                return ConnectionReply::failed(OwnFailure::of_keyring(&e));
            }
        };
        let kv = match storage::kv(&self.env) {
            Ok(kv) => kv,
            Err(e) => {
                worker::console_error!("connection {id}: the KV binding is missing: {e}");
                return ConnectionReply::failed(OwnFailure::Internal);
            }
        };
        let object = ObjectStore(self.state.storage());
        let service = ConnectionService {
            vault: Vault {
                object: &object,
                kv: &kv,
                keyring,
            },
            memory: &self.memory,
        };
        // A KV mirror write that failed earlier is retried first (the cron's visit included).
        if let Err(e) = service.vault.catch_up_mirror(id).await {
            worker::console_error!("connection {id}: mirror catch-up failed: {e}");
        }
        let http = &fetch_http::send;
        let now = clock::now();
        let result = match call {
            ConnectionCall::Create(record) => {
                if record.id != id {
                    return ConnectionReply::BadCall;
                }
                match service.vault.create(&record).await {
                    Ok(()) => Ok(ConnectionReply::Created),
                    Err(VaultError::AlreadyExists) => Ok(ConnectionReply::AlreadyExists),
                    Err(e) => Err(e),
                }
            }
            ConnectionCall::Rebind(fresh) => service.rebind(http, id, fresh, now).await.map(|r| {
                r.map_or(ConnectionReply::NotFound, |replaced_grant| {
                    ConnectionReply::Rebound { replaced_grant }
                })
            }),
            ConnectionCall::View => service.view(id).await.map(view),
            ConnectionCall::Label(label) => service.set_label(id, &label).await.map(view),
            ConnectionCall::Rotate(hash) => service.rotate(id, hash).await.map(|old| {
                old.map_or(ConnectionReply::NotFound, |old_hash| {
                    ConnectionReply::Rotated { old_hash }
                })
            }),
            ConnectionCall::Delete => service
                .delete(http, id, now)
                .await
                .map(|d| d.map_or(ConnectionReply::NotFound, ConnectionReply::of_deleted)),
            ConnectionCall::Status(hash) => service.authorized(id, &hash).await.map(|r| {
                r.map_or(ConnectionReply::NotFound, |r| ConnectionReply::Status {
                    status: r.status_view(),
                })
            }),
            ConnectionCall::Token {
                presented,
                rejected,
            } => service
                .token(http, id, &presented, rejected, now)
                .await
                .map(|o| o.map_or(ConnectionReply::NotFound, ConnectionReply::of_token)),
            ConnectionCall::RefreshIfDue { window_ms } => service
                .refresh_if_due(http, id, now, window_ms)
                .await
                .map(|outcome| ConnectionReply::Visited { outcome }),
            ConnectionCall::StepUp { presented, scopes } => service
                .step_up(id, &presented, &scopes)
                .await
                .map(ConnectionReply::of_step_up),
            ConnectionCall::ReconnectPlan => service.reconnect_plan(id).await.map(|plan| {
                plan.map_or(ConnectionReply::NotFound, |plan| ConnectionReply::Plan {
                    plan,
                })
            }),
        };
        result.unwrap_or_else(|e| {
            worker::console_error!("connection {id}: {e}");
            ConnectionReply::failed(OwnFailure::of_vault(&e))
        })
    }
}

fn view(view: Option<bindify_core::record::ConnectionView>) -> ConnectionReply {
    view.map_or(ConnectionReply::NotFound, |view| ConnectionReply::View {
        view,
    })
}
