//! One legacy session's in-memory state: the client's stream (a channel whose receiving end is
//! the response body), the numbered event log, and what Bindify knows of the upstream.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use bindify_core::headers as header;
use bindify_core::mcp::session::{EventLog, KEEPALIVE_MS};
use bindify_core::mcp::sse::{self, SseEvent};
use bindify_core::mcp::upstream_session::UpstreamState;
use bindify_core::secret::SecretHash;
use futures_channel::mpsc::{UnboundedSender, unbounded};
use futures_util::StreamExt;
use worker::{Delay, Headers, Response, Result};

/// Everything a session holds. No `Debug`: it holds the upstream's session URL.
pub struct Session {
    pub connection_id: String,
    pub hash: SecretHash,
    /// The dashboard page that reconnects the connection, for error messages.
    pub reconnect_url: String,
    pub upstream: UpstreamState,
    /// The upstream's MCP URL, once a token named it, for error messages.
    pub upstream_url: Option<String>,
    /// Reconnects to a legacy upstream that failed in a row.
    pub legacy_failures: u32,
    /// The client's `initialize` request, replayed when the upstream loses the session.
    pub initialize: Option<Vec<u8>>,
    log: EventLog,
    sender: Option<UnboundedSender<Vec<u8>>>,
    /// Set when the client speaks Streamable HTTP (the session bridges it to a legacy
    /// upstream): answers go to the POST that asked, other messages to an open request
    /// stream or the client's GET stream.
    bridge: Option<Bridge>,
}

/// The client-facing streams of a bridged Streamable HTTP session.
#[derive(Default)]
struct Bridge {
    /// Requests waiting for their answer, with the stream of the POST that carried them.
    pending: Vec<(serde_json::Value, UnboundedSender<Vec<u8>>)>,
    /// The client's GET stream, if open.
    listener: Option<UnboundedSender<Vec<u8>>>,
}

impl Bridge {
    /// Sends an event to where it belongs; `false` when nothing could take it.
    fn route(&mut self, data: &str, bytes: Vec<u8>) -> bool {
        if let Some(id) = bindify_core::mcp::session::response_id(data)
            && let Some(index) = self.pending.iter().position(|(pending, _)| *pending == id)
        {
            // Removing the entry drops its sender; the POST's stream ends once all of its
            // requests are answered.
            let (_, sender) = self.pending.remove(index);
            return sender.unbounded_send(bytes).is_ok();
        }
        if let Some((_, sender)) = self.pending.last() {
            return sender.unbounded_send(bytes).is_ok();
        }
        self.listener
            .as_ref()
            .is_some_and(|sender| sender.unbounded_send(bytes).is_ok())
    }
}

pub type Shared = Rc<RefCell<Option<Session>>>;

impl Session {
    pub fn new(id: &str, connection_id: String, hash: SecretHash, reconnect_url: String) -> Self {
        Session {
            connection_id,
            hash,
            reconnect_url,
            upstream: UpstreamState::Unknown,
            upstream_url: None,
            legacy_failures: 0,
            initialize: None,
            log: EventLog::new(id),
            sender: None,
            bridge: None,
        }
    }

    /// A session bridging a Streamable HTTP client.
    pub fn bridged(
        id: &str,
        connection_id: String,
        hash: SecretHash,
        reconnect_url: String,
    ) -> Self {
        let mut session = Session::new(id, connection_id, hash, reconnect_url);
        session.bridge = Some(Bridge::default());
        session
    }

    pub fn log(&self) -> &EventLog {
        &self.log
    }

    /// Numbers and keeps `event` without sending it (for the first event of a new stream).
    pub fn record(&mut self, event: SseEvent) -> Vec<u8> {
        self.log.record(event)
    }
}

/// Numbers `event`, keeps it for replay and sends it to the client if connected.
pub fn emit(shared: &Shared, event: SseEvent) {
    if let Some(session) = shared.borrow_mut().as_mut() {
        let data = event.data.clone();
        let bytes = session.log.record(event);
        if let Some(bridge) = session.bridge.as_mut() {
            bridge.route(&data, bytes);
        } else if let Some(sender) = &session.sender {
            // A disconnected client finds the event in the log when it resumes.
            let _ = sender.unbounded_send(bytes);
        }
    }
}

/// A bridged POST's response stream, which ends once every request in `ids` is answered.
pub fn open_request_stream(shared: &Shared, ids: &[serde_json::Value]) -> Result<Response> {
    let (sender, receiver) = unbounded::<Vec<u8>>();
    if let Some(bridge) = shared.borrow_mut().as_mut().and_then(|s| s.bridge.as_mut()) {
        for id in ids {
            bridge.pending.push((id.clone(), sender.clone()));
        }
    }
    drop(sender);
    event_stream_response(receiver)
}

/// A bridged client's GET stream, for messages not tied to a request.
pub fn open_listener(shared: &Shared) -> Result<Response> {
    let (sender, receiver) = unbounded::<Vec<u8>>();
    if let Some(bridge) = shared.borrow_mut().as_mut().and_then(|s| s.bridge.as_mut()) {
        bridge.listener = Some(sender.clone());
    }
    worker::wasm_bindgen_futures::spawn_local(keepalive(sender));
    event_stream_response(receiver)
}

fn event_stream_response(
    receiver: futures_channel::mpsc::UnboundedReceiver<Vec<u8>>,
) -> Result<Response> {
    let headers = Headers::new();
    headers.set(header::CONTENT_TYPE, "text/event-stream")?;
    headers.set(header::CACHE_CONTROL, "no-store")?;
    headers.set(header::X_ACCEL_BUFFERING, "no")?;
    crate::relay::guard(&headers)?;
    Ok(Response::from_stream(receiver.map(Ok::<Vec<u8>, worker::Error>))?.with_headers(headers))
}

/// Ends the session: its client streams close, and its object forgets it, so a resumption or a
/// later message gets 404 and the client starts a new session.
pub fn end(shared: &Shared) {
    shared.replace(None);
}

/// Whether the client's stream is still open.
pub fn client_connected(shared: &Shared) -> bool {
    shared
        .borrow()
        .as_ref()
        .and_then(|s| s.sender.as_ref())
        .is_some_and(|sender| !sender.is_closed())
}

/// Opens a new stream to the client, starting with `first` (already serialized events), and
/// keeps it alive with comments. Replaces any previous stream of the session.
pub fn open_stream(shared: &Shared, first: Vec<Vec<u8>>) -> Result<Response> {
    let (sender, receiver) = unbounded::<Vec<u8>>();
    for bytes in first {
        let _ = sender.unbounded_send(bytes);
    }
    let previous = shared
        .borrow_mut()
        .as_mut()
        .and_then(|session| session.sender.replace(sender.clone()));
    if let Some(old) = previous {
        old.close_channel();
    }
    worker::wasm_bindgen_futures::spawn_local(keepalive(sender));
    event_stream_response(receiver)
}

async fn keepalive(sender: UnboundedSender<Vec<u8>>) {
    loop {
        Delay::from(Duration::from_millis(KEEPALIVE_MS)).await;
        if sender.is_closed() || sender.unbounded_send(sse::comment("keepalive")).is_err() {
            return;
        }
    }
}
