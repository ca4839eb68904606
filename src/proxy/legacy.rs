//! `/s/<secret>/sse` and `/s/<secret>/message`: the permanent URL as a legacy HTTP+SSE MCP
//! endpoint (revision 2024-11-05). Each stream is a session held by an `SseSession` object;
//! this file admits requests and routes them to the right session.
//!
//! The session's `endpoint` event names `/s/<secret>/message?session=<id>`: the secret stays
//! in the path, where the client was given it, and the query carries only the session id.

use bindify_core::headers as header;
use bindify_core::proxy;
use bindify_core::secret::{b64url, random_bytes};
use bindify_core::session::parse_event_id;
use bindify_core::settings::Settings;
use worker::{Env, Headers, Method, Request, RequestInit, Response, Result};

use super::body;
use crate::connection_client::{CONNECTION_ID_HEADER, SECRET_HASH_HEADER};
use crate::relay::refusal;
use crate::resolve::{self, Resolved};
use crate::sse_session::{AFTER_HEADER, ENDPOINT_HEADER, RECONNECT_HEADER, SESSION_HEADER};
use crate::{config, connection_client, respond};

const BASE: &str = "https://session.internal";

#[derive(serde::Deserialize)]
struct MessageQuery {
    session: Option<String>,
}

async fn resolve_and_admit(
    req: &Request,
    env: &Env,
    settings: &Settings,
    secret: &str,
) -> Result<std::result::Result<(Resolved, String), Response>> {
    let found = match resolve::connection(env, secret).await {
        Ok(Some(found)) => found,
        Ok(None) => return Ok(Err(respond::not_found()?)),
        Err(e) => {
            worker::console_error!("sse: index lookup failed: {e}");
            return Ok(Err(refusal(&proxy::upstream_unreachable(
                None,
                "Bindify storage",
                "temporarily unavailable",
            ))?));
        }
    };
    let own = req.url()?.origin().ascii_serialization();
    let origin = req.headers().get(header::ORIGIN)?;
    if let Err(refused) = proxy::check_origin(origin.as_deref(), &own, &settings.allowed_origins) {
        return Ok(Err(refusal(&refused)?));
    }
    Ok(Ok((found, own)))
}

/// `GET /s/<secret>/sse`: a new session, or the resumption of one named by `Last-Event-ID`.
pub async fn stream(
    req: Request,
    env: &Env,
    settings: &Settings,
    secret: &str,
) -> Result<Response> {
    if req.method() != Method::Get {
        return respond::method_not_allowed("GET");
    }
    let (found, origin) = match resolve_and_admit(&req, env, settings, secret).await? {
        Ok(ok) => ok,
        Err(response) => return Ok(response),
    };
    // The URL must lead to a live connection before a session is opened or resumed for it:
    // a rotated-away or revoked URL replays nothing, even while the isolate still remembers
    // its index entry.
    if !live(env, &found).await? {
        return respond::not_found();
    }
    let headers = Headers::new();
    headers.set(SECRET_HASH_HEADER, &found.hash.to_hex())?;
    if let Some(last) = req.headers().get(header::LAST_EVENT_ID)? {
        let Some((session, seen)) = parse_event_id(&last) else {
            return respond::not_found();
        };
        headers.set(AFTER_HEADER, &seen.to_string())?;
        return call(env, session, Method::Get, "/resume", headers, None).await;
    }
    let session =
        b64url(&random_bytes::<16>().map_err(|e| worker::Error::RustError(e.to_string()))?);
    let base = format!("{origin}/s/{}", found.secret.expose());
    headers.set(SESSION_HEADER, &session)?;
    headers.set(CONNECTION_ID_HEADER, &found.id)?;
    headers.set(
        ENDPOINT_HEADER,
        &format!("{base}/message?session={session}"),
    )?;
    headers.set(RECONNECT_HEADER, &proxy::reconnect_url(&origin, &found.id))?;
    call(env, &session, Method::Post, "/open", headers, None).await
}

/// Whether the secret `found` came with still opens its connection (its object compares the
/// hash with the record's in constant time).
pub(super) async fn live(env: &Env, found: &Resolved) -> Result<bool> {
    Ok(connection_client::status(env, &found.id, &found.hash)
        .await?
        .status_code()
        == 200)
}

/// `POST /s/<secret>/message?session=<id>`: one client message for its session.
pub async fn message(
    mut req: Request,
    env: &Env,
    settings: &Settings,
    secret: &str,
) -> Result<Response> {
    if req.method() != Method::Post {
        return respond::method_not_allowed("POST");
    }
    let (found, _) = match resolve_and_admit(&req, env, settings, secret).await? {
        Ok(ok) => ok,
        Err(response) => return Ok(response),
    };
    let Some(session) = req.query::<MessageQuery>().ok().and_then(|q| q.session) else {
        return respond::not_found();
    };
    if let Err(refused) =
        proxy::check_declared_length(req.headers().get(header::CONTENT_LENGTH)?.as_deref())
    {
        return refusal(&refused);
    }
    let Some(bytes) = body::read_limited(&mut req).await? else {
        return refusal(&proxy::too_large());
    };
    if let Err(refused) = proxy::check_body(&bytes) {
        return refusal(&refused);
    }
    let headers = Headers::new();
    headers.set(SECRET_HASH_HEADER, &found.hash.to_hex())?;
    headers.set(header::CONTENT_TYPE, "application/json")?;
    call(
        env,
        &session,
        Method::Post,
        "/message",
        headers,
        Some(bytes),
    )
    .await
}

pub(super) async fn call(
    env: &Env,
    session: &str,
    method: Method,
    path: &str,
    headers: Headers,
    body: Option<Vec<u8>>,
) -> Result<Response> {
    let mut init = RequestInit::new();
    init.with_method(method).with_headers(headers);
    if let Some(body) = body {
        init.with_body(Some(
            worker::js_sys::Uint8Array::from(body.as_slice()).into(),
        ));
    }
    let request = Request::new_with_init(&format!("{BASE}{path}"), &init)?;
    env.durable_object(config::SSE_SESSION_BINDING)?
        .get_by_name(session)?
        .fetch_with_request(request)
        .await
}
