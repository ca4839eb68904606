//! Bindify's Worker: thin entry points that translate between the Workers runtime and
//! `bindify-core`. Decisions live in the core; this crate does I/O.
//!
//! A panic aborts every stream in the isolate: nothing here may unwrap, expect, panic or index
//! unchecked.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

mod activity;
mod admin;
mod api;
mod cli_code_object;
mod cli_codes;
mod clock;
mod config;
mod connection_client;
mod connection_object;
mod cron;
mod fetch_http;
mod forward;
mod grants;
mod kv_list;
mod listing;
mod object_call;
mod proxy;
mod relay;
mod request_body;
mod resolve;
mod respond;
mod routes;
mod sse_session;
mod storage;
mod throttle_object;

pub use cli_code_object::CliCode;
pub use connection_object::Connection;
pub use sse_session::SseSession;
pub use throttle_object::Throttle;

use worker::{Context, Env, Request, Response, Result, ScheduleContext, ScheduledEvent, event};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    routes::handle(req, env, &ctx).await
}

#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    cron::run(&env).await;
}
