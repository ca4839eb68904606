//! The `CliCode` Durable Object: one per `bindify connect` code, named by the code's hash. It
//! runs `bindify_core::cli_flow::CliCodes` over its own storage, one request at a time, which
//! makes a code single use; an alarm removes it once it can no longer matter.

use bindify_core::cli_flow::{CODE_TTL_MS, CliCodes, CliRecord, CliStatus, Poll};
use worker::{DurableObject, Env, Method, Request, Response, Result, State, durable_object};

use crate::storage::ObjectStore;
use crate::{clock, config, respond};

/// The code's hash, on every request to the object.
pub const HASH_HEADER: &str = "x-bindify-cli-hash";

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
        let settings = config::read(&self.env);
        let keyring = match settings.keyring() {
            Ok(k) => k,
            Err(e) => return respond::connect_error_json(&e),
        };
        let Some(hash) = req.headers().get(HASH_HEADER)? else {
            return respond::not_found();
        };
        let store = ObjectStore(self.state.storage());
        let codes = CliCodes {
            store: &store,
            keyring,
            hash: &hash,
        };
        let result = match (req.method(), req.path().as_str()) {
            (Method::Post, "/create") => {
                let record: CliRecord = req.json().await?;
                self.state
                    .storage()
                    .set_alarm(CODE_TTL_MS + KEEP_AFTER_EXPIRY_MS)
                    .await?;
                codes
                    .create(&record)
                    .await
                    .map(|()| Response::empty().map(|r| r.with_status(201)))
            }
            (Method::Post, "/start") => {
                codes.start(clock::now()).await.map(|server| match server {
                    Some(server) => respond::json(200, &serde_json::json!({ "server": server })),
                    None => respond::not_found(),
                })
            }
            (Method::Post, "/finish") => {
                let status: CliStatus = req.json().await?;
                codes
                    .finish(status)
                    .await
                    .map(|()| Response::empty().map(|r| r.with_status(204)))
            }
            (Method::Get, "/poll") => codes.poll(clock::now()).await.map(|poll| match poll {
                Poll::Gone => respond::not_found(),
                Poll::Pending => respond::json(200, &CliStatus::Pending),
                Poll::Final(status) => respond::json(200, &status),
            }),
            _ => return respond::not_found(),
        };
        match result {
            Ok(response) => response,
            Err(e) => {
                worker::console_error!("cli code: {e}");
                respond::json(503, &serde_json::json!({ "error": "storage_unavailable" }))
            }
        }
    }

    async fn alarm(&self) -> Result<Response> {
        bindify_core::cli_flow::expire(&ObjectStore(self.state.storage()))
            .await
            .map_err(|e| worker::Error::RustError(e.to_string()))?;
        Response::empty()
    }
}
