//! `/s/<secret>/sse` and `/s/<secret>/message`: the permanent URL as a legacy HTTP+SSE MCP
//! endpoint (revision 2024-11-05). Each stream is a session held by an `SseSession` object;
//! this file admits requests and routes them to the right session.
//!
//! The session's `endpoint` event names `/s/<secret>/message?session=<id>`: the secret stays
//! in the path, where the client was given it, and the query carries only the session id.

use bindify_core::failure::{Failure, OwnFailure, StorageFailure};
use bindify_core::headers as header;
use bindify_core::lifecycle::object_protocol::sse_session::{Opening, SseCall};
use bindify_core::mcp::proxy;
use bindify_core::mcp::session::parse_event_id;
use bindify_core::secret::{b64url, random_bytes};
use bindify_core::settings::Settings;
use worker::{Env, Method, Request, Response, Result};

use super::body;
use crate::activity::Visit;
use crate::relay::{self, refusal};
use crate::resolve::{self, Resolved};
use crate::{config, connection_client, object_call, respond};

#[derive(serde::Deserialize)]
struct MessageQuery {
    session: Option<String>,
}

async fn resolve_and_admit(
    req: &Request,
    env: &Env,
    settings: &Settings,
    visit: &Visit,
    secret: &str,
) -> Result<std::result::Result<(Resolved, String), Response>> {
    let found = match resolve::connection(env, secret).await {
        Ok(Some(found)) => {
            visit.found(&found.id);
            found
        }
        Ok(None) => return Ok(Err(respond::not_found()?)),
        Err(e) => {
            worker::console_error!("sse: index lookup failed: {e}");
            let failed = Failure::Own(OwnFailure::storage(StorageFailure::UrlIndex));
            return Ok(Err(relay::refused(&failed, None)?));
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
    visit: &Visit,
    secret: &str,
) -> Result<Response> {
    if req.method() != Method::Get {
        return respond::method_not_allowed("GET");
    }
    let (found, origin) = match resolve_and_admit(&req, env, settings, visit, secret).await? {
        Ok(ok) => ok,
        Err(response) => return Ok(response),
    };
    // The URL must lead to a live connection before a session is opened or resumed for it:
    // a rotated-away or revoked URL replays nothing, even while the isolate still remembers
    // its index entry.
    match live(env, &found).await {
        Ok(true) => {}
        Ok(false) => return respond::not_found(),
        Err(failed) => return relay::refused(&failed, None),
    }
    if let Some(last) = req.headers().get(header::LAST_EVENT_ID)? {
        let Some((session, seen)) = parse_event_id(&last) else {
            return respond::not_found();
        };
        return call(env, session, &found, &SseCall::Resume { after: seen }).await;
    }
    let session =
        b64url(&random_bytes::<16>().map_err(|e| worker::Error::RustError(e.to_string()))?);
    let base = format!("{origin}/s/{}", found.secret.expose());
    let open = SseCall::Open {
        endpoint: format!("{base}/message?session={session}"),
        opening: Opening {
            session: session.clone(),
            connection_id: found.id.clone(),
            reconnect_url: proxy::reconnect_url(&origin, &found.id),
        },
    };
    call(env, &session, &found, &open).await
}

/// Whether the secret `found` came with still opens its connection (its object compares the
/// hash with the record's in constant time). `Err` is Bindify's own failure.
pub(super) async fn live(env: &Env, found: &Resolved) -> std::result::Result<bool, Failure> {
    connection_client::status(env, &found.id, &found.hash)
        .await
        .map(|status| status.is_some())
        .map_err(Failure::Own)
}

/// `POST /s/<secret>/message?session=<id>`: one client message for its session.
pub async fn message(
    mut req: Request,
    env: &Env,
    settings: &Settings,
    visit: &Visit,
    secret: &str,
) -> Result<Response> {
    if req.method() != Method::Post {
        return respond::method_not_allowed("POST");
    }
    let (found, _) = match resolve_and_admit(&req, env, settings, visit, secret).await? {
        Ok(ok) => ok,
        Err(response) => return Ok(response),
    };
    let Some(session) = req.query::<MessageQuery>().ok().and_then(|q| q.session) else {
        return respond::not_found();
    };
    let declared =
        match proxy::check_declared_length(req.headers().get(header::CONTENT_LENGTH)?.as_deref()) {
            Ok(declared) => declared,
            Err(refused) => return refusal(&refused),
        };
    let Some(bytes) = body::read_limited(&mut req, declared).await? else {
        return refusal(&proxy::too_large());
    };
    if let Err(refused) = proxy::check_body(&bytes) {
        return refusal(&refused);
    }
    call(env, &session, &found, &SseCall::Message { body: bytes }).await
}

/// Makes `call` to session `session`'s object, for the holder of `found`'s secret; its answer
/// goes to the client as it is.
pub(super) async fn call(
    env: &Env,
    session: &str,
    found: &Resolved,
    call: &SseCall,
) -> Result<Response> {
    object_call::send(
        env,
        config::SSE_SESSION_BINDING,
        session,
        &call.wire(&found.hash),
    )
    .await
}
