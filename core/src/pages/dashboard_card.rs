//! One connection on the dashboard: its label (editable), the upstream, a badge with the next
//! step, its token and creation time, and the actions, Reconnect first.

use super::layout::escape;
use super::standing::{GrantEnd, ReauthReason, Standing, grant_end, standing};
use super::times::time_element;
use crate::time::{UnixMillis, parse_rfc3339};
use crate::vault::record::{ConnectionKind, ConnectionView};

/// The card of `view`, seen at `now`.
#[cfg(test)]
pub fn connection_card(view: &ConnectionView, now: UnixMillis) -> String {
    connection_card_with(view, "", now)
}

/// The card of `view` with `section` (its activity) between its facts and its actions.
pub fn connection_card_with(view: &ConnectionView, section: &str, now: UnixMillis) -> String {
    let standing = standing(view, now);
    let id = escape(&view.id);
    let label = escape(&view.label);
    let at = |text: Option<&str>| text.and_then(parse_rfc3339).map(|t| time_element(t, now));
    // A stated end shows even while it is far off; the badge warns a week ahead.
    let grant_ends = match grant_end(view) {
        Some((end, GrantEnd::Stated)) => format!(
            r#"<div><dt>Grant ends</dt><dd class="grant-ends">{}</dd></div>"#,
            time_element(end, now)
        ),
        _ => String::new(),
    };
    // An API key or an open server has no token that expires.
    let token_fact = match view.kind {
        ConnectionKind::ApiKey | ConnectionKind::Open => String::new(),
        _ => format!(
            r#"<div><dt>Token</dt><dd class="expires">{}</dd></div>"#,
            token_fact(view, &standing, now)
        ),
    };
    let created = at(Some(&view.created_at)).unwrap_or_else(|| escape(&view.created_at));
    let reconnect_class = if standing.needs_reconnect() {
        "button primary"
    } else {
        "button secondary"
    };
    format!(
        r#"<article class="connection" data-id="{id}" data-standing="{key}" aria-labelledby="label-{id}">
<header class="card-head">
<div class="label-view"><h2 class="label" id="label-{id}">{label}</h2><button class="link edit-label" type="button" aria-label="Edit the label {label}">Edit</button></div>
<form class="label-edit" hidden>
<label for="label-input-{id}">Label</label>
<div class="label-row"><input id="label-input-{id}" name="label" value="{label}" maxlength="100" required autocomplete="off">
<button type="submit">Save</button><button class="secondary" type="button" data-label="cancel">Cancel</button></div>
</form>
<span class="badge badge-{key}" data-state="{state}">{badge}</span>
</header>
<p class="label-feedback" role="status"></p>
<p class="upstream">{upstream}</p>
<p class="next-step">{next}</p>
<dl class="facts">
<div><dt>Kind</dt><dd class="kind" data-kind="{kind_key}">{kind}</dd></div>
{token_fact}{grant_ends}
<div><dt>Connected</dt><dd class="created">{created}</dd></div>
</dl>
{section}
<div class="actions">
<a class="{reconnect_class}" data-action="reconnect" href="/manage/{id}/reconnect">Reconnect</a>
<button class="secondary" type="button" data-action="rotate">Rotate URL</button>
<button class="danger" type="button" data-action="revoke">Revoke</button>
</div>
</article>"#,
        key = standing.key(),
        state = state_name(view),
        badge = standing.label(),
        upstream = escape(&view.upstream),
        next = next_step(&standing, view.kind, view.last_error.as_deref(), now),
        kind_key = kind_key(view.kind),
        kind = kind_name(view.kind),
    )
}

/// What the card says of the token: when the grant ends with it (no refresh token), when it
/// expires (in the object's own view), or that it is refreshed automatically.
fn token_fact(view: &ConnectionView, standing: &Standing, now: UnixMillis) -> String {
    // A refused grant's token is never sent again, whatever its expiry.
    if *standing == Standing::NeedsReauth(ReauthReason::Refused) {
        return "not in use".into();
    }
    if let Some((end, GrantEnd::NoRefreshToken)) = grant_end(view) {
        return format!("ends {}", time_element(end, now));
    }
    match view
        .access_token_expires_at
        .as_deref()
        .and_then(parse_rfc3339)
    {
        Some(expires) => format!(
            "expires {}, refreshed before then",
            time_element(expires, now)
        ),
        None if view.refreshable && view.token_expires => "refreshed automatically".into(),
        None => "states no expiry".into(),
    }
}

/// The sentence under the badge: what is going on and what happens next.
fn next_step(
    standing: &Standing,
    kind: ConnectionKind,
    last_error: Option<&str>,
    now: UnixMillis,
) -> String {
    let error = last_error
        .filter(|e| !e.is_empty())
        .map(|e| format!(r#" <span class="last-error">({})</span>"#, escape(e)))
        .unwrap_or_default();
    match standing {
        Standing::NeedsReauth(ReauthReason::Refused) => format!(
            "The authorization server no longer accepts this grant{error}. Reconnect to \
             authorize again: the URL stays the same."
        ),
        Standing::NeedsReauth(ReauthReason::Ended { at }) => format!(
            "The access token expired {} and the service issued no refresh token. Reconnect to \
             authorize again: the URL stays the same.",
            time_element(*at, now)
        ),
        Standing::ServerFailing { retry_at } => {
            let when = match retry_at {
                Some(at) if *at > now => time_element(*at, now),
                _ => "on its own shortly, and with the next request".into(),
            };
            format!(
                "Refreshing the token failed{error}. Bindify keeps the tokens and tries again \
                 {when}."
            )
        }
        Standing::GrantEnding {
            at,
            why: GrantEnd::NoRefreshToken,
        } => format!(
            "The service issued no refresh token, so this grant ends {}. Reconnect then to keep \
             the URL working.",
            time_element(*at, now)
        ),
        Standing::GrantEnding {
            at,
            why: GrantEnd::Stated,
        } => format!(
            "The service ends this grant {} whatever Bindify does. Reconnect before then to \
             keep the URL working.",
            time_element(*at, now)
        ),
        Standing::Active { .. } if kind == ConnectionKind::ApiKey => {
            "Ready. Bindify sends the API key on every request; Reconnect to enter a new one."
                .into()
        }
        Standing::Active { .. } if kind == ConnectionKind::Open => {
            "Ready. This server needs no credential.".into()
        }
        Standing::Active { .. } if kind == ConnectionKind::ClientCredentials => {
            "Ready. Bindify asks for a new token with the client's credentials before this one \
             expires."
                .into()
        }
        Standing::Active { expires: true } => {
            "Ready. Bindify refreshes the token on its own before it expires.".into()
        }
        Standing::Active { expires: false } => {
            "Ready. The token states no expiry; Bindify refreshes it if the server rejects it."
                .into()
        }
    }
}

/// How the connection authorizes, as the card names it.
fn kind_name(kind: ConnectionKind) -> &'static str {
    match kind {
        ConnectionKind::Oauth => "OAuth",
        ConnectionKind::ClientCredentials => "Client credentials",
        ConnectionKind::IdentityAssertion => "Identity assertion",
        ConnectionKind::ApiKey => "API key",
        ConnectionKind::Open => "Open",
    }
}

fn kind_key(kind: ConnectionKind) -> &'static str {
    match kind {
        ConnectionKind::Oauth => "oauth",
        ConnectionKind::ClientCredentials => "client_credentials",
        ConnectionKind::IdentityAssertion => "identity_assertion",
        ConnectionKind::ApiKey => "api_key",
        ConnectionKind::Open => "open",
    }
}

/// The record's state as the API names it, for tests and scripts.
fn state_name(view: &ConnectionView) -> &'static str {
    match view.state {
        crate::vault::record::ConnectionState::Active => "active",
        crate::vault::record::ConnectionState::NeedsReauth => "needs_reauth",
        crate::vault::record::ConnectionState::Error => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::rfc3339;
    use crate::vault::record::ConnectionState;

    const NOW: UnixMillis = 1_795_690_200_000; // 2026-11-26T10:50:00Z
    const MIN: i64 = 60_000;

    /// A refreshable connection as the listing shows it.
    fn view(state: ConnectionState) -> ConnectionView {
        ConnectionView {
            id: "c1".into(),
            label: "<Work>".into(),
            upstream: "https://mcp.example.com/mcp".into(),
            state,
            access_token_expires_at: None,
            last_refresh_at: None,
            last_error: None,
            created_at: rfc3339(NOW - 3 * 86_400_000),
            refreshable: true,
            token_expires: true,
            next_attempt_at: None,
            kind: crate::vault::record::ConnectionKind::Oauth,
            grant_expires_at: None,
        }
    }

    #[test]
    fn an_active_connection_reads_at_a_glance() {
        let html = connection_card(&view(ConnectionState::Active), NOW);
        assert!(html.contains(r#"data-standing="active""#));
        assert!(
            html.contains(r#"<span class="badge badge-active" data-state="active">Active</span>"#)
        );
        assert!(html.contains(r#"<h2 class="label" id="label-c1">&lt;Work&gt;</h2>"#));
        assert!(html.contains(r#"value="&lt;Work&gt;""#));
        assert!(html.contains("Ready. Bindify refreshes the token on its own before it expires."));
        assert!(html.contains(r#"<dd class="expires">refreshed automatically</dd>"#));
        assert!(html.contains(">3 days ago</time>"));
        assert!(html.contains(
            r#"<a class="button secondary" data-action="reconnect" href="/manage/c1/reconnect">"#
        ));
        // The object's own view states the expiry.
        let mut live = view(ConnectionState::Active);
        live.access_token_expires_at = Some(rfc3339(NOW + 52 * MIN));
        let html = connection_card(&live, NOW);
        assert!(
            html.contains(r#"<dd class="expires">expires <time datetime="2026-11-26T11:42:00Z""#)
        );
        assert!(html.contains(">in 52 min</time>, refreshed before then</dd>"));
        assert!(
            !html.contains("2026-11-26T11:42:00Z<"),
            "no raw RFC 3339 as text"
        );
        let mut no_expiry = view(ConnectionState::Active);
        no_expiry.token_expires = false;
        let html = connection_card(&no_expiry, NOW);
        assert!(html.contains(r#"<dd class="expires">states no expiry</dd>"#));
        assert!(html.contains("The token states no expiry;"));
    }

    #[test]
    fn a_lost_grant_leads_with_reconnect_and_says_why() {
        let mut v = view(ConnectionState::NeedsReauth);
        v.last_error = Some("invalid_grant: <revoked>".into());
        let html = connection_card(&v, NOW);
        assert!(html.contains(r#"data-state="needs_reauth">Needs re-authorization</span>"#));
        assert!(html.contains(r#"<a class="button primary" data-action="reconnect""#));
        assert!(
            html.contains("(invalid_grant: &lt;revoked&gt;)</span>. Reconnect to authorize again")
        );
        assert!(html.contains(r#"<dd class="expires">not in use</dd>"#));
        let reconnect = html.find(r#"data-action="reconnect""#).expect("reconnect");
        let rotate = html.find(r#"data-action="rotate""#).expect("rotate");
        assert!(reconnect < rotate, "Reconnect comes first");
    }

    #[test]
    fn a_failing_server_says_when_bindify_tries_again() {
        let mut v = view(ConnectionState::Error);
        v.last_error = Some("the token endpoint answered 503".into());
        v.next_attempt_at = Some(rfc3339(NOW + 4 * MIN));
        let html = connection_card(&v, NOW);
        assert!(html.contains(">Authorization server failing</span>"));
        assert!(html.contains("tries again <time datetime=\"2026-11-26T10:54:00Z\""));
        assert!(html.contains(">in 4 min</time>."));
        // A listing does not say when: the object's alarm and the next request try.
        v.next_attempt_at = None;
        let html = connection_card(&v, NOW);
        assert!(html.contains("tries again on its own shortly, and with the next request."));
    }

    #[test]
    fn a_stated_grant_end_is_a_fact_and_a_warning_within_a_week() {
        let mut v = view(ConnectionState::Active);
        v.grant_expires_at = Some(rfc3339(NOW + 20 * 86_400_000));
        let html = connection_card(&v, NOW);
        assert!(html.contains(r#"data-standing="active""#));
        assert!(html.contains(
            r#"<dt>Grant ends</dt><dd class="grant-ends"><time datetime="2026-12-16T10:50:00Z""#
        ));
        // The token itself is still renewed until then.
        assert!(html.contains(r#"<dd class="expires">refreshed automatically</dd>"#));
        v.grant_expires_at = Some(rfc3339(NOW + 3 * 86_400_000));
        let html = connection_card(&v, NOW);
        assert!(html.contains(">Grant ending</span>"));
        assert!(html.contains("The service ends this grant <time"));
        assert!(html.contains(">in 3 days</time> whatever Bindify does."));
    }

    #[test]
    fn an_api_key_connection_says_what_it_sends() {
        let mut v = view(ConnectionState::Active);
        v.kind = ConnectionKind::ApiKey;
        v.access_token_expires_at = None;
        v.refreshable = false;
        let html = connection_card(&v, NOW);
        assert!(html.contains(r#"<dd class="kind" data-kind="api_key">API key</dd>"#));
        assert!(html.contains("Bindify sends the API key on every request"));
        assert!(!html.contains(r#"class="expires""#));
    }

    #[test]
    fn a_grant_that_ends() {
        let mut v = view(ConnectionState::Active);
        v.refreshable = false;
        v.access_token_expires_at = Some(rfc3339(NOW + 10 * MIN));
        let html = connection_card(&v, NOW);
        assert!(html.contains(">Grant ending</span>"));
        assert!(html.contains("so this grant ends <time"));
        assert!(html.contains(r#"<dd class="expires">ends <time"#));
        assert!(html.contains(r#"class="button primary" data-action="reconnect""#));
    }
}
