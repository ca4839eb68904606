//! `GET /login`: the owner enters `ADMIN_TOKEN` once; the browser then holds a session cookie.

use super::layout::{escape, page};

/// `next` is a same-origin path to return to; `error` a message from a failed attempt.
pub fn login_page(next: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| format!(r#"<p class="notice" id="login-error">{}</p>"#, escape(e)))
        .unwrap_or_default();
    let body = format!(
        r#"<h1>Sign in</h1>
<p>Enter this deployment's admin token (the <code>ADMIN_TOKEN</code> secret) to connect and manage services.</p>
{error}
<form class="connect" id="login-form" action="/login" method="post">
<input type="hidden" name="next" value="{next}">
<input type="password" name="token" required autocomplete="current-password" aria-label="Admin token" placeholder="Admin token">
<button type="submit">Sign in</button>
</form>"#,
        next = escape(next),
    );
    page("Sign in", "login", &body)
}

/// Where signing in returns to: one of Bindify's own pages, else `/manage`. An allowlist, not
/// a blocklist: `/`, `/manage`, `/manage/<id>/reconnect`, `/connect/<preset>`, `/cli/<code>`,
/// and `/connect?server=<url>` (which only shows the confirmation page). Segments are
/// base64url-like words; nothing may carry a control character (browsers drop tabs and
/// newlines from URLs, which turns `/\t/evil.example` into `//evil.example`).
pub fn safe_next(next: Option<&str>) -> String {
    next.and_then(allowed_next)
        .unwrap_or_else(|| "/manage".to_owned())
}

fn allowed_next(next: &str) -> Option<String> {
    if next
        .chars()
        .any(|c| c.is_control() || c == '\\' || c == '#')
    {
        return None;
    }
    let (path, query) = match next.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (next, None),
    };
    let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    let page = match segments.as_slice() {
        [""] | ["manage"] => true,
        ["manage", id, "reconnect"] => word(id),
        ["connect", "key"] if query.is_some() => return connect_next("/connect/key", query?),
        ["connect", slug] | ["cli", slug] => word(slug),
        ["connect"] => return connect_next("/connect", query?),
        _ => false,
    };
    (page && query.is_none()).then(|| path.to_owned())
}

/// `/connect?server=<url>` (or `/connect/key?server=<url>`), rebuilt from its one parameter.
fn connect_next(path: &str, query: &str) -> Option<String> {
    let mut pairs = url::form_urlencoded::parse(query.as_bytes());
    let (name, server) = pairs.next()?;
    if name != "server" || pairs.next().is_some() || server.chars().any(char::is_control) {
        return None;
    }
    let encoded: String = url::form_urlencoded::byte_serialize(server.as_bytes()).collect();
    Some(format!("{path}?server={encoded}"))
}

fn word(segment: &str) -> bool {
    (1..=64).contains(&segment.len())
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bindify_pages_are_followed() {
        for page in [
            "/",
            "/manage",
            "/connect/notion",
            "/cli/qAPW8lwh098OlBQTShnFxA8zWDFYAA9As1MNh49hOwQ",
            "/manage/Q2v1xXU0m0v8uQ4Nf0a9Zw/reconnect",
        ] {
            assert_eq!(safe_next(Some(page)), page);
        }
        assert_eq!(
            safe_next(Some("/connect?server=https%3A%2F%2Fmcp.example.com%2Fmcp")),
            "/connect?server=https%3A%2F%2Fmcp.example.com%2Fmcp"
        );
        assert_eq!(
            safe_next(Some("/connect?server=https://mcp.example.com/mcp")),
            "/connect?server=https%3A%2F%2Fmcp.example.com%2Fmcp"
        );
        assert_eq!(
            safe_next(Some("/connect/key?server=https://mcp.example.com/mcp")),
            "/connect/key?server=https%3A%2F%2Fmcp.example.com%2Fmcp"
        );
        for hostile in [
            "/\t/evil.example",
            "/%09/evil.example",
            "/\n/evil.example",
            "//evil.example/x",
            "/\\evil.example",
            "https://evil.example",
            "evil.example",
            "/manage/../../evil",
            "/s/AAAA/reconnect",
            "/manage?x=1",
            "/connect?server=a&server=b",
            "/connect?next=/x",
            "/connect/key?next=/x",
            "/connect/notion?server=x",
            "/connect?server=x%0d%0aLocation:%20https://evil",
            "/manage#x",
            "/api/connections",
            "/logout",
            "/connect/",
            "/cli/a.b",
            "",
        ] {
            assert_eq!(safe_next(Some(hostile)), "/manage", "{hostile:?}");
        }
        assert_eq!(safe_next(None), "/manage");
    }

    #[test]
    fn escapes_next_and_error() {
        let html = login_page("/x\"><script>", Some("<b>"));
        assert!(!html.contains("<script>") && html.contains("&lt;b&gt;"));
    }
}
