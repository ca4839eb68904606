use std::cell::RefCell;
use std::time::Duration;

use serde_json::json;

use super::connect::{Credentials, Ui, connect, server_argument};
use super::doctor::doctor;
use super::manage::{Confirmation, reconnect, revoke, status};
use crate::api::fake::{Fake, TOKEN, client, connection};
use crate::api::transport::Method;
use crate::clock::parse_rfc3339;
use crate::error::{CliError, Exit};

const TICK: Duration = Duration::from_millis(1);

/// Runs `connect` headless; returns its result and what it told the user.
fn run_connect(
    fake: Fake,
    server: &str,
    timeout: Duration,
    open: Option<crate::terminal::Opener<'_>>,
) -> (
    Result<crate::output::Output, CliError>,
    Vec<String>,
    Vec<crate::api::fake::Sent>,
) {
    run_connect_with(fake, server, timeout, open, &Credentials::default())
}

fn run_connect_with(
    fake: Fake,
    server: &str,
    timeout: Duration,
    open: Option<crate::terminal::Opener<'_>>,
    credentials: &Credentials,
) -> (
    Result<crate::output::Output, CliError>,
    Vec<String>,
    Vec<crate::api::fake::Sent>,
) {
    let notes = RefCell::new(Vec::new());
    let note = |t: &str| notes.borrow_mut().push(t.to_owned());
    let waiting: &dyn Fn() -> Box<dyn FnOnce()> = &|| Box::new(|| {});
    let ui = Ui {
        note: &note,
        open,
        waiting,
    };
    let c = client(fake);
    let result = connect(&c, server, timeout, TICK, &ui, credentials);
    let sent = c.transport().sent();
    (result, notes.into_inner(), sent)
}

fn started() -> serde_json::Value {
    json!({"code": "c0de", "browser_url": "https://w.example/cli/c0de", "expires_at": "2026-11-26T11:10:00Z"})
}

#[test]
fn connect_prints_the_link_polls_and_prints_the_urls() {
    let opened = RefCell::new(Vec::new());
    let open = |url: &str| {
        opened.borrow_mut().push(url.to_owned());
        Err("no display".to_owned())
    };
    let fake = Fake::new()
        .answer(201, started())
        .answer(200, json!({"status": "pending"}))
        .unreachable("reset by peer")
        .answer(200, json!({"status": "connected", "id": "i", "label": "Demo", "upstream": "u",
                            "mcp_url": "https://w.example/s/S/mcp", "sse_url": "https://w.example/s/S/sse"}));
    let (result, notes, sent) = run_connect(fake, "Demo", Duration::from_secs(5), Some(&open));
    let out = result.expect("connected");
    assert_eq!(
        out.human,
        "Connected. Token refresh handled automatically.\nYour permanent MCP URL: \
         https://w.example/s/S/mcp\nLegacy SSE URL: https://w.example/s/S/sse\n"
    );
    assert_eq!(out.value()["mcp_url"], "https://w.example/s/S/mcp");
    assert_eq!(
        notes,
        [
            "Open this link to authorize: https://w.example/cli/c0de",
            "Could not open a browser (no display): open the link above yourself.",
        ]
    );
    assert_eq!(opened.into_inner(), ["https://w.example/cli/c0de"]);
    assert_eq!(sent[0].body, Some(json!({"server": "demo"})));
    assert_eq!(sent.len(), 4);
    assert!(
        sent[1..]
            .iter()
            .all(|s| s.method == Method::Get && s.url.ends_with("/api/connect/c0de"))
    );
}

#[test]
fn a_denied_flow_exits_6_with_the_servers_message() {
    let fake = Fake::new().answer(201, started()).answer(
        200,
        json!({"status": "failed", "error": "access_denied", "message": "The authorization was declined at the service."}),
    );
    let (result, notes, _) = run_connect(fake, "demo", Duration::from_secs(5), None);
    let error = result.expect_err("denied");
    assert_eq!(error.exit(), Exit::FlowFailed);
    assert_eq!(
        error.to_string(),
        "the authorization failed (access_denied): The authorization was declined at the \
         service. Run `bindify connect demo` to try again"
    );
    assert_eq!(notes.len(), 1, "no browser was asked for: {notes:?}");
}

#[test]
fn a_flow_nobody_finishes_times_out_with_exit_7() {
    let mut fake = Fake::new().answer(201, started());
    for _ in 0..200 {
        fake = fake.answer(200, json!({"status": "pending"}));
    }
    let (result, _, _) = run_connect(fake, "notion", Duration::from_millis(30), None);
    let error = result.expect_err("timeout");
    assert_eq!(error.exit(), Exit::TimedOut);
    assert!(
        error.to_string().starts_with("the authorization did not finish within 0 s (the link works until 2026-11-26T11:10:00Z). Run `bindify connect notion` again"),
        "{error}"
    );
}

#[test]
fn an_unknown_preset_names_the_builtin_ones() {
    let fake = Fake::new().answer(
        400,
        json!({"error": "invalid_request", "message": "unknown preset \"jira\""}),
    );
    let (result, _, _) = run_connect(fake, "jira", Duration::from_secs(1), None);
    let error = result.expect_err("400");
    assert_eq!(error.exit(), Exit::Usage);
    assert!(
        error.to_string().contains("notion, linear, sentry"),
        "{error}"
    );
}

#[test]
fn server_arguments() {
    assert_eq!(server_argument("Notion").expect("preset"), "notion");
    assert_eq!(
        server_argument("https://mcp.example.com/mcp").expect("url"),
        "https://mcp.example.com/mcp"
    );
    for bad in ["", "two words", "ftp://x.example/mcp", "https://"] {
        assert_eq!(
            server_argument(bad).expect_err(bad).exit(),
            Exit::Usage,
            "{bad}"
        );
    }
}

#[test]
fn status_resolves_a_label_then_fetches_the_connection() {
    let mut detailed = connection("id-1", "Notion");
    detailed["last_error"] = json!("token endpoint answered 503");
    let c = client(
        Fake::new()
            .answer(200, json!({"connections": [connection("id-1", "Notion"), connection("id-2", "Linear")]}))
            .answer(200, detailed),
    );
    let out = status(&c, "notion").expect("status");
    assert!(
        out.human
            .contains("Last error:    token endpoint answered 503"),
        "{}",
        out.human
    );
    assert_eq!(out.value()["id"], "id-1");
    assert!(
        c.transport().sent()[1]
            .url
            .ends_with("/api/connections/id-1")
    );

    let unknown =
        client(Fake::new().answer(200, json!({"connections": [connection("id-1", "Notion")]})));
    assert_eq!(
        status(&unknown, "jira").expect_err("unknown").exit(),
        Exit::NotFound
    );
}

#[test]
fn revoke_needs_a_confirmation() {
    let list = || json!({"connections": [connection("id-1", "Notion")]});
    let revoked = json!({"revoked": true, "upstream_revocation": "revoked"});

    let c = client(Fake::new().answer(200, list()));
    let error = revoke(&c, "Notion", Confirmation::Impossible).expect_err("no --yes");
    assert_eq!(error.exit(), Exit::Usage);
    assert!(error.to_string().contains("pass --yes"), "{error}");
    assert_eq!(c.transport().sent().len(), 1, "nothing was deleted");

    let c = client(Fake::new().answer(200, list()));
    let declined = revoke(&c, "Notion", Confirmation::Ask(Box::new(|_| Ok(false))));
    assert!(
        declined
            .expect_err("declined")
            .to_string()
            .contains("was not revoked")
    );
    assert_eq!(c.transport().sent().len(), 1);

    let c = client(Fake::new().answer(200, list()).answer(200, revoked.clone()));
    let out = revoke(
        &c,
        "Notion",
        Confirmation::Ask(Box::new(|q| Ok(q.starts_with("Revoke Notion (id-1")))),
    )
    .expect("revoked");
    assert_eq!(
        out.value(),
        json!({"id": "id-1", "label": "Notion", "revoked": true, "upstream_revocation": "revoked"})
    );
    assert_eq!(c.transport().sent()[1].method, Method::Delete);

    let c = client(Fake::new().answer(200, list()).answer(200, revoked));
    assert!(revoke(&c, "id-1", Confirmation::Given).is_ok());
}

#[test]
fn reconnect_says_the_dashboard_session_is_needed() {
    let c = client(
        Fake::new()
            .answer(200, json!({"connections": [connection("id-1", "Notion")]}))
            .answer(
                200,
                json!({"reconnect_url": "https://w.example/manage/id-1/reconnect"}),
            ),
    );
    let out = reconnect(&c, "Notion", None).expect("reconnect");
    assert!(out.human.starts_with("Open this link to authorize Notion (id-1) again:\nhttps://w.example/manage/id-1/reconnect\n"), "{}", out.human);
    assert!(out.human.contains("dashboard session"), "{}", out.human);
    assert_eq!(
        out.value()["reconnect_url"],
        "https://w.example/manage/id-1/reconnect"
    );
}

fn health(key: &str, token: &str, cron: Option<&str>) -> serde_json::Value {
    json!({"version": "0.1.0", "encryption_key": key, "admin_token": token, "last_cron_run": cron, "connections": 2})
}

#[test]
fn doctor_checklists() {
    let now = parse_rfc3339("2026-11-26T11:08:00Z").expect("now");
    let run = |fake: Fake| doctor(&client(fake), now);
    let levels = |out: &crate::output::Output| -> Vec<String> {
        out.value()["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .map(|c| {
                format!(
                    "{} {}",
                    c["name"].as_str().unwrap_or(""),
                    c["level"].as_str().unwrap_or("")
                )
            })
            .collect()
    };

    let healthy = run(Fake::new()
        .answer(200, json!("<html>"))
        .answer(200, health("ok", "set", Some("2026-11-26T11:05:00Z")))
        .answer(200, json!({"connections": []})));
    assert_eq!(healthy.exit, Exit::Ok);
    assert_eq!(
        levels(&healthy),
        [
            "worker reachable ok",
            "admin API ok",
            "encryption key ok",
            "admin token ok",
            "cron ok",
            "grants ok"
        ]
    );
    assert!(
        healthy
            .human
            .contains("[ok]   cron: last run 2026-11-26T11:05:00Z (3 min ago)"),
        "{}",
        healthy.human
    );

    let stale = run(Fake::new()
        .answer(200, json!(""))
        .answer(200, health("ok", "missing", Some("2026-11-26T10:00:00Z")))
        .answer(200, json!({"connections": []})));
    assert_eq!(stale.exit, Exit::Ok, "warnings do not fail");
    assert_eq!(
        levels(&stale)[3..],
        ["admin token warn", "cron warn", "grants ok"]
    );
    assert!(stale.human.contains("[triggers] crons"), "{}", stale.human);
    let never = run(Fake::new()
        .answer(200, json!(""))
        .answer(200, health("ok", "set", None))
        .answer(200, json!({"connections": []})));
    assert!(never.human.contains("never run"), "{}", never.human);

    let no_key = run(Fake::new()
        .answer(200, json!(""))
        .answer(200, health("missing", "set", None))
        .answer(200, json!({"connections": []})));
    assert_eq!(no_key.exit, Exit::Generic);
    assert!(
        no_key
            .human
            .contains("[FAIL] encryption key: TOKEN_ENCRYPTION_KEY is not set"),
        "{}",
        no_key.human
    );

    let wrong = run(Fake::new()
        .answer(200, json!(""))
        .answer(401, json!({"error": "unauthorized", "message": "m"})));
    assert_eq!(wrong.exit, Exit::Unauthorized);
    assert!(
        wrong
            .human
            .contains("[FAIL] admin API: the admin token is wrong"),
        "{}",
        wrong.human
    );
    assert!(!wrong.human.contains(TOKEN));

    let down = run(Fake::new().unreachable("connection refused"));
    assert_eq!(down.exit, Exit::Unreachable);
    assert_eq!(levels(&down), ["worker reachable fail"]);
    assert_eq!(down.value()["ok"], false);
}

#[test]
fn doctor_gives_the_fix_for_each_finding() {
    let now = parse_rfc3339("2026-11-26T11:08:00Z").expect("now");
    let run = |second: Fake| doctor(&client(second), now);
    let healthy_root = || Fake::new().answer(200, json!(""));
    // (health answer, check, level, detail, fix, exit)
    let cases: Vec<(u16, serde_json::Value, &str, &str, &str, &str, Exit)> = vec![
        (
            200,
            json!({"encryption_key": "missing", "admin_token": "set", "storage": "ok", "last_cron_run": "2026-11-26T11:05:00Z", "connections": 0}),
            "encryption key",
            "fail",
            "TOKEN_ENCRYPTION_KEY is not set, so no connection can be stored.",
            "scripts/deploy.sh",
            Exit::Generic,
        ),
        (
            200,
            json!({"encryption_key": "malformed", "admin_token": "set", "storage": "ok", "last_cron_run": "2026-11-26T11:05:00Z", "connections": 0}),
            "encryption key",
            "fail",
            "No connection is stored yet, so a new key loses nothing",
            "scripts/wrangler.sh secret delete TOKEN_ENCRYPTION_KEY && scripts/deploy.sh",
            Exit::Generic,
        ),
        (
            200,
            json!({"encryption_key": "malformed", "admin_token": "set", "storage": "ok", "last_cron_run": "2026-11-26T11:05:00Z", "connections": 3}),
            "encryption key",
            "fail",
            "Stored connections open only with the key they were sealed with: put that key back",
            "scripts/wrangler.sh secret put TOKEN_ENCRYPTION_KEY",
            Exit::Generic,
        ),
        (
            503,
            json!({"error": "admin_token_missing", "message": "m"}),
            "admin token",
            "fail",
            "the Worker has no ADMIN_TOKEN secret, so it refuses to connect or manage anything.",
            "scripts/deploy.sh",
            Exit::Generic,
        ),
        (
            503,
            json!({"error": "admin_token_weak", "message": "m"}),
            "admin token",
            "fail",
            "the Worker's ADMIN_TOKEN is shorter than 32 bytes",
            "scripts/wrangler.sh secret delete ADMIN_TOKEN && scripts/deploy.sh",
            Exit::Generic,
        ),
        (
            200,
            json!({"encryption_key": "ok", "admin_token": "set", "storage": "unbound", "last_cron_run": null, "connections": null}),
            "storage",
            "fail",
            "the Worker has no VAULT KV namespace bound",
            "scripts/deploy.sh",
            Exit::Generic,
        ),
        (
            200,
            json!({"encryption_key": "ok", "admin_token": "set", "storage": "unavailable", "last_cron_run": null, "connections": null}),
            "storage",
            "fail",
            "the VAULT KV namespace answered with an error",
            "scripts/wrangler.sh tail",
            Exit::Generic,
        ),
        (
            200,
            json!({"encryption_key": "ok", "admin_token": "set", "storage": "ok", "last_cron_run": null, "connections": 1}),
            "cron",
            "warn",
            "the cron has never run on this Worker. It runs every 5 minutes",
            "scripts/deploy.sh",
            Exit::Ok,
        ),
        (
            200,
            json!({"encryption_key": "ok", "admin_token": "missing", "storage": "ok", "last_cron_run": "2026-11-26T11:05:00Z", "connections": 1}),
            "admin token",
            "warn",
            "the Worker is open for local development, on its loopback address only",
            "scripts/deploy.sh",
            Exit::Ok,
        ),
    ];
    for (status, body, name, level, detail, fix, exit) in cases {
        let out = run(healthy_root()
            .answer(status, body.clone())
            .answer(200, json!({"connections": []})));
        assert_eq!(out.exit, exit, "{body}\n{}", out.human);
        let checks = out.value()["checks"].as_array().expect("checks").clone();
        let check = checks
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no {name} check for {body}: {checks:?}"));
        assert_eq!(check["level"], level, "{body}");
        assert!(
            check["detail"].as_str().expect("detail").contains(detail),
            "{body}: {}",
            check["detail"]
        );
        assert_eq!(check["fix"], fix, "{body}");
        assert!(
            out.human.contains(&format!("\n       fix: {fix}\n")),
            "{}",
            out.human
        );
        assert!(
            out.human
                .contains("Run each fix from the root of the Bindify checkout")
        );
    }

    // Without storage, the cron cannot be judged: no "never run" on top of it.
    let unbound = run(healthy_root().answer(
        200,
        json!({"encryption_key": "ok", "admin_token": "set", "storage": "unbound"}),
    ));
    assert!(!unbound.human.contains("cron"), "{}", unbound.human);
    // A healthy Worker has nothing to fix.
    let healthy = run(healthy_root()
        .answer(
            200,
            json!({"encryption_key": "ok", "admin_token": "set", "storage": "ok", "last_cron_run": "2026-11-26T11:05:00Z", "connections": 1}),
        )
        .answer(200, json!({"connections": []})));
    assert_eq!(healthy.exit, Exit::Ok);
    assert!(!healthy.human.contains("fix:"), "{}", healthy.human);
    assert!(healthy.value()["checks"][2].get("fix").is_none());
}

#[test]
fn login_saves_only_a_token_the_worker_accepts() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("bindify");
    let token = bindify_core::admin::AdminToken::parse(TOKEN).expect("token");

    let refused = super::login::login(
        &client(Fake::new().answer(401, json!({"error": "unauthorized", "message": "m"}))),
        &token,
        &dir,
    )
    .expect_err("401");
    assert_eq!(refused.exit(), Exit::Unauthorized);
    assert!(
        refused.to_string().contains("nothing was saved"),
        "{refused}"
    );
    assert!(!dir.join("config.json").exists());

    let out = super::login::login(
        &client(Fake::new().answer(200, health("ok", "set", None))),
        &token,
        &dir,
    )
    .expect("login");
    assert!(
        out.human.starts_with("Logged in to https://w.example."),
        "{}",
        out.human
    );
    assert!(!out.human.contains(TOKEN) && !out.json.contains(TOKEN));
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).expect("read"))
            .expect("json");
    assert_eq!(
        saved,
        json!({"worker_url": "https://w.example", "admin_token": TOKEN})
    );
}

#[test]
fn an_expired_code_is_a_timeout_and_a_collected_one_a_failure() {
    let expired = json!({"code": "c0de", "browser_url": "https://w.example/cli/c0de", "expires_at": "2020-01-01T00:00:00Z"});
    let gone = json!({"error": "not_found", "message": "unknown, expired or already used"});
    let (result, _, _) = run_connect(
        Fake::new().answer(201, expired).answer(404, gone.clone()),
        "demo",
        Duration::from_secs(5),
        None,
    );
    assert_eq!(result.expect_err("expired").exit(), Exit::TimedOut);

    let fresh = json!({"code": "c0de", "browser_url": "https://w.example/cli/c0de", "expires_at": "2999-01-01T00:00:00Z"});
    let (result, _, _) = run_connect(
        Fake::new().answer(201, fresh).answer(404, gone),
        "demo",
        Duration::from_secs(5),
        None,
    );
    let error = result.expect_err("collected elsewhere");
    assert_eq!(error.exit(), Exit::FlowFailed);
    assert!(error.to_string().contains("already collected"), "{error}");
}

#[test]
fn doctor_reports_grants_that_end_within_a_week() {
    let now = parse_rfc3339("2026-11-26T11:08:00Z").expect("now");
    let connection = |id: &str, label: &str, ends: Option<&str>| json!({"id": id, "label": label, "upstream": "https://mcp.sentry.dev/mcp", "state": "active", "grant_expires_at": ends});
    let out = doctor(
        &client(
            Fake::new()
                .answer(200, json!(""))
                .answer(200, health("ok", "set", Some("2026-11-26T11:05:00Z")))
                .answer(
                    200,
                    json!({"connections": [
                        connection("a", "Sentry", Some("2026-11-29T11:08:00Z")),
                        connection("b", "Notion", Some("2026-12-20T11:08:00Z")),
                        connection("c", "Docs", None),
                    ]}),
                ),
        ),
        now,
    );
    assert_eq!(out.exit, Exit::Ok, "a warning does not fail");
    assert!(
        out.human.contains(
            "[warn] grants: 1 grant(s) end within 7 days, whatever Bindify does: Sentry (a) ends 2026-11-29T11:08:00Z (in 3 days): run `bindify reconnect Sentry`"
        ),
        "{}",
        out.human
    );
    assert!(!out.human.contains("Notion (b)"));
}

#[test]
fn a_client_id_is_saved_on_the_worker_before_the_browser_flow() {
    let fake = Fake::new()
        .answer(200, json!({"issuer": "https://github.com/login/oauth", "client_id": "Iv1.a", "redirect_uri": "https://w.example/oauth/callback"}))
        .answer(201, started())
        .answer(200, json!({"status": "connected", "id": "i", "label": "GitHub", "upstream": "u",
                            "mcp_url": "https://w.example/s/S/mcp", "sse_url": "https://w.example/s/S/sse"}));
    let credentials = Credentials {
        client_id: Some("Iv1.a".into()),
        client_secret: Some(zeroize::Zeroizing::new("gh-secret".into())),
        ..Credentials::default()
    };
    let (result, notes, sent) = run_connect_with(
        fake,
        "https://api.githubcopilot.com/mcp/",
        Duration::from_secs(5),
        None,
        &credentials,
    );
    result.expect("connected");
    assert_eq!(sent[0].method, Method::Put);
    assert!(sent[0].url.ends_with("/api/clients"));
    assert_eq!(
        sent[0].body,
        Some(
            json!({"server": "https://api.githubcopilot.com/mcp/", "client_id": "Iv1.a", "client_secret": "gh-secret"})
        )
    );
    assert!(sent[1].url.ends_with("/api/connect"));
    assert_eq!(
        notes[0],
        "Saved the client Iv1.a for https://github.com/login/oauth: every connection there uses it."
    );
    assert!(!format!("{credentials:?}").contains("gh-secret"));
}

#[test]
fn an_api_key_connects_without_a_browser() {
    let fake = Fake::new().answer(
        201,
        json!({"status": "connected", "id": "k", "label": "mcp.example.com",
        "upstream": "https://mcp.example.com/mcp", "kind": "api_key",
        "mcp_url": "https://w.example/s/K/mcp", "sse_url": "https://w.example/s/K/sse"}),
    );
    let credentials = Credentials {
        api_key: Some(zeroize::Zeroizing::new("sk-1".into())),
        header: Some("X-API-Key".into()),
        ..Credentials::default()
    };
    let (result, notes, sent) = run_connect_with(
        fake,
        "https://mcp.example.com/mcp",
        Duration::from_secs(5),
        None,
        &credentials,
    );
    assert!(
        result
            .expect("connected")
            .human
            .contains("https://w.example/s/K/mcp")
    );
    assert!(notes.is_empty(), "no browser: {notes:?}");
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].body,
        Some(
            json!({"server": "https://mcp.example.com/mcp", "kind": "api_key", "header_name": "X-API-Key", "api_key": "sk-1"})
        )
    );

    let refused = Fake::new().answer(
        400,
        json!({"error": "api_key_refused", "message": "the MCP server refused the API key (HTTP 401). Nothing was stored."}),
    );
    let (result, _, _) = run_connect_with(
        refused,
        "https://mcp.example.com/mcp",
        Duration::from_secs(5),
        None,
        &credentials,
    );
    let error = result.expect_err("refused");
    assert_eq!(error.exit(), Exit::Usage);
    assert_eq!(
        error.to_string(),
        "the Worker cannot connect https://mcp.example.com/mcp this way (api_key_refused): the MCP server refused the API key (HTTP 401). Nothing was stored"
    );
}
