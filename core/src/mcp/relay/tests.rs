use super::*;

#[test]
fn media_types_parse_with_parameters_case_and_whitespace() {
    for (value, expected) in [
        ("application/json", "application/json"),
        ("Application/JSON", "application/json"),
        ("application/json; charset=utf-8", "application/json"),
        ("application/json;charset=\"utf-8\"", "application/json"),
        ("application/json ;\tcharset=UTF-8", "application/json"),
        (" text/event-stream ", "text/event-stream"),
        ("text/event-stream;", "text/event-stream"),
        ("TEXT/EVENT-STREAM; charset=utf-8", "text/event-stream"),
        ("text/html; charset=\"a\\\"b\"", "text/html"),
        ("application/vnd.api+json", "application/vnd.api+json"),
    ] {
        assert_eq!(media_type(value).as_deref(), Some(expected), "{value}");
    }
}

#[test]
fn malformed_media_types_are_none() {
    for value in [
        "",
        "json",
        "application/",
        "/json",
        "application/json, text/html",
        "application /json",
        "application/json; charset",
        "application/json; =utf-8",
        "application/json; charset=\"open",
        "application/json; charset=\"a\\\"",
        "text/html\u{0}",
        "application/json; x=a b",
        "applicätion/json",
    ] {
        assert_eq!(media_type(value), None, "{value:?}");
    }
}

#[test]
fn only_json_and_event_streams_pass_with_a_body() {
    assert_eq!(
        verdict(200, Some("application/json"), None),
        Verdict::Relay(Body::Json)
    );
    assert_eq!(
        verdict(200, Some("Application/Json; charset=utf-8"), Some("12")),
        Verdict::Relay(Body::Json)
    );
    assert_eq!(
        verdict(200, Some("text/event-stream"), None),
        Verdict::Relay(Body::EventStream)
    );
    // An error status with a JSON body is an MCP answer too (a 404 for a lost session).
    assert_eq!(
        verdict(404, Some("application/json"), None),
        Verdict::Relay(Body::Json)
    );
    for (content_type, quoted) in [
        ("text/html", "text/html"),
        ("text/html; charset=utf-8", "text/html; charset=utf-8"),
        ("application/javascript", "application/javascript"),
        ("image/svg+xml", "image/svg+xml"),
        ("text/plain", "text/plain"),
        ("application/json-seq", "application/json-seq"),
        ("application/vnd.api+json", "application/vnd.api+json"),
        ("application/json, text/html", "application/json, text/html"),
        ("text/html\u{7}\u{e9}", "text/html??"),
    ] {
        assert_eq!(
            verdict(200, Some(content_type), None),
            Verdict::Refuse(Foreign::ContentType {
                status: 200,
                quoted: quoted.to_owned()
            }),
            "{content_type:?}"
        );
    }
}

#[test]
fn answers_without_a_body_pass_without_a_content_type() {
    assert_eq!(verdict(202, None, Some("0")), Verdict::RelayWithoutBody);
    assert_eq!(verdict(200, None, Some(" 0 ")), Verdict::RelayWithoutBody);
    assert_eq!(verdict(204, None, None), Verdict::RelayWithoutBody);
    assert_eq!(
        verdict(204, Some("text/html"), None),
        Verdict::RelayWithoutBody
    );
    assert_eq!(verdict(205, None, None), Verdict::RelayWithoutBody);
    assert_eq!(verdict(304, None, None), Verdict::RelayWithoutBody);
    // A body of unknown length and no type: empty passes, anything else is refused.
    assert_eq!(verdict(202, None, None), Verdict::RelayIfEmpty);
    assert_eq!(verdict(200, None, None), Verdict::RelayIfEmpty);
    // A body with content but no type: a browser would sniff it.
    assert_eq!(
        verdict(200, None, Some("42")),
        Verdict::Refuse(Foreign::NoContentType { status: 200 })
    );
}

#[test]
fn redirects_never_pass() {
    for status in [300, 301, 302, 303, 307, 308] {
        assert_eq!(
            verdict(status, Some("application/json"), Some("0")),
            Verdict::Refuse(Foreign::Redirect { status })
        );
    }
}

#[test]
fn refusals_describe_what_came() {
    assert_eq!(
        Foreign::Redirect { status: 307 }.describe(),
        "a redirect (HTTP 307)"
    );
    assert_eq!(
        Foreign::NoContentType { status: 200 }.describe(),
        "HTTP 200 with a body but no content type"
    );
    let html = Foreign::ContentType {
        status: 200,
        quoted: "text/html".into(),
    };
    assert_eq!(html.describe(), "HTTP 200 with content type \"text/html\"");
    assert_eq!(html.status(), 200);
    let long = "a/".to_owned() + &"b".repeat(300);
    match verdict(200, Some(&long), None) {
        Verdict::Refuse(Foreign::ContentType { quoted, .. }) => assert_eq!(quoted.len(), 100),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_sandbox_policy_allows_nothing() {
    assert_eq!(RELAY_CSP, "sandbox; default-src 'none'");
    assert_eq!(NOSNIFF, "nosniff");
}
