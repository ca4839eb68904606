use serde_json::json;

use super::*;

fn reject(body: &str) -> JsonRpcReject {
    match inspect(body.as_bytes()) {
        Err(e) => e,
        Ok(ok) => panic!("accepted {body}: {ok:?}"),
    }
}

#[track_caller]
fn assert_reject(body: &str, code: i64, id: Value) {
    let e = reject(body);
    assert_eq!((e.code, &e.id), (code, &id), "{body}: {}", e.message);
}

#[test]
fn parse_errors_have_null_id() {
    for body in [
        "",
        " ",
        "{",
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\"",
        "nul",
        "{\"a\":1}{\"b\":2}",
        "\u{FEFF}{\"jsonrpc\":\"2.0\",\"method\":\"x\"}",
    ] {
        assert_reject(body, PARSE_ERROR, Value::Null);
        assert_eq!(reject(body).http_status(), 400);
    }
    let e = inspect(b"{\"jsonrpc\":\"2.0\",\"method\":\"\xFF\"}").unwrap_err();
    assert_eq!(
        (e.code, e.id, e.kind),
        (PARSE_ERROR, Value::Null, RejectKind::Parse)
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    assert_reject(&deep, PARSE_ERROR, Value::Null);
    let deep_params = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":{}1{}}}",
        "{\"a\":".repeat(200),
        "}".repeat(200)
    );
    assert_reject(&deep_params, PARSE_ERROR, Value::Null);
}

#[test]
fn oversized_body() {
    let body = vec![b' '; MAX_BODY_BYTES + 1];
    let e = inspect(&body).unwrap_err();
    assert_eq!(
        (e.code, &e.id, e.kind),
        (INVALID_REQUEST, &Value::Null, RejectKind::TooLarge)
    );
    assert_eq!(e.http_status(), 413);
}

#[test]
fn not_an_object() {
    for body in ["1", "\"x\"", "null", "true", "[1]", "[[]]", "[null]"] {
        assert_reject(body, INVALID_REQUEST, Value::Null);
    }
}

#[test]
fn empty_batch() {
    assert_reject("[]", INVALID_REQUEST, Value::Null);
}

#[test]
fn jsonrpc_version_is_required() {
    assert_reject(r#"{"id":1,"method":"ping"}"#, INVALID_REQUEST, json!(1));
    assert_reject(
        r#"{"jsonrpc":"1.0","id":"a","method":"ping"}"#,
        INVALID_REQUEST,
        json!("a"),
    );
    assert_reject(
        r#"{"jsonrpc":2.0,"id":3,"method":"ping"}"#,
        INVALID_REQUEST,
        json!(3),
    );
    assert_reject(
        r#"{"jsonrpc":"2.0 ","method":"x"}"#,
        INVALID_REQUEST,
        Value::Null,
    );
}

#[test]
fn method_must_be_a_string() {
    assert_reject(
        r#"{"jsonrpc":"2.0","id":5,"method":3}"#,
        INVALID_REQUEST,
        json!(5),
    );
    assert_reject(
        r#"{"jsonrpc":"2.0","id":5,"method":null}"#,
        INVALID_REQUEST,
        json!(5),
    );
    assert_reject(
        r#"{"jsonrpc":"2.0","method":["x"]}"#,
        INVALID_REQUEST,
        Value::Null,
    );
}

#[test]
fn request_id_must_be_string_or_number() {
    assert_reject(
        r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#,
        INVALID_REQUEST,
        Value::Null,
    );
    assert_reject(
        r#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#,
        INVALID_REQUEST,
        Value::Null,
    );
    assert_reject(
        r#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#,
        INVALID_REQUEST,
        Value::Null,
    );
    assert_reject(
        r#"{"jsonrpc":"2.0","id":[1],"method":"ping"}"#,
        INVALID_REQUEST,
        Value::Null,
    );
}

#[test]
fn params_must_be_structured() {
    for params in ["1", "\"x\"", "null", "true"] {
        assert_reject(
            &format!(r#"{{"jsonrpc":"2.0","id":"r1","method":"tools/call","params":{params}}}"#),
            INVALID_REQUEST,
            json!("r1"),
        );
    }
    assert_reject(
        r#"{"jsonrpc":"2.0","method":"notifications/x","params":7}"#,
        INVALID_REQUEST,
        Value::Null,
    );
}

#[test]
fn both_request_and_response() {
    assert_reject(
        r#"{"jsonrpc":"2.0","id":1,"method":"ping","result":{}}"#,
        INVALID_REQUEST,
        json!(1),
    );
    assert_reject(
        r#"{"jsonrpc":"2.0","id":1,"method":"ping","error":{"code":1,"message":"m"}}"#,
        INVALID_REQUEST,
        json!(1),
    );
}

#[test]
fn malformed_responses() {
    // Neither method nor result nor error.
    assert_reject(r#"{"jsonrpc":"2.0","id":9}"#, INVALID_REQUEST, json!(9));
    // Both result and error.
    assert_reject(
        r#"{"jsonrpc":"2.0","id":9,"result":{},"error":{"code":1,"message":"m"}}"#,
        INVALID_REQUEST,
        json!(9),
    );
    // A result needs a real id.
    assert_reject(
        r#"{"jsonrpc":"2.0","result":{}}"#,
        INVALID_REQUEST,
        Value::Null,
    );
    assert_reject(
        r#"{"jsonrpc":"2.0","id":null,"result":{}}"#,
        INVALID_REQUEST,
        Value::Null,
    );
    // An error needs an id member, an integer code and a string message.
    assert_reject(
        r#"{"jsonrpc":"2.0","error":{"code":1,"message":"m"}}"#,
        INVALID_REQUEST,
        Value::Null,
    );
    assert_reject(
        r#"{"jsonrpc":"2.0","id":false,"error":{"code":1,"message":"m"}}"#,
        INVALID_REQUEST,
        Value::Null,
    );
    for error in [
        r#""oops""#,
        r#"{"message":"m"}"#,
        r#"{"code":"1","message":"m"}"#,
        r#"{"code":1.5,"message":"m"}"#,
        r#"{"code":1}"#,
        r#"{"code":1,"message":2}"#,
    ] {
        assert_reject(
            &format!(r#"{{"jsonrpc":"2.0","id":"e","error":{error}}}"#),
            INVALID_REQUEST,
            json!("e"),
        );
    }
}

#[test]
fn valid_request() {
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}"#;
    let inbound = inspect(body.as_bytes()).unwrap();
    assert_eq!(
        inbound,
        Inbound::Requests {
            ids: vec![json!(1)],
            methods: vec!["tools/call".into()],
            batch: false
        }
    );
    assert!(inbound.has_requests());
    assert!(!inbound.is_batch());
    assert_eq!(inbound.first_method(), Some("tools/call"));

    // String ids, array params, no params, extra members, fractional and negative ids.
    for body in [
        r#"{"jsonrpc":"2.0","id":"abc","method":"initialize","params":{}}"#,
        r#"{"jsonrpc":"2.0","id":-3,"method":"x","params":[1,2]}"#,
        r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#,
        r#"{"method":"ping","extra":true,"id":0,"jsonrpc":"2.0"}"#,
        " \n{\"jsonrpc\":\"2.0\",\"id\":\"\",\"method\":\"ping\"}\n ",
    ] {
        assert!(inspect(body.as_bytes()).unwrap().has_requests(), "{body}");
    }
}

#[test]
fn valid_notification() {
    let inbound = inspect(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
    assert_eq!(
        inbound,
        Inbound::NotificationsOrResponses {
            methods: vec!["notifications/initialized".into()],
            batch: false
        }
    );
    assert!(!inbound.has_requests());
    assert_eq!(inbound.first_method(), Some("notifications/initialized"));
}

#[test]
fn valid_responses() {
    for body in [
        r#"{"jsonrpc":"2.0","id":7,"result":{}}"#,
        r#"{"jsonrpc":"2.0","id":"s-1","result":null}"#,
        r#"{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"nope","data":{}}}"#,
        r#"{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}"#,
    ] {
        let inbound = inspect(body.as_bytes()).unwrap();
        assert_eq!(
            inbound,
            Inbound::NotificationsOrResponses {
                methods: vec![],
                batch: false
            },
            "{body}"
        );
        assert_eq!(inbound.first_method(), None);
    }
}

#[test]
fn batches() {
    let body = r#"[
        {"jsonrpc":"2.0","method":"notifications/progress","params":{}},
        {"jsonrpc":"2.0","id":1,"method":"tools/list"},
        {"jsonrpc":"2.0","id":"x","result":{}},
        {"jsonrpc":"2.0","id":2,"method":"prompts/list"}
    ]"#;
    let inbound = inspect(body.as_bytes()).unwrap();
    assert_eq!(
        inbound,
        Inbound::Requests {
            ids: vec![json!(1), json!(2)],
            methods: vec!["tools/list".into(), "prompts/list".into()],
            batch: true
        }
    );
    assert!(inbound.is_batch());
    assert_eq!(inbound.first_method(), Some("tools/list"));

    let only_notifications =
        inspect(br#"[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","id":1,"result":{}}]"#)
            .unwrap();
    assert_eq!(
        only_notifications,
        Inbound::NotificationsOrResponses {
            methods: vec!["a".into()],
            batch: true
        }
    );

    // One bad element refuses the whole body, naming that element's id.
    assert_reject(
        r#"[{"jsonrpc":"2.0","id":1,"method":"ok"},{"jsonrpc":"2.0","id":2,"method":5}]"#,
        INVALID_REQUEST,
        json!(2),
    );
    assert_reject(
        r#"[{"jsonrpc":"2.0","id":1,"method":"ok"},1]"#,
        INVALID_REQUEST,
        Value::Null,
    );
}

#[test]
fn reject_body_shape() {
    let e = reject(r#"{"jsonrpc":"2.0","id":"q","method":1}"#);
    let body: Value = serde_json::from_str(&e.to_response_body()).unwrap();
    assert_eq!(
        body,
        json!({"jsonrpc":"2.0","id":"q","error":{"code":-32600,"message":e.message}})
    );
    assert!(e.message.starts_with("Invalid Request"));
    assert!(reject("{").message.starts_with("Parse error"));
    assert_eq!(e.to_string(), format!("{} (-32600)", e.message));
}

#[test]
fn error_response_helper() {
    let body = error_response(
        json!(4),
        -32001,
        "connection needs re-authorization, open https://b.example/s/x/reconnect",
        Some(json!({"reconnect":"https://b.example/s/x/reconnect"})),
    );
    let value: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        value,
        json!({
            "jsonrpc":"2.0",
            "id":4,
            "error":{
                "code":-32001,
                "message":"connection needs re-authorization, open https://b.example/s/x/reconnect",
                "data":{"reconnect":"https://b.example/s/x/reconnect"}
            }
        })
    );
    let no_data: Value =
        serde_json::from_str(&error_response(Value::Null, INTERNAL_ERROR, "m\"\n", None)).unwrap();
    assert_eq!(
        no_data,
        json!({"jsonrpc":"2.0","id":null,"error":{"code":-32603,"message":"m\"\n"}})
    );
}
