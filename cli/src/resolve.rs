//! Which connection the user means: an exact id, else a label compared case-insensitively
//! (the whole label, not a prefix). A label several connections share is refused with their
//! ids, so a destructive command never picks one by chance.

use crate::api::types::Connection;
use crate::error::{CliError, Result};

pub fn resolve<'a>(connections: &'a [Connection], wanted: &str) -> Result<&'a Connection> {
    let wanted = wanted.trim();
    if let Some(c) = connections.iter().find(|c| c.id == wanted) {
        return Ok(c);
    }
    let folded = wanted.to_lowercase();
    let matches: Vec<&Connection> = connections
        .iter()
        .filter(|c| c.label.to_lowercase() == folded)
        .collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(CliError::NotFound(not_found_message(connections, wanted))),
        several => {
            let ids: Vec<&str> = several.iter().map(|c| c.id.as_str()).collect();
            Err(CliError::Usage(format!(
                "the label \"{wanted}\" is ambiguous: {} connections have it ({}). Pass an id \
                 instead, e.g. `{}`",
                ids.len(),
                ids.join(", "),
                ids[0]
            )))
        }
    }
}

fn not_found_message(connections: &[Connection], wanted: &str) -> String {
    if connections.is_empty() {
        return format!(
            "no connection has the label or id \"{wanted}\": there are no connections yet. \
             Create one with `bindify connect <preset | MCP URL>`"
        );
    }
    let mut labels: Vec<&str> = connections.iter().map(|c| c.label.as_str()).collect();
    labels.sort_unstable();
    labels.dedup();
    const SHOWN: usize = 10;
    let more = labels.len().saturating_sub(SHOWN);
    labels.truncate(SHOWN);
    format!(
        "no connection has the label or id \"{wanted}\" (labels: {}{}): `bindify list` shows \
         every connection with its id",
        labels.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(id: &str, label: &str) -> Connection {
        Connection {
            id: id.into(),
            label: label.into(),
            upstream: "https://mcp.example/mcp".into(),
            state: "active".into(),
            access_token_expires_at: None,
            last_refresh_at: None,
            last_error: None,
            created_at: None,
            kind: None,
            grant_expires_at: None,
        }
    }

    #[test]
    fn id_then_label_case_insensitive() {
        let all = [
            conn("id1", "Notion"),
            conn("id2", "Linear"),
            conn("Linear", "Other"),
        ];
        assert_eq!(
            resolve(&all, "id2").map(|c| &c.id).ok(),
            Some(&"id2".into())
        );
        assert_eq!(
            resolve(&all, "notion").map(|c| &c.id).ok(),
            Some(&"id1".into())
        );
        assert_eq!(
            resolve(&all, " NOTION ").map(|c| &c.id).ok(),
            Some(&"id1".into())
        );
        // An exact id wins over a label.
        assert_eq!(
            resolve(&all, "Linear").map(|c| &c.id).ok(),
            Some(&"Linear".into())
        );
        // A prefix is not a match.
        assert!(resolve(&all, "Not").is_err());
    }

    #[test]
    fn ambiguous_label_lists_the_ids() {
        let all = [
            conn("a1", "Notion"),
            conn("b2", "notion"),
            conn("c3", "Linear"),
        ];
        let error = resolve(&all, "Notion").expect_err("ambiguous");
        assert_eq!(error.exit().code(), 2);
        let message = error.to_string();
        assert!(message.contains("ambiguous"), "{message}");
        assert!(message.contains("a1, b2"), "{message}");
    }

    #[test]
    fn unknown_label_is_not_found() {
        let all = [conn("a1", "Notion")];
        let error = resolve(&all, "Jira").expect_err("unknown");
        assert_eq!(error.exit().code(), 5);
        assert_eq!(
            error.to_string(),
            "no connection has the label or id \"Jira\" (labels: Notion): `bindify list` \
             shows every connection with its id"
        );
        let none = resolve(&[], "Jira").expect_err("unknown");
        assert!(none.to_string().contains("bindify connect"), "{none}");
    }
}
