//! `GET /`: pick a service or paste any MCP server URL.

use super::layout::{escape, page};
use crate::connect::presets::Preset;

pub fn landing_page(presets: &[Preset]) -> String {
    let items: String = presets
        .iter()
        .map(|p| {
            format!(
                r#"<li><a href="/connect/{slug}" data-preset="{slug}"><strong>{name}</strong><small>{note}</small></a></li>"#,
                slug = escape(&p.slug),
                name = escape(&p.name),
                note = escape(p.note),
            )
        })
        .collect();
    let body = format!(
        r#"<h1>Connect an MCP server once. Keep the URL forever.</h1>
<p>Authorize a service here one time. Bindify keeps its tokens encrypted, refreshes them before
they expire, and gives you a permanent URL to paste into Claude, Cursor or any MCP client.
Your client never sees an expired token again.</p>
<h2>Services</h2>
<ul class="presets">{items}</ul>
<h2>Any other MCP server</h2>
<form class="connect" id="connect-form" action="/connect" method="get">
<input type="url" name="server" required placeholder="https://mcp.example.com/mcp" aria-label="MCP server URL">
<button type="submit">Connect</button>
</form>
<p class="muted">Bindify finds how the server authorizes (OAuth as the MCP authorization spec
describes it) and asks for whatever else it needs.</p>
<h2>A server that takes an API key, or none</h2>
<form class="connect" id="api-key-start" action="/connect/key" method="get">
<input type="url" name="server" required placeholder="https://mcp.example.com/mcp" aria-label="MCP server URL for an API key">
<button type="submit">Connect with an API key</button>
</form>
<h2>Your connections</h2>
<p><a href="/manage" id="manage-link">See, relabel, reconnect, rotate or revoke them</a>.</p>"#
    );
    page("Connect", "landing", &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::presets;

    #[test]
    fn lists_presets_and_form() {
        let html = landing_page(&presets::all(None, &[]));
        assert!(html.contains(r#"href="/connect/notion""#));
        assert!(html.contains(r#"id="connect-form""#));
        assert!(html.contains(r#"name="server""#));
        assert!(html.contains(r#"href="/manage""#));
        assert!(html.contains(r#"id="api-key-start" action="/connect/key" method="get""#));
        // The OAuth form comes first: it is the one for a pasted URL.
        assert!(html.find(r#"id="connect-form""#) < html.find(r#"id="api-key-start""#));
    }
}
