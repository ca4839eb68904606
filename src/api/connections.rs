//! `/api/connections…`: list and show (with each connection's activity), label, revoke,
//! rotate, reconnect, dismiss new-place notices.

use std::collections::BTreeMap;

use bindify_core::lifecycle::activity::view::ActivityView;
use bindify_core::secret::UrlSecret;
use bindify_core::settings::Settings;
use bindify_core::time::parse_rfc3339;
use bindify_core::vault::record::{ConnectionView, MAX_LABEL_CHARS};
use bindify_core::vault::store::StoreError;
use bindify_core::vault::url_index::{IndexError, OldEntry, Rotated};
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
    bindify_core::order::sort_by(&mut views, |a, b| a.created_at.cmp(&b.created_at));
    Ok(views)
}

/// A connection with its activity (`null` when its object could not say).
#[derive(serde::Serialize)]
struct WithActivity<'a> {
    #[serde(flatten)]
    view: &'a ConnectionView,
    activity: Option<&'a ActivityView>,
}

/// The activity of each connection, asked of their objects at once; one that fails to answer
/// is left out (logged).
pub async fn activities(env: &Env, views: &[ConnectionView]) -> BTreeMap<String, ActivityView> {
    let asked = views.iter().map(|view| async move {
        (
            view.id.clone(),
            connection_client::activity(env, &view.id).await,
        )
    });
    let mut found = BTreeMap::new();
    for (id, answer) in futures_util::future::join_all(asked).await {
        match answer {
            Ok(Some(activity)) => {
                found.insert(id, activity);
            }
            Ok(None) => {}
            Err(e) => worker::console_error!("connection {id}: activity unavailable: {e}"),
        }
    }
    found
}

pub async fn list(env: &Env) -> Result<Response> {
    let views = match list_views(env).await {
        Ok(views) => views,
        Err(e) => return storage_failed(e),
    };
    let activity = activities(env, &views).await;
    let connections: Vec<WithActivity<'_>> = views
        .iter()
        .map(|view| WithActivity {
            view,
            activity: activity.get(&view.id),
        })
        .collect();
    respond::json(200, &serde_json::json!({ "connections": connections }))
}

pub async fn get(env: &Env, id: &str) -> Result<Response> {
    let view = match connection_client::view(env, id).await {
        Ok(Some(view)) => view,
        Ok(None) => return unknown_connection(),
        Err(e) => return own_failure(&e),
    };
    let activity = connection_client::activity(env, id)
        .await
        .unwrap_or_else(|e| {
            worker::console_error!("connection {id}: activity unavailable: {e}");
            None
        });
    respond::json(
        200,
        &WithActivity {
            view: &view,
            activity: activity.as_ref(),
        },
    )
}

#[derive(serde::Deserialize)]
struct DismissBody {
    until: String,
}

/// `POST /api/connections/<id>/dismiss-notices`: the owner saw the new-place notices up to
/// `until` (RFC 3339, the newest notice shown); newer ones stay.
pub async fn dismiss_notices(req: &mut Request, env: &Env, id: &str) -> Result<Response> {
    let until = match crate::request_body::json::<DismissBody>(req).await {
        Ok(body) => parse_rfc3339(&body.until),
        Err(_) => None,
    };
    let Some(until) = until else {
        return admin::api_error(
            400,
            "invalid_request",
            "Send {\"until\": \"<RFC 3339 time of the newest notice shown>\"}.",
        );
    };
    match connection_client::dismiss_notices(env, id, until).await {
        Ok(Some(activity)) => respond::json(200, &serde_json::json!({ "activity": activity })),
        Ok(None) => unknown_connection(),
        Err(e) => own_failure(&e),
    }
}

#[derive(serde::Deserialize)]
struct LabelBody {
    label: String,
}

pub async fn label(req: &mut Request, env: &Env, id: &str) -> Result<Response> {
    let Ok(body) = crate::request_body::json::<LabelBody>(req).await else {
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

pub async fn revoke(env: &Env, settings: &Settings, id: &str) -> Result<Response> {
    match connection_client::delete(env, id).await {
        Ok(Some(deleted)) => {
            // The object is gone, so asking it about the URL gets 404; drop its index entry too.
            if let Err(e) = resolve::remove(env, &deleted.old_hash).await {
                worker::console_error!("revoke {id}: index entry left behind: {e}");
            }
            respond::json(
                200,
                &serde_json::json!({
                    "revoked": true,
                    "upstream_revocation": deleted.upstream_revocation,
                    "old_url_answers_for_seconds": settings.old_url_answers_for_seconds(),
                }),
            )
        }
        Ok(None) => unknown_connection(),
        Err(e) => own_failure(&e),
    }
}

pub async fn rotate(req: &Request, env: &Env, settings: &Settings, id: &str) -> Result<Response> {
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
                &serde_json::json!({
                    "mcp_url": format!("{base}/mcp"),
                    "sse_url": format!("{base}/sse"),
                    "old_url_answers_for_seconds": settings.old_url_answers_for_seconds(),
                }),
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
