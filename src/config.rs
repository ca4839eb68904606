//! Reads the Worker's configuration. Every variable is documented in `docs/configuration.md`.

use std::collections::BTreeMap;

use bindify_core::envelope::{KeyError, Keyring, MasterKey};
use bindify_core::flow::{ConnectError, ConnectSettings};
use bindify_core::registration::ConfiguredClient;
use bindify_core::upstream::UpstreamPolicy;
use url::Url;
use worker::Env;

/// Binding names, as declared in wrangler.toml.
pub const KV_BINDING: &str = "VAULT";
pub const CONNECTION_BINDING: &str = "CONNECTION";
pub const SSE_SESSION_BINDING: &str = "SSE_SESSION";
pub const THROTTLE_BINDING: &str = "THROTTLE";
pub const CLI_CODE_BINDING: &str = "CLI_CODE";

/// Default lifetime of a started connect flow.
const DEFAULT_STATE_TTL_SECONDS: i64 = 600;

fn text(env: &Env, name: &str) -> Option<String> {
    // Secrets and plain variables are both strings to the Worker; accept either form.
    env.secret(name)
        .map(|s| s.to_string())
        .or_else(|_| env.var(name).map(|v| v.to_string()))
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// `TOKEN_ENCRYPTION_KEY` (version `TOKEN_ENCRYPTION_KEY_VERSION`, default 1), plus
/// `TOKEN_ENCRYPTION_KEY_PREVIOUS` at version - 1 while a rotation is under way.
pub fn keyring(env: &Env) -> Result<Keyring, ConnectError> {
    let version = text(env, "TOKEN_ENCRYPTION_KEY_VERSION")
        .and_then(|v| v.parse::<u8>().ok())
        .unwrap_or(1);
    let current = text(env, "TOKEN_ENCRYPTION_KEY").ok_or(ConnectError::KeyMissing)?;
    let current = MasterKey::from_base64(version, &current).map_err(|e| match e {
        KeyError::Missing => ConnectError::KeyMissing,
        other => ConnectError::KeyMalformed(other),
    })?;
    let mut keyring = Keyring::new(current);
    if let Some(previous) = text(env, "TOKEN_ENCRYPTION_KEY_PREVIOUS") {
        let previous = MasterKey::from_base64(version.wrapping_sub(1), &previous)
            .map_err(ConnectError::KeyMalformed)?;
        keyring = keyring.with_previous(previous);
    }
    Ok(keyring)
}

pub fn upstream_policy(env: &Env) -> UpstreamPolicy {
    UpstreamPolicy {
        allow_loopback_http: text(env, "ALLOW_LOOPBACK_HTTP").as_deref() == Some("true"),
    }
}

/// `DEMO_SERVER_URL`: adds the local demo service to the presets.
pub fn demo_server_url(env: &Env) -> Option<String> {
    text(env, "DEMO_SERVER_URL")
}

/// Settings of the connect flow for a request arriving at `origin`.
pub fn connect_settings(env: &Env, origin: &Url) -> Result<ConnectSettings, ConnectError> {
    let state_ttl_seconds = text(env, "CONNECT_STATE_TTL_SECONDS")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|v| *v > 0)
        .unwrap_or(DEFAULT_STATE_TTL_SECONDS);
    let redirect_uri = origin
        .join("/oauth/callback")
        .map_err(|_| ConnectError::ServerMissing)?;
    Ok(ConnectSettings {
        policy: upstream_policy(env),
        state_ttl_ms: state_ttl_seconds.saturating_mul(1000),
        redirect_uri,
        configured_clients: configured_clients(env),
        client_metadata_url: client_metadata_url(env, origin),
        secure_cookies: origin.scheme() == "https",
    })
}

/// The https URL of Bindify's Client ID Metadata Document: `CLIENT_METADATA_URL`, else
/// `/oauth/client-metadata.json` on `origin` when that is https.
pub fn client_metadata_url(env: &Env, origin: &Url) -> Option<Url> {
    bindify_core::registration::client_metadata_url(
        origin,
        text(env, "CLIENT_METADATA_URL").as_deref(),
    )
}

/// `OAUTH_CLIENTS`: a JSON object from issuer URL to `{"client_id", "client_secret"?}`. An
/// unreadable value is logged (without its content) and ignored.
fn configured_clients(env: &Env) -> BTreeMap<String, ConfiguredClient> {
    let Some(raw) = text(env, "OAUTH_CLIENTS") else {
        return BTreeMap::new();
    };
    match serde_json::from_str::<BTreeMap<String, ConfiguredClient>>(&raw) {
        Ok(clients) => clients
            .into_iter()
            .map(|(issuer, client)| (issuer.trim_end_matches('/').to_owned(), client))
            .collect(),
        Err(e) => {
            // serde messages can quote values; log only the position.
            worker::console_error!(
                "OAUTH_CLIENTS is not valid JSON (line {}, column {}); ignoring it",
                e.line(),
                e.column()
            );
            BTreeMap::new()
        }
    }
}

/// `REFRESH_WINDOW_SECONDS`: the cron refreshes tokens expiring within this window.
pub fn refresh_window_ms(env: &Env) -> i64 {
    text(env, "REFRESH_WINDOW_SECONDS")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|v| *v > 0)
        .map(|v| v.saturating_mul(1000))
        .unwrap_or(bindify_core::refresh::DEFAULT_CRON_WINDOW_MS)
}

/// `CRON_MAX_REFRESHES`: connections one cron run refreshes at most.
pub fn cron_max_refreshes(env: &Env) -> usize {
    text(env, "CRON_MAX_REFRESHES")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|v| *v > 0)
        .unwrap_or(bindify_core::cron::DEFAULT_MAX_REFRESHES_PER_RUN)
}

/// `ALLOWED_ORIGINS`: browser origins besides the Worker's own that may use permanent URLs.
pub fn allowed_origins(env: &Env) -> Vec<String> {
    text(env, "ALLOWED_ORIGINS")
        .map(|v| bindify_core::origin::parse_allowed_origins(&v))
        .unwrap_or_default()
}

/// `ADMIN_TOKEN`: the owner's credential for connecting and managing (at least 32 bytes).
pub fn admin_token(
    env: &Env,
) -> Result<bindify_core::admin::AdminToken, bindify_core::admin::TokenProblem> {
    bindify_core::admin::AdminToken::from_config(text(env, "ADMIN_TOKEN").as_deref())
}

/// Local development: `ALLOW_LOOPBACK_HTTP = "true"`, which only `scripts/dev.sh` and the tests
/// set, for a request to a loopback host. There the Worker also runs without `ADMIN_TOKEN`, and
/// says so.
pub fn local_development(env: &Env, url: &Url) -> bool {
    upstream_policy(env).allow_loopback_http
        && url
            .host_str()
            .is_some_and(bindify_core::admin::is_loopback_host)
}
