//! Bindify's core. Nothing here imports the `worker` crate: the Worker and the CLI are thin
//! adapters around these modules, and `cargo test` exercises them natively.
//!
//! Request, cron and Durable Object paths run this code, and a panic there aborts every stream
//! in the isolate: outside tests, nothing may unwrap, expect, panic or index unchecked.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]
pub mod admin;
pub mod api_key;
pub mod cli_flow;
pub mod client_auth;
pub mod connection_service;
pub mod cookies;
pub mod cron;
pub mod discovery;
pub mod envelope;
pub mod failure;
pub mod flow;
pub mod grant_cache;
pub mod headers;
pub mod http;
pub mod json;
pub mod jsonrpc;
pub mod jwt;
pub mod keys;
pub mod legacy_sse;
pub mod object_protocol;
pub mod order;
pub mod origin;
pub mod owner_client;
pub mod pages;
pub mod presets;
pub mod proxy;
pub mod proxy_headers;
pub mod record;
pub mod refresh;
pub mod registration;
pub mod relay;
pub mod renewal;
pub mod schedule;
pub mod secret;
pub mod session;
pub mod settings;
pub mod sse;
pub mod step_up;
pub mod store;
#[cfg(test)]
pub(crate) mod testing;
pub mod throttle;
pub mod time;
pub mod tokens;
pub mod upstream;
pub mod upstream_session;
pub mod url_index;
pub mod vault;
pub mod wellknown;
pub mod www_authenticate;
