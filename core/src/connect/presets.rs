//! Hosted MCP servers a user can connect with one click, and what their providers document
//! about them (`docs/providers.md` has the sources). A preset needs only its URL: discovery and
//! registration find the rest. Services without dynamic registration (GitHub, Asana) are
//! presets only once a client for their authorization server exists, configured in
//! `OAUTH_CLIENTS` or entered by the owner.

/// A known service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preset {
    /// Path segment in `/connect/<slug>` and the CLI's `bindify connect <slug>`.
    pub slug: String,
    pub name: String,
    pub server_url: String,
    pub note: &'static str,
}

/// A service whose preset needs a client registered by hand at `issuer` first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatedPreset {
    pub preset: Preset,
    /// The authorization server the client must be registered at.
    pub issuer: &'static str,
}

fn preset(slug: &str, name: &str, url: &str, note: &'static str) -> Preset {
    Preset {
        slug: slug.into(),
        name: name.into(),
        server_url: url.into(),
        note,
    }
}

/// The built-in presets: services with dynamic client registration whose URL and registration
/// are known to work with Bindify's flow.
pub fn builtin() -> Vec<Preset> {
    vec![
        preset(
            "notion",
            "Notion",
            "https://mcp.notion.com/mcp",
            "Pages, databases and comments.",
        ),
        preset(
            "linear",
            "Linear",
            "https://mcp.linear.app/mcp",
            "Issues, projects and cycles.",
        ),
        preset(
            "sentry",
            "Sentry",
            "https://mcp.sentry.dev/mcp",
            "Errors, issues and releases.",
        ),
    ]
}

/// Services without dynamic registration: presets once a client exists for their issuer.
pub fn gated() -> Vec<GatedPreset> {
    vec![
        GatedPreset {
            preset: preset(
                "github",
                "GitHub",
                "https://api.githubcopilot.com/mcp/",
                "Repositories, issues and pull requests (your GitHub App).",
            ),
            issuer: "https://github.com/login/oauth",
        },
        GatedPreset {
            preset: preset(
                "asana",
                "Asana",
                "https://mcp.asana.com/v2/mcp",
                "Tasks, projects and goals (your MCP app).",
            ),
            issuer: "https://app.asana.com",
        },
    ]
}

/// The presets of a deployment: the local demo service when `DEMO_SERVER_URL` is set (only
/// `scripts/dev.sh` sets it), the built-in ones, and each gated one whose issuer is among
/// `client_issuers` (issuers with a configured or entered client).
pub fn all(demo_server_url: Option<&str>, client_issuers: &[String]) -> Vec<Preset> {
    let mut presets = Vec::new();
    if let Some(url) = demo_server_url.filter(|u| !u.is_empty()) {
        presets.push(preset(
            "demo",
            "Demo service (local)",
            url,
            "A local MCP server behind a local OAuth server, started by scripts/dev.sh.",
        ));
    }
    presets.extend(builtin());
    presets.extend(
        gated()
            .into_iter()
            .filter(|g| {
                client_issuers
                    .iter()
                    .any(|i| i.trim_end_matches('/') == g.issuer)
            })
            .map(|g| g.preset),
    );
    presets
}

/// Grant lifetimes providers document, by issuer, in milliseconds: how long after the code
/// exchange a grant ends whatever its refreshes. Servers on Cloudflare's
/// `workers-oauth-provider` end grants 30 days after the code exchange and do not say so in
/// their token responses (Sentry documents it; Notion and Linear run the library with what is
/// known of its defaults).
pub fn documented_grant_lifetime(issuer: &str) -> Option<i64> {
    const THIRTY_DAYS: i64 = 30 * 86_400_000;
    match issuer.trim_end_matches('/') {
        "https://mcp.notion.com" | "https://mcp.sentry.dev" | "https://mcp.linear.app" => {
            Some(THIRTY_DAYS)
        }
        _ => None,
    }
}

/// The label a new connection gets: the known service's name, else the server's host.
pub fn default_label(server_url: &str) -> String {
    let known = builtin()
        .into_iter()
        .chain(gated().into_iter().map(|g| g.preset))
        .find(|p| p.server_url == server_url);
    if let Some(preset) = known {
        return preset.name;
    }
    url::Url::parse(server_url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(port) => format!("{h}:{port}"),
                None => h.to_owned(),
            })
        })
        .unwrap_or_else(|| server_url.to_owned())
}

/// Finds a preset by slug.
pub fn find(presets: &[Preset], slug: &str) -> Option<Preset> {
    presets.iter().find(|p| p.slug == slug).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_labels() {
        assert_eq!(default_label("https://mcp.notion.com/mcp"), "Notion");
        assert_eq!(
            default_label("https://api.githubcopilot.com/mcp/"),
            "GitHub"
        );
        assert_eq!(
            default_label("https://mcp.example.com/mcp"),
            "mcp.example.com"
        );
        assert_eq!(default_label("http://127.0.0.1:9200/mcp"), "127.0.0.1:9200");
    }

    #[test]
    fn the_built_in_presets_are_the_known_working_ones() {
        let slugs: Vec<String> = all(None, &[]).into_iter().map(|p| p.slug).collect();
        assert_eq!(slugs, ["notion", "linear", "sentry"]);
        assert!(find(&all(None, &[]), "demo").is_none());
        assert!(find(&all(Some("http://127.0.0.1:9200/mcp"), &[]), "demo").is_some());
    }

    #[test]
    fn github_and_asana_appear_once_their_issuer_has_a_client() {
        let issuers = vec!["https://github.com/login/oauth/".to_owned()];
        let presets = all(None, &issuers);
        assert_eq!(
            find(&presets, "github").map(|p| p.server_url),
            Some("https://api.githubcopilot.com/mcp/".to_owned())
        );
        assert!(find(&presets, "asana").is_none());
        let both = all(
            None,
            &[
                "https://app.asana.com".to_owned(),
                "https://github.com/login/oauth".to_owned(),
            ],
        );
        assert_eq!(
            both.iter().map(|p| p.slug.as_str()).collect::<Vec<_>>(),
            ["notion", "linear", "sentry", "github", "asana"]
        );
    }

    #[test]
    fn workers_oauth_provider_grants_end_after_thirty_days() {
        assert_eq!(
            documented_grant_lifetime("https://mcp.sentry.dev/"),
            Some(2_592_000_000)
        );
        assert_eq!(
            documented_grant_lifetime("https://mcp.notion.com"),
            Some(2_592_000_000)
        );
        assert_eq!(
            documented_grant_lifetime("https://github.com/login/oauth"),
            None
        );
    }
}
