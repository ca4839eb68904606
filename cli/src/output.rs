//! What each command prints, as pure functions of the API's answers (and the time, for
//! "in 42 min"), so the exact text is unit tested.

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
        "TOKEN EXPIRES",
        "LAST REFRESH",
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
                when(c.access_token_expires_at.as_deref(), now),
                when(c.last_refresh_at.as_deref(), now),
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
    rows.iter()
        .map(|(name, value)| format!("{:<14} {value}\n", format!("{name}:")))
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
        "Revoked {} ({}): its URL no longer works.\n{upstream}\n",
        c.label, c.id
    )
}

/// `bindify rotate-url`: the new URLs.
pub fn rotated(c: &Connection, urls: &PermanentUrls) -> String {
    format!(
        "New permanent URL for {} ({}). The old URL stopped working: update your MCP \
         clients.\nYour permanent MCP URL: {}\nLegacy SSE URL: {}\n",
        c.label, c.id, urls.mcp_url, urls.sse_url
    )
}

#[cfg(test)]
mod tests;
