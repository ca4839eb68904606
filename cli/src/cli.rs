//! The command line: `bindify <command>` with global --worker, --token and --json.

use clap::{Args, Parser, Subcommand};

const AFTER_LONG_HELP: &str = "\
Configuration (first found wins):
  Worker URL    --worker, BINDIFY_WORKER_URL, the config file
  Admin token   --token, BINDIFY_ADMIN_TOKEN, the config file
  Config file   <config dir>/bindify/config.json (~/.config/bindify on Linux), written by
                `bindify login` with mode 0600; BINDIFY_CONFIG_DIR replaces the directory.
  BINDIFY_NO_BROWSER=1 never opens a browser (like --no-browser).
  Prefer `bindify login` or BINDIFY_ADMIN_TOKEN to --token: other local users can see a
  process's arguments.

Exit codes:
  0  success
  1  any other error (the Worker failed, a local file could not be written, ...)
  2  usage: bad arguments or configuration, an ambiguous label, a missing --yes
  3  the Worker could not be reached
  4  unauthorized: the admin token is missing or wrong (or too many wrong attempts)
  5  not found: no connection has that label or id
  6  the authorization flow was denied or failed
  7  timed out waiting for the authorization flow

With --json, results go to stdout as JSON and errors to stderr as
{\"error\": <kind>, \"message\": <text>, \"exit_code\": <n>}.";

/// Manage a Bindify Worker: connect hosted MCP servers once and get permanent MCP URLs.
#[derive(Debug, Parser)]
#[command(name = "bindify", version, after_long_help = AFTER_LONG_HELP)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// The Worker's address, e.g. https://bindify.<your-subdomain>.workers.dev
    #[arg(long, global = true, value_name = "URL")]
    pub worker: Option<String>,
    /// The Worker's ADMIN_TOKEN (prefer `bindify login` or BINDIFY_ADMIN_TOKEN)
    #[arg(long, global = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Machine-readable output: JSON on stdout, errors as JSON on stderr
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Save the Worker URL and admin token, after checking them against the Worker.
    ///
    /// The token comes from --token, BINDIFY_ADMIN_TOKEN, standard input when it is not a
    /// terminal (`echo "$TOKEN" | bindify login --worker URL`), or a hidden prompt.
    Login,
    /// Authorize a hosted MCP server in the browser and print its permanent URLs.
    Connect(ConnectArgs),
    /// List the connections.
    List,
    /// Show one connection, including its last error.
    Status(Target),
    /// Delete a connection: its URL stops working and its tokens are revoked upstream.
    Revoke(RevokeArgs),
    /// Give a connection a new permanent URL; the old one stops working within seconds.
    RotateUrl(Target),
    /// Authorize a connection again (after its grant was revoked), keeping its URL.
    Reconnect(ReconnectArgs),
    /// Check the Worker, the admin token, the encryption key and the cron trigger.
    Doctor,
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// A preset (notion, linear, sentry, or one the Worker adds, such as github) or an MCP server
    /// URL
    #[arg(value_name = "PRESET | MCP URL")]
    pub server: String,
    /// Print the authorization link instead of opening a browser
    #[arg(long)]
    pub no_browser: bool,
    /// Seconds to wait for the authorization to finish
    #[arg(long, value_name = "SECONDS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// A client you registered at the server's authorization server (GitHub, Asana: servers
    /// without dynamic registration); the Worker keeps it for every connection there
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// Read the client's secret from standard input (a hidden prompt on a terminal)
    #[arg(long, requires = "client_id")]
    pub client_secret_stdin: bool,
    /// Connect with the client's own credentials (the client credentials grant), without a
    /// browser
    #[arg(long, requires = "client_id")]
    pub client_credentials: bool,
    /// The client's private key (PKCS#8 PEM, P-256), for --client-credentials with
    /// private_key_jwt instead of a secret
    #[arg(long, value_name = "PATH", requires = "client_credentials")]
    pub private_key_file: Option<std::path::PathBuf>,
    /// Read an API key from standard input and connect with it, without a browser
    #[arg(long, conflicts_with_all = ["client_id", "open"])]
    pub api_key_stdin: bool,
    /// The header the API key goes in (default: Authorization)
    #[arg(long, value_name = "NAME", requires = "api_key_stdin")]
    pub header: Option<String>,
    /// Connect a server that needs no credential at all
    #[arg(long, conflicts_with_all = ["client_id", "api_key_stdin"])]
    pub open: bool,
}

#[derive(Debug, Args)]
pub struct Target {
    /// The connection's label (case-insensitive) or id
    #[arg(value_name = "LABEL | ID")]
    pub connection: String,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    #[command(flatten)]
    pub target: Target,
    /// Do not ask for confirmation (required when not on a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct ReconnectArgs {
    #[command(flatten)]
    pub target: Target,
    /// Print the link instead of opening a browser
    #[arg(long)]
    pub no_browser: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_go_anywhere() {
        let cli = Cli::try_parse_from([
            "bindify",
            "status",
            "Notion",
            "--json",
            "--worker",
            "https://w.example",
        ])
        .expect("parse");
        assert!(cli.global.json);
        assert_eq!(cli.global.worker.as_deref(), Some("https://w.example"));
        assert!(matches!(cli.command, Command::Status(ref t) if t.connection == "Notion"));
    }

    #[test]
    fn usage_errors_exit_2_and_timeout_defaults() {
        let error = Cli::try_parse_from(["bindify", "connect"]).expect_err("missing server");
        assert_eq!(error.exit_code(), 2);
        let cli = Cli::try_parse_from(["bindify", "connect", "notion"]).expect("parse");
        assert!(
            matches!(cli.command, Command::Connect(ref c) if c.timeout == 300 && !c.no_browser)
        );
        assert!(Cli::try_parse_from(["bindify", "connect", "x", "--timeout", "0"]).is_err());
    }

    #[test]
    fn credential_flags_go_together_as_they_must() {
        let ok = |args: &[&str]| {
            let mut all = vec!["bindify", "connect", "https://m.example/mcp"];
            all.extend_from_slice(args);
            Cli::try_parse_from(all).map(|_| ())
        };
        assert!(ok(&["--client-id", "c", "--client-secret-stdin"]).is_ok());
        assert!(
            ok(&[
                "--client-id",
                "c",
                "--client-credentials",
                "--private-key-file",
                "k.pem"
            ])
            .is_ok()
        );
        assert!(ok(&["--api-key-stdin", "--header", "X-API-Key"]).is_ok());
        assert!(ok(&["--open"]).is_ok());
        for bad in [
            &["--client-secret-stdin"][..],
            &["--client-credentials"],
            &["--header", "X"],
            &["--api-key-stdin", "--open"],
            &["--api-key-stdin", "--client-id", "c"],
            &["--open", "--client-id", "c"],
        ] {
            assert_eq!(ok(bad).map_err(|e| e.exit_code()), Err(2), "{bad:?}");
        }
    }

    #[test]
    fn long_help_documents_exit_codes() {
        let help = Cli::command().render_long_help().to_string();
        for line in ["3  the Worker could not be reached", "7  timed out"] {
            assert!(help.contains(line), "{line}");
        }
    }
}
