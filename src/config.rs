//! Hands the Worker's `env` to `bindify_core::settings`, which reads every variable once into
//! typed settings (documented in `docs/configuration.md`). A request, an object call and a
//! cron run each read them once, at their start, and pass them down.

use std::cell::Cell;

use bindify_core::settings::Settings;
use worker::Env;

/// Binding names, as declared in wrangler.toml.
pub const KV_BINDING: &str = "VAULT";
pub const CONNECTION_BINDING: &str = "CONNECTION";
pub const SSE_SESSION_BINDING: &str = "SSE_SESSION";
pub const THROTTLE_BINDING: &str = "THROTTLE";
pub const CLI_CODE_BINDING: &str = "CLI_CODE";

thread_local! {
    /// Whether this isolate has logged its configuration problems. An isolate's variables do
    /// not change while it lives, so once is enough.
    static REPORTED: Cell<bool> = const { Cell::new(false) };
}

/// The Worker's settings. Values that could not be used are logged (by name, never by value)
/// the first time this isolate reads them.
pub fn read(env: &Env) -> Settings {
    let settings = Settings::read(|name| text(env, name));
    if !settings.problems.is_empty() && !REPORTED.with(|r| r.replace(true)) {
        for problem in &settings.problems {
            worker::console_error!("configuration: {problem}");
        }
    }
    settings
}

/// A variable's text. Secrets and plain variables are both strings to the Worker; either form
/// is accepted.
fn text(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
}
