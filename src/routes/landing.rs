//! `GET /`.

use bindify_core::{pages, presets};
use worker::{Env, Response, Result};

use crate::{config, respond};

pub fn page(env: &Env) -> Result<Response> {
    let presets = presets::all(config::demo_server_url(env).as_deref());
    respond::html(200, pages::landing_page(&presets))
}
