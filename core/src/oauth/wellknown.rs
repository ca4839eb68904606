//! Well-known discovery URLs for an MCP server's protected resource metadata and its
//! authorization server's metadata, in the order the MCP authorization spec (2025-11-25,
//! "Protected Resource Metadata Discovery Requirements" and "Authorization Server Metadata
//! Discovery") tells clients to try them.
//!
//! These are fallbacks: a `resource_metadata` URL from a 401's `WWW-Authenticate` header
//! (RFC 9728 §5.1) comes first. Every URL built here keeps the input's scheme, host and port and
//! has no query, fragment or user info.

use url::Url;

/// RFC 9728 §3 well-known suffix.
const PROTECTED_RESOURCE: &str = "/.well-known/oauth-protected-resource";
/// RFC 8414 §3 well-known suffix.
const AUTHORIZATION_SERVER: &str = "/.well-known/oauth-authorization-server";
/// OpenID Connect Discovery 1.0 §4 well-known suffix.
const OPENID_CONFIGURATION: &str = "/.well-known/openid-configuration";

/// Protected resource metadata URLs for an MCP server URL (RFC 9728 §3.1): the well-known
/// suffix inserted between the host and the path (any terminating `/` of the path removed
/// first), then the root form. A server URL without a path (or with `/`) gives the root form
/// only. The query is dropped.
///
/// `https://h/p/q` -> `[https://h/.well-known/oauth-protected-resource/p/q,
/// https://h/.well-known/oauth-protected-resource]`.
#[must_use]
pub fn protected_resource_metadata_urls(server: &Url) -> Vec<Url> {
    let path = trimmed_path(server);
    let mut paths = Vec::with_capacity(2);
    if !path.is_empty() {
        paths.push(format!("{PROTECTED_RESOURCE}{path}"));
    }
    paths.push(PROTECTED_RESOURCE.to_owned());
    build(server, &paths)
}

/// Authorization server metadata URLs for an issuer, in the MCP spec's order.
///
/// Issuer with a path (`https://h/tenant1`): RFC 8414 §3.1 path insertion
/// (`/.well-known/oauth-authorization-server/tenant1`), OpenID Connect path insertion
/// (`/.well-known/openid-configuration/tenant1`), then OpenID Connect Discovery 1.0 §4 path
/// appending (`/tenant1/.well-known/openid-configuration`).
///
/// Issuer without a path (`https://h`): `/.well-known/oauth-authorization-server`, then
/// `/.well-known/openid-configuration`.
///
/// A terminating `/` of the issuer path is removed first (RFC 8414 §3.1). The query is dropped.
#[must_use]
pub fn authorization_server_metadata_urls(issuer: &Url) -> Vec<Url> {
    let path = trimmed_path(issuer);
    let paths = if path.is_empty() {
        vec![
            AUTHORIZATION_SERVER.to_owned(),
            OPENID_CONFIGURATION.to_owned(),
        ]
    } else {
        vec![
            format!("{AUTHORIZATION_SERVER}{path}"),
            format!("{OPENID_CONFIGURATION}{path}"),
            format!("{path}{OPENID_CONFIGURATION}"),
        ]
    };
    build(issuer, &paths)
}

/// The URL's path without terminating slashes; empty for no path or `/`.
fn trimmed_path(url: &Url) -> &str {
    url.path().trim_end_matches('/')
}

/// The base URL with each path in turn, query, fragment and user info cleared, duplicates
/// skipped. URLs that cannot carry a path (`mailto:`, ...) or have no host give nothing.
fn build(base: &Url, paths: &[String]) -> Vec<Url> {
    if base.cannot_be_a_base() || base.host().is_none() {
        return Vec::new();
    }
    let mut origin = base.clone();
    origin.set_query(None);
    origin.set_fragment(None);
    // Both only fail for URLs without a host or that cannot be a base, excluded above.
    let _ = origin.set_username("");
    let _ = origin.set_password(None);

    let mut out: Vec<Url> = Vec::with_capacity(paths.len());
    for path in paths {
        let mut url = origin.clone();
        url.set_path(path);
        if !out.contains(&url) {
            out.push(url);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(urls: Vec<Url>) -> Vec<String> {
        urls.into_iter().map(String::from).collect()
    }

    fn prm(raw: &str) -> Vec<String> {
        strings(protected_resource_metadata_urls(&Url::parse(raw).unwrap()))
    }

    fn asm(raw: &str) -> Vec<String> {
        strings(authorization_server_metadata_urls(
            &Url::parse(raw).unwrap(),
        ))
    }

    #[test]
    fn prm_with_path() {
        assert_eq!(
            prm("https://h/p/q"),
            [
                "https://h/.well-known/oauth-protected-resource/p/q",
                "https://h/.well-known/oauth-protected-resource",
            ]
        );
        assert_eq!(
            prm("https://mcp.notion.com/mcp"),
            [
                "https://mcp.notion.com/.well-known/oauth-protected-resource/mcp",
                "https://mcp.notion.com/.well-known/oauth-protected-resource",
            ]
        );
    }

    #[test]
    fn prm_without_path() {
        let root = ["https://h/.well-known/oauth-protected-resource"];
        assert_eq!(prm("https://h"), root);
        assert_eq!(prm("https://h/"), root);
        assert_eq!(prm("https://h//"), root);
        assert_eq!(prm("https://h/?x=1"), root);
    }

    #[test]
    fn prm_trailing_slash_query_fragment_userinfo() {
        let expected = [
            "https://api.githubcopilot.com/.well-known/oauth-protected-resource/mcp",
            "https://api.githubcopilot.com/.well-known/oauth-protected-resource",
        ];
        assert_eq!(prm("https://api.githubcopilot.com/mcp/"), expected);
        assert_eq!(prm("https://api.githubcopilot.com/mcp?a=b#f"), expected);
        assert_eq!(prm("https://u:p@api.githubcopilot.com/mcp"), expected);
    }

    #[test]
    fn prm_with_port_and_loopback() {
        assert_eq!(
            prm("https://h:8443/mcp"),
            [
                "https://h:8443/.well-known/oauth-protected-resource/mcp",
                "https://h:8443/.well-known/oauth-protected-resource",
            ]
        );
        assert_eq!(
            prm("http://127.0.0.1:9200/mcp"),
            [
                "http://127.0.0.1:9200/.well-known/oauth-protected-resource/mcp",
                "http://127.0.0.1:9200/.well-known/oauth-protected-resource",
            ]
        );
        assert_eq!(
            prm("http://[::1]:3000/"),
            ["http://[::1]:3000/.well-known/oauth-protected-resource"]
        );
    }

    #[test]
    fn asm_with_path() {
        let expected = [
            "https://h/.well-known/oauth-authorization-server/tenant1",
            "https://h/.well-known/openid-configuration/tenant1",
            "https://h/tenant1/.well-known/openid-configuration",
        ];
        assert_eq!(asm("https://h/tenant1"), expected);
        assert_eq!(
            asm("https://h/tenant1/"),
            expected,
            "trailing slash ignored"
        );
        assert_eq!(asm("https://h/tenant1?q=1"), expected, "query dropped");
        assert_eq!(
            asm("https://login.example.com/a/b"),
            [
                "https://login.example.com/.well-known/oauth-authorization-server/a/b",
                "https://login.example.com/.well-known/openid-configuration/a/b",
                "https://login.example.com/a/b/.well-known/openid-configuration",
            ]
        );
    }

    #[test]
    fn asm_without_path() {
        let expected = [
            "https://h/.well-known/oauth-authorization-server",
            "https://h/.well-known/openid-configuration",
        ];
        assert_eq!(asm("https://h"), expected);
        assert_eq!(asm("https://h/"), expected);
    }

    #[test]
    fn asm_with_port_and_loopback() {
        assert_eq!(
            asm("https://auth.example.com:8443/realms/x"),
            [
                "https://auth.example.com:8443/.well-known/oauth-authorization-server/realms/x",
                "https://auth.example.com:8443/.well-known/openid-configuration/realms/x",
                "https://auth.example.com:8443/realms/x/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            asm("http://localhost:9000"),
            [
                "http://localhost:9000/.well-known/oauth-authorization-server",
                "http://localhost:9000/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            asm("http://127.0.0.1:9000/issuer/"),
            [
                "http://127.0.0.1:9000/.well-known/oauth-authorization-server/issuer",
                "http://127.0.0.1:9000/.well-known/openid-configuration/issuer",
                "http://127.0.0.1:9000/issuer/.well-known/openid-configuration",
            ]
        );
    }

    #[test]
    fn default_port_is_not_written() {
        assert_eq!(
            asm("https://h:443"),
            [
                "https://h/.well-known/oauth-authorization-server",
                "https://h/.well-known/openid-configuration",
            ]
        );
    }

    #[test]
    fn percent_encoded_path_is_kept() {
        assert_eq!(
            prm("https://h/a%20b")[0],
            "https://h/.well-known/oauth-protected-resource/a%20b"
        );
    }

    #[test]
    fn non_base_urls_give_nothing() {
        assert!(prm("mailto:a@b.c").is_empty());
        assert!(asm("data:text/plain,x").is_empty());
    }
}
