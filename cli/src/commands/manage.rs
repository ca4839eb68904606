//! `list`, `status`, `revoke`, `rotate-url` and `reconnect`.

use serde::Serialize;
use serde_json::json;

use crate::api::Client;
use crate::api::transport::Transport;
use crate::clock::now;
use crate::error::{CliError, Result};
use crate::output::{self, Output};
use crate::terminal::Opener;

use super::find;

pub fn list<T: Transport>(client: &Client<T>) -> Result<Output> {
    let connections = client.list()?;
    Ok(Output::new(
        output::table(&connections, now()),
        &json!({ "connections": connections }),
    ))
}

pub fn status<T: Transport>(client: &Client<T>, wanted: &str) -> Result<Output> {
    let listed = find(client, wanted)?;
    let connection = client.get(&listed.id)?;
    Ok(Output::new(
        output::details(&connection, now()),
        &connection,
    ))
}

/// Asks a yes/no question.
pub type Asker = Box<dyn Fn(&str) -> Result<bool>>;

/// How `revoke` gets its confirmation.
pub enum Confirmation {
    /// `--yes`.
    Given,
    /// A terminal to ask on.
    Ask(Asker),
    /// Neither: refuse.
    Impossible,
}

pub fn revoke<T: Transport>(
    client: &Client<T>,
    wanted: &str,
    confirmation: Confirmation,
) -> Result<Output> {
    let connection = find(client, wanted)?;
    let who = format!(
        "{} ({}, {})",
        connection.label, connection.id, connection.upstream
    );
    match confirmation {
        Confirmation::Given => {}
        Confirmation::Impossible => {
            return Err(CliError::Usage(format!(
                "not revoking {who} without confirmation: pass --yes (standard input is not \
                 a terminal to ask on)"
            )));
        }
        Confirmation::Ask(ask) => {
            let question = format!(
                "Revoke {who}? Its permanent URL stops working within seconds (the Worker's \
                 REVOCATION_BOUND_SECONDS) and its tokens are revoked."
            );
            if !ask(&question)? {
                return Err(CliError::Local(format!("cancelled: {who} was not revoked")));
            }
        }
    }
    let revoked = client.revoke(&connection.id)?;
    #[derive(Serialize)]
    struct Json<'a> {
        id: &'a str,
        label: &'a str,
        revoked: bool,
        upstream_revocation: &'a str,
        old_url_answers_for_seconds: u64,
    }
    Ok(Output::new(
        output::revoked(&connection, &revoked),
        &Json {
            id: &connection.id,
            label: &connection.label,
            revoked: revoked.revoked,
            upstream_revocation: &revoked.upstream_revocation,
            old_url_answers_for_seconds: revoked.old_url_answers_for_seconds,
        },
    ))
}

pub fn rotate<T: Transport>(client: &Client<T>, wanted: &str) -> Result<Output> {
    let connection = find(client, wanted)?;
    let urls = client.rotate(&connection.id)?;
    #[derive(Serialize)]
    struct Json<'a> {
        id: &'a str,
        label: &'a str,
        mcp_url: &'a str,
        sse_url: &'a str,
        old_url_answers_for_seconds: u64,
    }
    Ok(Output::new(
        output::rotated(&connection, &urls),
        &Json {
            id: &connection.id,
            label: &connection.label,
            mcp_url: &urls.mcp_url,
            sse_url: &urls.sse_url,
            old_url_answers_for_seconds: urls.old_url_answers_for_seconds,
        },
    ))
}

/// Starts a reconnect; `open` opens the link in a browser and says whether it could.
pub fn reconnect<T: Transport>(
    client: &Client<T>,
    wanted: &str,
    open: Option<Opener<'_>>,
) -> Result<Output> {
    let connection = find(client, wanted)?;
    let reconnect = client.reconnect(&connection.id)?;
    let url = &reconnect.reconnect_url;
    let opened = match open {
        None => "Open this link".to_owned(),
        Some(open) => match open(url) {
            Ok(()) => "Opened your browser at this link; if nothing appeared, open it".to_owned(),
            Err(e) => format!(
                "Could not open a browser ({}): open this link",
                e.replace(url.as_str(), "<link>")
            ),
        },
    };
    let human = format!(
        "{opened} to authorize {} ({}) again:\n{url}\nIt needs the Bindify dashboard session in \
         that browser: if it asks, sign in at {}/login with the admin token. The permanent URL \
         stays the same.\n",
        connection.label,
        connection.id,
        client.worker()
    );
    #[derive(Serialize)]
    struct Json<'a> {
        id: &'a str,
        label: &'a str,
        reconnect_url: &'a str,
    }
    Ok(Output::new(
        human,
        &Json {
            id: &connection.id,
            label: &connection.label,
            reconnect_url: url,
        },
    ))
}
