//! The Worker's side of the `Connection` objects: each function makes one call of
//! `bindify_core::lifecycle::object_protocol::connection` and reads its reply. The URL secret
//! itself never crosses: only its hash, which the object compares in constant time against the
//! record's.
//!
//! An object that cannot be reached, or that answers with something that is not a reply, is
//! Bindify's own storage failing: the object is where the connection is stored.

use bindify_core::connect::flow::ConnectError;
use bindify_core::connect::flow::revoke::ReplacedGrant;
use bindify_core::failure::{OwnFailure, StorageFailure};
use bindify_core::lifecycle::activity::Batch;
use bindify_core::lifecycle::activity::view::ActivityView;
use bindify_core::lifecycle::connection_service::{Deleted, ReconnectPlan, Visit};
use bindify_core::lifecycle::object_protocol::connection::{ConnectionCall, ConnectionReply};
use bindify_core::secret::{SecretHash, sha256};
use bindify_core::time::UnixMillis;
use bindify_core::vault::record::{ConnectionRecord, ConnectionView, StatusView};
use bindify_core::vault::store::StoreError;
use oauth2::AccessToken;
use worker::Env;

use crate::{config, object_call};

/// Makes `call` to connection `id`'s object.
async fn ask(env: &Env, id: &str, call: &ConnectionCall) -> Result<ConnectionReply, OwnFailure> {
    let unreachable = OwnFailure::storage(StorageFailure::ConnectionObject);
    match object_call::ask(env, config::CONNECTION_BINDING, id, &call.wire(id)).await {
        Ok((status, body)) => ConnectionReply::decode(status, &body).map_err(|e| {
            worker::console_error!("connection {id}: the object's answer is not a reply: {e}");
            unreachable
        }),
        Err(e) => {
            worker::console_error!("connection {id}: the object did not answer: {e}");
            Err(unreachable)
        }
    }
}

/// A reply the call cannot have: the two sides disagree, which is Bindify's own bug.
fn unexpected(id: &str, reply: &ConnectionReply) -> OwnFailure {
    match reply {
        ConnectionReply::Failed { failure } => failure.clone(),
        other => {
            worker::console_error!("connection {id}: unexpected reply {}", other.status());
            OwnFailure::Internal
        }
    }
}

/// A connection object's failure as a failure of the connect flow.
pub fn connect_error(op: &'static str, failure: OwnFailure) -> ConnectError {
    match failure {
        OwnFailure::Storage { .. } => ConnectError::Store(StoreError {
            op,
            reason: failure.to_string(),
        }),
        other => ConnectError::Own(other),
    }
}

/// Stores a new connection in its object. The record crosses into the object as JSON: a
/// Durable Object call stays inside the runtime, and the object seals it before writing. A
/// connection with this id already there is the object's storage refusing the record.
pub async fn create(env: &Env, record: &ConnectionRecord) -> Result<(), OwnFailure> {
    let call = ConnectionCall::Create(record.clone());
    match ask(env, &record.id, &call).await? {
        ConnectionReply::Created => Ok(()),
        ConnectionReply::AlreadyExists => {
            worker::console_error!("connection {}: the id is already taken", record.id);
            Err(OwnFailure::storage(StorageFailure::ConnectionRecord))
        }
        other => Err(unexpected(&record.id, &other)),
    }
}

/// What a reconnect did to the grant it replaced.
pub struct Rebound {
    pub replaced_grant: ReplacedGrant,
}

/// Binds the grant in `fresh` to connection `id` (a reconnect); the object revokes the grant
/// it replaced at its server.
pub async fn rebind(
    env: &Env,
    id: &str,
    fresh: &ConnectionRecord,
) -> Result<Rebound, ConnectError> {
    match ask(env, id, &ConnectionCall::Rebind(fresh.clone())).await {
        Ok(ConnectionReply::Rebound { replaced_grant }) => Ok(Rebound { replaced_grant }),
        Ok(ConnectionReply::NotFound) => Err(ConnectError::Store(StoreError {
            op: "rebind",
            reason: "the connection no longer exists".into(),
        })),
        Ok(other) => Err(connect_error("rebind", unexpected(id, &other))),
        Err(failure) => Err(connect_error("rebind", failure)),
    }
}

/// The status of connection `id`, if `hash` is its current secret's hash.
pub async fn status(
    env: &Env,
    id: &str,
    hash: &SecretHash,
) -> Result<Option<StatusView>, OwnFailure> {
    match ask(env, id, &ConnectionCall::Status(*hash)).await? {
        ConnectionReply::Status { status } => Ok(Some(status)),
        ConnectionReply::NotFound => Ok(None),
        other => Err(unexpected(id, &other)),
    }
}

/// What the object answers to a token request: a token, or why there is none (the token
/// kinds of [`ConnectionReply`], `NotFound` included). `Err` is Bindify's own failure. `uses`
/// rides along for the object to record (see `crate::activity`).
pub async fn token(
    env: &Env,
    id: &str,
    hash: &SecretHash,
    rejected: Option<&AccessToken>,
    uses: Option<Batch>,
) -> Result<ConnectionReply, OwnFailure> {
    let call = ConnectionCall::Token {
        presented: *hash,
        rejected: rejected.map(|t| sha256(t.secret().as_bytes())),
        uses,
    };
    match ask(env, id, &call).await? {
        reply @ (ConnectionReply::Token { .. }
        | ConnectionReply::NeedsReauth
        | ConnectionReply::AuthServerUnavailable { .. }
        | ConnectionReply::RefreshLimited { .. }
        | ConnectionReply::NotFound) => Ok(reply),
        other => Err(unexpected(id, &other)),
    }
}

/// The cron's visit to connection `id` (see `ConnectionService::sweep`).
pub async fn sweep(env: &Env, id: &str) -> Result<Visit, OwnFailure> {
    match ask(env, id, &ConnectionCall::Sweep).await? {
        ConnectionReply::Swept { visit } => Ok(visit),
        other => Err(unexpected(id, &other)),
    }
}

/// The owner's view of connection `id`.
pub async fn view(env: &Env, id: &str) -> Result<Option<ConnectionView>, OwnFailure> {
    owner_view(id, ask(env, id, &ConnectionCall::View).await?)
}

/// Sets the label of connection `id`.
pub async fn set_label(
    env: &Env,
    id: &str,
    label: &str,
) -> Result<Option<ConnectionView>, OwnFailure> {
    let call = ConnectionCall::Label(label.to_owned());
    owner_view(id, ask(env, id, &call).await?)
}

fn owner_view(id: &str, reply: ConnectionReply) -> Result<Option<ConnectionView>, OwnFailure> {
    match reply {
        ConnectionReply::View { view } => Ok(Some(view)),
        ConnectionReply::NotFound => Ok(None),
        other => Err(unexpected(id, &other)),
    }
}

/// Points connection `id` at a new URL secret; returns the old secret's hash.
pub async fn rotate(
    env: &Env,
    id: &str,
    new_hash: &SecretHash,
) -> Result<Option<SecretHash>, OwnFailure> {
    match ask(env, id, &ConnectionCall::Rotate(*new_hash)).await? {
        ConnectionReply::Rotated { old_hash } => Ok(Some(old_hash)),
        ConnectionReply::NotFound => Ok(None),
        other => Err(unexpected(id, &other)),
    }
}

/// Deletes connection `id` (its object revokes the grant at its server where it can).
pub async fn delete(env: &Env, id: &str) -> Result<Option<Deleted>, OwnFailure> {
    match ask(env, id, &ConnectionCall::Delete).await? {
        ConnectionReply::Deleted {
            old_hash,
            upstream_revocation,
        } => Ok(Some(Deleted {
            old_hash,
            upstream_revocation,
        })),
        ConnectionReply::NotFound => Ok(None),
        other => Err(unexpected(id, &other)),
    }
}

/// Tells connection `id` that the upstream answered `insufficient_scope` asking for `scopes`.
/// `Ok(None)`: the secret no longer opens it.
pub async fn step_up(
    env: &Env,
    id: &str,
    hash: &SecretHash,
    scopes: Vec<String>,
) -> Result<Option<ConnectionReply>, OwnFailure> {
    let call = ConnectionCall::StepUp {
        presented: *hash,
        scopes,
    };
    match ask(env, id, &call).await? {
        ConnectionReply::NotFound => Ok(None),
        reply @ (ConnectionReply::SteppedUp { .. } | ConnectionReply::NotOAuth) => Ok(Some(reply)),
        other => Err(unexpected(id, &other)),
    }
}

/// What reconnecting connection `id` asks the owner for.
pub async fn reconnect_plan(env: &Env, id: &str) -> Result<Option<ReconnectPlan>, OwnFailure> {
    match ask(env, id, &ConnectionCall::ReconnectPlan).await? {
        ConnectionReply::Plan { plan } => Ok(Some(plan)),
        ConnectionReply::NotFound => Ok(None),
        other => Err(unexpected(id, &other)),
    }
}

/// Delivers uses an isolate counted for connection `id` (see `crate::activity`). A connection
/// deleted since is not an error: its uses are dropped.
pub async fn uses(env: &Env, id: &str, batch: &Batch) -> Result<(), OwnFailure> {
    match ask(env, id, &ConnectionCall::Uses(batch.clone())).await? {
        ConnectionReply::Noted | ConnectionReply::NotFound => Ok(()),
        other => Err(unexpected(id, &other)),
    }
}

/// The owner's view of connection `id`'s activity.
pub async fn activity(env: &Env, id: &str) -> Result<Option<ActivityView>, OwnFailure> {
    activity_view(id, ask(env, id, &ConnectionCall::Activity).await?)
}

/// Dismisses connection `id`'s new-place notices of uses at or before `until`.
pub async fn dismiss_notices(
    env: &Env,
    id: &str,
    until: UnixMillis,
) -> Result<Option<ActivityView>, OwnFailure> {
    let call = ConnectionCall::DismissNotices { until };
    activity_view(id, ask(env, id, &call).await?)
}

fn activity_view(id: &str, reply: ConnectionReply) -> Result<Option<ActivityView>, OwnFailure> {
    match reply {
        ConnectionReply::Activity { activity } => Ok(Some(activity)),
        ConnectionReply::NotFound => Ok(None),
        other => Err(unexpected(id, &other)),
    }
}
