//! Bindify's Worker: thin entry points that translate between the Workers runtime and
//! `bindify-core`. Decisions live in the core; this crate does I/O.

mod config;
mod connection_object;
mod fetch_http;
mod respond;
mod routes;
mod storage;

pub use connection_object::Connection;

use worker::{Context, Env, Request, Response, Result, event};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    routes::handle(req, env).await
}
