//! JSON-RPC admission (core/src/mcp/jsonrpc.rs `inspect`, core/src/mcp/proxy.rs `check_body` and
//! `check_declared_length`): the body an MCP client POSTs, and its `Content-Length`, checked
//! before anything goes upstream.
//!
//! Properties: `inspect` agrees with serde_json on what is JSON; what it accepts and refuses
//! matches a model written from the module's table (JSON-RPC 2.0 §4, §5, §6 as MCP narrows
//! them); every refusal is a JSON-RPC error object with the right code, status and id.
#![no_main]

use bindify_core::mcp::jsonrpc::{
    INVALID_REQUEST, Inbound, MAX_BODY_BYTES, PARSE_ERROR, RejectKind, inspect,
};
use bindify_core::mcp::proxy::{check_body, check_declared_length};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The model's verdict on one message: `Ok(Some((id, method)))` a request, `Ok(None)` a
/// notification or response, `Err(id)` invalid (with the id to echo).
type Verdict = Result<Option<(Value, Option<String>)>, Value>;

fn is_id(v: &Value) -> bool {
    v.is_string() || v.is_number()
}

fn model(message: &Value) -> Verdict {
    let Some(object) = message.as_object() else {
        return Err(Value::Null);
    };
    let echo = object
        .get("id")
        .filter(|v| is_id(v))
        .cloned()
        .unwrap_or(Value::Null);
    if object.get("jsonrpc") != Some(&Value::from("2.0")) {
        return Err(echo);
    }
    let result = object.contains_key("result");
    let error = object.contains_key("error");
    if let Some(method) = object.get("method") {
        let params_ok = matches!(
            object.get("params"),
            None | Some(Value::Object(_) | Value::Array(_))
        );
        if result || error || !method.is_string() || !params_ok {
            return Err(echo);
        }
        let method = method.as_str().map(str::to_owned);
        return match object.get("id") {
            None => Ok(None),
            Some(id) if is_id(id) => Ok(Some((id.clone(), method))),
            Some(_) => Err(echo),
        };
    }
    let id = object.get("id");
    match (result, error) {
        (true, false) if id.is_some_and(is_id) => Ok(None),
        (false, true) if id.is_some_and(|i| is_id(i) || i.is_null()) => {
            let e = &object["error"];
            if e.get("code").is_some_and(Value::is_i64)
                && e.get("message").is_some_and(Value::is_string)
            {
                Ok(None)
            } else {
                Err(echo)
            }
        }
        _ => Err(echo),
    }
}

fuzz_target!(|body: &[u8]| {
    // The same bytes as a declared `Content-Length`: refused only when over the limit.
    let declared = String::from_utf8_lossy(body);
    assert_eq!(
        check_declared_length(Some(&declared)).is_err(),
        declared
            .trim()
            .parse::<u64>()
            .is_ok_and(|n| n > MAX_BODY_BYTES as u64)
    );

    let json = serde_json::from_slice::<Value>(body);
    let verdict = inspect(body);
    let refusal = check_body(body);
    assert_eq!(verdict.is_ok(), refusal.is_ok());

    if let Err(refusal) = &refusal {
        let answer: Value = serde_json::from_str(&refusal.body).expect("the refusal is JSON");
        assert_eq!(answer["jsonrpc"], "2.0");
        let code = answer["error"]["code"].as_i64().expect("an integer code");
        assert!(answer["error"]["message"].is_string());
        let reject = verdict.as_ref().expect_err("refused");
        assert_eq!(code, reject.code);
        // serde_json reads a float to within one unit in the last place (no `float_roundtrip`),
        // so a float id is compared after the same text round trip the answer went through.
        let echoed: Value = serde_json::from_str(&reject.id.to_string()).expect("an id");
        assert_eq!(answer["id"], echoed);
        assert_eq!(refusal.status, reject.http_status());
    }

    if body.len() > MAX_BODY_BYTES {
        assert_eq!(verdict.expect_err("too large").kind, RejectKind::TooLarge);
        return;
    }
    let value = match json {
        Err(_) => {
            let reject = verdict.expect_err("not JSON, so refused");
            assert_eq!((reject.kind, reject.code), (RejectKind::Parse, PARSE_ERROR));
            assert_eq!(reject.id, Value::Null);
            return;
        }
        Ok(value) => value,
    };
    let (messages, batch) = match &value {
        Value::Array(items) if items.is_empty() => {
            let reject = verdict.expect_err("an empty batch");
            assert_eq!(
                (reject.kind, reject.code),
                (RejectKind::Invalid, INVALID_REQUEST)
            );
            return;
        }
        Value::Array(items) => (items.clone(), true),
        other => (vec![other.clone()], false),
    };

    let mut ids = Vec::new();
    let mut methods = Vec::new();
    let mut notifications = Vec::new();
    for message in &messages {
        match model(message) {
            Err(echo) => {
                // The first invalid message decides.
                let reject = verdict.expect_err("an invalid message");
                assert_eq!(
                    (reject.kind, reject.code),
                    (RejectKind::Invalid, INVALID_REQUEST)
                );
                assert_eq!(reject.id, echo, "{message}");
                return;
            }
            Ok(Some((id, method))) => {
                ids.push(id);
                methods.push(method.unwrap_or_default());
            }
            Ok(None) => {
                if let Some(method) = message.get("method").and_then(Value::as_str) {
                    notifications.push(method.to_owned());
                }
            }
        }
    }
    let expected = if ids.is_empty() {
        Inbound::NotificationsOrResponses {
            methods: notifications,
            batch,
        }
    } else {
        Inbound::Requests {
            ids,
            methods,
            batch,
        }
    };
    assert_eq!(verdict.expect("valid"), expected);
});
