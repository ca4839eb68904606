//! `GET /`.

use bindify_core::pages;
use bindify_core::settings::Settings;
use worker::{Env, Request, Response, Result};

use super::connect::deployment_presets;
use crate::respond;

pub async fn page(req: &Request, env: &Env, settings: &Settings) -> Result<Response> {
    let presets = deployment_presets(req, env, settings).await;
    respond::html(200, pages::landing_page(&presets))
}
