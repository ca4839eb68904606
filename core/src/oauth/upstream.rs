//! Which MCP server URLs (and discovered authorization server URLs) Bindify may connect to, and
//! the canonical resource URI sent as the RFC 8707 `resource` parameter.
//!
//! The MCP authorization spec (2025-11-25, "Communication Security") requires every
//! authorization endpoint to be served over HTTPS; tokens are bearer credentials (RFC 6750 §5.3)
//! and must not cross plain HTTP. Local development may opt in to `http` toward loopback hosts
//! only.

use std::net::Ipv6Addr;

use url::{Host, Url};

/// What [`validate_server_url`] allows beyond `https`.
#[derive(Debug, Clone, Copy)]
pub struct UpstreamPolicy {
    /// Permit `http` to `127.0.0.0/8`, `localhost` and `[::1]` (local development only; set
    /// from `ALLOW_LOOPBACK_HTTP=true`).
    pub allow_loopback_http: bool,
}

/// Why a URL was refused as an upstream. Messages quote no part of the URL.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UpstreamUrlError {
    /// Nothing was given.
    #[error("the server URL is empty")]
    Empty,
    /// Not an absolute URL.
    #[error(
        "the server URL is not a valid absolute URL (expected e.g. https://mcp.example.com/mcp)"
    )]
    NotAUrl,
    /// `http` to a non-loopback host, or to a loopback host while that is not allowed.
    #[error(
        "only https:// server URLs are allowed; for local development, ALLOW_LOOPBACK_HTTP=true also permits http://127.0.0.1, http://localhost and http://[::1]"
    )]
    NotHttps,
    /// A scheme other than `http` or `https`.
    #[error("unsupported URL scheme; the server URL must start with https://")]
    UnsupportedScheme,
    /// The URL carries a user name or password.
    #[error("the server URL must not contain a user name or password")]
    HasCredentials,
    /// The URL carries a `#fragment`.
    #[error("the server URL must not contain a #fragment")]
    HasFragment,
    /// The URL has no host.
    #[error("the server URL has no host")]
    NoHost,
    /// The host name has non-ASCII characters. Bindify is built without Unicode IDNA data (it
    /// would add about 50 KB to the Worker), so such a host is entered in its ASCII form.
    #[error(
        "the server URL's host name has non-ASCII characters; enter its ASCII form (the xn-- name, e.g. https://xn--bcher-kva.example/mcp for bücher.example)"
    )]
    NonAsciiHost,
}

/// Validates a user-entered MCP server URL, or a URL discovered from metadata (authorization
/// server, token endpoint, ...): surrounding whitespace is trimmed; it must be an absolute URL
/// with a host, no user info (RFC 3986 §3.2.1, deprecated for credentials) and no fragment
/// (RFC 8707 §2, RFC 9728 §1.2); the scheme must be `https`, or `http` to a loopback host
/// (`127.0.0.0/8`, `localhost`, `[::1]`) when `policy.allow_loopback_http` is set.
///
/// A host name must be ASCII (an internationalized name in its `xn--` form): the `url` crate is
/// built without Unicode IDNA data.
///
/// # Errors
/// The first rule broken, checked in the order: empty, non-ASCII host, not a URL, scheme, host,
/// user info, fragment.
pub fn validate_server_url(raw: &str, policy: UpstreamPolicy) -> Result<Url, UpstreamUrlError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(UpstreamUrlError::Empty);
    }
    if !authority(raw).is_ascii() {
        return Err(UpstreamUrlError::NonAsciiHost);
    }
    let url = Url::parse(raw).map_err(|_| UpstreamUrlError::NotAUrl)?;
    match url.scheme() {
        "https" => {}
        "http" => {
            if !(policy.allow_loopback_http && is_loopback(&url)) {
                return Err(UpstreamUrlError::NotHttps);
            }
        }
        _ => return Err(UpstreamUrlError::UnsupportedScheme),
    }
    if url.host().is_none() {
        return Err(UpstreamUrlError::NoHost);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UpstreamUrlError::HasCredentials);
    }
    if url.fragment().is_some() {
        return Err(UpstreamUrlError::HasFragment);
    }
    Ok(url)
}

/// The authority of an absolute URL as typed: what follows `scheme://` up to the first `/`, `\\`,
/// `?` or `#` (the characters that end it for the `url` crate), or "" without `://`.
fn authority(raw: &str) -> &str {
    raw.split_once("://").map_or("", |(_, rest)| {
        rest.split(['/', '\\', '?', '#']).next().unwrap_or_default()
    })
}

/// Whether a Worker in local development (`ALLOW_LOOPBACK_HTTP=true`) answers a request for
/// `url`: only when it is addressed to a loopback name. Such a Worker listens on a loopback
/// address, and a page elsewhere could reach it under its own host name by resolving that name
/// to 127.0.0.1 (DNS rebinding, MCP transports "Security Warning"); its `Origin` would then
/// equal the Worker's apparent origin and pass every origin check. A deployed Worker is routed
/// by host name, so no other name reaches it.
#[must_use]
pub fn local_request_allowed(url: &Url) -> bool {
    is_loopback(url)
}

/// `127.0.0.0/8`, exactly `localhost`, or `[::1]`.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip == Ipv6Addr::LOCALHOST,
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The canonical URI of an MCP server, used as the `resource` parameter (RFC 8707 §2; MCP
/// authorization spec, "Canonical Server URI"): lowercase scheme and host (the `url` crate
/// already normalizes both), a non-default port kept, the path kept without trailing slashes (a
/// bare `/` becomes no path), query, fragment and user info dropped.
///
/// `https://MCP.Notion.com/mcp` -> `https://mcp.notion.com/mcp`;
/// `https://x.com/` -> `https://x.com`; `https://x.com:8443/mcp?x=1` -> `https://x.com:8443/mcp`.
#[must_use]
pub fn canonical_resource(url: &Url) -> String {
    let mut out = String::with_capacity(url.as_str().len());
    out.push_str(url.scheme());
    out.push_str("://");
    if let Some(host) = url.host_str() {
        out.push_str(host);
    }
    if let Some(port) = url.port() {
        out.push(':');
        out.push_str(&port.to_string());
    }
    out.push_str(url.path().trim_end_matches('/'));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: UpstreamPolicy = UpstreamPolicy {
        allow_loopback_http: false,
    };
    const DEV: UpstreamPolicy = UpstreamPolicy {
        allow_loopback_http: true,
    };

    fn ok(raw: &str, policy: UpstreamPolicy) -> Url {
        validate_server_url(raw, policy).unwrap_or_else(|e| panic!("{raw:?}: {e}"))
    }

    fn err(raw: &str, policy: UpstreamPolicy) -> UpstreamUrlError {
        validate_server_url(raw, policy).unwrap_err()
    }

    #[test]
    fn https_is_accepted() {
        for raw in [
            "https://mcp.notion.com/mcp",
            "https://mcp.atlassian.com/v1/mcp",
            "https://api.githubcopilot.com/mcp/",
            "  https://mcp.linear.app/mcp\n",
            "https://mcp.example.com:8443/mcp?tenant=1",
            "https://127.0.0.1/mcp",
            "https://[2001:db8::1]/mcp",
        ] {
            let url = ok(raw, STRICT);
            assert_eq!(url.scheme(), "https");
        }
        assert_eq!(
            ok(" https://mcp.linear.app/mcp ", STRICT).as_str(),
            "https://mcp.linear.app/mcp"
        );
    }

    #[test]
    fn empty() {
        assert_eq!(err("", STRICT), UpstreamUrlError::Empty);
        assert_eq!(err(" \t\n", DEV), UpstreamUrlError::Empty);
    }

    #[test]
    fn not_a_url() {
        for raw in [
            "mcp.notion.com/mcp",
            "/mcp",
            "https://",
            "https://exa mple.com/",
            "://x",
            "http://[::1",
        ] {
            assert_eq!(err(raw, DEV), UpstreamUrlError::NotAUrl, "{raw:?}");
        }
    }

    #[test]
    fn http_refused_without_policy() {
        for raw in [
            "http://mcp.notion.com/mcp",
            "http://127.0.0.1:9200/mcp",
            "http://localhost:3000/mcp",
            "http://[::1]:3000/mcp",
        ] {
            assert_eq!(err(raw, STRICT), UpstreamUrlError::NotHttps, "{raw:?}");
        }
    }

    #[test]
    fn http_loopback_allowed_with_policy() {
        for raw in [
            "http://127.0.0.1:9200/mcp",
            "http://127.1.2.3/mcp",
            "http://localhost:3000/mcp",
            "http://LOCALHOST/mcp",
            "http://[::1]:3000/mcp",
        ] {
            ok(raw, DEV);
        }
    }

    #[test]
    fn http_non_loopback_refused_even_with_policy() {
        for raw in [
            "http://mcp.notion.com/mcp",
            "http://10.0.0.1/mcp",
            "http://0.0.0.0/mcp",
            "http://128.0.0.1/mcp",
            "http://localhost.evil.com/mcp",
            "http://localhost./mcp",
            "http://[::ffff:127.0.0.1]/mcp",
            "http://[::2]/mcp",
        ] {
            assert_eq!(err(raw, DEV), UpstreamUrlError::NotHttps, "{raw:?}");
        }
    }

    #[test]
    fn unsupported_scheme() {
        for raw in [
            "ftp://x.com/",
            "ws://x.com/",
            "wss://x.com/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "mailto:a@b.c",
            "data:text/plain,hi",
        ] {
            assert_eq!(
                err(raw, DEV),
                UpstreamUrlError::UnsupportedScheme,
                "{raw:?}"
            );
        }
    }

    #[test]
    fn credentials_refused() {
        for raw in [
            "https://user@x.com/mcp",
            "https://user:pass@x.com/mcp",
            "https://:pass@x.com/mcp",
        ] {
            assert_eq!(
                err(raw, STRICT),
                UpstreamUrlError::HasCredentials,
                "{raw:?}"
            );
        }
        assert_eq!(
            err("http://u:p@127.0.0.1/mcp", DEV),
            UpstreamUrlError::HasCredentials
        );
    }

    #[test]
    fn fragment_refused() {
        assert_eq!(
            err("https://x.com/mcp#frag", STRICT),
            UpstreamUrlError::HasFragment
        );
        assert_eq!(
            err("https://x.com/mcp#", STRICT),
            UpstreamUrlError::HasFragment
        );
    }

    #[test]
    fn non_ascii_hosts_are_refused_with_their_ascii_form_named() {
        for raw in [
            "https://bücher.example/mcp",
            "https://mcp.ünïcode.example",
            "https://例え.jp/mcp?x=1",
            "https://user@bücher.example:8443/mcp",
            "https://bücher.example\\mcp",
            "http://bücher.localhost/mcp",
            "https://mcp．example．com/mcp",
        ] {
            assert_eq!(err(raw, DEV), UpstreamUrlError::NonAsciiHost, "{raw:?}");
        }
        assert_eq!(
            UpstreamUrlError::NonAsciiHost.to_string(),
            "the server URL's host name has non-ASCII characters; enter its ASCII form (the xn-- name, e.g. https://xn--bcher-kva.example/mcp for bücher.example)"
        );
        // The ASCII form of the same host is accepted as typed, and non-ASCII elsewhere in the
        // URL is percent-encoded as usual.
        assert_eq!(
            ok("https://xn--bcher-kva.example/mcp", STRICT).host_str(),
            Some("xn--bcher-kva.example")
        );
        assert_eq!(
            ok("https://mcp.example.com/bücher?q=ü", STRICT).as_str(),
            "https://mcp.example.com/b%C3%BCcher?q=%C3%BC"
        );
        // A percent-encoded non-ASCII host cannot be mapped either: it is not a URL.
        assert_eq!(
            err("https://b%C3%BCcher.example/mcp", STRICT),
            UpstreamUrlError::NotAUrl
        );
    }

    #[test]
    fn error_messages() {
        let msg = UpstreamUrlError::NotHttps.to_string();
        assert!(msg.contains("only https://"));
        assert!(msg.contains("ALLOW_LOOPBACK_HTTP=true"));
        assert!(msg.contains("127.0.0.1") && msg.contains("localhost") && msg.contains("[::1]"));
        // No message echoes the input.
        let e = err("https://user:hunter2@x.com/", STRICT);
        assert!(!e.to_string().contains("hunter2"));
    }

    #[test]
    fn a_local_worker_answers_only_loopback_names() {
        for allowed in [
            "http://127.0.0.1:8787/s/x/mcp",
            "http://127.0.0.2/",
            "http://localhost:8787/",
            "http://LOCALHOST/",
            "http://[::1]:8787/",
        ] {
            assert!(
                local_request_allowed(&Url::parse(allowed).unwrap()),
                "{allowed}"
            );
        }
        for refused in [
            "http://evil.example.com:8787/s/x/mcp",
            "http://localhost.evil.example.com/",
            "http://10.0.0.1/",
            "http://0.0.0.0:8787/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert!(
                !local_request_allowed(&Url::parse(refused).unwrap()),
                "{refused}"
            );
        }
    }

    fn canon(raw: &str) -> String {
        canonical_resource(&Url::parse(raw).unwrap())
    }

    #[test]
    fn canonical_resource_examples() {
        assert_eq!(
            canon("https://MCP.Notion.com/mcp"),
            "https://mcp.notion.com/mcp"
        );
        assert_eq!(canon("HTTPS://x.com/"), "https://x.com");
        assert_eq!(canon("https://x.com"), "https://x.com");
        assert_eq!(canon("https://x.com/a/"), "https://x.com/a");
        assert_eq!(canon("https://x.com/a//"), "https://x.com/a");
        assert_eq!(
            canon("https://x.com:8443/mcp?x=1"),
            "https://x.com:8443/mcp"
        );
        assert_eq!(canon("https://x.com:443/mcp"), "https://x.com/mcp");
        assert_eq!(canon("https://x.com/mcp#f"), "https://x.com/mcp");
        assert_eq!(canon("https://u:p@x.com/mcp"), "https://x.com/mcp");
        assert_eq!(
            canon("http://127.0.0.1:9200/mcp"),
            "http://127.0.0.1:9200/mcp"
        );
        assert_eq!(canon("http://[::1]:3000/mcp/"), "http://[::1]:3000/mcp");
        assert_eq!(
            canon("https://api.githubcopilot.com/mcp/"),
            "https://api.githubcopilot.com/mcp"
        );
        assert_eq!(
            canon("https://x.com/a%20b/c"),
            "https://x.com/a%20b/c",
            "path stays percent-encoded"
        );
    }
}
