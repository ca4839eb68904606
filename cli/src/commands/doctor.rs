//! `bindify doctor`: a checklist of what makes a deployment work, each finding with the command
//! that fixes it (the same advice as `scripts/deploy.sh`). Hard failures (unreachable, wrong
//! token, an `ADMIN_TOKEN` the Worker refuses, no usable encryption key, no KV namespace) make
//! the exit code non-zero; a quiet cron is a warning, since tokens are still refreshed on
//! demand. The checks of the Worker's answer are in [`super::doctor_checks`].

use bindify_core::time::UnixMillis;
use serde::Serialize;

use super::doctor_checks::{from_health, grants_ending, refused_admin_token};
use crate::api::transport::Transport;
use crate::api::types::Health;
use crate::api::{Client, HealthAnswer};
use crate::error::{CliError, Exit};
use crate::output::Output;

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
    /// The command that fixes it, run from the root of the Bindify checkout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<&'static str>,
}

impl Check {
    pub fn new(name: &'static str, level: Level, detail: impl Into<String>) -> Self {
        Check {
            name,
            level,
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn fix(mut self, command: &'static str) -> Self {
        self.fix = Some(command);
        self
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
            match client.health_answer() {
                Err(e) => fail(&mut checks, "admin API", &e),
                Ok(HealthAnswer::Answered(h)) => {
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
                    checks.extend(from_health(&h, now));
                    let storage_down =
                        matches!(h.storage.as_deref(), Some("unbound" | "unavailable"));
                    health = Some(h);
                    // Connections whose grant ends soon: only a reconnect goes past that date.
                    if !storage_down {
                        match client.list() {
                            Ok(connections) => checks.push(grants_ending(&connections, now)),
                            Err(e) => checks.push(Check::new(
                                "grants",
                                Level::Warn,
                                format!("the connections could not be listed: {e}"),
                            )),
                        }
                    }
                }
                Ok(refused) => checks.extend(refused_admin_token(&refused)),
            }
        }
    }
    if exit == Exit::Ok && checks.iter().any(|c| c.level == Level::Fail) {
        exit = Exit::Generic;
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
        if let Some(fix) = check.fix {
            human.push_str(&format!("       fix: {fix}\n"));
        }
    }
    if let Some(n) = health.as_ref().and_then(|h| h.connections) {
        human.push_str(&format!("{n} connection(s).\n"));
    }
    if checks.iter().any(|c| c.fix.is_some()) {
        human.push_str(
            "Run each fix from the root of the Bindify checkout you deploy from; \
             scripts/deploy.sh changes only what is missing.\n",
        );
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
