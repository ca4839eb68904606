//! The Worker's configuration, read once per request (and once per object call and cron run)
//! into typed settings. [`Settings::read`] takes a lookup from variable name to text, so the
//! Worker hands it its `env` and tests hand it a table. Every variable is listed in
//! [`Variable::ALL`] and documented in `docs/configuration.md` (a test checks that the two name
//! the same variables with the same defaults).
//!
//! A value that is set but unusable never stops the Worker by itself: a number outside its
//! bounds, a flag that is neither `true` nor `false`, or `OAUTH_CLIENTS` that does not parse
//! falls back to its default (as does a `CLIENT_METADATA_URL` that is not an https URL with a
//! path), and [`Settings::problems`] says so (the Worker logs it, without
//! the value). The encryption key is the exception: without a usable key nothing can be sealed,
//! so a bad `TOKEN_ENCRYPTION_KEY`, `TOKEN_ENCRYPTION_KEY_PREVIOUS` or
//! `TOKEN_ENCRYPTION_KEY_VERSION` makes [`Settings::keyring`] an error that the pages and the
//! API report.

use std::collections::BTreeMap;
use std::num::IntErrorKind;

use url::Url;

use crate::admin::{AdminToken, TokenProblem, is_loopback_host};
use crate::connect::flow::{ConnectError, ConnectSettings};
use crate::oauth::registration::{self, ConfiguredClient};
use crate::oauth::upstream::UpstreamPolicy;
use crate::vault::envelope::{KeyError, Keyring, MasterKey};

#[cfg(test)]
mod tests;

/// Every variable the Worker reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variable {
    TokenEncryptionKey,
    TokenEncryptionKeyVersion,
    TokenEncryptionKeyPrevious,
    AdminToken,
    AllowLoopbackHttp,
    AllowedOrigins,
    CronMaxRefreshes,
    RevocationBoundSeconds,
    ConnectStateTtlSeconds,
    OauthClients,
    ClientMetadataUrl,
    DemoServerUrl,
}

impl Variable {
    pub const ALL: [Variable; 12] = [
        Variable::TokenEncryptionKey,
        Variable::TokenEncryptionKeyVersion,
        Variable::TokenEncryptionKeyPrevious,
        Variable::AdminToken,
        Variable::AllowLoopbackHttp,
        Variable::AllowedOrigins,
        Variable::CronMaxRefreshes,
        Variable::RevocationBoundSeconds,
        Variable::ConnectStateTtlSeconds,
        Variable::OauthClients,
        Variable::ClientMetadataUrl,
        Variable::DemoServerUrl,
    ];

    /// The name as set in `wrangler.toml` or with `wrangler secret put`.
    pub fn name(self) -> &'static str {
        match self {
            Variable::TokenEncryptionKey => "TOKEN_ENCRYPTION_KEY",
            Variable::TokenEncryptionKeyVersion => "TOKEN_ENCRYPTION_KEY_VERSION",
            Variable::TokenEncryptionKeyPrevious => "TOKEN_ENCRYPTION_KEY_PREVIOUS",
            Variable::AdminToken => "ADMIN_TOKEN",
            Variable::AllowLoopbackHttp => "ALLOW_LOOPBACK_HTTP",
            Variable::AllowedOrigins => "ALLOWED_ORIGINS",
            Variable::CronMaxRefreshes => "CRON_MAX_REFRESHES",
            Variable::RevocationBoundSeconds => "REVOCATION_BOUND_SECONDS",
            Variable::ConnectStateTtlSeconds => "CONNECT_STATE_TTL_SECONDS",
            Variable::OauthClients => "OAUTH_CLIENTS",
            Variable::ClientMetadataUrl => "CLIENT_METADATA_URL",
            Variable::DemoServerUrl => "DEMO_SERVER_URL",
        }
    }

    /// The value used when the variable is not set, as `docs/configuration.md` writes it;
    /// `None` when there is none.
    pub fn default_text(self) -> Option<&'static str> {
        match self {
            Variable::TokenEncryptionKeyVersion => Some("1"),
            Variable::AllowLoopbackHttp => Some("false"),
            Variable::CronMaxRefreshes => Some("40"),
            Variable::RevocationBoundSeconds => Some("10"),
            Variable::ConnectStateTtlSeconds => Some("600"),
            Variable::ClientMetadataUrl => Some(DEFAULT_CLIENT_METADATA_URL),
            _ => None,
        }
    }
}

impl std::fmt::Display for Variable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `CLIENT_METADATA_URL`'s default as the doc writes it: [`registration::CLIENT_METADATA_PATH`]
/// on the Worker's own origin, when that is https.
pub const DEFAULT_CLIENT_METADATA_URL: &str = "https://<worker>/oauth/client-metadata.json";

/// The bounds and default of a numeric variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub min: i64,
    pub max: i64,
    pub default: i64,
}

/// `TOKEN_ENCRYPTION_KEY_VERSION`: a version byte other than 0.
pub const KEY_VERSION: Bounds = Bounds {
    min: 1,
    max: 255,
    default: 1,
};
/// `CRON_MAX_REFRESHES`: up to 10,000 (Workers allow at most that many subrequests per
/// invocation on any plan).
pub const CRON_MAX_REFRESHES: Bounds = Bounds {
    min: 1,
    max: 10_000,
    default: crate::lifecycle::cron::DEFAULT_MAX_REFRESHES_PER_RUN as i64,
};
/// `REVOCATION_BOUND_SECONDS`: the longest time a rotated-away or revoked URL can still be
/// answered by an isolate that served it before (see [`crate::lifecycle::grant_cache`]); 0 asks the
/// connection's object on every request. Seconds, never minutes: at most one.
pub const REVOCATION_BOUND_SECONDS: Bounds = Bounds {
    min: 0,
    max: 60,
    default: crate::lifecycle::grant_cache::DEFAULT_BOUND_MS / 1000,
};
/// `CONNECT_STATE_TTL_SECONDS`: up to an hour.
pub const CONNECT_STATE_TTL_SECONDS: Bounds = Bounds {
    min: 1,
    max: 3_600,
    default: 600,
};

/// Why a number was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberProblem {
    /// Not a whole number in decimal.
    NotANumber,
    /// A whole number outside the bounds (including one too large to read).
    OutOfRange,
}

/// A variable that is set but could not be used; its default applies. The message names the
/// variable and what it accepts, never the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error("{variable} is not a whole number from {} to {}; using {}", bounds.min, bounds.max, bounds.default)]
    Number {
        variable: Variable,
        problem: NumberProblem,
        bounds: Bounds,
    },
    #[error("{variable} must be \"true\" or \"false\"; using \"false\"")]
    Flag { variable: Variable },
    #[error(
        "{variable} is not a JSON object from issuer URL to {{\"client_id\", \"client_secret\"}} (line {line}, column {column}); ignoring it"
    )]
    Json {
        variable: Variable,
        line: usize,
        column: usize,
    },
    #[error("{variable} is not an https URL with a path; using the Worker's own")]
    Url { variable: Variable },
    #[error("{name} is no longer used ({why}); remove it")]
    Retired {
        name: &'static str,
        why: &'static str,
    },
}

impl SettingError {
    /// The variable's name as the Worker's configuration spells it.
    pub fn name(&self) -> &'static str {
        match self {
            SettingError::Number { variable, .. }
            | SettingError::Flag { variable }
            | SettingError::Json { variable, .. }
            | SettingError::Url { variable } => variable.name(),
            SettingError::Retired { name, .. } => name,
        }
    }
}

/// Variables earlier versions read, and why they are gone: one that is still set is reported.
pub const RETIRED: [(&str, &str); 1] = [(
    "REFRESH_WINDOW_SECONDS",
    "each connection's object refreshes its token ahead of expiry with an alarm",
)];

/// The Worker's settings.
#[derive(Debug)]
pub struct Settings {
    keyring: Result<Keyring, KeyError>,
    /// `ADMIN_TOKEN`.
    pub admin_token: Result<AdminToken, TokenProblem>,
    /// `ALLOW_LOOPBACK_HTTP`: local development.
    pub allow_loopback_http: bool,
    /// `ALLOWED_ORIGINS`, normalised.
    pub allowed_origins: Vec<String>,
    /// `CRON_MAX_REFRESHES`.
    pub cron_max_refreshes: usize,
    /// `REVOCATION_BOUND_SECONDS`, in milliseconds.
    pub revocation_bound_ms: i64,
    /// `CONNECT_STATE_TTL_SECONDS`, in milliseconds.
    pub connect_state_ttl_ms: i64,
    /// `OAUTH_CLIENTS`, by issuer without a trailing slash.
    pub oauth_clients: BTreeMap<String, ConfiguredClient>,
    /// `CLIENT_METADATA_URL` when set to a usable URL; see [`Settings::client_metadata_url`].
    pub configured_client_metadata_url: Option<Url>,
    /// `DEMO_SERVER_URL`.
    pub demo_server_url: Option<String>,
    /// Variables set to values that could not be used (their defaults apply).
    pub problems: Vec<SettingError>,
}

impl Settings {
    /// Reads every variable through `lookup` (name to text; surrounding whitespace is ignored,
    /// and an empty value counts as not set).
    pub fn read(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let text = |variable: Variable| {
            lookup(variable.name())
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let mut problems: Vec<SettingError> = RETIRED
            .iter()
            .filter(|(name, _)| lookup(name).is_some_and(|v| !v.trim().is_empty()))
            .map(|&(name, why)| SettingError::Retired { name, why })
            .collect();
        let mut number = |variable: Variable, bounds: Bounds| match text(variable) {
            None => bounds.default,
            Some(value) => parse_number(&value, bounds).unwrap_or_else(|problem| {
                problems.push(SettingError::Number {
                    variable,
                    problem,
                    bounds,
                });
                bounds.default
            }),
        };
        let cron_max_refreshes = number(Variable::CronMaxRefreshes, CRON_MAX_REFRESHES);
        let revocation_bound_ms =
            number(Variable::RevocationBoundSeconds, REVOCATION_BOUND_SECONDS).saturating_mul(1000);
        let connect_state_ttl_ms =
            number(Variable::ConnectStateTtlSeconds, CONNECT_STATE_TTL_SECONDS)
                .saturating_mul(1000);

        let allow_loopback_http = match text(Variable::AllowLoopbackHttp).as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                problems.push(SettingError::Flag {
                    variable: Variable::AllowLoopbackHttp,
                });
                false
            }
        };
        let oauth_clients = match text(Variable::OauthClients) {
            None => BTreeMap::new(),
            Some(raw) => parse_oauth_clients(&raw).unwrap_or_else(|e| {
                problems.push(e);
                BTreeMap::new()
            }),
        };
        let configured_client_metadata_url = text(Variable::ClientMetadataUrl).and_then(|raw| {
            let url = parse_client_metadata_url(&raw);
            if url.is_none() {
                problems.push(SettingError::Url {
                    variable: Variable::ClientMetadataUrl,
                });
            }
            url
        });
        Settings {
            keyring: keyring(
                text(Variable::TokenEncryptionKey),
                text(Variable::TokenEncryptionKeyPrevious),
                text(Variable::TokenEncryptionKeyVersion),
            ),
            admin_token: AdminToken::from_config(text(Variable::AdminToken).as_deref()),
            allow_loopback_http,
            allowed_origins: text(Variable::AllowedOrigins)
                .map(|v| crate::mcp::origin::parse_allowed_origins(&v))
                .unwrap_or_default(),
            cron_max_refreshes: usize::try_from(cron_max_refreshes)
                .unwrap_or(crate::lifecycle::cron::DEFAULT_MAX_REFRESHES_PER_RUN),
            revocation_bound_ms,
            connect_state_ttl_ms,
            oauth_clients,
            configured_client_metadata_url,
            demo_server_url: text(Variable::DemoServerUrl),
            problems,
        }
    }

    /// The keyring from `TOKEN_ENCRYPTION_KEY` (and `TOKEN_ENCRYPTION_KEY_PREVIOUS` during a
    /// rotation), or why there is none.
    pub fn keyring(&self) -> Result<&Keyring, ConnectError> {
        match &self.keyring {
            Ok(keyring) => Ok(keyring),
            Err(KeyError::Missing) => Err(ConnectError::KeyMissing),
            Err(other) => Err(ConnectError::KeyMalformed(other.clone())),
        }
    }

    /// How long a rotated-away or revoked URL can still be answered, in whole seconds, as the
    /// dashboard, the API and the CLI say it.
    pub fn old_url_answers_for_seconds(&self) -> u64 {
        u64::try_from(self.revocation_bound_ms / 1000).unwrap_or(0)
    }

    pub fn upstream_policy(&self) -> UpstreamPolicy {
        UpstreamPolicy {
            allow_loopback_http: self.allow_loopback_http,
        }
    }

    /// Local development: `ALLOW_LOOPBACK_HTTP` is `true` and the request is addressed to a
    /// loopback host (`host` is the request URL's). Only then may the Worker run without
    /// `ADMIN_TOKEN`.
    pub fn local_development(&self, host: Option<&str>) -> bool {
        self.allow_loopback_http && host.is_some_and(is_loopback_host)
    }

    /// The https URL of Bindify's Client ID Metadata Document for a request arriving at
    /// `origin`: `CLIENT_METADATA_URL`, else [`registration::CLIENT_METADATA_PATH`] on `origin`
    /// when that is https.
    pub fn client_metadata_url(&self, origin: &Url) -> Option<Url> {
        registration::client_metadata_url(
            origin,
            self.configured_client_metadata_url
                .as_ref()
                .map(Url::as_str),
        )
    }

    /// Settings of the connect flow for a request arriving at `origin`.
    pub fn connect_settings(&self, origin: &Url) -> Result<ConnectSettings, ConnectError> {
        let redirect_uri = origin
            .join("/oauth/callback")
            .map_err(|_| ConnectError::ServerMissing)?;
        Ok(ConnectSettings {
            policy: self.upstream_policy(),
            state_ttl_ms: self.connect_state_ttl_ms,
            redirect_uri,
            configured_clients: self.oauth_clients.clone(),
            client_metadata_url: self.client_metadata_url(origin),
            secure_cookies: origin.scheme() == "https",
        })
    }
}

/// A whole decimal number within `bounds`.
pub fn parse_number(text: &str, bounds: Bounds) -> Result<i64, NumberProblem> {
    match text.trim().parse::<i64>() {
        Ok(n) if (bounds.min..=bounds.max).contains(&n) => Ok(n),
        Ok(_) => Err(NumberProblem::OutOfRange),
        Err(e) => match e.kind() {
            IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => Err(NumberProblem::OutOfRange),
            _ => Err(NumberProblem::NotANumber),
        },
    }
}

/// `OAUTH_CLIENTS`: a JSON object from issuer URL to `{"client_id", "client_secret"?}`. Issuers
/// are kept without a trailing slash. The error carries only the position: serde's messages
/// can quote the value, which holds client secrets. Read straight from the text (not through
/// `crate::json`) so that a wrong shape is located too.
pub fn parse_oauth_clients(raw: &str) -> Result<BTreeMap<String, ConfiguredClient>, SettingError> {
    match serde_json::from_slice::<BTreeMap<String, ConfiguredClient>>(raw.as_bytes()) {
        Ok(clients) => Ok(clients
            .into_iter()
            .map(|(issuer, client)| (issuer.trim_end_matches('/').to_owned(), client))
            .collect()),
        Err(e) => Err(SettingError::Json {
            variable: Variable::OauthClients,
            line: e.line(),
            column: e.column(),
        }),
    }
}

/// `CLIENT_METADATA_URL`: usable as a client id (https, with a host and a path, without a
/// fragment or credentials), whatever the Worker's own origin.
fn parse_client_metadata_url(raw: &str) -> Option<Url> {
    let url = Url::parse(raw).ok()?;
    registration::client_metadata_url(&url, Some(url.as_str()))
}

/// The keyring: `current` at `version` (default 1), plus `previous` at `version - 1`.
fn keyring(
    current: Option<String>,
    previous: Option<String>,
    version: Option<String>,
) -> Result<Keyring, KeyError> {
    let current = current.ok_or(KeyError::Missing)?;
    let version = match version {
        None => KEY_VERSION.default,
        Some(text) => parse_number(&text, KEY_VERSION).map_err(|_| KeyError::Version)?,
    };
    let version = u8::try_from(version).map_err(|_| KeyError::Version)?;
    let mut keyring = Keyring::new(MasterKey::from_base64(version, &current)?);
    if let Some(previous) = previous {
        let key = MasterKey::from_base64(version.saturating_sub(1), &previous).map_err(|e| {
            KeyError::PreviousMalformed {
                problem: match e {
                    KeyError::WrongLength { got } => format!("it decodes to {got} bytes"),
                    _ => "it is not valid base64".to_owned(),
                },
            }
        })?;
        keyring = keyring.with_previous(key);
    }
    Ok(keyring)
}
