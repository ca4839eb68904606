use super::*;

fn parse_all(input: &[u8]) -> Vec<SseItem> {
    let mut p = SseParser::new();
    let mut items = p.push(input);
    items.extend(p.finish());
    items
}

fn events(items: &[SseItem]) -> Vec<SseEvent> {
    items
        .iter()
        .filter_map(|i| match i {
            SseItem::Event(e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

fn ev(data: &str) -> SseEvent {
    SseEvent::message(data)
}

const STREAM: &[u8] = "\u{FEFF}: hello\r\n\
event: endpoint\r\n\
data: /messages?sessionId=1\r\n\
\r\n\
id: 7\n\
data: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"t\":\"\u{e9}\u{1F600}\"}}\n\
\n\
data:first\rdata: second\r\rretry: 1500\n\
id\n\
data\n\
\n\
: keepalive\n\
\n\
id: only-id\n\
\n\
data: tail-without-blank-line\n"
    .as_bytes();

fn stream_expected() -> Vec<SseItem> {
    vec![
        SseItem::Comment("hello".into()),
        SseItem::Event(SseEvent {
            event: Some("endpoint".into()),
            data: "/messages?sessionId=1".into(),
            ..Default::default()
        }),
        SseItem::Event(SseEvent {
            id: Some("7".into()),
            data: "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"t\":\"\u{e9}\u{1F600}\"}}".into(),
            ..Default::default()
        }),
        SseItem::Event(SseEvent {
            data: "first\nsecond".into(),
            ..Default::default()
        }),
        SseItem::Event(SseEvent {
            id: Some(String::new()),
            data: String::new(),
            retry: Some(1500),
            ..Default::default()
        }),
        SseItem::Comment("keepalive".into()),
    ]
}

#[test]
fn parses_a_mixed_stream() {
    let mut p = SseParser::new();
    let mut items = p.push(STREAM);
    assert_eq!(p.last_event_id(), Some("only-id"));
    assert_eq!(p.reconnection_time(), Some(1500));
    items.extend(p.finish());
    assert_eq!(items, stream_expected());
    // The unterminated last event was discarded, and the last event ID survives `finish`.
    assert_eq!(p.last_event_id(), Some("only-id"));
}

#[test]
fn every_split_position_gives_the_same_items() {
    let expected = stream_expected();
    for cut in 0..=STREAM.len() {
        let (a, b) = STREAM.split_at(cut);
        let mut p = SseParser::new();
        let mut items = p.push(a);
        items.extend(p.push(b));
        items.extend(p.finish());
        assert_eq!(items, expected, "split at {cut}");
    }
    for cut1 in 0..=STREAM.len() {
        for cut2 in cut1..=STREAM.len() {
            let mut p = SseParser::new();
            let mut items = p.push(&STREAM[..cut1]);
            items.extend(p.push(&STREAM[cut1..cut2]));
            items.extend(p.push(&STREAM[cut2..]));
            items.extend(p.finish());
            assert_eq!(items, expected, "split at {cut1} and {cut2}");
        }
    }
}

#[test]
fn byte_at_a_time() {
    let mut p = SseParser::new();
    let mut items = Vec::new();
    for b in STREAM {
        items.extend(p.push(std::slice::from_ref(b)));
    }
    items.extend(p.finish());
    assert_eq!(items, stream_expected());
}

#[test]
fn line_endings_are_equivalent() {
    for eol in ["\n", "\r\n", "\r"] {
        let text = format!("data: a{eol}data: b{eol}{eol}event: x{eol}data: c{eol}{eol}");
        assert_eq!(
            events(&parse_all(text.as_bytes())),
            vec![
                ev("a\nb"),
                SseEvent {
                    event: Some("x".into()),
                    ..ev("c")
                }
            ],
            "eol {eol:?}"
        );
    }
}

#[test]
fn cr_then_lf_in_the_next_chunk_is_one_line_end() {
    let mut p = SseParser::new();
    let mut items = p.push(b"data: a\r");
    items.extend(p.push(b"\ndata: b\r"));
    items.extend(p.push(b"\n\r"));
    items.extend(p.push(b"\n"));
    assert_eq!(items, vec![SseItem::Event(ev("a\nb"))]);
}

#[test]
fn cr_cr_is_two_line_ends() {
    assert_eq!(
        parse_all(b"data: a\r\rdata: b\r\n\r\n"),
        vec![SseItem::Event(ev("a")), SseItem::Event(ev("b"))]
    );
}

#[test]
fn bom_only_at_stream_start() {
    assert_eq!(
        parse_all(b"\xEF\xBB\xBFdata: x\n\n"),
        vec![SseItem::Event(ev("x"))]
    );
    // A BOM split over chunks.
    let mut p = SseParser::new();
    let mut items = p.push(b"\xEF");
    items.extend(p.push(b"\xBB"));
    items.extend(p.push(b"\xBFdata: x\n\n"));
    assert_eq!(items, vec![SseItem::Event(ev("x"))]);
    // A second BOM is part of the field name, so the line is an unknown field.
    assert_eq!(parse_all(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\n"), vec![]);
    // A BOM later in the stream is not stripped either.
    assert_eq!(
        parse_all(b"data: a\n\n\xEF\xBB\xBFdata: b\n\n"),
        vec![SseItem::Event(ev("a"))]
    );
}

#[test]
fn bom_is_stripped_again_after_finish() {
    let mut p = SseParser::new();
    assert_eq!(p.push(b"data: a\n\n"), vec![SseItem::Event(ev("a"))]);
    assert!(p.finish().is_empty());
    assert_eq!(
        p.push(b"\xEF\xBB\xBFdata: b\n\n"),
        vec![SseItem::Event(ev("b"))]
    );
}

#[test]
fn field_value_space_handling() {
    assert_eq!(
        events(&parse_all(
            b"data:a\n\ndata: a\n\ndata:  a\n\ndata\n\ndata:\n\n"
        )),
        vec![ev("a"), ev("a"), ev(" a"), ev(""), ev("")]
    );
}

#[test]
fn multiline_data_and_empty_lines_in_data() {
    assert_eq!(
        events(&parse_all(b"data: a\ndata:\ndata: b\ndata:\n\n")),
        vec![ev("a\n\nb\n")]
    );
}

#[test]
fn unknown_fields_and_bad_values_are_ignored() {
    let items = parse_all(
        b"foo: bar\nDATA: x\nretry: 12a\nretry: -5\nretry:\nretry: 99999999999999999999999\n\
          id: a\0b\ndata: ok\n\n",
    );
    assert_eq!(items, vec![SseItem::Event(ev("ok"))]);
    let mut p = SseParser::new();
    p.push(b"retry: 12a\nretry: 3000\nretry: x\ndata: y\n\n");
    assert_eq!(p.reconnection_time(), Some(3000));
}

#[test]
fn id_with_nul_keeps_the_previous_id() {
    let mut p = SseParser::new();
    p.push(b"id: 1\ndata: a\n\nid: 2\0\ndata: b\n\n");
    assert_eq!(p.last_event_id(), Some("1"));
}

#[test]
fn event_type_last_wins_and_empty_means_message() {
    assert_eq!(
        events(&parse_all(
            b"event: a\nevent: b\ndata: 1\n\nevent:\ndata: 2\n\ndata: 3\n\n"
        )),
        vec![
            SseEvent {
                event: Some("b".into()),
                ..ev("1")
            },
            ev("2"),
            ev("3"),
        ]
    );
}

#[test]
fn block_without_data_dispatches_nothing_but_sets_the_id() {
    let mut p = SseParser::new();
    assert_eq!(p.push(b"id: 5\n\n"), vec![]);
    assert_eq!(p.last_event_id(), Some("5"));
    // An event type alone dispatches nothing either, and does not leak into the next event.
    assert_eq!(
        p.push(b"event: x\n\ndata: y\n\n"),
        vec![SseItem::Event(ev("y"))]
    );
    assert_eq!(p.last_event_id(), Some("5"));
    // An empty id resets it.
    assert_eq!(p.push(b"id\n\n"), vec![]);
    assert_eq!(p.last_event_id(), None);
}

#[test]
fn id_only_priming_event_with_empty_data_is_dispatched() {
    // MCP 2025-11-25 servers prime resumption with an id and an empty data line.
    let mut p = SseParser::new();
    assert_eq!(
        p.push(b"id: prime-1\ndata:\n\n"),
        vec![SseItem::Event(SseEvent {
            id: Some("prime-1".into()),
            ..ev("")
        })]
    );
    assert_eq!(p.last_event_id(), Some("prime-1"));
}

#[test]
fn id_is_per_block_but_last_event_id_persists() {
    let mut p = SseParser::new();
    let items = p.push(b"id: 1\ndata: a\n\ndata: b\n\n");
    assert_eq!(
        items,
        vec![
            SseItem::Event(SseEvent {
                id: Some("1".into()),
                ..ev("a")
            }),
            SseItem::Event(ev("b")),
        ]
    );
    assert_eq!(p.last_event_id(), Some("1"));
}

#[test]
fn last_event_id_moves_only_at_the_blank_line() {
    let mut p = SseParser::new();
    p.push(b"id: 1\ndata: a\n\nid: 2\ndata: b\n");
    assert_eq!(p.last_event_id(), Some("1"));
    p.finish();
    assert_eq!(p.last_event_id(), Some("1"));
}

#[test]
fn comments() {
    assert_eq!(
        parse_all(b":\n: keepalive\n:  two spaces\n:no-space\n"),
        vec![
            SseItem::Comment(String::new()),
            SseItem::Comment("keepalive".into()),
            SseItem::Comment(" two spaces".into()),
            SseItem::Comment("no-space".into()),
        ]
    );
    // A comment inside an event does not end it.
    assert_eq!(
        parse_all(b"data: a\n: ping\ndata: b\n\n"),
        vec![SseItem::Comment("ping".into()), SseItem::Event(ev("a\nb"))]
    );
}

#[test]
fn unterminated_trailing_comment_is_reported_by_finish() {
    let mut p = SseParser::new();
    assert_eq!(p.push(b": bye"), vec![]);
    assert_eq!(p.finish(), vec![SseItem::Comment("bye".into())]);
}

#[test]
fn invalid_utf8_becomes_replacement_characters() {
    assert_eq!(
        parse_all(b"data: a\xFFb\xE2\n\n"),
        vec![SseItem::Event(ev("a\u{FFFD}b\u{FFFD}"))]
    );
    // A UTF-8 sequence split across chunks decodes whole.
    let bytes = "data: \u{1F600}\n\n".as_bytes();
    let mut p = SseParser::new();
    let mut items = p.push(&bytes[..8]);
    items.extend(p.push(&bytes[8..]));
    assert_eq!(items, vec![SseItem::Event(ev("\u{1F600}"))]);
}

#[test]
fn line_overflow_drops_that_event_and_resumes() {
    let mut p = SseParser::with_limits(16, 64);
    let mut items = p.push(b"id: 9\ndata: ok\n\nid: 10\nevent: big\ndata: 0123456789");
    items.extend(p.push(b"0123456789"));
    items.extend(p.push(b"more\ndata: after-overflow\n: c\n\ndata: next\n\n"));
    assert_eq!(
        items,
        vec![
            SseItem::Event(SseEvent {
                id: Some("9".into()),
                ..ev("ok")
            }),
            SseItem::Overflow,
            SseItem::Event(ev("next")),
        ]
    );
    // The dropped event's id did not become the last event ID.
    assert_eq!(p.last_event_id(), Some("9"));
}

#[test]
fn line_at_the_limit_is_accepted() {
    let mut p = SseParser::with_limits(10, 64);
    assert_eq!(
        p.push(b"data: 1234\n\ndata: 12345\n\n"),
        vec![SseItem::Event(ev("1234")), SseItem::Overflow]
    );
}

#[test]
fn event_overflow_drops_that_event_and_resumes() {
    let mut p = SseParser::with_limits(64, 8);
    let items = p.push(b"data: 1234\ndata: 5678\ndata: x\n\ndata: 1234567\n\n");
    assert_eq!(
        items,
        vec![SseItem::Overflow, SseItem::Event(ev("1234567"))]
    );
}

#[test]
fn overflow_ending_at_stream_end_recovers_after_finish() {
    let mut p = SseParser::with_limits(8, 8);
    assert_eq!(p.push(b"data: 0123456789"), vec![SseItem::Overflow]);
    assert!(p.finish().is_empty());
    assert_eq!(p.push(b"data: a\n\n"), vec![SseItem::Event(ev("a"))]);
}

#[test]
fn default_limits_are_enforced() {
    let mut p = SseParser::new();
    let big = vec![b'a'; MAX_LINE_BYTES];
    let mut items = p.push(b"data:");
    items.extend(p.push(&big));
    items.extend(p.push(b"\n\ndata: small\n\n"));
    assert_eq!(items, vec![SseItem::Overflow, SseItem::Event(ev("small"))]);
}

#[test]
fn serializes_fields_and_data_lines() {
    let e = SseEvent {
        id: Some("42".into()),
        event: Some("message".into()),
        data: "line1\nline2".into(),
        retry: Some(1000),
    };
    assert_eq!(
        String::from_utf8(e.to_bytes()).unwrap(),
        "id: 42\nevent: message\nretry: 1000\ndata: line1\ndata: line2\n\n"
    );
    assert_eq!(ev("").to_bytes(), b"data:\n\n");
    assert_eq!(ev("{}").to_bytes(), b"data: {}\n\n");
}

#[test]
fn serializer_cannot_break_framing() {
    let e = SseEvent {
        id: Some("a\r\nevent: evil\n".into()),
        event: Some("x\ndata: injected".into()),
        data: "a\r\nb\rc\n\nd\r\n".into(),
        retry: None,
    };
    let bytes = e.to_bytes();
    assert_eq!(
        String::from_utf8(bytes.clone()).unwrap(),
        "id: aevent: evil\nevent: xdata: injected\ndata: a\ndata: b\ndata: c\ndata:\ndata: d\ndata:\n\n"
    );
    assert_eq!(
        parse_all(&bytes),
        vec![SseItem::Event(SseEvent {
            id: Some("aevent: evil".into()),
            event: Some("xdata: injected".into()),
            data: "a\nb\nc\n\nd\n".into(),
            retry: None,
        })]
    );
}

#[test]
fn trailing_cr_in_data_is_a_line_end() {
    // Found by fuzzing (fuzz/fuzz_targets/sse_write.rs): a lone CR at the end of the data was
    // dropped instead of ending a line, so the event parsed back without its last line break.
    let e = ev("a\r");
    assert_eq!(e.to_bytes(), b"data: a\ndata:\n\n");
    assert_eq!(events(&parse_all(&e.to_bytes())), vec![ev("a\n")]);
    assert_eq!(comment("a\r"), b": a\n:\n\n");
}

#[test]
fn comment_serializer() {
    assert_eq!(comment("keepalive"), b": keepalive\n\n");
    assert_eq!(comment(""), b":\n\n");
    assert_eq!(comment("a\r\ndata: evil\n"), b": a\n: data: evil\n:\n\n");
    assert_eq!(
        parse_all(&comment("a\ndata: x")),
        vec![
            SseItem::Comment("a".into()),
            SseItem::Comment("data: x".into())
        ]
    );
}

#[test]
fn round_trip() {
    let originals = vec![
        ev("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\"}"),
        SseEvent {
            id: Some("evt-1".into()),
            event: Some("endpoint".into()),
            data: "/message?sessionId=abc".into(),
            retry: Some(250),
        },
        ev(""),
        ev("\n"),
        ev("  leading spaces\n\ntrailing\n"),
        SseEvent {
            id: Some(" spaced id".into()),
            event: Some(" spaced".into()),
            ..ev(":colon: data")
        },
        SseEvent {
            id: Some(String::new()),
            ..ev("reset id")
        },
        ev("unicode \u{e9}\u{1F600}\u{FEFF}"),
    ];
    let mut stream = Vec::new();
    for e in &originals {
        stream.extend(e.to_bytes());
        stream.extend(comment("keepalive"));
    }
    let parsed = events(&parse_all(&stream));
    assert_eq!(parsed, originals);
    // And byte by byte.
    let mut p = SseParser::new();
    let mut items = Vec::new();
    for b in &stream {
        items.extend(p.push(std::slice::from_ref(b)));
    }
    assert_eq!(events(&items), originals);
}

/// xorshift64*: deterministic pseudo-random numbers without a crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&[u8]] = &[
    b"data",
    b"data:",
    b"data: ",
    b"id:",
    b"id: 1",
    b"event:",
    b"retry:",
    b"retry: 10",
    b":",
    b" ",
    b"\r",
    b"\n",
    b"\r\n",
    b"\n\n",
    b"\0",
    b"\xEF\xBB\xBF",
    b"\xE2\x82",
    b"\xAC",
    b"\xFF",
    b"x",
    b"{\"jsonrpc\":\"2.0\"}",
];

#[test]
fn fuzz_no_panic_and_chunking_invariant() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..3000 {
        let mut input = Vec::new();
        for _ in 0..rng.below(60) {
            if rng.below(4) == 0 {
                input.push(rng.next() as u8);
            } else {
                input.extend_from_slice(PIECES[rng.below(PIECES.len())]);
            }
        }
        let (max_line, max_event) = (1 + rng.below(40), 1 + rng.below(60));

        let mut whole = SseParser::with_limits(max_line, max_event);
        let mut expected = whole.push(&input);
        expected.extend(whole.finish());

        let mut chunked = SseParser::with_limits(max_line, max_event);
        let mut got = Vec::new();
        let mut rest = &input[..];
        while !rest.is_empty() {
            let (a, b) = rest.split_at(rng.below(rest.len() + 1));
            got.extend(chunked.push(a));
            rest = b;
        }
        got.extend(chunked.finish());
        assert_eq!(got, expected, "round {round}, input {input:?}");
        assert_eq!(chunked.last_event_id(), whole.last_event_id());

        for item in &expected {
            if let SseItem::Event(e) = item {
                assert!(e.data.len() < max_event, "round {round}");
                // What we parsed serializes back to the same event.
                assert_eq!(
                    events(&parse_all(&e.to_bytes())),
                    vec![e.clone()],
                    "round {round}"
                );
            }
        }
    }
}
