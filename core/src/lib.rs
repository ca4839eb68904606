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
pub mod connect;
pub mod failure;
pub mod headers;
pub mod http;
pub mod json;
pub mod lifecycle;
pub mod mcp;
pub mod oauth;
pub mod order;
pub mod pages;
pub mod secret;
pub mod settings;
#[cfg(test)]
pub(crate) mod testing;
pub mod time;
pub mod vault;
