//! `/api/connections…`: list, show, label, revoke, rotate, reconnect.

use bindify_core::record::{ConnectionView, MAX_LABEL_CHARS};
use bindify_core::secret::UrlSecret;
use bindify_core::store::StoreError;
use bindify_core::url_index::{IndexError, OldEntry, Rotated};
use worker::{Env, Request, Response, Result};

use super::{own_failure, storage_failed, unknown_connection};
use crate::{admin, connection_client, listing, resolve, respond};

/// Every connection, from the KV mirror's metadata (no record is opened), oldest first.
pub async fn list_views(env: &Env) -> std::result::Result<Vec<ConnectionView>, StoreError> {
    let mut views: Vec<ConnectionView> = listing::connections(env)
        .await?
        .iter()
        .map(|(id, meta)| ConnectionView::from_metadata(id, meta))
        .collect();
    views.sort_by(|a, b| a.created_at.cmp(&b.created_at));
    Ok(views)
}

pub async fn list(env: &Env) -> Result<Response> {
    match list_views(env).await {
        Ok(connections) => respond::json(200, &serde_json::json!({ "connections": connections })),
        Err(e) => storage_failed(e),
    }
}

pub async fn get(env: &Env, id: &str) -> Result<Response> {
    match connection_client::view(env, id).await {
        Ok(Some(view)) => respond::json(200, &view),
        Ok(None) => unknown_connection(),
        Err(e) => own_failure(&e),
    }
}

#[derive(serde::Deserialize)]
struct LabelBody {
    label: String,
}

pub async fn label(req: &mut Request, env: &Env, id: &str) -> Result<Response> {
    let Ok(body) = req.json::<LabelBody>().await else {
        return admin::api_error(400, "invalid_request", "Send {\"label\": \"…\"}.");
    };
    let label = body.label.trim();
    if label.is_empty()
        || label.chars().count() > MAX_LABEL_CHARS
        || label.chars().any(char::is_control)
    {
        return admin::api_error(
            400,
            "invalid_request",
            "A label is 1 to 100 printable characters.",
        );
    }
    match connection_client::set_label(env, id, label).await {
        Ok(Some(view)) => respond::json(200, &view),
        Ok(None) => unknown_connection(),
        Err(e) => own_failure(&e),
    }
}

pub async fn revoke(env: &Env, id: &str) -> Result<Response> {
    match connection_client::delete(env, id).await {
        Ok(Some(deleted)) => {
            // The object is gone, so the URL already answers 404; drop its index entry too.
            if let Err(e) = resolve::remove(env, &deleted.old_hash).await {
                worker::console_error!("revoke {id}: index entry left behind: {e}");
            }
            respond::json(
                200,
                &serde_json::json!({ "revoked": true, "upstream_revocation": deleted.upstream_revocation }),
            )
        }
        Ok(None) => unknown_connection(),
        Err(e) => own_failure(&e),
    }
}

pub async fn rotate(req: &Request, env: &Env, id: &str) -> Result<Response> {
    let secret = UrlSecret::generate().map_err(|e| worker::Error::RustError(e.to_string()))?;
    match resolve::rotate(env, id, &secret.hash()).await {
        Ok(Rotated::Done(old)) => {
            match old {
                OldEntry::Removed => {}
                OldEntry::LeftBehind(e) => {
                    worker::console_error!("rotate {id}: old index entry left behind: {e}");
                }
                OldEntry::Unknown => {
                    worker::console_warn!(
                        "rotate {id}: the object's answer was lost; its old index entry stays"
                    );
                }
            }
            let origin = req.url()?.origin().ascii_serialization();
            let base = format!("{origin}/s/{}", secret.expose());
            respond::json(
                200,
                &serde_json::json!({ "mcp_url": format!("{base}/mcp"), "sse_url": format!("{base}/sse") }),
            )
        }
        Ok(Rotated::UnknownConnection) => unknown_connection(),
        Err(IndexError::Connection(failure)) => own_failure(&failure),
        Err(e @ (IndexError::Store(_) | IndexError::Stranded { .. })) => storage_failed(e),
    }
}

pub async fn reconnect(req: &Request, env: &Env, id: &str) -> Result<Response> {
    match connection_client::view(env, id).await {
        Ok(Some(_)) => {
            let origin = req.url()?.origin().ascii_serialization();
            respond::json(
                200,
                &serde_json::json!({ "reconnect_url": format!("{origin}/manage/{id}/reconnect") }),
            )
        }
        Ok(None) => unknown_connection(),
        Err(e) => own_failure(&e),
    }
}
