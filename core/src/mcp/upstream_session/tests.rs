use super::*;

fn url(s: &str) -> url::Url {
    url::Url::parse(s).expect("url")
}

#[test]
fn the_first_answer_settles_streamable_http_and_its_session() {
    let mut state = UpstreamState::Unknown;
    assert!(!state.has_session());
    assert_eq!(
        state.post_headers(),
        vec![
            ("content-type", "application/json".to_owned()),
            ("accept", "application/json, text/event-stream".to_owned()),
        ]
    );
    state.after_post(Some("s-1".into()));
    assert!(state.has_session());
    state.negotiated("2025-06-18".into());
    // A later answer without the header keeps the session; one with it replaces it.
    state.after_post(None);
    assert!(state.has_session());
    assert_eq!(
        state.post_headers(),
        vec![
            ("content-type", "application/json".to_owned()),
            ("accept", "application/json, text/event-stream".to_owned()),
            (MCP_SESSION_ID, "s-1".to_owned()),
            (MCP_PROTOCOL_VERSION, "2025-06-18".to_owned()),
        ]
    );
    assert_eq!(
        state.listen_headers(),
        vec![
            ("accept", "text/event-stream".to_owned()),
            (MCP_SESSION_ID, "s-1".to_owned()),
            (MCP_PROTOCOL_VERSION, "2025-06-18".to_owned()),
        ]
    );
    // The GET stream opens once.
    assert!(state.start_listening());
    assert!(!state.start_listening());
    state.forget();
    assert_eq!(state, UpstreamState::Unknown);
    assert!(!state.start_listening());
}

#[test]
fn a_stateless_upstream_has_no_stream_to_listen_on() {
    let mut state = UpstreamState::Unknown;
    state.after_post(None);
    assert!(!state.has_session());
    assert!(!state.start_listening());
    state.negotiated("2025-03-26".into());
    assert_eq!(
        state.post_headers().last(),
        Some(&(MCP_PROTOCOL_VERSION, "2025-03-26".to_owned()))
    );
}

#[test]
fn a_legacy_upstream_ignores_streamable_answers() {
    let mut state = UpstreamState::Legacy {
        post_url: "https://mcp.example.com/messages?sessionId=abc".into(),
    };
    state.after_post(Some("s".into()));
    state.negotiated("2025-06-18".into());
    assert!(matches!(state, UpstreamState::Legacy { .. }));
    assert_eq!(state.post_headers().len(), 2);
    let shown = format!("{state:?}");
    assert!(!shown.contains("abc"), "{shown}");
    let streamable = UpstreamState::Streamable {
        session_id: Some("secret-session".into()),
        version: None,
        listening: false,
    };
    assert!(!format!("{streamable:?}").contains("secret-session"));
}

#[test]
fn a_4xx_to_the_first_initialize_means_a_legacy_upstream() {
    for status in [400, 404, 405] {
        assert!(means_legacy_upstream(true, false, status), "{status}");
        assert!(!means_legacy_upstream(true, true, status), "in a session");
        assert!(
            !means_legacy_upstream(false, false, status),
            "not initialize"
        );
    }
    for status in [200, 202, 401, 403, 406, 415, 500, 502] {
        assert!(!means_legacy_upstream(true, false, status), "{status}");
    }
    assert!(lost_session(true, 404));
    assert!(!lost_session(false, 404));
    assert!(!lost_session(true, 400));
}

#[test]
fn the_replayed_initialize_carries_bindifys_id_and_its_answer_is_hidden() {
    let original = br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#;
    let replay = reinitialize_body(original).expect("object");
    let value: Value = serde_json::from_slice(&replay).expect("json");
    assert_eq!(value["id"], REINITIALIZE_ID);
    assert_eq!(value["method"], "initialize");
    assert_eq!(value["params"]["clientInfo"]["name"], "c");
    assert_eq!(reinitialize_body(b"[1]"), None);
    assert_eq!(reinitialize_body(b"nope"), None);

    assert!(is_reinitialize_answer(
        r#"{"jsonrpc":"2.0","id":"bindify-reinitialize","result":{"protocolVersion":"2025-06-18"}}"#
    ));
    assert!(is_reinitialize_answer(
        r#"{"jsonrpc":"2.0","id":"bindify-reinitialize","error":{"code":-1,"message":"x"}}"#
    ));
    // The client's own messages pass, even one that quotes Bindify's id.
    assert!(!is_reinitialize_answer(
        r#"{"jsonrpc":"2.0","id":1,"result":{"text":"bindify-reinitialize"}}"#
    ));
    assert!(!is_reinitialize_answer(
        r#"{"jsonrpc":"2.0","id":"bindify-reinitialize","method":"ping"}"#
    ));
    assert!(!is_reinitialize_answer("not json"));
    let initialized: Value = serde_json::from_slice(INITIALIZED).expect("json");
    assert_eq!(initialized["method"], "notifications/initialized");
}

#[test]
fn reconnects_back_off_and_give_up() {
    let delays: Vec<Option<u64>> = (0..=7).map(legacy_reconnect_delay_ms).collect();
    assert_eq!(
        delays,
        vec![
            None,
            Some(1_000),
            Some(2_000),
            Some(4_000),
            Some(8_000),
            Some(16_000),
            Some(32_000),
            None
        ]
    );
    assert_eq!(legacy_reconnect_delay_ms(u32::MAX), None);
}

#[test]
fn the_endpoint_and_the_messages_around_it_are_found_across_chunks() {
    let mut wait = EndpointWait::new(url("https://mcp.example.com/sse"));
    assert_eq!(wait.push(b": padding\n\nevent: mess"), Ok(Waited::More));
    assert_eq!(
        wait.push(b"age\ndata: {\"early\":1}\n\nevent: endpoint\ndata: /messages?s"),
        Ok(Waited::More)
    );
    assert_eq!(
        wait.push(b"essionId=abc\n\ndata: {\"after\":2}\n\n"),
        Ok(Waited::Endpoint {
            post_url: url("https://mcp.example.com/messages?sessionId=abc"),
            messages: vec![r#"{"early":1}"#.to_owned(), r#"{"after":2}"#.to_owned()],
        })
    );
    // The parser carries on where the wait stopped.
    let mut parser = wait.into_parser();
    assert_eq!(
        parser.push(b"data: {\"later\":3}\n\n"),
        vec![SseItem::Event(crate::mcp::sse::SseEvent::message(
            r#"{"later":3}"#
        ))]
    );
}

#[test]
fn an_endpoint_on_another_origin_is_refused() {
    let mut wait = EndpointWait::new(url("https://mcp.example.com/sse"));
    assert_eq!(
        wait.push(b"event: endpoint\ndata: https://evil.example/messages\n\n"),
        Err(EndpointWaitError::Endpoint(EndpointError::CrossOrigin))
    );
}

#[test]
fn a_stream_without_an_endpoint_stops_at_the_budget() {
    let mut wait = EndpointWait::new(url("https://mcp.example.com/sse"));
    let comment = format!(": {}\n", "p".repeat(1021));
    let mut read = 0;
    loop {
        read += comment.len();
        match wait.push(comment.as_bytes()) {
            Ok(Waited::More) => assert!(read <= ENDPOINT_WAIT_BYTES, "{read}"),
            Err(EndpointWaitError::OverBudget) => break,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(read, ENDPOINT_WAIT_BYTES + comment.len());
    assert_eq!(
        EndpointWaitError::OverBudget.to_string(),
        "the server sent more than 65536 bytes without naming an endpoint"
    );
    // Messages count against the budget too.
    let mut chatty = EndpointWait::new(url("https://mcp.example.com/sse"));
    let message = format!("data: {}\n\n", "m".repeat(ENDPOINT_WAIT_BYTES));
    assert_eq!(
        chatty.push(message.as_bytes()),
        Err(EndpointWaitError::OverBudget)
    );
}
