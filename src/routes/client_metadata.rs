//! `GET /oauth/client-metadata.json`: Bindify's Client ID Metadata Document, which servers that
//! accept those read instead of registering Bindify. 404 when this deployment has no https URL
//! for it (a Worker on plain http without `CLIENT_METADATA_URL`).

use bindify_core::flow::CLIENT_NAME;
use bindify_core::registration::client_metadata_document;
use worker::{Env, Request, Response, Result};

use crate::{config, respond};

pub fn document(req: &Request, env: &Env) -> Result<Response> {
    let origin = req.url()?;
    let (Some(client_id), Ok(settings)) = (
        config::client_metadata_url(env, &origin),
        config::connect_settings(env, &origin),
    ) else {
        return respond::not_found();
    };
    let body = client_metadata_document(&client_id, &settings.redirect_uri, CLIENT_NAME);
    let response = Response::from_json(&body)?;
    let headers = response.headers().clone();
    // Authorization servers may cache it (draft-ietf-oauth-client-id-metadata-document §4).
    headers.set("cache-control", "public, max-age=3600")?;
    headers.set("x-content-type-options", "nosniff")?;
    Ok(response.with_headers(headers))
}
