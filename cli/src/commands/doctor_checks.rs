//! What `bindify doctor` concludes from `GET /api/health`, one check per setting, each problem
//! with its fix from [`crate::fixes`].

use bindify_core::time::UnixMillis;

use super::doctor::{Check, Level};
use crate::api::HealthAnswer;
use crate::api::types::{Connection, Health};
use crate::clock::{parse_rfc3339, relative};
use crate::fixes;

/// The cron runs every 5 minutes; three missed runs is a problem.
pub const CRON_FRESH_MS: i64 = 15 * 60 * 1000;

/// Connections whose grant ends within a week (or has ended): the provider ends it whatever
/// Bindify does, so each needs a reconnect.
pub fn grants_ending(connections: &[Connection], now: UnixMillis) -> Check {
    const NAME: &str = "grants";
    let ending: Vec<String> = connections
        .iter()
        .filter(|c| crate::output::grant_ends_soon(c.grant_expires_at.as_deref(), now))
        .map(|c| {
            let at = c.grant_expires_at.as_deref().unwrap_or_default();
            let when = parse_rfc3339(at)
                .map(|ms| relative(ms, now))
                .unwrap_or_default();
            format!(
                "{} ({}) ends {at} ({when}): run `bindify reconnect {}`",
                c.label, c.id, c.label
            )
        })
        .collect();
    if ending.is_empty() {
        Check::new(NAME, Level::Ok, "no grant ends within 7 days")
    } else {
        Check::new(
            NAME,
            Level::Warn,
            format!(
                "{} grant(s) end within 7 days, whatever Bindify does: {}",
                ending.len(),
                ending.join("; ")
            ),
        )
    }
}

/// The checks of a Worker that answered.
pub fn from_health(h: &Health, now: UnixMillis) -> Vec<Check> {
    let mut checks = vec![encryption_key(h), admin_token(h)];
    match h.storage.as_deref() {
        // Without storage the Worker cannot tell when the cron last ran.
        Some(problem @ ("unbound" | "unavailable")) => checks.push(storage(problem)),
        Some(_) | None => checks.push(cron(h, now)),
    }
    checks
}

/// The check for a Worker that refuses management because of its `ADMIN_TOKEN`.
pub fn refused_admin_token(answer: &HealthAnswer) -> Option<Check> {
    const NAME: &str = "admin token";
    match answer {
        HealthAnswer::Answered(_) => None,
        HealthAnswer::AdminTokenMissing => Some(
            Check::new(
                NAME,
                Level::Fail,
                "the Worker has no ADMIN_TOKEN secret, so it refuses to connect or manage \
                 anything. scripts/deploy.sh sets a random one and prints it once: keep it in \
                 a password manager, then run `bindify login`",
            )
            .fix(fixes::SET_MISSING_SECRETS),
        ),
        HealthAnswer::AdminTokenWeak => Some(
            Check::new(
                NAME,
                Level::Fail,
                "the Worker's ADMIN_TOKEN is shorter than 32 bytes, so it refuses to connect \
                 or manage anything. Delete it and let scripts/deploy.sh set a random one, \
                 printed once; then run `bindify login` with it",
            )
            .fix(fixes::REPLACE_ADMIN_TOKEN),
        ),
    }
}

fn encryption_key(h: &Health) -> Check {
    const NAME: &str = "encryption key";
    match h.encryption_key.as_str() {
        "ok" => Check::new(NAME, Level::Ok, "TOKEN_ENCRYPTION_KEY is set and valid"),
        "missing" => Check::new(
            NAME,
            Level::Fail,
            "TOKEN_ENCRYPTION_KEY is not set, so no connection can be stored. \
             scripts/deploy.sh sets 32 random bytes",
        )
        .fix(fixes::SET_MISSING_SECRETS),
        other => {
            let what = format!(
                "TOKEN_ENCRYPTION_KEY (or TOKEN_ENCRYPTION_KEY_PREVIOUS during a key rotation) \
                 is {other}: it must be 32 random bytes in base64"
            );
            match h.connections {
                Some(0) => Check::new(
                    NAME,
                    Level::Fail,
                    format!(
                        "{what}. No connection is stored yet, so a new key loses nothing: \
                         delete it and let scripts/deploy.sh set one"
                    ),
                )
                .fix(fixes::REPLACE_ENCRYPTION_KEY),
                _ => Check::new(
                    NAME,
                    Level::Fail,
                    format!(
                        "{what}. Stored connections open only with the key they were sealed \
                         with: put that key back (wrangler asks for the value). A new key \
                         would make every connection unreadable"
                    ),
                )
                .fix(fixes::RESTORE_ENCRYPTION_KEY),
            }
        }
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
            "ADMIN_TOKEN is not set: the Worker is open for local development, on its \
             loopback address only. A deployed Worker needs it; scripts/deploy.sh sets it",
        )
        .fix(fixes::SET_MISSING_SECRETS)
    }
}

fn storage(problem: &str) -> Check {
    const NAME: &str = "storage";
    if problem == "unbound" {
        Check::new(
            NAME,
            Level::Fail,
            "the Worker has no VAULT KV namespace bound, so it cannot store or list \
             connections. Deploy from the repository's wrangler.toml, which declares it: \
             scripts/deploy.sh creates the namespace, writes its id there and deploys",
        )
        .fix(fixes::CREATE_KV_NAMESPACE)
    } else {
        Check::new(
            NAME,
            Level::Fail,
            "the VAULT KV namespace answered with an error. Run doctor again; if it keeps \
             failing, the Worker's log says why",
        )
        .fix(fixes::TAIL_LOG)
    }
}

fn cron(h: &Health, now: UnixMillis) -> Check {
    const NAME: &str = "cron";
    const HOW: &str = "deploying registers the trigger in wrangler.toml (`[triggers] crons = \
         [\"*/5 * * * *\"]`); the Cloudflare dashboard lists it under Workers & Pages → your \
         Worker → Settings → Trigger events. Tokens are still refreshed on demand";
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
        )
        .fix(fixes::REGISTER_CRON),
        Some((text, None)) => Check::new(
            NAME,
            Level::Warn,
            format!("the Worker reports an unreadable last run ({text}): {HOW}"),
        )
        .fix(fixes::REGISTER_CRON),
        None => Check::new(
            NAME,
            Level::Warn,
            format!(
                "the cron has never run on this Worker. It runs every 5 minutes: if the Worker \
                 was deployed minutes ago, check again shortly; otherwise {HOW}"
            ),
        )
        .fix(fixes::REGISTER_CRON),
    }
}
