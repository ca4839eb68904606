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
    let mut linear = conn("id-2", "Linear ✓");
    linear.upstream = "https://mcp.linear.app/mcp".into();
    linear.state = "needs_reauth".into();
    linear.access_token_expires_at = None;
    linear.last_refresh_at = None;
    let mut notion = conn("id-1", "Notion");
    notion.grant_expires_at = Some("2026-12-20T11:08:00Z".into());
    linear.grant_expires_at = Some("2026-11-29T11:08:00Z".into());
    let text = table(&[notion, linear], now());
    assert_eq!(
        text,
        "ID    LABEL     UPSTREAM                    STATE         TOKEN EXPIRES  LAST REFRESH  GRANT ENDS\n\
         id-1  Notion    https://mcp.notion.com/mcp  active        in 42 min      18 min ago    in 24 days\n\
         id-2  Linear ✓  https://mcp.linear.app/mcp  needs_reauth  -              -             in 3 days!\n"
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
            },
        )
    };
    assert_eq!(
        text("revoked"),
        "Revoked Notion (id-1): its URL no longer works.\n\
         https://mcp.notion.com/mcp revoked the tokens too.\n"
    );
    assert!(text("unsupported").contains("does not support token revocation"));
    assert!(text("failed").contains("stay valid there until they expire"));
}

#[test]
fn rotated_prints_the_new_urls() {
    let urls = PermanentUrls {
        mcp_url: "https://w.example/s/N/mcp".into(),
        sse_url: "https://w.example/s/N/sse".into(),
    };
    let text = rotated(&conn("id-1", "Notion"), &urls);
    assert!(text.contains("The old URL stopped working"));
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
