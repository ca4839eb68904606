//! SSE serialization (core/src/mcp/sse.rs `SseEvent::to_bytes`, `comment`): whatever a value holds,
//! the written stream parses back to exactly that event (or those comments), so no upstream
//! value relayed by Bindify can inject a field or an event.
#![no_main]

use bindify_core::mcp::sse::{SseEvent, SseItem, SseParser, comment};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    id: Option<String>,
    event: Option<String>,
    retry: Option<u64>,
    comment: String,
    data: String,
}

fn parse(bytes: &[u8]) -> (Vec<SseItem>, Option<String>) {
    let mut parser = SseParser::new();
    let mut items = parser.push(bytes);
    items.extend(parser.finish());
    (items, parser.last_event_id().map(str::to_owned))
}

/// What the parser must see: CR and LF removed from the single-line fields, an id with NUL
/// ignored, an empty type meaning the default, and data lines joined with LF.
fn expected(event: &SseEvent) -> SseEvent {
    let single = |v: &str| v.replace(['\r', '\n'], "");
    SseEvent {
        id: event
            .id
            .as_deref()
            .map(single)
            .filter(|id| !id.contains('\0')),
        event: event.event.as_deref().map(single).filter(|e| !e.is_empty()),
        data: event.data.replace("\r\n", "\n").replace('\r', "\n"),
        retry: event.retry,
    }
}

fuzz_target!(|input: Input| {
    let event = SseEvent {
        id: input.id,
        event: input.event,
        data: input.data,
        retry: input.retry,
    };
    let want = expected(&event);
    let (items, last_id) = parse(&event.to_bytes());
    assert_eq!(items, vec![SseItem::Event(want.clone())]);
    assert_eq!(last_id, want.id.clone().filter(|id| !id.is_empty()));

    // A comment is only ever comments, one per line of its text, and dispatches nothing.
    let (items, last_id) = parse(&comment(&input.comment));
    let lines: Vec<SseItem> = input
        .comment
        .replace("\r\n", "\n")
        .split(['\r', '\n'])
        .map(|l| SseItem::Comment(l.to_owned()))
        .collect();
    assert_eq!(items, lines);
    assert_eq!(last_id, None);

    // An event after a comment is still the same event.
    let mut both = comment(&input.comment);
    both.extend(event.to_bytes());
    let (items, _) = parse(&both);
    assert_eq!(items.last(), Some(&SseItem::Event(want)));
});
