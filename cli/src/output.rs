//! What each command prints, as pure functions of the API's answers (and the time, for
//! "in 42 min"), so the exact text is unit tested.

use bindify_core::lifecycle::activity::view::{
    ActivityView, counts_text, last_used_text, notice_text, outcome_text, trigger_text,
};
use bindify_core::pages::old_url_sentence;
use bindify_core::time::UnixMillis;
use serde::Serialize;

use crate::api::types::{Connected, Connection, PermanentUrls, Revoked};
use crate::clock::{parse_rfc3339, relative};
use crate::error::Exit;

/// A command's result: text for people, JSON for `--json` (rendered from a struct, so its
/// keys keep their documented order). Both go to stdout.
#[derive(Debug)]
pub struct Output {
    pub human: String,
    pub json: String,
    /// Non-zero for a report that is printed and still fails (`doctor`).
    pub exit: Exit,
}

impl Output {
    pub fn new(human: String, json: &impl Serialize) -> Self {
        Output {
            human,
            json: render(json),
            exit: Exit::Ok,
        }
    }

    /// The JSON output as a value, for tests.
    #[cfg(test)]
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_str(&self.json).unwrap_or(serde_json::Value::Null)
    }
}

/// Pretty JSON; serializing these plain structs cannot fail, but if it did the output would
/// still be JSON.
pub fn render(value: &impl Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|e| {
        serde_json::json!({ "error": "local_error", "message": e.to_string() }).to_string()
    })
}

/// The three lines a finished `bindify connect` prints.
pub fn connected(c: &Connected) -> String {
    format!(
        "Connected. Token refresh handled automatically.\nYour permanent MCP URL: {}\nLegacy SSE \
         URL: {}\n",
        c.mcp_url, c.sse_url
    )
}

const NONE: &str = "-";

fn when(at: Option<&str>, now: UnixMillis) -> String {
    match at {
        None => NONE.to_owned(),
        Some(text) => match parse_rfc3339(text) {
            Some(ms) => relative(ms, now),
            None => text.to_owned(),
        },
    }
}

fn when_long(at: Option<&str>, now: UnixMillis, never: &str) -> String {
    match at {
        None => never.to_owned(),
        Some(text) => match parse_rfc3339(text) {
            Some(ms) => format!("{text} ({})", relative(ms, now)),
            None => text.to_owned(),
        },
    }
}

/// `bindify list`: a table, or a hint when there is nothing yet.
pub fn table(connections: &[Connection], now: UnixMillis) -> String {
    if connections.is_empty() {
        return "No connections yet. Create one with `bindify connect <preset | MCP URL>`.\n"
            .to_owned();
    }
    let header = [
        "ID",
        "LABEL",
        "UPSTREAM",
        "STATE",
        "LAST USED",
        "TOKEN EXPIRES",
        "GRANT ENDS",
    ];
    let rows: Vec<[String; 7]> = connections
        .iter()
        .map(|c| {
            [
                c.id.clone(),
                c.label.clone(),
                c.upstream.clone(),
                c.state.clone(),
                c.activity
                    .as_ref()
                    .map_or_else(|| NONE.to_owned(), |a| last_used_text(a, now)),
                token_expiry(c, now),
                grant_end_cell(c.grant_expires_at.as_deref(), now),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let mut text = String::new();
        for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(cell);
                text.extend(std::iter::repeat_n(' ', width - cell.chars().count() + 2));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&header);
    for row in &rows {
        line(&row.each_ref().map(String::as_str));
    }
    out
}

/// How long before a grant ends `list`, `status` and `doctor` warn about it.
pub const GRANT_WARNING_MS: i64 = 7 * 86_400_000;

/// Whether a grant ending at `at` is within [`GRANT_WARNING_MS`] of `now` (or over).
pub fn grant_ends_soon(at: Option<&str>, now: UnixMillis) -> bool {
    at.and_then(parse_rfc3339)
        .is_some_and(|end| end - GRANT_WARNING_MS <= now)
}

/// The grant's end in the list: when, marked with `!` within the warning time.
fn grant_end_cell(at: Option<&str>, now: UnixMillis) -> String {
    let text = when(at, now);
    if grant_ends_soon(at, now) {
        format!("{text}!")
    } else {
        text
    }
}

/// A listed token's expiry: when it is listed (a grant that ends with it), else whether the
/// Worker refreshes it on its own.
fn token_expiry(c: &Connection, now: UnixMillis) -> String {
    match c.access_token_expires_at.as_deref() {
        Some(_) => when(c.access_token_expires_at.as_deref(), now),
        None if c.refreshable && c.token_expires => "auto-refreshed".to_owned(),
        None => NONE.to_owned(),
    }
}

/// What a state means, in a few words.
fn state_meaning(state: &str) -> &'static str {
    match state {
        "active" => "tokens are fresh or refreshable",
        "needs_reauth" => "the grant is gone upstream: run `bindify reconnect`",
        "error" => "the last refresh failed and will be retried",
        _ => "",
    }
}

/// `bindify status`: one connection in detail.
pub fn details(c: &Connection, now: UnixMillis) -> String {
    let meaning = state_meaning(&c.state);
    let state = if meaning.is_empty() {
        c.state.clone()
    } else {
        format!("{} ({meaning})", c.state)
    };
    let rows = [
        ("Label", c.label.clone()),
        ("Id", c.id.clone()),
        ("Upstream", c.upstream.clone()),
        ("State", state),
        ("Kind", kind_name(c.kind.as_deref()).to_owned()),
        ("Grant ends", grant_end_line(c, now)),
        (
            "Token expires",
            when_long(c.access_token_expires_at.as_deref(), now, "unknown"),
        ),
        (
            "Last refresh",
            when_long(c.last_refresh_at.as_deref(), now, "never"),
        ),
        (
            "Last error",
            c.last_error.clone().unwrap_or_else(|| "none".into()),
        ),
        (
            "Created",
            when_long(c.created_at.as_deref(), now, "unknown"),
        ),
    ];
    let mut out: String = rows
        .iter()
        .map(|(name, value)| format!("{:<14} {value}\n", format!("{name}:")))
        .collect();
    if let Some(activity) = &c.activity {
        out.push_str(&activity_lines(activity, now));
    }
    out
}

/// `bindify status`: the activity rows, when the Worker reports activity.
fn activity_lines(a: &ActivityView, now: UnixMillis) -> String {
    let mut rows = vec![
        ("Last used", last_used_text(a, now)),
        ("Last 24 h", counts_text(a.requests_24h, a.errors_24h)),
        ("Last 7 days", counts_text(a.requests_7d, a.errors_7d)),
    ];
    if a.refreshes.is_empty() {
        rows.push(("Refreshes", "none recorded".to_owned()));
    }
    for (i, r) in a.refreshes.iter().enumerate() {
        let name = if i == 0 { "Refreshes" } else { "" };
        rows.push((
            name,
            format!(
                "{} by {}: {}",
                when_long(Some(&r.at), now, "-"),
                trigger_text(r.trigger),
                outcome_text(r.outcome)
            ),
        ));
    }
    for (i, n) in a.new_places.iter().enumerate() {
        let name = if i == 0 { "New places" } else { "" };
        rows.push((name, notice_text(n, now)));
    }
    rows.iter()
        .map(|(name, value)| {
            let name = if name.is_empty() {
                String::new()
            } else {
                format!("{name}:")
            };
            format!("{name:<14} {value}\n")
        })
        .collect()
}

/// How a connection authorizes, in words.
fn kind_name(kind: Option<&str>) -> &str {
    match kind {
        None | Some("oauth") => "OAuth (authorized in the browser)",
        Some("client_credentials") => "client credentials",
        Some("identity_assertion") => "identity assertion (enterprise-managed)",
        Some("api_key") => "API key",
        Some("open") => "open (no credential)",
        Some(other) => other,
    }
}

/// When the grant ends, with what to do when that is near.
fn grant_end_line(c: &Connection, now: UnixMillis) -> String {
    let at = c.grant_expires_at.as_deref();
    let text = when_long(at, now, "not stated");
    if grant_ends_soon(at, now) {
        format!(
            "{text}: reconnect before then to keep the URL working (`bindify reconnect {}`)",
            c.label
        )
    } else {
        text
    }
}

/// `bindify revoke`: what happened here and upstream.
pub fn revoked(c: &Connection, r: &Revoked) -> String {
    let upstream = match r.upstream_revocation.as_str() {
        "revoked" => format!("{} revoked the tokens too.", c.upstream),
        "unsupported" => format!(
            "{} does not support token revocation (RFC 7009): remove Bindify's access in \
             that service's settings if you want the grant gone there too.",
            c.upstream
        ),
        "failed" => format!(
            "Revoking the tokens at {} failed: they stay valid there until they expire. \
             Remove Bindify's access in that service's settings to end the grant now.",
            c.upstream
        ),
        other => format!("Upstream revocation: {other}."),
    };
    format!(
        "Revoked {} ({}). {}\n{upstream}\n",
        c.label,
        c.id,
        old_url_sentence(r.old_url_answers_for_seconds)
    )
}

/// `bindify rotate-url`: the new URLs.
pub fn rotated(c: &Connection, urls: &PermanentUrls) -> String {
    format!(
        "New permanent URL for {} ({}). {} Update your MCP clients.\nYour permanent MCP URL: \
         {}\nLegacy SSE URL: {}\n",
        c.label,
        c.id,
        old_url_sentence(urls.old_url_answers_for_seconds),
        urls.mcp_url,
        urls.sse_url
    )
}

#[cfg(test)]
mod tests;
