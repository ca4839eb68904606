//! The Worker's side of the `CliCode` objects: one per `bindify connect` code, named by the
//! code's hash, so storage never holds the code itself. Each function makes one call of
//! `bindify_core::lifecycle::object_protocol::cli_code`; the object decides (see
//! `bindify_core::connect::cli_flow`).

use bindify_core::connect::cli_flow::{CliRecord, CliStatus, ConnectCode, Poll};
use bindify_core::lifecycle::object_protocol::cli_code::{CliCodeCall, CliCodeReply};
use bindify_core::vault::store::StoreError;
use worker::Env;

use crate::{config, object_call};

/// Makes `call` to the object of the code with hash `hash`. Anything but a reply of the
/// protocol is a failure of the object's storage.
async fn ask(
    env: &Env,
    op: &'static str,
    hash: &str,
    call: &CliCodeCall,
) -> Result<CliCodeReply, StoreError> {
    let failed = |reason: String| StoreError { op, reason };
    let (status, body) = object_call::ask(env, config::CLI_CODE_BINDING, hash, &call.wire(hash))
        .await
        .map_err(|e| failed(e.to_string()))?;
    match CliCodeReply::decode(status, &body).map_err(|e| failed(e.to_string()))? {
        CliCodeReply::Failed { failure } => Err(failed(failure.to_string())),
        CliCodeReply::BadCall => Err(failed("the code's object refused the call".into())),
        reply => Ok(reply),
    }
}

fn unexpected(op: &'static str, reply: &CliCodeReply) -> StoreError {
    StoreError {
        op,
        reason: format!("unexpected reply {}", reply.status()),
    }
}

/// Stores the record of a new code.
pub async fn create(env: &Env, code: &ConnectCode, record: &CliRecord) -> Result<(), StoreError> {
    let call = CliCodeCall::Create(record.clone());
    match ask(env, "create", &code.hash_hex(), &call).await? {
        CliCodeReply::Created => Ok(()),
        other => Err(unexpected("create", &other)),
    }
}

/// Starts code `code` once: its hash and server when this call started it, `None` when it is
/// unknown, expired or already used.
pub async fn start(env: &Env, code: &ConnectCode) -> Result<Option<(String, String)>, StoreError> {
    let hash = code.hash_hex();
    match ask(env, "start", &hash, &CliCodeCall::Start).await? {
        CliCodeReply::Started { server } => Ok(Some((hash, server))),
        CliCodeReply::NotFound => Ok(None),
        other => Err(unexpected("start", &other)),
    }
}

/// Records how the flow of the code with hash `hash` ended. Failures are logged: the CLI then
/// times out with a message saying so.
pub async fn finish(env: &Env, hash: &str, status: CliStatus) {
    let result = match ask(env, "finish", hash, &CliCodeCall::Finish(status)).await {
        Ok(CliCodeReply::Finished) => Ok(()),
        Ok(other) => Err(unexpected("finish", &other)),
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        worker::console_error!("cli code: recording the result failed: {e}");
    }
}

/// What the CLI learns about code `code`; a final result is read once.
pub async fn poll(env: &Env, code: &ConnectCode) -> Result<Poll, StoreError> {
    match ask(env, "poll", &code.hash_hex(), &CliCodeCall::Poll).await? {
        CliCodeReply::Polled {
            status: CliStatus::Pending | CliStatus::Started,
        } => Ok(Poll::Pending),
        CliCodeReply::Polled { status } => Ok(Poll::Final(status)),
        CliCodeReply::NotFound => Ok(Poll::Gone),
        other => Err(unexpected("poll", &other)),
    }
}
