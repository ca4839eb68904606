//! The commands that fix a deployment, as `scripts/deploy.sh` gives them: run from the root of
//! the Bindify checkout the Worker was deployed from. `scripts/deploy.sh` creates and sets only
//! what is missing (the VAULT KV namespace, `TOKEN_ENCRYPTION_KEY`, `ADMIN_TOKEN`, printed
//! once) and deploys, which also registers the cron trigger; a secret that is set but unusable
//! is deleted first so that it counts as missing.

/// Creates the KV namespace, sets missing secrets, deploys (and so registers the cron).
pub const SET_MISSING_SECRETS: &str = "scripts/deploy.sh";
/// The same, for the KV namespace.
pub const CREATE_KV_NAMESPACE: &str = "scripts/deploy.sh";
/// The same, for the cron trigger.
pub const REGISTER_CRON: &str = "scripts/deploy.sh";
/// A new random admin token, printed once.
pub const REPLACE_ADMIN_TOKEN: &str =
    "scripts/wrangler.sh secret delete ADMIN_TOKEN && scripts/deploy.sh";
/// A new random encryption key: only where no connection depends on the old one.
pub const REPLACE_ENCRYPTION_KEY: &str =
    "scripts/wrangler.sh secret delete TOKEN_ENCRYPTION_KEY && scripts/deploy.sh";
/// Puts the earlier key back; wrangler reads the value from the terminal.
pub const RESTORE_ENCRYPTION_KEY: &str = "scripts/wrangler.sh secret put TOKEN_ENCRYPTION_KEY";
/// The Worker's live log.
pub const TAIL_LOG: &str = "scripts/wrangler.sh tail";
