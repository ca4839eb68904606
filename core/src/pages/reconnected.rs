//! The page after a reconnect: the URL already in use works again; nothing new to copy. It
//! also says what became of the authorization the reconnect replaced.

use super::layout::{escape, page};
use crate::connect::flow::revoke::ReplacedGrant;

pub fn reconnected_page(server_url: &str, replaced: ReplacedGrant) -> String {
    let (outcome, note) = match replaced {
        ReplacedGrant::Revoked => (
            "revoked",
            "The authorization it replaced was revoked at the service.",
        ),
        ReplacedGrant::Unsupported => (
            "unsupported",
            "The service offers no way to revoke the authorization it replaced; remove it in the service's own settings if you want it gone before it expires.",
        ),
        ReplacedGrant::Failed => (
            "failed",
            "Revoking the authorization it replaced failed; remove it in the service's own settings if you want it gone before it expires.",
        ),
        ReplacedGrant::StillInUse => (
            "still_in_use",
            "The service kept the same authorization, so there was nothing to revoke.",
        ),
    };
    let body = format!(
        r#"<h1>Reconnected</h1>
<p>Bindify holds a new authorization for <strong>{server}</strong>.</p>
<p class="notice" id="reconnected-note">The permanent URL you already use works again. There is
nothing to change in Claude or any other client.</p>
<p id="replaced-grant" data-outcome="{outcome}">{note}</p>
<p><a href="/">Back to Bindify</a></p>"#,
        server = escape(server_url),
        note = escape(note),
    );
    page("Reconnected", "reconnected", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_the_url_is_unchanged_and_what_became_of_the_old_grant() {
        let html = reconnected_page("https://mcp.notion.com/mcp", ReplacedGrant::Revoked);
        assert!(html.contains(r#"data-page="reconnected""#));
        assert!(html.contains("works again"));
        assert!(html.contains(r#"data-outcome="revoked""#));
        let html = reconnected_page("https://mcp.notion.com/mcp", ReplacedGrant::Unsupported);
        assert!(html.contains(r#"data-outcome="unsupported""#));
    }
}
