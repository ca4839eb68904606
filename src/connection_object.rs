//! The `Connection` Durable Object: one per connection, the single writer of its tokens. Its
//! `fetch` reads a call of `bindify_core::lifecycle::object_protocol::connection`, runs it on
//! `bindify_core::lifecycle::connection_service`, and answers with the reply; its `alarm` runs the
//! service's alarm handler, which refreshes the token ahead of its expiry and sets the next
//! alarm (`bindify_core::lifecycle::schedule`). It decides nothing itself.

use bindify_core::failure::OwnFailure;
use bindify_core::lifecycle::connection_service::{ConnectionService, CronOutcome, ObjectMemory};
use bindify_core::lifecycle::object_protocol::connection::{ConnectionCall, ConnectionReply};
use bindify_core::settings::Settings;
use bindify_core::vault::keys;
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
            .ok_or(bindify_core::lifecycle::object_protocol::ProtocolError::UnknownCall)
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

    /// The alarm: refreshes the token if its time has come and sets the next alarm. A failure
    /// of Bindify's own storage or configuration is returned, so the runtime retries the alarm
    /// (a few times, backing off); if it keeps failing, the cron's sweep sets the alarm again.
    async fn alarm(&self) -> Result<Response> {
        let object = ObjectStore(self.state.storage());
        let id = match self.state.id().name() {
            Some(name) => name,
            None => match object.0.get::<String>(keys::OBJECT_ID).await {
                Ok(Some(id)) => id,
                // No id kept: no connection was ever armed here (or it was deleted).
                Ok(None) => return Response::empty(),
                Err(e) => return Err(e),
            },
        };
        let (settings, kv) = self
            .parts(&id)
            .map_err(|failure| worker::Error::RustError(failure.to_string()))?;
        let keyring = settings
            .keyring()
            .map_err(|e| worker::Error::RustError(e.to_string()))?;
        let service = ConnectionService {
            vault: Vault {
                object: &object,
                kv: &kv,
                keyring,
            },
            memory: &self.memory,
        };
        match service.on_alarm(&fetch_http::send, &id, clock::now()).await {
            Ok(outcome) => {
                worker::console_log!("connection {id}: alarm: {}", outcome_name(outcome));
                Response::empty()
            }
            Err(e) => {
                worker::console_error!("connection {id}: alarm failed: {e}");
                Err(worker::Error::RustError(e.to_string()))
            }
        }
    }
}

fn outcome_name(outcome: CronOutcome) -> &'static str {
    match outcome {
        CronOutcome::NotDue => "not due",
        CronOutcome::Refreshed => "refreshed",
        CronOutcome::NeedsReauth => "needs_reauth",
        CronOutcome::Transient => "transient failure",
        CronOutcome::Missing => "no such connection",
    }
}

impl Connection {
    /// What the service runs on: this object's storage and alarm, the KV namespace and the
    /// keyring. `Err` is the failure to answer with.
    fn parts(&self, id: &str) -> std::result::Result<(Settings, storage::Kv), OwnFailure> {
        let settings = config::read(&self.env);
        if let Err(e) = settings.keyring() {
            worker::console_error!("connection {id}: {e}");
            return Err(OwnFailure::of_keyring(&e));
        }
        match storage::kv(&self.env) {
            Ok(kv) => Ok((settings, kv)),
            Err(e) => {
                worker::console_error!("connection {id}: the KV binding is missing: {e}");
                Err(OwnFailure::Internal)
            }
        }
    }

    async fn answer(&self, id: &str, call: ConnectionCall) -> ConnectionReply {
        let (settings, kv) = match self.parts(id) {
            Ok(parts) => parts,
            Err(failure) => return ConnectionReply::failed(failure),
        };
        let Ok(keyring) = settings.keyring() else {
            return ConnectionReply::failed(OwnFailure::Internal);
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
        // What an earlier operation could not finish (a record or mirror write, the alarm) is
        // done first.
        if let Err(e) = service.catch_up(id).await {
            worker::console_error!("connection {id}: catching up failed: {e}");
        }
        let http = &fetch_http::send;
        let now = clock::now();
        let result = match call {
            ConnectionCall::Create(record) => {
                if record.id != id {
                    return ConnectionReply::BadCall;
                }
                match service.create(&record).await {
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
                uses,
            } => service
                .token_with_uses(http, id, &presented, rejected, uses.as_ref(), now)
                .await
                .map(|o| o.map_or(ConnectionReply::NotFound, ConnectionReply::of_token)),
            ConnectionCall::Sweep => service
                .sweep(http, id, now)
                .await
                .map(|visit| ConnectionReply::Swept { visit }),
            ConnectionCall::StepUp { presented, scopes } => service
                .step_up(id, &presented, &scopes)
                .await
                .map(ConnectionReply::of_step_up),
            ConnectionCall::ReconnectPlan => service.reconnect_plan(id).await.map(|plan| {
                plan.map_or(ConnectionReply::NotFound, |plan| ConnectionReply::Plan {
                    plan,
                })
            }),
            ConnectionCall::Uses(batch) => {
                service.record_uses(id, &batch, now).await.map(|found| {
                    if found {
                        ConnectionReply::Noted
                    } else {
                        ConnectionReply::NotFound
                    }
                })
            }
            ConnectionCall::Activity => service.activity(id, now).await.map(activity),
            ConnectionCall::DismissNotices { until } => {
                service.dismiss_notices(id, until, now).await.map(activity)
            }
        };
        result.unwrap_or_else(|e| {
            worker::console_error!("connection {id}: {e}");
            ConnectionReply::failed(OwnFailure::of_vault(&e))
        })
    }
}

fn view(view: Option<bindify_core::vault::record::ConnectionView>) -> ConnectionReply {
    view.map_or(ConnectionReply::NotFound, |view| ConnectionReply::View {
        view,
    })
}

fn activity(
    view: Option<bindify_core::lifecycle::activity::view::ActivityView>,
) -> ConnectionReply {
    view.map_or(ConnectionReply::NotFound, |activity| {
        ConnectionReply::Activity { activity }
    })
}
