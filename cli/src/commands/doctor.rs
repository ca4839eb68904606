//! `bindify doctor`: a checklist of what makes a deployment work. Hard failures (unreachable,
//! wrong token, no usable encryption key) make the exit code non-zero; a quiet cron is a
//! warning, since tokens are still refreshed on demand.

use bindify_core::time::UnixMillis;
use serde::Serialize;

use crate::api::Client;
use crate::api::transport::Transport;
use crate::api::types::Health;
use crate::clock::{parse_rfc3339, relative};
use crate::error::{CliError, Exit};
use crate::output::Output;

/// The cron runs every 5 minutes; three missed runs is a problem.
pub const CRON_FRESH_MS: i64 = 15 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub level: Level,
    pub detail: String,
}

impl Check {
    fn new(name: &'static str, level: Level, detail: impl Into<String>) -> Self {
        Check {
            name,
            level,
            detail: detail.into(),
        }
    }
}

#[derive(Debug, Serialize)]
struct Report<'a> {
    ok: bool,
    worker_url: String,
    checks: &'a [Check],
    #[serde(skip_serializing_if = "Option::is_none")]
    health: Option<&'a Health>,
}

pub fn doctor<T: Transport>(client: &Client<T>, now: UnixMillis) -> Output {
    let mut checks = Vec::new();
    let mut exit = Exit::Ok;
    let mut fail = |checks: &mut Vec<Check>, name, error: &CliError| {
        if exit == Exit::Ok {
            exit = error.exit();
        }
        checks.push(Check::new(name, Level::Fail, error.to_string()));
    };

    let worker = client.worker().to_string();
    let mut health = None;
    match client.root() {
        Err(e) => fail(&mut checks, "worker reachable", &e),
        Ok(status) => {
            checks.push(Check::new(
                "worker reachable",
                Level::Ok,
                format!("{worker} answered GET / with {status}"),
            ));
            match client.health() {
                Err(e) => fail(&mut checks, "admin API", &e),
                Ok(h) => {
                    checks.push(Check::new(
                        "admin API",
                        Level::Ok,
                        format!(
                            "/api/health answered{}{}",
                            if client.has_token() {
                                " with the admin token"
                            } else {
                                " without a token"
                            },
                            h.version
                                .as_deref()
                                .map(|v| format!(" (version {v})"))
                                .unwrap_or_default()
                        ),
                    ));
                    let key = encryption_key(&h);
                    if key.level == Level::Fail && exit == Exit::Ok {
                        exit = Exit::Generic;
                    }
                    checks.push(key);
                    checks.push(admin_token(&h));
                    checks.push(cron(&h, now));
                    health = Some(h);
                }
            }
        }
    }

    let ok = exit == Exit::Ok;
    let mut human = String::new();
    for check in &checks {
        let mark = match check.level {
            Level::Ok => "[ok]  ",
            Level::Warn => "[warn]",
            Level::Fail => "[FAIL]",
        };
        human.push_str(&format!("{mark} {}: {}\n", check.name, check.detail));
    }
    if let Some(n) = health.as_ref().and_then(|h| h.connections) {
        human.push_str(&format!("{n} connection(s).\n"));
    }
    human.push_str(if ok {
        "All required checks passed.\n"
    } else {
        "Some required checks failed: see [FAIL] above.\n"
    });
    let json = crate::output::render(&Report {
        ok,
        worker_url: worker,
        checks: &checks,
        health: health.as_ref(),
    });
    Output { human, json, exit }
}

fn encryption_key(h: &Health) -> Check {
    const NAME: &str = "encryption key";
    match h.encryption_key.as_str() {
        "ok" => Check::new(NAME, Level::Ok, "TOKEN_ENCRYPTION_KEY is set and valid"),
        "missing" => Check::new(
            NAME,
            Level::Fail,
            "TOKEN_ENCRYPTION_KEY is not set, so no connection can be stored: set it with \
             `openssl rand -base64 32 | npx wrangler@4 secret put TOKEN_ENCRYPTION_KEY`",
        ),
        other => Check::new(
            NAME,
            Level::Fail,
            format!(
                "TOKEN_ENCRYPTION_KEY is {other}: it must be 32 random bytes in base64. If \
                 connections were stored under an earlier key, put that key back; otherwise set \
                 a new one with `openssl rand -base64 32 | npx wrangler@4 secret put \
                 TOKEN_ENCRYPTION_KEY`"
            ),
        ),
    }
}

fn admin_token(h: &Health) -> Check {
    const NAME: &str = "admin token";
    if h.admin_token == "set" {
        Check::new(NAME, Level::Ok, "ADMIN_TOKEN is set on the Worker")
    } else {
        Check::new(
            NAME,
            Level::Warn,
            "ADMIN_TOKEN is not set: the Worker is open for local development only. Set it \
             before deploying: `openssl rand -base64 32 | npx wrangler@4 secret put \
             ADMIN_TOKEN`",
        )
    }
}

fn cron(h: &Health, now: UnixMillis) -> Check {
    const NAME: &str = "cron";
    const HOW: &str = "check that wrangler.toml has `[triggers] crons = [\"*/5 * * * *\"]` and \
         was deployed, and that the Cloudflare dashboard lists the trigger (Workers & Pages → \
         your Worker → Settings → Trigger events). Tokens are still refreshed on demand";
    let last = h.last_cron_run.as_deref();
    match last.map(|t| (t, parse_rfc3339(t))) {
        Some((text, Some(at))) if now - at <= CRON_FRESH_MS => Check::new(
            NAME,
            Level::Ok,
            format!("last run {text} ({})", relative(at, now)),
        ),
        Some((text, Some(at))) => Check::new(
            NAME,
            Level::Warn,
            format!(
                "no run in the last 15 minutes (last run {text}, {}): {HOW}",
                relative(at, now)
            ),
        ),
        Some((text, None)) => Check::new(
            NAME,
            Level::Warn,
            format!("the Worker reports an unreadable last run ({text}): {HOW}"),
        ),
        None => Check::new(
            NAME,
            Level::Warn,
            format!("the cron has never run on this Worker: {HOW}"),
        ),
    }
}
