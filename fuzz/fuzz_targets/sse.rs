//! SSE framing (core/src/mcp/sse.rs): an upstream's event stream, parsed incrementally.
//!
//! Properties, beyond not panicking:
//! - chunk boundaries do not matter: the stream fed whole, cut in two (at every point of a
//!   short stream, else at a chosen point), cut at eight chosen points, and fed one byte at a
//!   time gives the same items, last event ID and reconnection time, with the default limits
//!   and with small ones (the points and small limits come from a hash of the input);
//! - limits hold: no event's data reaches the event limit, no comment or field exceeds the
//!   line limit (counted in raw bytes; decoding may turn one invalid byte into U+FFFD);
//! - no value can carry framing: ids and types hold no CR or LF, data no CR, ids no NUL;
//! - parsing the serialization of what was parsed gives it back (comments and events; an
//!   `Overflow` marks a dropped event and is not serialized).
#![no_main]

use bindify_core::mcp::sse::{SseEvent, SseItem, SseParser, comment};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, PartialEq)]
struct Parsed {
    items: Vec<SseItem>,
    last_event_id: Option<String>,
    reconnection_time: Option<u64>,
}

fn parser(limits: Option<(usize, usize)>) -> SseParser {
    match limits {
        Some((line, event)) => SseParser::with_limits(line, event),
        None => SseParser::new(),
    }
}

fn parse_chunks<'a>(
    limits: Option<(usize, usize)>,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Parsed {
    let mut parser = parser(limits);
    let mut items = Vec::new();
    for chunk in chunks {
        items.extend(parser.push(chunk));
    }
    items.extend(parser.finish());
    Parsed {
        items,
        last_event_id: parser.last_event_id().map(str::to_owned),
        reconnection_time: parser.reconnection_time(),
    }
}

fn serialize(items: &[SseItem]) -> Vec<u8> {
    let mut out = Vec::new();
    for item in items {
        match item {
            SseItem::Event(event) => out.extend(event.to_bytes()),
            SseItem::Comment(text) => out.extend(comment(text)),
            SseItem::Overflow => {}
        }
    }
    out
}

fn check_event(event: &SseEvent, limits: Option<(usize, usize)>) {
    if let Some(id) = &event.id {
        assert!(!id.contains(['\r', '\n', '\0']), "id {id:?}");
    }
    if let Some(kind) = &event.event {
        assert!(!kind.is_empty(), "an empty type means the default");
        assert!(!kind.contains(['\r', '\n']), "type {kind:?}");
    }
    assert!(!event.data.contains('\r'), "data {:?}", event.data);
    if let Some((line, max_event)) = limits {
        assert!(event.data.len() < max_event, "data over the event limit");
        // Invalid UTF-8 becomes U+FFFD (three bytes for one), so decoded text may be up to
        // three times the raw line.
        for field in [&event.id, &event.event].into_iter().flatten() {
            assert!(field.len() <= 3 * line, "field over the line limit");
        }
    }
}

/// FNV-1a of the input: the fuzzer controls it through the input, so the cut points and
/// small limits below are its choice too, while seed files stay plain SSE streams.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn check_chunking(stream: &[u8], limits: Option<(usize, usize)>, hash: u64) -> Parsed {
    let whole = parse_chunks(limits, [stream]);

    // Cut in two at every point of a short stream, else at one chosen point.
    let points: Vec<usize> = if stream.len() <= 64 {
        (0..=stream.len()).collect()
    } else {
        vec![(hash % (stream.len() as u64 + 1)) as usize]
    };
    for point in points {
        let (a, b) = stream.split_at(point);
        assert_eq!(whole, parse_chunks(limits, [a, b]), "cut at {point}");
    }

    // Several chosen cuts.
    let mut cuts: Vec<usize> = (0..8)
        .map(|i| ((hash >> (i * 8)) % (stream.len() as u64 + 1)) as usize)
        .collect();
    cuts.sort_unstable();
    let mut chunks = Vec::new();
    let mut start = 0;
    for cut in cuts {
        chunks.push(&stream[start..cut]);
        start = cut;
    }
    chunks.push(&stream[start..]);
    assert_eq!(whole, parse_chunks(limits, chunks), "several cuts");

    // One byte at a time.
    assert_eq!(
        whole,
        parse_chunks(limits, stream.chunks(1)),
        "byte by byte"
    );
    whole
}

fuzz_target!(|stream: &[u8]| {
    let hash = fnv(stream);
    let small = (
        1 + (hash >> 16) as usize % 48,
        1 + (hash >> 32) as usize % 96,
    );
    for limits in [None, Some(small)] {
        check(stream, limits, hash);
    }
});

fn check(stream: &[u8], limits: Option<(usize, usize)>, hash: u64) {
    let whole = check_chunking(stream, limits, hash);

    for item in &whole.items {
        match item {
            SseItem::Event(event) => check_event(event, limits),
            SseItem::Comment(text) => {
                assert!(!text.contains(['\r', '\n']), "comment {text:?}");
                if let Some((line, _)) = limits {
                    assert!(text.len() <= 3 * line, "comment over the line limit");
                }
            }
            SseItem::Overflow => assert!(limits.is_some() || stream.len() > 16 << 20),
        }
    }
    if let Some(id) = &whole.last_event_id {
        assert!(!id.is_empty() && !id.contains(['\r', '\n', '\0']));
    }

    // Parsing the serialization gives the same events and comments back. The default limits
    // apply: writing `name: value` may add a byte to a line that fitted a small limit.
    let kept: Vec<SseItem> = whole
        .items
        .iter()
        .filter(|i| !matches!(i, SseItem::Overflow))
        .cloned()
        .collect();
    let again = parse_chunks(None, [serialize(&kept).as_slice()]);
    assert_eq!(kept, again.items, "serialization did not round-trip");
}
