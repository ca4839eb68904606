//! `GET /connect?server=<url>`: the owner confirms the server before any flow starts.

use super::layout::{escape, page};

/// `server` is the validated server URL; `token` the sealed confirmation for it.
pub fn confirm_page(server: &url::Url, token: &str) -> String {
    let host = server.host_str().unwrap_or_default();
    let host = match server.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let body = format!(
        r#"<h1>Connect to <span id="confirm-host">{host}</span>?</h1>
<p>Bindify will ask the authorization server of <code id="confirm-server">{server}</code> for access,
and keep the grant. Continue only if you typed or pasted this address yourself and trust this
host.</p>
<form class="connect" id="confirm-form" action="/connect" method="post">
<input type="hidden" name="server" value="{server}">
<input type="hidden" name="confirm" value="{token}">
<button type="submit">Connect to {host}</button>
<a class="button secondary" href="/" id="confirm-cancel">Cancel</a>
</form>"#,
        host = escape(&host),
        server = escape(server.as_str()),
        token = escape(token),
    );
    page("Confirm the server", "confirm", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_the_host_and_posts_the_token() {
        let server = url::Url::parse("https://mcp.example.com:8443/mcp?a=\"b\"").expect("url");
        let html = confirm_page(&server, "T0K");
        assert!(html.contains(r#"<span id="confirm-host">mcp.example.com:8443</span>"#));
        assert!(html.contains(r#"action="/connect" method="post""#));
        assert!(html.contains(r#"name="confirm" value="T0K""#));
        assert!(html.contains("a=%22b%22"));
        assert!(html.contains(r#"data-page="confirm""#));
    }
}
