//! The Worker's configuration (core/src/settings.rs `Settings::read`, `parse_number`,
//! `parse_oauth_clients`): the text of every variable as the operator set it with
//! `wrangler secret put` or in wrangler.toml.
//!
//! Properties: every number lands within its bounds, and a value that is not used leaves the
//! default with exactly one problem naming its variable; a flag is on only for `true`; no
//! problem is reported for a variable that is not set; issuers of `OAUTH_CLIENTS` are kept
//! without a trailing slash; a key that is 32 bytes of base64 makes a keyring. No secret
//! (`TOKEN_ENCRYPTION_KEY`, `TOKEN_ENCRYPTION_KEY_PREVIOUS`, `ADMIN_TOKEN`, a client secret in
//! `OAUTH_CLIENTS`) appears in the settings' `Debug`, in a problem's message or in the keyring's
//! error.
#![no_main]

use base64::Engine as _;
use bindify_core::settings::{
    Bounds, CONNECT_STATE_TTL_SECONDS, CRON_MAX_REFRESHES, REVOCATION_BOUND_SECONDS, Settings,
    Variable, parse_number,
};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
enum Key {
    Text(String),
    /// 32 bytes in base64 (standard or URL-safe), with whitespace around it or not.
    Bytes([u8; 32], bool, bool),
}

impl Key {
    fn text(&self) -> String {
        match self {
            Key::Text(text) => text.clone(),
            Key::Bytes(bytes, url_safe, padded) => {
                let text = if *url_safe {
                    base64::engine::general_purpose::URL_SAFE.encode(bytes)
                } else {
                    base64::engine::general_purpose::STANDARD.encode(bytes)
                };
                if *padded { format!(" {text}\n") } else { text }
            }
        }
    }
}

#[derive(Debug, Arbitrary)]
enum Clients {
    Text(String),
    /// Issuer, client id, client secret.
    Listed(Vec<(String, String, Option<String>)>),
}

#[derive(Debug, Arbitrary)]
struct Input {
    key: Option<Key>,
    key_version: Option<String>,
    previous_key: Option<Key>,
    admin_token: Option<String>,
    allow_loopback_http: Option<String>,
    allowed_origins: Option<String>,
    revocation_bound: Option<String>,
    cron_max: Option<String>,
    state_ttl: Option<String>,
    clients: Option<Clients>,
    client_metadata_url: Option<String>,
    demo_server_url: Option<String>,
}

fn set(value: &Option<String>) -> bool {
    value.as_deref().is_some_and(|v| !v.trim().is_empty())
}

fn number(value: &Option<String>, bounds: Bounds, variable: Variable, settings: &Settings) -> i64 {
    let problems = settings
        .problems
        .iter()
        .filter(|p| p.name() == variable.name())
        .count();
    match value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        None => {
            assert_eq!(problems, 0);
            bounds.default
        }
        Some(text) => match parse_number(text, bounds) {
            Ok(n) => {
                assert_eq!(text.parse::<i64>(), Ok(n));
                assert!((bounds.min..=bounds.max).contains(&n));
                assert_eq!(problems, 0);
                n
            }
            Err(_) => {
                assert!(
                    text.parse::<i64>()
                        .is_ok_and(|n| !(bounds.min..=bounds.max).contains(&n))
                        || text.parse::<i64>().is_err()
                );
                assert_eq!(problems, 1);
                bounds.default
            }
        },
    }
}

fuzz_target!(|input: Input| {
    let clients_text = input.clients.as_ref().map(|c| match c {
        Clients::Text(text) => text.clone(),
        Clients::Listed(list) => {
            let object: serde_json::Map<String, serde_json::Value> = list
                .iter()
                .map(|(issuer, id, secret)| {
                    (
                        issuer.clone(),
                        serde_json::json!({ "client_id": id, "client_secret": secret }),
                    )
                })
                .collect();
            serde_json::Value::Object(object).to_string()
        }
    });
    let key = input.key.as_ref().map(Key::text);
    let previous_key = input.previous_key.as_ref().map(Key::text);
    let values: Vec<(Variable, Option<String>)> = vec![
        (Variable::TokenEncryptionKey, key.clone()),
        (
            Variable::TokenEncryptionKeyVersion,
            input.key_version.clone(),
        ),
        (Variable::TokenEncryptionKeyPrevious, previous_key.clone()),
        (Variable::AdminToken, input.admin_token.clone()),
        (
            Variable::AllowLoopbackHttp,
            input.allow_loopback_http.clone(),
        ),
        (Variable::AllowedOrigins, input.allowed_origins.clone()),
        (
            Variable::RevocationBoundSeconds,
            input.revocation_bound.clone(),
        ),
        (Variable::CronMaxRefreshes, input.cron_max.clone()),
        (Variable::ConnectStateTtlSeconds, input.state_ttl.clone()),
        (Variable::OauthClients, clients_text.clone()),
        (
            Variable::ClientMetadataUrl,
            input.client_metadata_url.clone(),
        ),
        (Variable::DemoServerUrl, input.demo_server_url.clone()),
    ];
    let settings = Settings::read(|name| {
        values
            .iter()
            .find(|(v, _)| v.name() == name)
            .and_then(|(_, value)| value.clone())
    });

    // Problems only for variables that are set, at most one each.
    for problem in &settings.problems {
        let value = &values
            .iter()
            .find(|(v, _)| v.name() == problem.name())
            .expect("a known variable")
            .1;
        assert!(
            set(value),
            "a problem with {}, which is not set",
            problem.name()
        );
        assert_eq!(
            settings
                .problems
                .iter()
                .filter(|p| p.name() == problem.name())
                .count(),
            1
        );
    }
    let bound = number(
        &input.revocation_bound,
        REVOCATION_BOUND_SECONDS,
        Variable::RevocationBoundSeconds,
        &settings,
    );
    assert_eq!(settings.revocation_bound_ms, bound * 1000);
    let cron = number(
        &input.cron_max,
        CRON_MAX_REFRESHES,
        Variable::CronMaxRefreshes,
        &settings,
    );
    assert_eq!(i64::try_from(settings.cron_max_refreshes), Ok(cron));
    let ttl = number(
        &input.state_ttl,
        CONNECT_STATE_TTL_SECONDS,
        Variable::ConnectStateTtlSeconds,
        &settings,
    );
    assert_eq!(settings.connect_state_ttl_ms, ttl * 1000);
    assert_eq!(
        settings.allow_loopback_http,
        input.allow_loopback_http.as_deref().map(str::trim) == Some("true")
    );
    for issuer in settings.oauth_clients.keys() {
        assert!(!issuer.ends_with('/'), "{issuer:?}");
    }
    if let Some(Key::Bytes(..)) = &input.key
        && input.previous_key.is_none()
        && !set(&input.key_version)
    {
        assert!(settings.keyring().is_ok());
    }

    // No secret is shown. A secret is checked when it cannot occur in the fixed text (all of it
    // ASCII) by chance: 32 random bytes in base64, or text with a character outside ASCII. It
    // is not checked where it is part of a value that may be shown (an issuer, a client id, a
    // URL, a number).
    let checkable = |text: &str| !text.trim().is_ascii();
    let mut secrets: Vec<String> = Vec::new();
    for (given, text) in [(&input.key, &key), (&input.previous_key, &previous_key)] {
        if let (Some(given), Some(text)) = (given, text)
            && (matches!(given, Key::Bytes(..)) || checkable(text))
        {
            secrets.push(text.trim().to_owned());
        }
    }
    secrets.extend(
        input
            .admin_token
            .as_deref()
            .filter(|t| checkable(t))
            .map(|t| t.trim().to_owned()),
    );
    let mut shown: Vec<String> = values
        .iter()
        .filter(|(v, _)| {
            !matches!(
                v,
                Variable::TokenEncryptionKey
                    | Variable::TokenEncryptionKeyPrevious
                    | Variable::AdminToken
                    | Variable::OauthClients
            )
        })
        .filter_map(|(_, value)| value.clone())
        .collect();
    if let Some(Clients::Listed(list)) = &input.clients {
        for (issuer, id, secret) in list {
            shown.push(issuer.clone());
            shown.push(id.clone());
            secrets.extend(secret.clone().filter(|t| checkable(t)));
        }
    }
    let mut output = format!("{settings:?}");
    for problem in &settings.problems {
        output.push_str(&problem.to_string());
    }
    if let Err(error) = settings.keyring() {
        output.push_str(&error.to_string());
        output.push_str(&format!("{error:?}"));
    }
    for secret in secrets {
        if secret.is_empty() || shown.iter().any(|s| s.contains(&secret)) {
            continue;
        }
        assert!(!output.contains(&secret), "a secret is shown: {output}");
    }
});
