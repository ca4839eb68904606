//! The `SseSession` Durable Object: one per legacy HTTP+SSE session (revision 2024-11-05). It
//! holds the client's event stream, numbers its events so a client reconnecting with
//! `Last-Event-ID` gets what it missed, keeps the stream alive with comments, and speaks to
//! the upstream in whichever transport the upstream has (see `upstream`).

mod state;
mod upstream;

use std::cell::RefCell;
use std::rc::Rc;

use bindify_core::legacy_sse;
use bindify_core::secret::SecretHash;
use bindify_core::session::Replay;
use worker::{DurableObject, Env, Method, Request, Response, Result, State, durable_object};

use crate::connection_client::{CONNECTION_ID_HEADER, SECRET_HASH_HEADER};
use crate::relay::{empty, refusal};
use crate::respond;
use state::{Session, Shared, open_listener, open_request_stream, open_stream};
use upstream::Undelivered;

/// Internal headers of `/open`, `/bridge` and `/resume`. The Worker's routes send them; the
/// object depends on nothing of the routes.
pub const SESSION_HEADER: &str = "x-bindify-session";
pub const ENDPOINT_HEADER: &str = "x-bindify-endpoint";
pub const RECONNECT_HEADER: &str = "x-bindify-reconnect";
pub const AFTER_HEADER: &str = "x-bindify-after";

#[durable_object]
pub struct SseSession {
    #[allow(dead_code)]
    state: State,
    env: Env,
    shared: Shared,
}

impl DurableObject for SseSession {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            shared: Rc::new(RefCell::new(None)),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let Some(hash) = header(&req, SECRET_HASH_HEADER).and_then(|h| SecretHash::from_hex(&h))
        else {
            return respond::not_found();
        };
        let path = req.path();
        match (req.method(), path.as_str()) {
            (Method::Post, "/open") => {
                let (Some(id), Some(connection_id), Some(endpoint), Some(reconnect)) = (
                    header(&req, SESSION_HEADER),
                    header(&req, CONNECTION_ID_HEADER),
                    header(&req, ENDPOINT_HEADER),
                    header(&req, RECONNECT_HEADER),
                ) else {
                    return respond::not_found();
                };
                let mut session = Session::new(&id, connection_id, hash, reconnect);
                let first = session_first_event(&mut session, &endpoint);
                self.shared.replace(Some(session));
                open_stream(&self.shared, vec![first])
            }
            (Method::Post, "/bridge") => {
                let body = req.bytes().await?;
                let inbound = match bindify_core::proxy::check_body(&body) {
                    Ok(inbound) => inbound,
                    Err(refused) => return refusal(&refused),
                };
                if self.shared.borrow().is_none() {
                    let (Some(id), Some(connection_id), Some(reconnect)) = (
                        header(&req, SESSION_HEADER),
                        header(&req, CONNECTION_ID_HEADER),
                        header(&req, RECONNECT_HEADER),
                    ) else {
                        return respond::not_found();
                    };
                    if inbound.first_method() != Some("initialize") {
                        return respond::not_found();
                    }
                    self.shared.replace(Some(Session::bridged(
                        &id,
                        connection_id,
                        hash,
                        reconnect,
                    )));
                } else if !self.owned_by(&hash) {
                    return respond::not_found();
                }
                match &inbound {
                    bindify_core::jsonrpc::Inbound::Requests { ids, .. } => {
                        // Registered before delivery, so the answer cannot arrive unrouted.
                        let response = open_request_stream(&self.shared, ids)?;
                        // Failures for requests arrive on the stream as JSON-RPC errors.
                        match upstream::deliver(&self.env, &self.shared, body, &inbound).await {
                            Err(Undelivered::Gone) => respond::not_found(),
                            _ => Ok(response),
                        }
                    }
                    _ => answer(upstream::deliver(&self.env, &self.shared, body, &inbound).await),
                }
            }
            (Method::Get, "/bridge") => {
                if !self.owned_by(&hash) {
                    return respond::not_found();
                }
                open_listener(&self.shared)
            }
            (Method::Delete, "/bridge") => {
                if !self.owned_by(&hash) {
                    return respond::not_found();
                }
                self.shared.replace(None);
                empty(200)
            }
            (Method::Get, "/resume") => {
                if !self.owned_by(&hash) {
                    return respond::not_found();
                }
                let after = header(&req, AFTER_HEADER)
                    .and_then(|a| a.parse::<u64>().ok())
                    .unwrap_or(0);
                let replay = self
                    .shared
                    .borrow()
                    .as_ref()
                    .map(|s| s.log().replay_after(after));
                match replay {
                    Some(Replay::Events(events)) => open_stream(&self.shared, events),
                    _ => respond::not_found(),
                }
            }
            (Method::Post, "/message") => {
                if !self.owned_by(&hash) {
                    return respond::not_found();
                }
                let body = req.bytes().await?;
                let inbound = match bindify_core::proxy::check_body(&body) {
                    Ok(inbound) => inbound,
                    Err(refused) => return refusal(&refused),
                };
                answer(upstream::deliver(&self.env, &self.shared, body, &inbound).await)
            }
            _ => respond::not_found(),
        }
    }
}

impl SseSession {
    /// Whether this session exists and belongs to the URL secret with `hash`.
    fn owned_by(&self, hash: &SecretHash) -> bool {
        self.shared
            .borrow()
            .as_ref()
            .is_some_and(|s| s.hash.ct_eq(hash))
    }
}

/// The answer to a delivered message: 202, its refusal, or the shared 404 once the session's
/// URL no longer opens its connection.
fn answer(delivered: std::result::Result<(), Undelivered>) -> Result<Response> {
    match delivered {
        Ok(()) => empty(202),
        Err(Undelivered::Refused(refused)) => refusal(&refused),
        Err(Undelivered::Gone) => respond::not_found(),
    }
}

/// The `endpoint` event, numbered like every other event.
fn session_first_event(session: &mut Session, endpoint: &str) -> Vec<u8> {
    session.record(legacy_sse::endpoint_event(endpoint))
}

fn header(req: &Request, name: &str) -> Option<String> {
    req.headers().get(name).ok().flatten()
}
