//! The `SseSession` Durable Object: one per legacy HTTP+SSE session (revision 2024-11-05). It
//! holds the client's event stream, numbers its events so a client reconnecting with
//! `Last-Event-ID` gets what it missed, keeps the stream alive with comments, and speaks to
//! the upstream in whichever transport the upstream has (see `upstream`).

mod state;
mod upstream;

use std::cell::RefCell;
use std::rc::Rc;

use bindify_core::lifecycle::object_protocol::sse_session::{Opening, SseCall};
use bindify_core::mcp::jsonrpc::Inbound;
use bindify_core::mcp::legacy_sse;
use bindify_core::mcp::session::Replay;
use bindify_core::secret::SecretHash;
use worker::{DurableObject, Env, Request, Response, Result, State, durable_object};

use crate::object_call::Incoming;
use crate::relay::{empty, refusal};
use crate::respond;
use state::{Session, Shared, open_listener, open_request_stream, open_stream};
use upstream::Undelivered;

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
        let incoming = Incoming::read(&mut req).await?;
        let Some(Ok((hash, call))) = incoming.received().map(|r| SseCall::receive(&r)) else {
            return respond::not_found();
        };
        match call {
            SseCall::Open { opening, endpoint } => {
                let Opening {
                    session: id,
                    connection_id,
                    reconnect_url,
                } = opening;
                let mut session = Session::new(&id, connection_id, hash, reconnect_url);
                let first = session_first_event(&mut session, &endpoint);
                self.shared.replace(Some(session));
                open_stream(&self.shared, vec![first])
            }
            SseCall::BridgePost { opening, body } => {
                let inbound = match bindify_core::mcp::proxy::check_body(&body) {
                    Ok(inbound) => inbound,
                    Err(refused) => return refusal(&refused),
                };
                if self.shared.borrow().is_none() {
                    let Some(Opening {
                        session: id,
                        connection_id,
                        reconnect_url,
                    }) = opening
                    else {
                        return respond::not_found();
                    };
                    if inbound.first_method() != Some("initialize") {
                        return respond::not_found();
                    }
                    self.shared.replace(Some(Session::bridged(
                        &id,
                        connection_id,
                        hash,
                        reconnect_url,
                    )));
                } else if !self.owned_by(&hash) {
                    return respond::not_found();
                }
                match &inbound {
                    Inbound::Requests { ids, .. } => {
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
            SseCall::BridgeListen => {
                if !self.owned_by(&hash) {
                    return respond::not_found();
                }
                open_listener(&self.shared)
            }
            SseCall::BridgeEnd => {
                if !self.owned_by(&hash) {
                    return respond::not_found();
                }
                self.shared.replace(None);
                empty(200)
            }
            SseCall::Resume { after } => {
                if !self.owned_by(&hash) {
                    return respond::not_found();
                }
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
            SseCall::Message { body } => {
                if !self.owned_by(&hash) {
                    return respond::not_found();
                }
                let inbound = match bindify_core::mcp::proxy::check_body(&body) {
                    Ok(inbound) => inbound,
                    Err(refused) => return refusal(&refused),
                };
                answer(upstream::deliver(&self.env, &self.shared, body, &inbound).await)
            }
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
