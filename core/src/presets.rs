//! Hosted MCP servers a user can connect with one click. Each needs only its URL: discovery
//! and registration find the rest.

/// A known service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preset {
    /// Path segment in `/connect/<slug>` and the CLI's `bindify connect <slug>`.
    pub slug: String,
    pub name: String,
    pub server_url: String,
    pub note: &'static str,
}

/// The built-in presets: services that support dynamic client registration.
pub fn builtin() -> Vec<Preset> {
    [
        (
            "notion",
            "Notion",
            "https://mcp.notion.com/mcp",
            "Pages, databases and comments.",
        ),
        (
            "linear",
            "Linear",
            "https://mcp.linear.app/mcp",
            "Issues, projects and cycles.",
        ),
        (
            "atlassian",
            "Atlassian",
            "https://mcp.atlassian.com/v1/mcp",
            "Jira and Confluence.",
        ),
        (
            "sentry",
            "Sentry",
            "https://mcp.sentry.dev/mcp",
            "Errors, issues and releases.",
        ),
    ]
    .into_iter()
    .map(|(slug, name, url, note)| Preset {
        slug: slug.into(),
        name: name.into(),
        server_url: url.into(),
        note,
    })
    .collect()
}

/// The presets of a deployment: the built-in ones, plus the local demo service when
/// `DEMO_SERVER_URL` is set (only `scripts/dev.sh` sets it).
pub fn all(demo_server_url: Option<&str>) -> Vec<Preset> {
    let mut presets = Vec::new();
    if let Some(url) = demo_server_url.filter(|u| !u.is_empty()) {
        presets.push(Preset {
            slug: "demo".into(),
            name: "Demo service (local)".into(),
            server_url: url.into(),
            note: "A local MCP server behind a local OAuth server, started by scripts/dev.sh.",
        });
    }
    presets.extend(builtin());
    presets
}

/// The label a new connection gets: the built-in service's name, else the server's host.
pub fn default_label(server_url: &str) -> String {
    if let Some(preset) = builtin().into_iter().find(|p| p.server_url == server_url) {
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
            default_label("https://mcp.example.com/mcp"),
            "mcp.example.com"
        );
        assert_eq!(default_label("http://127.0.0.1:9200/mcp"), "127.0.0.1:9200");
    }

    #[test]
    fn notion_is_a_preset() {
        let p = find(&all(None), "notion");
        assert_eq!(
            p.map(|p| p.server_url),
            Some("https://mcp.notion.com/mcp".to_owned())
        );
        assert!(find(&all(None), "demo").is_none());
        assert!(find(&all(Some("http://127.0.0.1:9200/mcp")), "demo").is_some());
    }
}
