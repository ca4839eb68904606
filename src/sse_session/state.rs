//! One legacy session's in-memory state: the client's stream (a channel whose receiving end is
//! the response body), the numbered event log, and what Bindify knows of the upstream.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use bindify_core::secret::SecretHash;
use bindify_core::session::{EventLog, KEEPALIVE_MS};
use bindify_core::sse::{self, SseEvent};
use futures_channel::mpsc::{UnboundedSender, unbounded};
use futures_util::StreamExt;
use worker::{Delay, Headers, Response, Result};

/// How Bindify speaks to the upstream for this session.
#[derive(Debug, Clone)]
pub enum Upstream {
    /// Not known until the client's first message.
    Unknown,
    /// Streamable HTTP (revision 2025-03-26 and later): POSTs, with the session id the
    /// upstream assigned, and an optional GET stream for server-initiated messages.
    Streamable {
        session_id: Option<String>,
        version: Option<String>,
        listening: bool,
    },
    /// HTTP+SSE (2024-11-05): a stream from the upstream, and the URL its `endpoint` event named.
    Legacy { post_url: String },
}

/// Everything a session holds.
pub struct Session {
    pub connection_id: String,
    pub hash: SecretHash,
    /// `/s/<secret>/reconnect`, for error messages.
    pub reconnect_url: String,
    pub upstream: Upstream,
    /// The client's `initialize` request, replayed when the upstream loses the session.
    pub initialize: Option<Vec<u8>>,
    log: EventLog,
    sender: Option<UnboundedSender<Vec<u8>>>,
}

pub type Shared = Rc<RefCell<Option<Session>>>;

impl Session {
    pub fn new(id: &str, connection_id: String, hash: SecretHash, reconnect_url: String) -> Self {
        Session {
            connection_id,
            hash,
            reconnect_url,
            upstream: Upstream::Unknown,
            initialize: None,
            log: EventLog::new(id),
            sender: None,
        }
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
        let bytes = session.log.record(event);
        if let Some(sender) = &session.sender {
            // A disconnected client finds the event in the log when it resumes.
            let _ = sender.unbounded_send(bytes);
        }
    }
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
    let headers = Headers::new();
    headers.set("content-type", "text/event-stream")?;
    headers.set("cache-control", "no-store")?;
    headers.set("x-accel-buffering", "no")?;
    Ok(Response::from_stream(receiver.map(Ok::<Vec<u8>, worker::Error>))?.with_headers(headers))
}

async fn keepalive(sender: UnboundedSender<Vec<u8>>) {
    loop {
        Delay::from(Duration::from_millis(KEEPALIVE_MS)).await;
        if sender.is_closed() || sender.unbounded_send(sse::comment("keepalive")).is_err() {
            return;
        }
    }
}
