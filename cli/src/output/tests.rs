use super::*;
use crate::clock::parse_rfc3339;

fn now() -> UnixMillis {
    parse_rfc3339("2026-11-26T11:08:00Z").expect("now")
}

fn conn(id: &str, label: &str) -> Connection {
    Connection {
        id: id.into(),
        label: label.into(),
        upstream: "https://mcp.notion.com/mcp".into(),
        state: "active".into(),
        access_token_expires_at: Some("2026-11-26T11:50:00Z".into()),
        last_refresh_at: Some("2026-11-26T10:50:00Z".into()),
        last_error: None,
        created_at: Some("2026-11-20T09:00:00Z".into()),
        kind: None,
        grant_expires_at: None,
        refreshable: true,
        token_expires: true,
        activity: None,
    }
}

#[test]
fn connected_prints_exactly_three_lines() {
    let c = Connected {
        id: "i".into(),
        label: "Demo".into(),
        upstream: "u".into(),
        mcp_url: "https://w.example/s/S/mcp".into(),
        sse_url: "https://w.example/s/S/sse".into(),
    };
    assert_eq!(
        connected(&c),
        "Connected. Token refresh handled automatically.\n\
         Your permanent MCP URL: https://w.example/s/S/mcp\n\
         Legacy SSE URL: https://w.example/s/S/sse\n"
    );
}

#[test]
fn table_aligns_columns() {
    // As listed: a refreshable grant's expiry is not there, a grant that ends shows its end.
    let mut notion = conn("id-1", "Notion");
    notion.access_token_expires_at = None;
    notion.last_refresh_at = None;
    let mut linear = conn("id-2", "Linear ✓");
    linear.upstream = "https://mcp.linear.app/mcp".into();
    linear.refreshable = false;
    let mut asana = conn("id-3", "Asana");
    asana.upstream = "https://mcp.asana.com/sse".into();
    asana.state = "needs_reauth".into();
    asana.access_token_expires_at = None;
    asana.token_expires = false;
    notion.grant_expires_at = Some("2026-12-20T11:08:00Z".into());
    linear.grant_expires_at = Some("2026-11-29T11:08:00Z".into());
    let text = table(&[notion, linear, asana], now());
    assert_eq!(
        text,
        "ID    LABEL     UPSTREAM                    STATE         LAST USED  TOKEN EXPIRES   GRANT ENDS\n\
         id-1  Notion    https://mcp.notion.com/mcp  active        -          auto-refreshed  in 24 days\n\
         id-2  Linear ✓  https://mcp.linear.app/mcp  active        -          in 42 min       in 3 days!\n\
         id-3  Asana     https://mcp.asana.com/sse   needs_reauth  -          -               -\n"
    );
    assert!(table(&[], now()).contains("bindify connect"));
}

#[test]
fn details_show_the_last_error_and_what_the_state_means() {
    let mut c = conn("id-1", "Notion");
    c.state = "needs_reauth".into();
    c.last_error = Some("invalid_grant: the grant was revoked".into());
    c.last_refresh_at = None;
    assert_eq!(
        details(&c, now()),
        "Label:         Notion\n\
         Id:            id-1\n\
         Upstream:      https://mcp.notion.com/mcp\n\
         State:         needs_reauth (the grant is gone upstream: run `bindify reconnect`)\n\
         Kind:          OAuth (authorized in the browser)\n\
         Grant ends:    not stated\n\
         Token expires: 2026-11-26T11:50:00Z (in 42 min)\n\
         Last refresh:  never\n\
         Last error:    invalid_grant: the grant was revoked\n\
         Created:       2026-11-20T09:00:00Z (6 days ago)\n"
    );
}

#[test]
fn revocation_outcomes() {
    let c = conn("id-1", "Notion");
    let text = |outcome: &str| {
        revoked(
            &c,
            &Revoked {
                revoked: true,
                upstream_revocation: outcome.into(),
                old_url_answers_for_seconds: 10,
            },
        )
    };
    assert_eq!(
        text("revoked"),
        "Revoked Notion (id-1). The old URL can still answer for up to 10 seconds, then stops \
         working.\n\
         https://mcp.notion.com/mcp revoked the tokens too.\n"
    );
    // A Worker that states no bound (an earlier version) stopped the URL at once.
    let earlier: Revoked =
        serde_json::from_str(r#"{"revoked":true,"upstream_revocation":"revoked"}"#).expect("json");
    assert!(
        revoked(&c, &earlier)
            .starts_with("Revoked Notion (id-1). The old URL stops working at once.\n")
    );
    assert!(text("unsupported").contains("does not support token revocation"));
    assert!(text("failed").contains("stay valid there until they expire"));
}

#[test]
fn rotated_prints_the_new_urls() {
    let urls = PermanentUrls {
        mcp_url: "https://w.example/s/N/mcp".into(),
        sse_url: "https://w.example/s/N/sse".into(),
        old_url_answers_for_seconds: 1,
    };
    let text = rotated(&conn("id-1", "Notion"), &urls);
    assert!(text.starts_with(
        "New permanent URL for Notion (id-1). The old URL can still answer for up to 1 second, \
         then stops working. Update your MCP clients.\n"
    ));
    assert!(text.ends_with(
        "Your permanent MCP URL: https://w.example/s/N/mcp\nLegacy SSE URL: https://w.example/s/N/sse\n"
    ));
}

#[test]
fn details_warn_of_a_grant_that_ends_within_a_week() {
    let mut c = conn("id-1", "Sentry");
    c.kind = Some("oauth".into());
    c.grant_expires_at = Some("2026-11-30T11:08:00Z".into());
    assert!(details(&c, now()).contains(
        "Grant ends:    2026-11-30T11:08:00Z (in 4 days): reconnect before then to keep the URL working (`bindify reconnect Sentry`)\n"
    ));
    c.grant_expires_at = Some("2026-12-30T11:08:00Z".into());
    assert!(details(&c, now()).contains("Grant ends:    2026-12-30T11:08:00Z (in 34 days)\n"));
    c.kind = Some("api_key".into());
    assert!(details(&c, now()).contains("Kind:          API key\n"));
}

fn with_activity(c: &mut Connection) {
    use bindify_core::lifecycle::activity::{
        Activity, Batch, Place, RefreshNote, RefreshResult, RefreshTrigger,
    };
    let at = |text: &str| parse_rfc3339(text).expect("time");
    let mut activity = Activity::default();
    let mut batch = Batch::default();
    let ams = Place::reported(Some("AMS".into()), Some("NL".into()));
    batch.note(at("2026-11-26T09:00:00Z"), ams.as_ref(), false);
    batch.note(at("2026-11-26T11:05:00Z"), ams.as_ref(), true);
    activity.merge(&batch, now());
    let mut far = Batch::default();
    far.note(
        at("2026-11-26T09:08:00Z"),
        Place::reported(Some("GRU".into()), Some("BR".into())).as_ref(),
        false,
    );
    activity.merge(&far, now());
    activity.note_refresh(RefreshNote {
        at: at("2026-11-26T10:50:00Z"),
        trigger: RefreshTrigger::Alarm,
        outcome: RefreshResult::Refreshed,
    });
    c.activity = Some(activity.view(now()));
}

#[test]
fn the_list_says_when_and_where_each_url_was_last_used() {
    let mut notion = conn("id-1", "Notion");
    with_activity(&mut notion);
    let text = table(&[notion], now());
    assert_eq!(
        text,
        "ID    LABEL   UPSTREAM                    STATE   LAST USED                TOKEN EXPIRES  GRANT ENDS\n\
         id-1  Notion  https://mcp.notion.com/mcp  active  3 min ago from AMS (NL)  in 42 min      -\n"
    );
}

#[test]
fn status_shows_the_activity() {
    let mut c = conn("id-1", "Notion");
    with_activity(&mut c);
    let text = details(&c, now());
    assert!(
        text.ends_with(
            "Created:       2026-11-20T09:00:00Z (6 days ago)\n\
             Last used:     3 min ago from AMS (NL)\n\
             Last 24 h:     3 requests, 1 error\n\
             Last 7 days:   3 requests, 1 error\n\
             Refreshes:     2026-11-26T10:50:00Z (18 min ago) by alarm: refreshed\n\
             New places:    First use from BR (GRU) 2 h ago — if that was not you, rotate the URL.\n"
        ),
        "{text}"
    );
}
