//! `bindify`: the command line of a Bindify Worker. See cli/README.md and `bindify --help`.

mod api;
mod cli;
mod clock;
mod commands;
mod config;
mod error;
mod fixes;
mod output;
mod resolve;
mod terminal;
mod worker_url;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

use api::Client;
use api::transport::UreqTransport;
use bindify_core::admin::AdminToken;
use cli::{Cli, Command};
use commands::manage::Confirmation;
use config::{ENV_ADMIN_TOKEN, ENV_NO_BROWSER, ENV_WORKER_URL, Sources};
use error::{CliError, Result};
use output::Output;
use worker_url::WorkerUrl;

/// One management request may take this long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let json = cli.global.json;
    let env = |name: &str| std::env::var(name).ok();
    let flag_token = cli.global.token.as_deref().and_then(AdminToken::parse);
    let mut secrets: Vec<AdminToken> = flag_token.iter().cloned().collect();
    secrets.extend(env(ENV_ADMIN_TOKEN).and_then(|t| AdminToken::parse(&t)));

    let mut warnings = Vec::new();
    let result = run(cli, flag_token, &env, &mut warnings, &mut secrets);
    for warning in &warnings {
        terminal::note(&format!("warning: {}", redact(warning, &secrets)));
    }
    let exit = match result {
        Ok(out) => {
            let mut stdout = std::io::stdout().lock();
            let _ = if json {
                writeln!(stdout, "{}", out.json)
            } else {
                write!(stdout, "{}", out.human)
            };
            let _ = stdout.flush();
            out.exit
        }
        Err(e) => {
            let message = redact(&e.to_string(), &secrets);
            if json {
                let body = serde_json::json!({
                    "error": e.kind(),
                    "message": message,
                    "exit_code": e.exit().code(),
                });
                terminal::note(&body.to_string());
            } else {
                terminal::note(&format!("error: {message}"));
            }
            e.exit()
        }
    };
    ExitCode::from(exit.code())
}

/// Belt and braces: no message leaves with a known token in it. (Tokens shorter than 8
/// characters are not real tokens, and replacing them would garble ordinary words.)
fn redact(text: &str, secrets: &[AdminToken]) -> String {
    secrets
        .iter()
        .filter(|s| s.expose().len() >= 8)
        .fold(text.to_owned(), |t, s| t.replace(s.expose(), "<redacted>"))
}

fn run(
    cli: Cli,
    flag_token: Option<AdminToken>,
    env: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
    secrets: &mut Vec<AdminToken>,
) -> Result<Output> {
    let dir = config::config_dir(env);
    let file = match (&dir, &cli.command) {
        (Ok(dir), Command::Login) => config::load(dir, warnings).unwrap_or_else(|e| {
            warnings.push(format!("{e}; `bindify login` replaces it"));
            None
        }),
        (Ok(dir), _) => config::load(dir, warnings)?,
        (Err(_), _) => None,
    };
    let sources = Sources::from_env(cli.global.worker.clone(), flag_token, env, file);
    secrets.extend(sources.token().map(|(t, _)| t));
    let no_browser_env = terminal::no_browser_env(env(ENV_NO_BROWSER).as_deref());
    let open_browser: terminal::Opener<'_> = &terminal::open_browser;

    match cli.command {
        Command::Login => {
            let dir = dir?;
            let worker = worker(&sources)?;
            let (token, origin) = login_token(&sources)?;
            secrets.push(token.clone());
            let client = Client::new(
                UreqTransport::new(REQUEST_TIMEOUT),
                worker,
                Some(token.clone()),
                origin,
            );
            commands::login::login(&client, &token, &dir)
        }
        Command::Connect(args) => {
            let client = client(&sources)?;
            let note: &dyn Fn(&str) = &terminal::note;
            let waiting: &dyn Fn() -> Box<dyn FnOnce()> = &|| {
                let spinner =
                    terminal::Spinner::start("Waiting for the authorization in the browser…");
                Box::new(move || spinner.stop())
            };
            let ui = commands::connect::Ui {
                note,
                open: (!args.no_browser && !no_browser_env).then_some(open_browser),
                waiting,
            };
            let credentials = connect_credentials(&args)?;
            commands::connect::connect(
                &client,
                &args.server,
                Duration::from_secs(args.timeout),
                commands::connect::POLL_INTERVAL,
                &ui,
                &credentials,
            )
        }
        Command::List => commands::manage::list(&client(&sources)?),
        Command::Status(target) => commands::manage::status(&client(&sources)?, &target.connection),
        Command::Revoke(args) => {
            let confirmation = if args.yes {
                Confirmation::Given
            } else if terminal::stdin_is_terminal() {
                Confirmation::Ask(Box::new(terminal::confirm))
            } else {
                Confirmation::Impossible
            };
            commands::manage::revoke(&client(&sources)?, &args.target.connection, confirmation)
        }
        Command::RotateUrl(target) => {
            commands::manage::rotate(&client(&sources)?, &target.connection)
        }
        Command::Reconnect(args) => {
            let open = (!args.no_browser && !no_browser_env).then_some(open_browser);
            commands::manage::reconnect(&client(&sources)?, &args.target.connection, open)
        }
        Command::Doctor => Ok(commands::doctor::doctor(&client(&sources)?, clock::now())),
    }
}

/// What `bindify connect` was given besides the server: flags, a secret or an API key from
/// standard input, a private key from a file.
fn connect_credentials(args: &cli::ConnectArgs) -> Result<commands::connect::Credentials> {
    let needed = |what: &str| {
        CliError::Usage(format!(
            "no {what} on standard input: pipe it in (`printf %s \"$SECRET\" | bindify connect …`) or type it at the prompt"
        ))
    };
    let client_secret = if args.client_secret_stdin {
        Some(terminal::read_secret("Client secret: ")?.ok_or_else(|| needed("client secret"))?)
    } else {
        None
    };
    let api_key = if args.api_key_stdin {
        Some(terminal::read_secret("API key: ")?.ok_or_else(|| needed("API key"))?)
    } else {
        None
    };
    let private_key_pem = match &args.private_key_file {
        Some(path) => Some(zeroize::Zeroizing::new(
            std::fs::read_to_string(path).map_err(|e| {
                CliError::Usage(format!(
                    "cannot read the private key {}: {e}",
                    path.display()
                ))
            })?,
        )),
        None => None,
    };
    Ok(commands::connect::Credentials {
        client_id: args.client_id.clone(),
        client_secret,
        client_credentials: args.client_credentials,
        private_key_pem,
        api_key,
        header: args.header.clone(),
        open: args.open,
    })
}

/// The token `login` checks and saves: --token, BINDIFY_ADMIN_TOKEN, then standard input (a
/// hidden prompt on a terminal). Never the config file's: login is how that one is replaced.
fn login_token(sources: &Sources) -> Result<(AdminToken, String)> {
    if let Some(token) = sources.flag_token.clone() {
        return Ok((token, "--token".to_owned()));
    }
    if let Some(token) = sources.env_token.clone() {
        return Ok((token, ENV_ADMIN_TOKEN.to_owned()));
    }
    let token = terminal::read_token()?.ok_or_else(|| {
        CliError::Usage(
            "no admin token given: type it at the prompt, pipe it on standard input (`echo \
             \"$TOKEN\" | bindify login --worker <url>`), or set BINDIFY_ADMIN_TOKEN"
                .into(),
        )
    })?;
    Ok((token, "standard input".to_owned()))
}

fn worker(sources: &Sources) -> Result<WorkerUrl> {
    let (url, _) = sources.worker().ok_or_else(|| {
        CliError::Usage(format!(
            "no Worker URL: run `bindify login --worker <url>`, pass --worker <url>, or set \
             {ENV_WORKER_URL}"
        ))
    })?;
    WorkerUrl::parse(&url)
}

fn client(sources: &Sources) -> Result<Client<UreqTransport>> {
    let worker = worker(sources)?;
    let (token, origin) = match sources.token() {
        Some((token, source)) => (Some(token), source.describe("token", ENV_ADMIN_TOKEN)),
        None => (None, String::new()),
    };
    Ok(Client::new(
        UreqTransport::new(REQUEST_TIMEOUT),
        worker,
        token,
        origin,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_known_tokens_only() {
        let secrets = [
            AdminToken::parse("s3cr3t-admin-token").expect("token"),
            AdminToken::parse("wrong").expect("short"),
        ];
        assert_eq!(
            redact("x s3cr3t-admin-token y: the token is wrong", &secrets),
            "x <redacted> y: the token is wrong"
        );
    }
}
