//! The legacy SSE session (core/src/mcp/session.rs): a reconnecting client's `Last-Event-ID`, and
//! the JSON bodies an upstream answers that are turned into SSE messages.
//!
//! Properties: an accepted event id writes back to the same text; replaying after any id a
//! client sends gives exactly the kept events after it, or a gap, as a model of the log
//! computes it; JSON bodies split into messages that are each JSON.
#![no_main]

use bindify_core::mcp::session::{
    EventLog, REPLAY_EVENTS, Replay, is_initialize, messages_of_json_body, negotiated_version,
    parse_event_id, response_id,
};
use bindify_core::mcp::sse::{SseEvent, SseItem, SseParser};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    /// How many events the session sent before the reconnect.
    sent: u16,
    last_event_id: String,
    body: Vec<u8>,
}

/// The sequence number in a replayed event's id.
fn seq_of(bytes: &[u8]) -> u64 {
    let mut parser = SseParser::new();
    let items = parser.push(bytes);
    let Some(SseItem::Event(event)) = items.first() else {
        panic!("a replayed event parses");
    };
    let id = event.id.as_deref().expect("a replayed event has an id");
    parse_event_id(id).expect("its id parses").1
}

fuzz_target!(|input: Input| {
    if let Some((session, seen)) = parse_event_id(&input.last_event_id) {
        assert!(!session.is_empty() && session.len() <= 64);
        assert!(
            session
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(
            parse_event_id(&format!("{session}.{seen}")),
            Some((session, seen))
        );

        let sent = u64::from(input.sent % 600);
        let mut log = EventLog::new(session);
        for i in 0..sent {
            log.record(SseEvent::message(i.to_string()));
        }
        let first_kept = sent.saturating_sub(REPLAY_EVENTS as u64) + 1;
        let expected: Option<Vec<u64>> = if seen >= sent {
            Some(Vec::new())
        } else if u128::from(first_kept) <= u128::from(seen) + 1 {
            Some((seen + 1..=sent).collect())
        } else {
            None
        };
        match log.replay_after(seen) {
            Replay::Events(events) => {
                let seqs: Vec<u64> = events.iter().map(|e| seq_of(e)).collect();
                assert_eq!(Some(seqs), expected);
            }
            Replay::Gap => assert_eq!(expected, None),
        }
    }

    if let Some(messages) = messages_of_json_body(&input.body) {
        for message in &messages {
            assert!(serde_json::from_str::<serde_json::Value>(message).is_ok());
            if let Some(id) = response_id(message) {
                assert!(!id.is_null());
            }
            if let Some(version) = negotiated_version(message) {
                assert!(version.len() <= 32);
            }
        }
    }
    let _ = is_initialize(&input.body);
});
