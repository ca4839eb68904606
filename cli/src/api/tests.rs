use bindify_core::connect::cli_flow::ConnectCode;
use serde_json::json;

use super::fake::{Fake, TOKEN, client, client_with, connection};
use super::transport::{Method, Response};
use super::types::ConnectStatus;
use crate::error::CliError;

fn assert_clean(error: &CliError) {
    let text = format!("{error} {error:?}");
    assert!(!text.contains(TOKEN), "token leaked: {text}");
}

#[test]
fn requests_carry_the_token_except_the_root() {
    let c = client(
        Fake::new()
            .answer(200, json!({"connections": [connection("id1", "Notion")]}))
            .answer(200, json!("<html>"))
            .answer(201, json!({"code": "c0de", "browser_url": "https://w.example/cli/c0de", "expires_at": "2026-11-26T11:00:00Z"})),
    );
    assert_eq!(c.list().expect("list")[0].label, "Notion");
    assert_eq!(c.root().expect("root"), 200);
    assert_eq!(
        c.connect("notion", |_| CliError::Usage("400".into()))
            .expect("connect")
            .code
            .expose(),
        "c0de"
    );
    let sent = c.transport().sent();
    assert_eq!(sent[0].url, "https://w.example/api/connections");
    assert_eq!(sent[0].bearer.as_deref(), Some(TOKEN));
    assert_eq!(sent[1].url, "https://w.example/");
    assert_eq!(sent[1].bearer, None, "GET / is sent without the token");
    assert_eq!(sent[2].method, Method::Post);
    assert_eq!(sent[2].body, Some(json!({"server": "notion"})));
    for s in &sent {
        assert!(!s.url.contains(TOKEN));
    }
}

#[test]
fn paths_of_each_operation() {
    let c = client(
        Fake::new()
            .answer(200, connection("a/b", "x"))
            .answer(
                200,
                json!({"revoked": true, "upstream_revocation": "revoked"}),
            )
            .answer(200, json!({"mcp_url": "m", "sse_url": "s"}))
            .answer(
                200,
                json!({"reconnect_url": "https://w.example/manage/id/reconnect"}),
            )
            .answer(200, json!({"status": "pending"})),
    );
    c.get("a/b").expect("get");
    c.revoke("id").expect("revoke");
    c.rotate("id").expect("rotate");
    c.reconnect("id").expect("reconnect");
    assert_eq!(
        c.connect_status(&ConnectCode::new("k".into()))
            .expect("poll"),
        ConnectStatus::Pending
    );
    let sent: Vec<(Method, String)> = c
        .transport()
        .sent()
        .into_iter()
        .map(|s| (s.method, s.url))
        .collect();
    assert_eq!(
        sent,
        [
            (
                Method::Get,
                "https://w.example/api/connections/a%2Fb".to_owned()
            ),
            (
                Method::Delete,
                "https://w.example/api/connections/id".to_owned()
            ),
            (
                Method::Post,
                "https://w.example/api/connections/id/rotate".to_owned()
            ),
            (
                Method::Post,
                "https://w.example/api/connections/id/reconnect".to_owned()
            ),
            (Method::Get, "https://w.example/api/connect/k".to_owned()),
        ]
    );
}

#[test]
fn connect_statuses_parse() {
    let c = client(
        Fake::new()
            .answer(200, json!({"status": "connected", "id": "i", "label": "Demo", "upstream": "u", "mcp_url": "m", "sse_url": "s"}))
            .answer(200, json!({"status": "failed", "error": "access_denied", "message": "You declined."})),
    );
    assert!(
        matches!(c.connect_status(&ConnectCode::new("k".into())), Ok(ConnectStatus::Connected(ref x)) if x.mcp_url == "m")
    );
    assert_eq!(
        c.connect_status(&ConnectCode::new("k".into()))
            .expect("failed"),
        ConnectStatus::Failed {
            error: "access_denied".into(),
            message: "You declined.".into()
        }
    );
}

#[test]
fn wrong_token_missing_token_and_throttling_exit_4() {
    let unauthorized = json!({"error": "unauthorized", "message": "a wrong credential"});
    let wrong = client(Fake::new().answer(401, unauthorized.clone()))
        .list()
        .expect_err("401");
    assert_eq!(wrong.exit().code(), 4);
    assert!(
        wrong.to_string().starts_with("the admin token is wrong"),
        "{wrong}"
    );
    assert!(wrong.to_string().contains("BINDIFY_ADMIN_TOKEN"), "{wrong}");
    assert!(
        wrong
            .to_string()
            .contains("bindify login --worker https://w.example")
    );
    assert_clean(&wrong);

    let missing = client_with(Fake::new().answer(401, unauthorized), None)
        .list()
        .expect_err("401");
    assert_eq!(missing.exit().code(), 4);
    assert!(
        missing.to_string().starts_with("no admin token"),
        "{missing}"
    );

    let throttled = client(Fake::new().answer_response(Response {
        status: 429,
        body: json!({"error": "too_many_attempts", "message": "slow down"}).to_string(),
        retry_after: Some("8".into()),
        location: None,
    }))
    .health()
    .expect_err("429");
    assert_eq!(throttled.exit().code(), 4);
    assert!(
        throttled.to_string().contains("try again in 8 s,"),
        "{throttled}"
    );
}

#[test]
fn each_failure_maps_to_its_exit_code() {
    type Call = fn(&super::Client<Fake>) -> CliError;
    let cases: Vec<(Fake, Call, u8, &str)> = vec![
        (
            Fake::new().unreachable("Connection refused (os error 111)"),
            |c| c.list().expect_err("x"),
            3,
            "could not reach https://w.example: Connection refused (os error 111). Check the URL with `bindify login --worker <url>`",
        ),
        (
            Fake::new().answer(404, json!({"error": "not_found", "message": "m"})),
            |c| c.get("gone-id").expect_err("x"),
            5,
            "no connection with id gone-id",
        ),
        (
            Fake::new().answer(404, json!({"error": "not_found", "message": "m"})),
            |c| {
                c.connect_status(&ConnectCode::new("code".into()))
                    .expect_err("x")
            },
            6,
            "the connect code expired",
        ),
        (
            Fake::new().answer(404, json!({"error": "not_found", "message": "m"})),
            |c| c.health().expect_err("x"),
            1,
            "has no management API",
        ),
        (
            Fake::new().answer(503, json!({"error": "admin_token_missing", "message": "m"})),
            |c| c.list().expect_err("x"),
            1,
            "has no ADMIN_TOKEN secret, so it refuses management: run `scripts/deploy.sh` in your Bindify checkout",
        ),
        (
            Fake::new().answer(503, json!({"error": "admin_token_weak", "message": "m"})),
            |c| c.list().expect_err("x"),
            1,
            "shorter than 32 bytes, so it refuses management: run `scripts/wrangler.sh secret delete ADMIN_TOKEN && scripts/deploy.sh`",
        ),
        (
            Fake::new().answer(
                503,
                json!({"error": "storage_unavailable", "message": "KV failed"}),
            ),
            |c| c.list().expect_err("x"),
            1,
            "answered GET /api/connections with 503 storage_unavailable: KV failed. Try again",
        ),
        (
            Fake::new().answer(
                400,
                json!({"error": "invalid_request", "message": "bad id"}),
            ),
            |c| c.get("x").expect_err("x"),
            2,
            "the Worker refused the request (400 invalid_request): bad id",
        ),
        (
            Fake::new().answer(200, json!({"unexpected": true})),
            |c| c.list().expect_err("x"),
            1,
            "does not understand",
        ),
        (
            Fake::new().answer_response(Response {
                status: 301,
                body: String::new(),
                retry_after: None,
                location: Some("https://other.example/api/connections".into()),
            }),
            |c| c.list().expect_err("x"),
            1,
            "redirect to https://other.example/api/connections",
        ),
    ];
    for (fake, call, code, text) in cases {
        let error = call(&client(fake));
        assert_eq!(error.exit().code(), code, "{error}");
        assert!(error.to_string().contains(text), "{error}\nwanted: {text}");
        assert_clean(&error);
    }
}

#[test]
fn the_workers_connection_view_reads_as_a_listed_connection() {
    use bindify_core::vault::record::{ConnectionState, ConnectionView};
    let view = ConnectionView {
        id: "Q2v1xXU0m0v8uQ4Nf0a9Zw".into(),
        label: "Notion".into(),
        upstream: "https://mcp.notion.com/mcp".into(),
        state: ConnectionState::NeedsReauth,
        access_token_expires_at: Some("2026-11-26T11:50:00Z".into()),
        last_refresh_at: None,
        last_error: Some("invalid_grant".into()),
        created_at: "2026-11-20T09:00:00Z".into(),
        refreshable: true,
        token_expires: true,
        next_attempt_at: None,
        kind: bindify_core::vault::record::ConnectionKind::Oauth,
        grant_expires_at: None,
    };
    let read: super::types::Connection =
        serde_json::from_value(serde_json::to_value(&view).expect("json")).expect("parse");
    assert_eq!(read.state, "needs_reauth");
    assert_eq!(read.last_error.as_deref(), Some("invalid_grant"));
    assert_eq!(read.created_at.as_deref(), Some("2026-11-20T09:00:00Z"));
    assert!(read.refreshable && read.token_expires);
}
