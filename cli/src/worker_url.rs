//! The Worker's address as the CLI accepts it: an origin, `https`, or `http` on a loopback
//! host for local development (the admin token must not cross a network in clear text).

use url::{Host, Url};

use crate::error::{CliError, Result};

/// A validated Worker origin, e.g. `https://bindify.you.workers.dev`, without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerUrl(String);

impl WorkerUrl {
    pub fn parse(input: &str) -> Result<Self> {
        let input = input.trim();
        let url = Url::parse(input).map_err(|e| {
            CliError::Usage(format!(
                "the Worker URL is not a valid URL ({e}): pass its address, e.g. \
                 --worker https://bindify.<your-subdomain>.workers.dev"
            ))
        })?;
        // The message never repeats the URL: a pasted permanent URL holds a secret.
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(CliError::Usage(
                "the Worker URL must be the Worker's address alone, without a path (not a \
                 /s/<secret>/mcp URL), e.g. https://bindify.<your-subdomain>.workers.dev"
                    .into(),
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(CliError::Usage(
                "the Worker URL must not contain a user name or password: pass the admin \
                 token with `bindify login`"
                    .into(),
            ));
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => {
                return Err(CliError::Usage(format!(
                    "refusing to send the admin token over plain http to {}: use https://{}",
                    origin(&url),
                    url.host_str().unwrap_or_default()
                )));
            }
            other => {
                return Err(CliError::Usage(format!(
                    "the Worker URL must start with https:// (not {other}://)"
                )));
            }
        }
        Ok(WorkerUrl(origin(&url)))
    }

    /// The absolute URL of a path on the Worker (`path` starts with `/`).
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }
}

impl std::fmt::Display for WorkerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Percent-encodes one path segment (a connection id or a connect code from the user or the
/// Worker), so it cannot add segments or a query.
pub fn segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_https_and_loopback_http() {
        for (input, want) in [
            (
                "https://b.example.workers.dev",
                "https://b.example.workers.dev",
            ),
            (
                "https://b.example.workers.dev/",
                "https://b.example.workers.dev",
            ),
            (" https://B.Example:8443 ", "https://b.example:8443"),
            ("http://127.0.0.1:8787/", "http://127.0.0.1:8787"),
            ("http://localhost:8787", "http://localhost:8787"),
            ("http://[::1]:8787", "http://[::1]:8787"),
        ] {
            assert_eq!(WorkerUrl::parse(input).expect(input).to_string(), want);
        }
    }

    #[test]
    fn refuses_what_would_leak_or_misroute() {
        for input in [
            "http://b.example.workers.dev",
            "ftp://b.example",
            "b.example.workers.dev",
            "https://b.example/s/AAAAsecretAAAA/mcp",
            "https://b.example/?x=1",
            "https://user:pw@b.example",
        ] {
            let error = WorkerUrl::parse(input).expect_err(input);
            assert_eq!(error.exit().code(), 2, "{input}");
            assert!(!error.to_string().contains("AAAAsecretAAAA"), "{error}");
        }
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(segment("Q2v1xXU0m0v8uQ4Nf0a9Zw"), "Q2v1xXU0m0v8uQ4Nf0a9Zw");
        assert_eq!(segment("../x?y"), "%2E%2E%2Fx%3Fy");
        let url = WorkerUrl::parse("https://b.example").expect("url");
        assert_eq!(
            url.join(&format!("/api/connections/{}", segment("a b"))),
            "https://b.example/api/connections/a%20b"
        );
    }
}
