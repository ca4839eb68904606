//! The runtime-free parts of a legacy HTTP+SSE session that Bindify holds for a client: the
//! log of events sent on its stream, with ids that name the session so a reconnecting client's
//! `Last-Event-ID` leads back to it, and the rules for turning upstream answers into messages.

use std::collections::VecDeque;

use serde_json::Value;

use crate::mcp::sse::SseEvent;

/// Events kept for replay after a reconnect.
pub const REPLAY_EVENTS: usize = 512;

/// Bytes of events kept for replay after a reconnect. A session's object holds one client
/// stream in 128 MB of isolate memory, next to an SSE parser that may buffer one upstream
/// event of up to 16 MiB ([`crate::mcp::sse::MAX_EVENT_BYTES`]); 8 MiB keeps the log to a small
/// share of that while holding hundreds of ordinary tool results. An event larger than the
/// budget is sent but not kept: a client that misses it gets a gap, and starts over.
pub const REPLAY_BYTES: usize = 8 << 20;

/// Interval between keepalive comments on an idle stream: below the 30-100 s after which
/// proxies and the edge close quiet connections.
pub const KEEPALIVE_MS: u64 = 20_000;

/// Separates the session id from the sequence number in event ids (`<session>.<seq>`).
const ID_SEPARATOR: char = '.';

/// Splits a `Last-Event-ID` into the session it names and the last sequence number seen.
pub fn parse_event_id(id: &str) -> Option<(&str, u64)> {
    let (session, seq) = id.trim().rsplit_once(ID_SEPARATOR)?;
    let valid_session = !session.is_empty()
        && session.len() <= 64
        && session
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !valid_session {
        return None;
    }
    Some((session, seq.parse().ok()?))
}

/// The events sent on one session's stream, numbered.
#[derive(Debug)]
pub struct EventLog {
    session: String,
    next_seq: u64,
    kept: VecDeque<(u64, Vec<u8>)>,
    /// Sum of the lengths in `kept`.
    kept_bytes: usize,
}

/// What replaying after a `Last-Event-ID` gives.
#[derive(Debug, PartialEq, Eq)]
pub enum Replay {
    /// Every event after the one seen, serialized, in order.
    Events(Vec<Vec<u8>>),
    /// Some events after the one seen are no longer kept: the client must start over.
    Gap,
}

impl EventLog {
    pub fn new(session: &str) -> Self {
        EventLog {
            session: session.to_owned(),
            next_seq: 1,
            kept: VecDeque::new(),
            kept_bytes: 0,
        }
    }

    /// Numbers `event`, keeps it for replay within [`REPLAY_EVENTS`] and [`REPLAY_BYTES`]
    /// (dropping the oldest first), and returns its bytes for the stream.
    pub fn record(&mut self, mut event: SseEvent) -> Vec<u8> {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.saturating_add(1);
        event.id = Some(format!("{}{ID_SEPARATOR}{seq}", self.session));
        let bytes = event.to_bytes();
        if bytes.len() > REPLAY_BYTES {
            // Too large to keep: everything before it is unreachable for replay too.
            self.kept.clear();
            self.kept_bytes = 0;
            return bytes;
        }
        self.kept_bytes = self.kept_bytes.saturating_add(bytes.len());
        self.kept.push_back((seq, bytes.clone()));
        while self.kept.len() > REPLAY_EVENTS || self.kept_bytes > REPLAY_BYTES {
            let Some((_, dropped)) = self.kept.pop_front() else {
                break;
            };
            self.kept_bytes = self.kept_bytes.saturating_sub(dropped.len());
        }
        bytes
    }

    /// Bytes currently kept for replay.
    pub fn kept_bytes(&self) -> usize {
        self.kept_bytes
    }

    /// The events after `seen`, a number the client sent (so any `u64`).
    pub fn replay_after(&self, seen: u64) -> Replay {
        let next = seen.saturating_add(1);
        if next >= self.next_seq {
            return Replay::Events(Vec::new());
        }
        match self.kept.front() {
            Some((first, _)) if *first <= next => Replay::Events(
                self.kept
                    .iter()
                    .filter(|(seq, _)| *seq > seen)
                    .map(|(_, bytes)| bytes.clone())
                    .collect(),
            ),
            _ => Replay::Gap,
        }
    }
}

/// The JSON-RPC messages in a JSON response body (one message or a batch), re-serialized one
/// per SSE `message` event. `None` when the body is not JSON.
pub fn messages_of_json_body(body: &[u8]) -> Option<Vec<String>> {
    match crate::json::parse(body).ok()? {
        Value::Array(items) => Some(items.iter().map(Value::to_string).collect()),
        other => Some(vec![other.to_string()]),
    }
}

/// The `protocolVersion` an `initialize` result names, to send as `MCP-Protocol-Version`.
pub fn negotiated_version(message: &str) -> Option<String> {
    let value: Value = crate::json::parse(message.as_bytes()).ok()?;
    value
        .get("result")?
        .get("protocolVersion")?
        .as_str()
        .filter(|v| v.len() <= 32)
        .map(str::to_owned)
}

/// The id of a JSON-RPC response (a message with `result` or `error` and a non-null id), used
/// to route it to the request that is waiting for it.
pub fn response_id(message: &str) -> Option<Value> {
    let value: Value = crate::json::parse(message.as_bytes()).ok()?;
    let is_response = value.get("result").is_some() || value.get("error").is_some();
    let id = value.get("id")?;
    (is_response && !id.is_null()).then(|| id.clone())
}

/// Prefix of the `Mcp-Session-Id` values Bindify itself assigns when it bridges a Streamable
/// HTTP client to an upstream that only speaks HTTP+SSE.
pub const BRIDGE_SESSION_PREFIX: &str = "bindify-bridge-";

/// Whether a POST body is an `initialize` request.
pub fn is_initialize(body: &[u8]) -> bool {
    crate::json::parse(body)
        .ok()
        .and_then(|v| {
            v.get("method")
                .and_then(Value::as_str)
                .map(|m| m == "initialize")
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_name_the_session_and_round_trip() {
        let mut log = EventLog::new("s1");
        let bytes = log.record(SseEvent::message("{}"));
        let text = String::from_utf8(bytes).expect("utf8");
        assert!(
            text.starts_with("id: s1.1\n") || text.starts_with("id:s1.1\n"),
            "{text}"
        );
        assert_eq!(parse_event_id("s1.1"), Some(("s1", 1)));
        assert_eq!(
            parse_event_id("a.b.7"),
            None,
            "dots are not session characters"
        );
        assert_eq!(parse_event_id("nodot"), None);
        assert_eq!(parse_event_id(".5"), None);
        assert_eq!(parse_event_id("s1.x"), None);
    }

    #[test]
    fn replays_what_the_client_missed_or_reports_a_gap() {
        let mut log = EventLog::new("s");
        for i in 0..5 {
            log.record(SseEvent::message(format!("{i}")));
        }
        match log.replay_after(3) {
            Replay::Events(events) => assert_eq!(events.len(), 2),
            Replay::Gap => panic!("no gap expected"),
        }
        assert_eq!(log.replay_after(5), Replay::Events(vec![]));
        assert_eq!(
            log.replay_after(0),
            Replay::Events(log.kept.iter().map(|(_, b)| b.clone()).collect())
        );
        for i in 0..REPLAY_EVENTS {
            log.record(SseEvent::message(format!("{i}")));
        }
        assert_eq!(log.replay_after(1), Replay::Gap);
    }

    #[test]
    fn client_counters_at_the_end_of_u64_do_not_overflow() {
        let mut log = EventLog::new("s");
        log.record(SseEvent::message("a"));
        assert_eq!(log.replay_after(u64::MAX), Replay::Events(vec![]));
        assert_eq!(log.replay_after(u64::MAX - 1), Replay::Events(vec![]));
        assert_eq!(
            parse_event_id("s.18446744073709551615"),
            Some(("s", u64::MAX))
        );
        assert_eq!(parse_event_id("s.18446744073709551616"), None);
    }

    #[test]
    fn the_log_keeps_within_its_byte_budget() {
        let mut log = EventLog::new("s");
        let big = "x".repeat(REPLAY_BYTES / 4);
        for _ in 0..6 {
            log.record(SseEvent::message(big.clone()));
        }
        assert!(log.kept_bytes() <= REPLAY_BYTES, "{}", log.kept_bytes());
        assert_eq!(log.kept.len(), 3);
        assert_eq!(
            log.kept_bytes(),
            log.kept.iter().map(|(_, b)| b.len()).sum::<usize>()
        );
        // The three latest are replayable; anything older is a gap.
        match log.replay_after(3) {
            Replay::Events(events) => assert_eq!(events.len(), 3),
            Replay::Gap => panic!("the latest three are kept"),
        }
        assert_eq!(log.replay_after(2), Replay::Gap);

        // One event over the whole budget is sent, not kept, and cuts off what came before.
        let huge = "y".repeat(REPLAY_BYTES + 1);
        let sent = log.record(SseEvent::message(huge));
        assert!(sent.len() > REPLAY_BYTES);
        assert_eq!(log.kept_bytes(), 0);
        assert_eq!(log.replay_after(6), Replay::Gap);
        assert_eq!(log.replay_after(7), Replay::Events(vec![]));
        log.record(SseEvent::message("after"));
        match log.replay_after(7) {
            Replay::Events(events) => assert_eq!(events.len(), 1),
            Replay::Gap => panic!("the event after the huge one is kept"),
        }
    }

    #[test]
    fn finds_response_ids() {
        assert_eq!(
            response_id(r#"{"jsonrpc":"2.0","id":3,"result":{}}"#),
            Some(Value::from(3))
        );
        assert_eq!(
            response_id(r#"{"jsonrpc":"2.0","id":"a","error":{"code":1,"message":"x"}}"#),
            Some(Value::from("a"))
        );
        assert_eq!(
            response_id(r#"{"jsonrpc":"2.0","id":3,"method":"elicitation/create"}"#),
            None
        );
        assert_eq!(
            response_id(r#"{"jsonrpc":"2.0","method":"notifications/progress"}"#),
            None
        );
        assert_eq!(
            response_id(r#"{"jsonrpc":"2.0","id":null,"error":{}}"#),
            None
        );
    }

    #[test]
    fn splits_json_bodies_and_reads_the_negotiated_version() {
        assert_eq!(
            messages_of_json_body(br#"[{"a":1},{"b":2}]"#).map(|m| m.len()),
            Some(2)
        );
        assert_eq!(
            messages_of_json_body(br#"{"a":1}"#),
            Some(vec![r#"{"a":1}"#.to_owned()])
        );
        assert_eq!(messages_of_json_body(b"nope"), None);
        let init = r#"{"jsonrpc":"2.0","id":0,"result":{"protocolVersion":"2025-06-18","capabilities":{}}}"#;
        assert_eq!(negotiated_version(init).as_deref(), Some("2025-06-18"));
        assert_eq!(negotiated_version(r#"{"result":{}}"#), None);
        assert!(is_initialize(
            br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#
        ));
        assert!(!is_initialize(
            br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#
        ));
    }
}
