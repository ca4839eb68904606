//! `GET /oauth/client-metadata.json`: Bindify's Client ID Metadata Document, which servers that
//! accept those read instead of registering Bindify. 404 when this deployment has no https URL
//! for it (a Worker on plain http without `CLIENT_METADATA_URL`).

use bindify_core::connect::flow::CLIENT_NAME;
use bindify_core::headers as header;
use bindify_core::oauth::registration::client_metadata_document;
use bindify_core::settings::Settings;
use worker::{Request, Response, Result};

use crate::respond;

pub fn document(req: &Request, settings: &Settings) -> Result<Response> {
    let origin = req.url()?;
    let Ok(connect) = settings.connect_settings(&origin) else {
        return respond::not_found();
    };
    let Some(client_id) = &connect.client_metadata_url else {
        return respond::not_found();
    };
    let body = client_metadata_document(client_id, &connect.redirect_uri, CLIENT_NAME);
    let response = Response::from_json(&body)?;
    let headers = response.headers().clone();
    // Authorization servers may cache it (draft-ietf-oauth-client-id-metadata-document §4).
    headers.set(header::CACHE_CONTROL, "public, max-age=3600")?;
    headers.set(header::X_CONTENT_TYPE_OPTIONS, "nosniff")?;
    Ok(response.with_headers(headers))
}
