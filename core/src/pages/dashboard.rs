//! `GET /manage`: the owner's connections, one card each (see [`super::dashboard_card`]), with
//! the label editable, reconnect, and rotate and revoke behind an in-page confirmation. Actions
//! call the management API with the session cookie.

use super::copy::copy_script;
use std::collections::BTreeMap;

use super::dashboard_activity::{ACTIVITY_SCRIPT, ACTIVITY_STYLE, activity_section};
use super::dashboard_card::connection_card_with;
use super::dashboard_clients::{CLIENTS_SCRIPT, CLIENTS_STYLE, clients_section};
use super::dashboard_script::DASHBOARD_SCRIPT;
use super::dashboard_style::DASHBOARD_STYLE;
use super::layout::{escape, page_with_style};
use crate::connect::owner_client::OwnerClientListing;
use crate::lifecycle::activity::view::ActivityView;
use crate::time::UnixMillis;
use crate::vault::record::ConnectionView;

/// What the dashboard shows.
pub struct Dashboard<'a> {
    pub connections: &'a [ConnectionView],
    /// Each connection's activity, by id; one missing could not be read.
    pub activity: &'a BTreeMap<String, ActivityView>,
    /// The server's clock: relative times are computed from it, not from the browser's.
    pub now: UnixMillis,
    /// How long a URL can still answer after it was rotated away or revoked: 0 is "at once".
    pub old_url_answers_for_seconds: u64,
    /// Open local development (no `ADMIN_TOKEN`): say that anyone who reaches it can manage.
    pub local_development_notice: bool,
    /// The clients the owner registered by hand.
    pub entered_clients: &'a [OwnerClientListing],
    /// The callback URL to register them with.
    pub redirect_uri: &'a str,
}

/// The one sentence about an old URL, in every confirmation and after a rotation.
pub fn old_url_sentence(seconds: u64) -> String {
    match seconds {
        0 => "The old URL stops working at once.".into(),
        1 => "The old URL can still answer for up to 1 second, then stops working.".into(),
        n => format!("The old URL can still answer for up to {n} seconds, then stops working."),
    }
}

pub fn dashboard_page(model: &Dashboard) -> String {
    let notice = if model.local_development_notice {
        r#"<p class="notice" id="open-notice">Local development: no <code>ADMIN_TOKEN</code> is set, so anyone who can reach this Worker can manage these connections.</p>"#
    } else {
        ""
    };
    let cards: String = model
        .connections
        .iter()
        .map(|c| {
            let section = activity_section(model.activity.get(&c.id), model.now);
            connection_card_with(c, &section, model.now)
        })
        .collect();
    let empty = if model.connections.is_empty() {
        r#"<p id="no-connections">No connections yet. <a href="/">Connect a service</a>.</p>"#
    } else {
        ""
    };
    let old_url = escape(&old_url_sentence(model.old_url_answers_for_seconds));
    let body = format!(
        r##"<div class="page-head">
<h1>Connections</h1>
<nav class="page-links"><a href="/">Connect another service</a><button class="link" type="button" id="logout">Sign out</button></nav>
</div>
{notice}
<p id="status-line" role="status" tabindex="-1"></p>
{empty}
<div id="connections" data-now="{now}">
{cards}
</div>
<section id="new-urls" class="new-urls" hidden aria-labelledby="new-urls-title">
<h3 id="new-urls-title" tabindex="-1">New permanent URLs</h3>
<p>{old_url} Copy these now: they are shown once.</p>
<p class="url-kind">Streamable HTTP</p>
<div class="url-row"><code class="url" id="mcp-url"></code><button class="secondary" type="button" data-copy-target="mcp-url">Copy</button></div>
<p class="url-kind">HTTP+SSE</p>
<div class="url-row"><code class="url" id="sse-url"></code><button class="secondary" type="button" data-copy-target="sse-url">Copy</button></div>
</section>
<dialog id="rotate-dialog" class="confirm" aria-labelledby="rotate-title" aria-describedby="rotate-text">
<form method="dialog">
<h2 id="rotate-title">Rotate the URL of <span class="confirm-label"></span>?</h2>
<div id="rotate-text">
<p>Bindify issues a new permanent URL for this connection and keeps its authorization. {old_url} Every client using it needs the new URL, which is shown once.</p>
</div>
<div class="dialog-actions"><button class="secondary" value="cancel" autofocus>Cancel</button><button class="danger" value="confirm">Rotate URL</button></div>
</form>
</dialog>
<dialog id="revoke-dialog" class="confirm" aria-labelledby="revoke-title" aria-describedby="revoke-text">
<form method="dialog">
<h2 id="revoke-title">Revoke <span class="confirm-label"></span>?</h2>
<div id="revoke-text">
<p>Bindify deletes this connection and asks the authorization server to revoke its tokens. {old_url} This cannot be undone: to use the service again, connect it anew.</p>
</div>
<div class="dialog-actions"><button class="secondary" value="cancel" autofocus>Cancel</button><button class="danger" value="confirm">Revoke</button></div>
</form>
</dialog>
{clients}
<script>{copy}</script>
<script>{script}</script>
<script>{clients_script}</script>
<script>{activity_script}</script>"##,
        clients = clients_section(model.entered_clients, model.redirect_uri),
        clients_script = CLIENTS_SCRIPT,
        activity_script = ACTIVITY_SCRIPT,
        now = model.now,
        copy = copy_script(),
        script = DASHBOARD_SCRIPT,
    );
    let style = format!("{DASHBOARD_STYLE}{CLIENTS_STYLE}{ACTIVITY_STYLE}");
    page_with_style("Connections", "dashboard", &style, &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::rfc3339;
    use crate::vault::record::ConnectionState;

    const NOW: UnixMillis = 1_795_690_200_000;

    fn model(connections: &[ConnectionView], grace: u64, open: bool) -> String {
        dashboard_page(&Dashboard {
            connections,
            activity: &BTreeMap::new(),
            now: NOW,
            old_url_answers_for_seconds: grace,
            local_development_notice: open,
            entered_clients: &[],
            redirect_uri: "https://b.example/oauth/callback",
        })
    }

    #[test]
    fn lists_connections_with_actions_and_the_servers_clock() {
        let view = ConnectionView {
            id: "abc".into(),
            label: "<Work>".into(),
            upstream: "https://mcp.notion.com/mcp".into(),
            state: ConnectionState::NeedsReauth,
            access_token_expires_at: None,
            last_refresh_at: None,
            last_error: Some("invalid_grant".into()),
            created_at: rfc3339(NOW - 60_000),
            refreshable: true,
            token_expires: true,
            next_attempt_at: None,
            kind: crate::vault::record::ConnectionKind::Oauth,
            grant_expires_at: None,
        };
        let html = model(&[view], 0, true);
        assert!(html.contains(r#"<article class="connection" data-id="abc""#));
        assert!(html.contains("&lt;Work&gt;"));
        assert!(html.contains(r#"data-standing="needs-reauth""#));
        assert!(html.contains(r#"id="open-notice""#));
        assert!(html.contains(r#"<div id="connections" data-now="1795690200000">"#));
        for action in ["reconnect", "rotate", "revoke"] {
            assert!(html.contains(&format!(r#"data-action="{action}""#)));
        }
        assert!(!html.contains("confirm("), "no window.confirm");
        assert!(model(&[], 0, false).contains(r#"id="no-connections""#));
        assert!(!model(&[], 0, false).contains(r#"id="open-notice""#));
    }

    #[test]
    fn confirmations_say_how_long_the_old_url_answers() {
        let html = model(&[], 0, false);
        assert_eq!(
            html.matches("The old URL stops working at once.").count(),
            3
        );
        let html = model(&[], 5, false);
        assert_eq!(
            html.matches("The old URL can still answer for up to 5 seconds, then stops working.")
                .count(),
            3
        );
        assert!(!html.contains("at once"));
        assert_eq!(
            old_url_sentence(1),
            "The old URL can still answer for up to 1 second, then stops working."
        );
    }
}
