//! The `CliCode` Durable Object: one per `bindify connect` code, named by the code's hash. It
//! runs `bindify_core::connect::cli_flow::CliCodes` over its own storage, one request at a time,
//! which makes a code single use; an alarm removes it once it can no longer matter. Its calls and
//! replies are `bindify_core::lifecycle::object_protocol::cli_code`'s.

use bindify_core::connect::cli_flow::{CODE_TTL_MS, CliCodes};
use bindify_core::failure::{OwnFailure, StorageFailure};
use bindify_core::lifecycle::object_protocol::cli_code::{CliCodeCall, CliCodeReply};
use worker::{DurableObject, Env, Request, Response, Result, State, durable_object};

use crate::object_call::{self, Incoming};
use crate::storage::ObjectStore;
use crate::{clock, config};

/// How long after its expiry a code's record is kept, so the CLI hears "expired" rather than
/// "unknown" while it still polls.
const KEEP_AFTER_EXPIRY_MS: i64 = 5 * 60_000;

#[durable_object]
pub struct CliCode {
    state: State,
    env: Env,
}

impl DurableObject for CliCode {
    fn new(state: State, env: Env) -> Self {
        Self { state, env }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let incoming = Incoming::read(&mut req).await?;
        let reply = match incoming.received().map(|r| CliCodeCall::receive(&r)) {
            Some(Ok((hash, call))) => self.answer(&hash, call).await,
            _ => CliCodeReply::BadCall,
        };
        object_call::reply(&reply.encode())
    }

    async fn alarm(&self) -> Result<Response> {
        bindify_core::connect::cli_flow::expire(&ObjectStore(self.state.storage()))
            .await
            .map_err(|e| worker::Error::RustError(e.to_string()))?;
        Response::empty()
    }
}

impl CliCode {
    async fn answer(&self, hash: &str, call: CliCodeCall) -> CliCodeReply {
        let settings = config::read(&self.env);
        let keyring = match settings.keyring() {
            Ok(k) => k,
            Err(e) => {
                return CliCodeReply::Failed {
                    failure: OwnFailure::of_keyring(&e),
                };
            }
        };
        let store = ObjectStore(self.state.storage());
        let codes = CliCodes {
            store: &store,
            keyring,
            hash,
        };
        let result = match call {
            CliCodeCall::Create(record) => {
                if let Err(e) = self
                    .state
                    .storage()
                    .set_alarm(CODE_TTL_MS + KEEP_AFTER_EXPIRY_MS)
                    .await
                {
                    worker::console_error!("cli code: setting the alarm failed: {e}");
                    return failed();
                }
                codes.create(&record).await.map(|()| CliCodeReply::Created)
            }
            CliCodeCall::Start => codes.start(clock::now()).await.map(|server| match server {
                Some(server) => CliCodeReply::Started { server },
                None => CliCodeReply::NotFound,
            }),
            CliCodeCall::Finish(status) => {
                codes.finish(status).await.map(|()| CliCodeReply::Finished)
            }
            CliCodeCall::Poll => codes.poll(clock::now()).await.map(CliCodeReply::of_poll),
        };
        result.unwrap_or_else(|e| {
            worker::console_error!("cli code: {e}");
            failed()
        })
    }
}

fn failed() -> CliCodeReply {
    CliCodeReply::Failed {
        failure: OwnFailure::storage(StorageFailure::CliCode),
    }
}
