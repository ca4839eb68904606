//! The page shown once after connecting: the permanent URLs and how to use them. It is the
//! only place a URL secret is ever shown, so it is served with `Cache-Control: no-store`.

use super::copy::copy_script;
use super::layout::{escape, page};

/// The page after `bindify connect`: the terminal shows the URLs.
pub fn cli_done_page(server_url: &str) -> String {
    let body = format!(
        r#"<h1>Connected</h1>
<p>Bindify now holds the authorization for <strong>{}</strong>.</p>
<p class="notice" id="cli-done">Return to your terminal: <code>bindify</code> shows your permanent URL.</p>"#,
        escape(server_url)
    );
    page("Connected", "cli-done", &body)
}

/// `mcp_url` and `sse_url` are the permanent URLs; `server_url` is the upstream.
pub fn success_page(server_url: &str, mcp_url: &str, sse_url: &str) -> String {
    let server = escape(server_url);
    let mcp = escape(mcp_url);
    let sse = escape(sse_url);
    let desktop_config = escape(&format!(
        "{{\n  \"mcpServers\": {{\n    \"{name}\": {{\n      \"command\": \"npx\",\n      \"args\": [\"-y\", \"mcp-remote\", \"{mcp_url}\"]\n    }}\n  }}\n}}",
        name = server_name(server_url),
    ));
    let code_cmd = escape(&format!(
        "claude mcp add --transport http {} {mcp_url}",
        server_name(server_url)
    ));
    let body = format!(
        r#"<h1>Connected</h1>
<p>Bindify now holds the authorization for <strong>{server}</strong> and refreshes it on its own.</p>
<p class="notice">These URLs are secrets: anyone who has one can use this connection. This page
shows them once; copy them now.</p>
<h2>Streamable HTTP (current MCP clients)</h2>
<div class="url-row"><code class="url" id="mcp-url">{mcp}</code><button class="secondary" type="button" data-copy-target="mcp-url">Copy</button></div>
<h2>HTTP+SSE (older clients)</h2>
<div class="url-row"><code class="url" id="sse-url">{sse}</code><button class="secondary" type="button" data-copy-target="sse-url">Copy</button></div>
<section id="setup-claude-ai">
<h2>Claude.ai</h2>
<p>Settings → Connectors → Add custom connector. Paste the Streamable HTTP URL as the
connector URL and leave the OAuth fields empty.</p>
</section>
<section id="setup-claude-desktop">
<h2>Claude Desktop</h2>
<p>Add it as a custom connector the same way, or add this to
<code>claude_desktop_config.json</code> and restart Claude Desktop:</p>
<div class="url-row"><pre id="desktop-config">{desktop_config}</pre><button class="secondary" type="button" data-copy-target="desktop-config">Copy</button></div>
</section>
<section id="setup-claude-code">
<h2>Claude Code</h2>
<div class="url-row"><pre id="code-command">{code_cmd}</pre><button class="secondary" type="button" data-copy-target="code-command">Copy</button></div>
</section>
<p><a href="/">Connect another service</a></p>
<script>{copy}</script>"#,
        copy = copy_script(),
    );
    page("Connected", "success", &body)
}

/// A short name for client configuration: the upstream's host without `mcp.` and the TLD.
fn server_name(server_url: &str) -> String {
    let host = url::Url::parse(server_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let host = host.strip_prefix("mcp.").unwrap_or(&host);
    let label = host.split('.').next().unwrap_or("");
    let name: String = label
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    if name.is_empty() || name.chars().all(|c| c.is_ascii_digit()) {
        "bindify".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_both_urls_with_copy_buttons_and_setup() {
        let html = success_page(
            "https://mcp.notion.com/mcp",
            "https://b.example/s/SECRET/mcp",
            "https://b.example/s/SECRET/sse",
        );
        assert!(html.contains(r#"id="mcp-url">https://b.example/s/SECRET/mcp<"#));
        assert!(html.contains(r#"id="sse-url">https://b.example/s/SECRET/sse<"#));
        assert!(html.contains(r#"data-copy-target="mcp-url""#));
        assert!(html.contains(r#"data-copy-target="sse-url""#));
        for id in [
            "setup-claude-ai",
            "setup-claude-desktop",
            "setup-claude-code",
        ] {
            assert!(html.contains(id), "{id}");
        }
        assert!(
            html.contains("claude mcp add --transport http notion https://b.example/s/SECRET/mcp")
        );
    }

    #[test]
    fn server_names() {
        assert_eq!(server_name("https://mcp.notion.com/mcp"), "notion");
        assert_eq!(server_name("http://127.0.0.1:9200/mcp"), "bindify");
        assert_eq!(server_name("not a url"), "bindify");
    }
}
