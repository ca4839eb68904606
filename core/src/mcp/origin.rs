//! `Origin` validation against DNS rebinding.
//!
//! MCP basic/transports ("Security Warning" in 2024-11-05 "HTTP with SSE"; "Security & Endpoint"
//! in Streamable HTTP): servers MUST validate the `Origin` header on all incoming connections,
//! and answer 403 Forbidden when it is present and invalid.
//!
//! Rules of [`origin_allowed`]:
//!
//! - no `Origin` header: allowed. Browsers send one on every cross-origin request and on every
//!   POST; MCP clients that are not browsers (CLIs, desktop apps, SDKs) usually send none.
//! - the Worker's own origin: allowed.
//! - an origin on the configured allow-list, or any origin when the list holds `*`: allowed.
//! - the opaque origin `null` (sandboxed iframes, `file:` and `data:` pages) is refused unless
//!   the list holds `*`: any page can produce it, so listing it would be the same as `*`.
//! - anything else, including values that are not a serialized origin: refused.
//!
//! Origins are compared after normalisation (RFC 6454 §6.2 ASCII serialization): scheme and host
//! lowercased, the scheme's default port removed, no path. Host names are ASCII: an
//! internationalized name is listed in its `xn--` form (Bindify is built without Unicode IDNA
//! data, see `core::upstream`).

/// The allow-list entry that allows every origin.
pub const ANY_ORIGIN: &str = "*";

/// The serialization of an opaque origin (RFC 6454 §6.2, §7.1).
const NULL_ORIGIN: &str = "null";

/// Whether a request carrying `origin` (the `Origin` header value, `None` when absent) may
/// proceed. `own_origin` is the Worker's origin, or any URL on it (path, query and fragment are
/// ignored). `allowed` is the configured allow-list (see [`parse_allowed_origins`]); entries are
/// normalised here too, and entries that are not origins never match.
pub fn origin_allowed(origin: Option<&str>, own_origin: &str, allowed: &[String]) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    if allowed.iter().any(|a| a.trim() == ANY_ORIGIN) {
        return true;
    }
    let Some(origin) = normalize_origin(origin) else {
        return false;
    };
    if url::Url::parse(own_origin.trim())
        .ok()
        .and_then(|own| origin_of(&own))
        .is_some_and(|own| own == origin)
    {
        return true;
    }
    allowed
        .iter()
        .filter_map(|a| normalize_origin(a))
        .any(|a| a == origin)
}

/// Parses a comma-separated allow-list from configuration, e.g.
/// `"https://app.example.com, http://localhost:5173"`: entries are trimmed, empty ones dropped,
/// `*` kept, origins normalised; entries that are not an origin (a path, a query, credentials,
/// `null`) are dropped.
pub fn parse_allowed_origins(config: &str) -> Vec<String> {
    config
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .filter_map(|e| {
            if e == ANY_ORIGIN {
                Some(ANY_ORIGIN.to_owned())
            } else {
                normalize_origin(e)
            }
        })
        .collect()
}

/// The normalised form of a serialized origin (`scheme://host[:port]`, RFC 6454 §6.2), or
/// `None` when `value` is `null`, lacks `://`, has no host, has credentials, a path other than
/// `/`, a query or a fragment, or does not parse.
pub fn normalize_origin(value: &str) -> Option<String> {
    let value = value.trim();
    // A serialized origin always has `://`; `https:host` would otherwise parse leniently.
    if value.eq_ignore_ascii_case(NULL_ORIGIN) || !value.contains("://") {
        return None;
    }
    let url = url::Url::parse(value).ok()?;
    let bare = url.username().is_empty()
        && url.password().is_none()
        && matches!(url.path(), "" | "/")
        && url.query().is_none()
        && url.fragment().is_none();
    if !bare {
        return None;
    }
    origin_of(&url)
}

/// `scheme://host[:port]` of `url`, lowercased, default port omitted (the `url` crate already
/// drops default ports of special schemes).
fn origin_of(url: &url::Url) -> Option<String> {
    let host = url.host_str().filter(|h| !h.is_empty())?;
    let mut out = format!(
        "{}://{}",
        url.scheme().to_ascii_lowercase(),
        host.to_ascii_lowercase()
    );
    if let Some(port) = url.port() {
        out.push(':');
        out.push_str(&port.to_string());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "https://bindify.example.workers.dev";

    fn list(entries: &[&str]) -> Vec<String> {
        entries.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn absent_origin_is_allowed() {
        assert!(origin_allowed(None, OWN, &[]));
    }

    #[test]
    fn own_origin_is_allowed_in_any_spelling() {
        for origin in [
            "https://bindify.example.workers.dev",
            "HTTPS://Bindify.Example.Workers.Dev",
            "https://bindify.example.workers.dev:443",
            "https://bindify.example.workers.dev/",
            " https://bindify.example.workers.dev ",
        ] {
            assert!(origin_allowed(Some(origin), OWN, &[]), "{origin}");
        }
        // own_origin may be any URL on the Worker.
        assert!(origin_allowed(
            Some("https://bindify.example.workers.dev"),
            "https://bindify.example.workers.dev/s/secret/mcp?x=1",
            &[]
        ));
        // Local development with a port.
        assert!(origin_allowed(
            Some("http://localhost:8787"),
            "http://localhost:8787/",
            &[]
        ));
    }

    #[test]
    fn other_scheme_host_or_port_is_refused() {
        for origin in [
            "http://bindify.example.workers.dev",
            "https://evil.example",
            "https://bindify.example.workers.dev:8443",
            "https://bindify.example.workers.dev.evil.example",
            "https://sub.bindify.example.workers.dev",
        ] {
            assert!(!origin_allowed(Some(origin), OWN, &[]), "{origin}");
        }
    }

    #[test]
    fn malformed_origins_are_refused() {
        for origin in [
            "",
            "bindify.example.workers.dev",
            "https://bindify.example.workers.dev/path",
            "https://bindify.example.workers.dev?q",
            "https://user@bindify.example.workers.dev",
            "https://bindify.example.workers.dev#f",
            "not a url",
            "file:///etc/passwd",
        ] {
            assert!(!origin_allowed(Some(origin), OWN, &[]), "{origin:?}");
        }
    }

    #[test]
    fn allow_list_matches_after_normalisation() {
        let allowed = list(&["https://App.Example.com:443", "http://localhost:5173"]);
        assert!(origin_allowed(
            Some("https://app.example.com"),
            OWN,
            &allowed
        ));
        assert!(origin_allowed(Some("http://localhost:5173"), OWN, &allowed));
        assert!(!origin_allowed(
            Some("http://localhost:5174"),
            OWN,
            &allowed
        ));
        assert!(!origin_allowed(
            Some("http://app.example.com"),
            OWN,
            &allowed
        ));
    }

    #[test]
    fn idn_hosts_are_listed_in_their_ascii_form() {
        // Without Unicode IDNA data a non-ASCII entry is not an origin, and is dropped.
        assert!(parse_allowed_origins("https://bücher.example").is_empty());
        assert!(!origin_allowed(
            Some("https://bücher.example"),
            OWN,
            &list(&["https://xn--bcher-kva.example"])
        ));
        let allowed = parse_allowed_origins("https://XN--BCHER-KVA.example");
        assert_eq!(allowed, vec!["https://xn--bcher-kva.example"]);
        assert!(origin_allowed(
            Some("https://xn--bcher-kva.example"),
            OWN,
            &allowed
        ));
    }

    #[test]
    fn null_origin_only_with_wildcard() {
        assert!(!origin_allowed(Some("null"), OWN, &[]));
        assert!(!origin_allowed(Some("null"), OWN, &list(&["null"])));
        assert!(origin_allowed(Some("null"), OWN, &list(&["*"])));
    }

    #[test]
    fn wildcard_allows_everything() {
        let allowed = list(&["https://a.example", "*"]);
        assert!(origin_allowed(Some("https://evil.example"), OWN, &allowed));
        assert!(origin_allowed(Some("garbage"), OWN, &allowed));
    }

    #[test]
    fn non_special_schemes() {
        let allowed = parse_allowed_origins("tauri://localhost, vscode-webview://ABC123");
        assert_eq!(
            allowed,
            vec!["tauri://localhost", "vscode-webview://abc123"]
        );
        assert!(origin_allowed(Some("tauri://localhost"), OWN, &allowed));
        assert!(origin_allowed(
            Some("vscode-webview://abc123"),
            OWN,
            &allowed
        ));
    }

    #[test]
    fn parse_allowed_origins_trims_drops_and_normalises() {
        assert_eq!(
            parse_allowed_origins(
                " https://A.example.com:443 ,, http://localhost:3000/ ,*, null, https://x.example/path, ftp:bad, "
            ),
            vec!["https://a.example.com", "http://localhost:3000", "*",]
        );
        assert!(parse_allowed_origins("").is_empty());
        assert!(parse_allowed_origins(" , ,").is_empty());
    }

    #[test]
    fn bad_own_origin_does_not_allow_anything() {
        assert!(!origin_allowed(Some("https://a.example"), "", &[]));
        assert!(!origin_allowed(Some("https://a.example"), "a.example", &[]));
    }
}
