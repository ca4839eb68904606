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

/// Accepts only a local absolute path as a return address (no scheme, no `//host`, no control
/// characters: browsers drop tabs and newlines, so `/<TAB>/host` would become `//host`).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/manage".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/connect/notion")), "/connect/notion");
        assert_eq!(safe_next(Some("//evil.example/x")), "/manage");
        assert_eq!(safe_next(Some("https://evil.example")), "/manage");
        assert_eq!(safe_next(Some("/\\evil.example")), "/manage");
        assert_eq!(safe_next(None), "/manage");
    }

    #[test]
    fn control_characters_are_refused() {
        // Found by fuzzing (fuzz/fuzz_targets/login.rs): browsers drop tabs and newlines from
        // URLs, so `/<TAB>/evil.example` is followed as `//evil.example`, another host.
        for next in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/a\u{7f}",
        ] {
            assert_eq!(safe_next(Some(next)), "/manage", "{next:?}");
        }
    }

    #[test]
    fn escapes_next_and_error() {
        let html = login_page("/x\"><script>", Some("<b>"));
        assert!(!html.contains("<script>") && html.contains("&lt;b&gt;"));
    }
}
