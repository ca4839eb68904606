//! The page after a reconnect: the URL already in use works again; nothing new to copy.

use super::layout::{escape, page};

pub fn reconnected_page(server_url: &str) -> String {
    let body = format!(
        r#"<h1>Reconnected</h1>
<p>Bindify holds a new authorization for <strong>{server}</strong>.</p>
<p class="notice" id="reconnected-note">The permanent URL you already use works again. There is
nothing to change in Claude or any other client.</p>
<p><a href="/">Back to Bindify</a></p>"#,
        server = escape(server_url)
    );
    page("Reconnected", "reconnected", &body)
}

#[cfg(test)]
mod tests {
    #[test]
    fn says_the_url_is_unchanged() {
        let html = super::reconnected_page("https://mcp.notion.com/mcp");
        assert!(html.contains(r#"data-page="reconnected""#));
        assert!(html.contains("works again"));
    }
}
