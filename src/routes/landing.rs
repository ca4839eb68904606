//! `GET /`.

use bindify_core::settings::Settings;
use bindify_core::{pages, presets};
use worker::{Response, Result};

use crate::respond;

pub fn page(settings: &Settings) -> Result<Response> {
    let presets = presets::all(settings.demo_server_url.as_deref());
    respond::html(200, pages::landing_page(&presets))
}
