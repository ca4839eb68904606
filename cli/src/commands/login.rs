//! `bindify login`: checks the Worker URL and admin token with `GET /api/health`, then saves
//! both to the config file (mode 0600).

use std::path::Path;

use serde::Serialize;

use crate::api::Client;
use crate::api::transport::Transport;
use crate::config::{self, ConfigFile};
use crate::error::{CliError, Result};
use crate::fixes;
use crate::output::Output;
use bindify_core::admin::AdminToken;

pub fn login<T: Transport>(
    client: &Client<T>,
    token: &AdminToken,
    config_dir: &Path,
) -> Result<Output> {
    let health = client.health().map_err(|e| match e {
        CliError::Unauthorized(ref m) if m.starts_with("the admin token is wrong") => {
            CliError::Unauthorized(format!(
                "the admin token is wrong: {} refused it (401), so nothing was saved. Use the \
                 value of the Worker's ADMIN_TOKEN secret, which scripts/deploy.sh printed once \
                 (`{}` makes a new one)",
                client.worker(),
                fixes::REPLACE_ADMIN_TOKEN
            ))
        }
        other => other,
    })?;
    let file = ConfigFile {
        worker_url: Some(client.worker().to_string()),
        admin_token: Some(token.clone()),
    };
    let path = config::save(config_dir, &file)?;
    let mut human = format!(
        "Logged in to {}. Saved the URL and token to {} (readable only by you).\n",
        client.worker(),
        path.display()
    );
    if health.admin_token != "set" {
        human.push_str(&format!(
            "Note: this Worker has no ADMIN_TOKEN, so it accepted the token unchecked (local \
             development). `{}` sets one when it deploys.\n",
            fixes::SET_MISSING_SECRETS
        ));
    }
    #[derive(Serialize)]
    struct Json {
        worker_url: String,
        config_file: String,
        admin_token_checked: bool,
    }
    Ok(Output::new(
        human,
        &Json {
            worker_url: client.worker().to_string(),
            config_file: path.display().to_string(),
            admin_token_checked: health.admin_token == "set",
        },
    ))
}
