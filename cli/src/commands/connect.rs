//! `bindify connect`: starts a CLI flow (`POST /api/connect`), sends the user to the browser
//! link, and polls `GET /api/connect/<code>` until the flow ends or the wait times out.

use std::time::{Duration, Instant};

use bindify_core::connect::cli_flow::ConnectCode;
use bindify_core::connect::presets;
use zeroize::Zeroizing;

use crate::api::Client;
use crate::api::transport::Transport;
use crate::api::types::{ApiErrorBody, ConnectStatus, Connected};
use crate::clock::{now, parse_rfc3339};
use crate::error::{CliError, Result};
use crate::output::{self, Output};
use crate::terminal::Opener;

/// How often the flow's result is asked for.
pub const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// What the server argument is: an MCP server URL (checked here) or a preset name (checked by
/// the Worker, which may know more than the built-in ones, e.g. `demo`).
pub fn server_argument(input: &str) -> Result<String> {
    let input = input.trim();
    if input.contains("://") {
        let url = url::Url::parse(input).map_err(|e| {
            CliError::Usage(format!(
                "\"{input}\" is not a valid URL ({e}): pass an MCP server URL such as \
                 https://mcp.notion.com/mcp, or a preset ({})",
                builtin_names()
            ))
        })?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(CliError::Usage(format!(
                "an MCP server URL must start with https:// (got {}://)",
                url.scheme()
            )));
        }
        return Ok(url.to_string());
    }
    if input.is_empty() || input.contains(char::is_whitespace) {
        return Err(CliError::Usage(format!(
            "pass a preset ({}) or an MCP server URL",
            builtin_names()
        )));
    }
    Ok(input.to_ascii_lowercase())
}

/// The built-in presets, for messages: "notion, linear, sentry".
pub fn builtin_names() -> String {
    presets::builtin()
        .iter()
        .map(|p| p.slug.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The hooks `connect` needs from the terminal, so tests can run it headless.
pub struct Ui<'a> {
    /// Tells the user something on stderr.
    pub note: &'a dyn Fn(&str),
    /// Opens a URL in the browser, or `None` for --no-browser.
    pub open: Option<Opener<'a>>,
    /// Called once polling starts; the returned closure ends the spinner.
    pub waiting: &'a dyn Fn() -> Box<dyn FnOnce()>,
}

/// What the owner gave besides the server, read from the flags, standard input and files.
/// `Debug` leaves out the secrets.
#[derive(Default)]
pub struct Credentials {
    /// A client registered at the server's authorization server.
    pub client_id: Option<String>,
    pub client_secret: Option<Zeroizing<String>>,
    /// Connect with the client's own credentials instead of a browser sign-in.
    pub client_credentials: bool,
    pub private_key_pem: Option<Zeroizing<String>>,
    /// Connect with this API key, in `header` (the Worker's default: Authorization).
    pub api_key: Option<Zeroizing<String>>,
    pub header: Option<String>,
    /// Connect a server that needs no credential.
    pub open: bool,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("client_id", &self.client_id)
            .field("client_credentials", &self.client_credentials)
            .field("header", &self.header)
            .field("open", &self.open)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// The body of `POST /api/connections` when the connection is made without a browser.
    fn direct_body(&self, server: &str) -> Option<serde_json::Value> {
        let secret = |s: &Option<Zeroizing<String>>| s.as_ref().map(|s| s.as_str().to_owned());
        if self.open {
            return Some(serde_json::json!({ "server": server, "kind": "open" }));
        }
        if let Some(key) = &self.api_key {
            return Some(serde_json::json!({
                "server": server,
                "kind": "api_key",
                "header_name": self.header,
                "api_key": key.as_str(),
            }));
        }
        self.client_credentials.then(|| {
            serde_json::json!({
                "server": server,
                "kind": "client_credentials",
                "client_id": self.client_id,
                "client_secret": secret(&self.client_secret),
                "private_key_pem": secret(&self.private_key_pem),
            })
        })
    }
}

pub fn connect<T: Transport>(
    client: &Client<T>,
    server: &str,
    timeout: Duration,
    interval: Duration,
    ui: &Ui<'_>,
    credentials: &Credentials,
) -> Result<Output> {
    let server = server_argument(server)?;
    let refused = |body: &ApiErrorBody| {
        let said = body.message.trim_end_matches('.');
        CliError::Usage(format!(
            "the Worker cannot connect {server} this way ({}): {said}",
            body.error
        ))
    };
    if let Some(body) = credentials.direct_body(&server) {
        let connected = client.create_connection(body, refused)?;
        return Ok(Output::new(output::connected(&connected), &connected));
    }
    if let Some(client_id) = &credentials.client_id {
        let entered = client.enter_client(
            &server,
            client_id,
            credentials.client_secret.as_ref().map(|s| s.as_str()),
            refused,
        )?;
        (ui.note)(&format!(
            "Saved the client {} for {}: every connection there uses it.",
            entered.client_id, entered.issuer
        ));
    }
    let started = client.connect(&server, |body| {
        let said = if body.message.is_empty() {
            String::new()
        } else {
            format!(" (the Worker said: {})", body.message.trim_end_matches('.'))
        };
        if server.contains("://") {
            CliError::Usage(format!(
                "the Worker cannot connect {server}{said}: check the MCP server URL"
            ))
        } else {
            CliError::Usage(format!(
                "\"{server}\" is not a preset this Worker knows{said}: use one of {} (or one \
                 its landing page lists), or pass the MCP server URL",
                builtin_names()
            ))
        }
    })?;
    (ui.note)(&format!(
        "Open this link to authorize: {}",
        started.browser_url
    ));
    if let Some(Err(reason)) = ui.open.map(|open| open(&started.browser_url)) {
        let reason = reason.replace(&started.browser_url, "<link>");
        (ui.note)(&format!(
            "Could not open a browser ({reason}): open the link above yourself."
        ));
    }
    let stop_spinner = (ui.waiting)();
    let expires_at = started.expires_at.as_deref().and_then(parse_rfc3339);
    let result = wait(client, &started.code, timeout, interval, expires_at);
    stop_spinner();
    let connected = result.map_err(|e| match e {
        CliError::TimedOut(_) => CliError::TimedOut(format!(
            "the authorization did not finish within {} s{}. Run `bindify connect {server}` \
             again and open the link, or pass a longer --timeout",
            timeout.as_secs(),
            started
                .expires_at
                .as_deref()
                .map(|at| format!(" (the link works until {at})"))
                .unwrap_or_default(),
        )),
        CliError::FlowFailed(message) => CliError::FlowFailed(format!(
            "{}. Run `bindify connect {server}` to try again",
            message.trim_end_matches('.')
        )),
        other => other,
    })?;
    Ok(Output::new(output::connected(&connected), &connected))
}

/// Polls until the flow is connected or failed, or `timeout` passes. Network failures while
/// waiting are retried until then: the user may still be in the browser. A code the Worker
/// no longer knows after its expiry (`expires_at`) is a timeout too.
fn wait<T: Transport>(
    client: &Client<T>,
    code: &ConnectCode,
    timeout: Duration,
    interval: Duration,
    expires_at: Option<bindify_core::time::UnixMillis>,
) -> Result<Connected> {
    let deadline = Instant::now() + timeout;
    loop {
        let last_error = match client.connect_status(code) {
            Ok(ConnectStatus::Connected(connected)) => return Ok(connected),
            Ok(ConnectStatus::Failed { error, message }) => {
                let message = if message.is_empty() {
                    "the authorization server gave no reason".to_owned()
                } else {
                    message
                };
                return Err(CliError::FlowFailed(format!(
                    "the authorization failed ({error}): {message}"
                )));
            }
            Ok(ConnectStatus::Pending) => None,
            Err(e @ CliError::Unreachable { .. }) => Some(e),
            Err(CliError::FlowFailed(_)) if expires_at.is_some_and(|at| now() >= at) => {
                return Err(CliError::TimedOut(String::new()));
            }
            Err(e) => return Err(e),
        };
        let now = Instant::now();
        if now >= deadline {
            return Err(last_error.unwrap_or_else(|| CliError::TimedOut(String::new())));
        }
        std::thread::sleep(interval.min(deadline - now));
    }
}
