//! The one cookie Bindify sets: it binds an OAuth `state` to the browser that started the flow.

/// Finds cookie `name` in a `Cookie` request header (RFC 6265 §5.4 syntax).
pub fn find<'a>(header: Option<&'a str>, name: &str) -> Option<&'a str> {
    header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// A `Set-Cookie` value: HttpOnly, `SameSite=Lax` (the callback arrives as a top-level
/// navigation from the authorization server), scoped to the callback path, and `Secure`
/// whenever the Worker is served over https.
pub fn set(name: &str, value: &str, max_age_seconds: u64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{name}={value}; Max-Age={max_age_seconds}; Path=/oauth/callback; HttpOnly; SameSite=Lax{secure}"
    )
}

/// A `Set-Cookie` value that removes cookie `name`.
pub fn clear(name: &str, secure: bool) -> String {
    set(name, "", 0, secure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_cookie_among_others() {
        let h = Some("a=1; bindify_flow_x=abc ; b=\"2\"");
        assert_eq!(find(h, "bindify_flow_x"), Some("abc"));
        assert_eq!(find(h, "b"), Some("2"));
        assert_eq!(find(h, "bindify_flow"), None);
        assert_eq!(find(None, "a"), None);
        assert_eq!(find(Some("garbage;;=;"), "a"), None);
    }

    #[test]
    fn set_cookie_attributes() {
        let c = set("n", "v", 600, true);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.ends_with("Secure"));
        assert!(!set("n", "v", 600, false).contains("Secure"));
        assert!(clear("n", false).contains("Max-Age=0"));
    }
}
