use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;

use super::*;
use crate::testing::keyring_with;

fn read(vars: &[(&str, &str)]) -> Settings {
    let table: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Settings::read(|name| table.get(name).cloned())
}

fn key_text(byte: u8) -> String {
    base64::engine::general_purpose::STANDARD.encode([byte; 32])
}

#[test]
fn nothing_set_gives_the_defaults() {
    let s = read(&[]);
    assert!(matches!(s.keyring(), Err(ConnectError::KeyMissing)));
    assert!(matches!(s.admin_token, Err(TokenProblem::Missing)));
    assert!(!s.allow_loopback_http);
    assert!(s.allowed_origins.is_empty());
    assert_eq!(s.cron_max_refreshes, 40);
    assert_eq!(s.revocation_bound_ms, 10_000);
    assert_eq!(s.connect_state_ttl_ms, 600_000);
    assert!(s.oauth_clients.is_empty());
    assert_eq!(s.configured_client_metadata_url, None);
    assert_eq!(s.demo_server_url, None);
    assert_eq!(s.problems, []);
}

/// Each numeric variable with every kind of value: what is used, and what is reported.
#[test]
fn every_numeric_bound() {
    type Get = fn(&Settings) -> i64;
    let numeric: [(Variable, Bounds, Get); 3] = [
        (Variable::CronMaxRefreshes, CRON_MAX_REFRESHES, |s| {
            i64::try_from(s.cron_max_refreshes).unwrap_or(-1)
        }),
        (
            Variable::RevocationBoundSeconds,
            REVOCATION_BOUND_SECONDS,
            |s| s.revocation_bound_ms / 1000,
        ),
        (
            Variable::ConnectStateTtlSeconds,
            CONNECT_STATE_TTL_SECONDS,
            |s| s.connect_state_ttl_ms / 1000,
        ),
    ];
    for (variable, bounds, get) in numeric {
        let name = variable.name();
        let max = bounds.max.to_string();
        let over = (bounds.max + 1).to_string();
        // Zero is a value where the bounds allow it (0 turns a feature off), else out of range.
        let zero = if bounds.min == 0 {
            (Some("0"), 0, None)
        } else {
            (Some("0"), bounds.default, Some(NumberProblem::OutOfRange))
        };
        let cases: [(Option<&str>, i64, Option<NumberProblem>); 14] = [
            (None, bounds.default, None),
            (Some(""), bounds.default, None),
            (Some("  \n"), bounds.default, None),
            zero,
            (Some("-5"), bounds.default, Some(NumberProblem::OutOfRange)),
            (Some("abc"), bounds.default, Some(NumberProblem::NotANumber)),
            (Some("1.5"), bounds.default, Some(NumberProblem::NotANumber)),
            (Some("1e3"), bounds.default, Some(NumberProblem::NotANumber)),
            (
                Some("99999999999999999999999"),
                bounds.default,
                Some(NumberProblem::OutOfRange),
            ),
            (Some(&over), bounds.default, Some(NumberProblem::OutOfRange)),
            (Some("1"), 1, None),
            (Some(" 7 "), 7, None),
            (Some(&max), bounds.max, None),
            (Some("+3"), 3, None),
        ];
        for (value, used, problem) in cases {
            let vars: Vec<(&str, &str)> = value.map(|v| (name, v)).into_iter().collect();
            let s = read(&vars);
            assert_eq!(get(&s), used, "{name}={value:?}");
            let expected: Vec<SettingError> = problem
                .map(|problem| SettingError::Number {
                    variable,
                    problem,
                    bounds,
                })
                .into_iter()
                .collect();
            assert_eq!(s.problems, expected, "{name}={value:?}");
        }
    }
}

#[test]
fn a_number_problem_names_the_variable_and_bounds_not_the_value() {
    let s = read(&[("CRON_MAX_REFRESHES", "lots-and-lots")]);
    let messages: Vec<String> = s.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        ["CRON_MAX_REFRESHES is not a whole number from 1 to 10000; using 40"]
    );
    assert_eq!(s.problems[0].name(), "CRON_MAX_REFRESHES");
}

#[test]
fn a_retired_variable_still_set_is_reported_by_name() {
    let s = read(&[("REFRESH_WINDOW_SECONDS", "900")]);
    let messages: Vec<String> = s.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "REFRESH_WINDOW_SECONDS is no longer used (each connection's object refreshes its \
             token ahead of expiry with an alarm); remove it"
        ]
    );
    assert_eq!(s.problems[0].name(), "REFRESH_WINDOW_SECONDS");
    assert_eq!(read(&[("REFRESH_WINDOW_SECONDS", " ")]).problems, []);
}

#[test]
fn oauth_clients_are_read_with_issuers_without_trailing_slashes() {
    let s = read(&[(
        "OAUTH_CLIENTS",
        r#"{"https://github.com/login/oauth/": {"client_id": "gh", "client_secret": "gh-secret"},
            "https://app.asana.com": {"client_id": "as"}}"#,
    )]);
    assert_eq!(s.problems, []);
    let issuers: Vec<&str> = s.oauth_clients.keys().map(String::as_str).collect();
    assert_eq!(
        issuers,
        ["https://app.asana.com", "https://github.com/login/oauth"]
    );
    let github = &s.oauth_clients["https://github.com/login/oauth"];
    assert_eq!(github.client_id, "gh");
    assert!(github.client_secret.is_some());
    assert!(!format!("{github:?}").contains("gh-secret"));
    assert!(
        s.oauth_clients["https://app.asana.com"]
            .client_secret
            .is_none()
    );
    let origin = Url::parse("https://b.example").expect("url");
    let connect = s.connect_settings(&origin).expect("settings");
    assert_eq!(connect.configured_clients.len(), 2);
}

#[test]
fn invalid_oauth_clients_are_ignored_and_reported_by_position_only() {
    let cases = [
        // Cut off in the middle of a secret.
        (
            "{\"https://a.example\": {\"client_id\": \"x\",\n \"client_secret\": \"SUPER-SECRET",
            2,
            31,
        ),
        // Valid JSON, wrong shape.
        ("[\"SUPER-SECRET\"]", 1, 0),
        // A client without its id.
        (
            "{\"https://a.example\": {\"client_secret\": \"SUPER-SECRET\"}}",
            1,
            55,
        ),
    ];
    for (raw, line, column) in cases {
        let s = read(&[("OAUTH_CLIENTS", raw)]);
        assert!(s.oauth_clients.is_empty(), "{raw}");
        assert_eq!(
            s.problems,
            [SettingError::Json {
                variable: Variable::OauthClients,
                line,
                column
            }],
            "{raw}"
        );
        let message = s.problems[0].to_string();
        assert!(!message.contains("SUPER-SECRET"), "{message}");
        assert!(
            message.starts_with("OAUTH_CLIENTS is not a JSON object"),
            "{message}"
        );
        assert!(!format!("{s:?}").contains("SUPER-SECRET"));
    }
}

#[test]
fn allow_loopback_http_is_true_or_false() {
    assert!(read(&[("ALLOW_LOOPBACK_HTTP", "true")]).allow_loopback_http);
    let off = read(&[("ALLOW_LOOPBACK_HTTP", "false")]);
    assert!(!off.allow_loopback_http);
    assert_eq!(off.problems, []);
    for odd in ["yes", "TRUE", "1"] {
        let s = read(&[("ALLOW_LOOPBACK_HTTP", odd)]);
        assert!(!s.allow_loopback_http, "{odd}");
        assert_eq!(
            s.problems,
            [SettingError::Flag {
                variable: Variable::AllowLoopbackHttp
            }]
        );
    }
}

#[test]
fn local_development_needs_the_flag_and_a_loopback_host() {
    let dev = read(&[("ALLOW_LOOPBACK_HTTP", "true")]);
    assert!(dev.local_development(Some("127.0.0.1")));
    assert!(dev.local_development(Some("localhost")));
    assert!(!dev.local_development(Some("bindify.example.workers.dev")));
    assert!(!dev.local_development(None));
    assert!(!read(&[]).local_development(Some("127.0.0.1")));
    assert!(dev.upstream_policy().allow_loopback_http);
}

#[test]
fn the_keyring_takes_its_version_and_previous_key() {
    let s = read(&[("TOKEN_ENCRYPTION_KEY", &key_text(9))]);
    assert_eq!(s.keyring().expect("keyring").current_version(), 1);

    let old = keyring_with(1, [3; 32]);
    let sealed = old.seal_json(b"aad", &"old record").expect("sealed");
    let s = read(&[
        ("TOKEN_ENCRYPTION_KEY", &key_text(9)),
        ("TOKEN_ENCRYPTION_KEY_VERSION", "2"),
        ("TOKEN_ENCRYPTION_KEY_PREVIOUS", &key_text(3)),
    ]);
    let keyring = s.keyring().expect("keyring");
    assert_eq!(keyring.current_version(), 2);
    assert_eq!(
        keyring.open_json::<String>(b"aad", &sealed).expect("opens"),
        "old record"
    );
    assert!(!format!("{s:?}").contains(&key_text(9)));
}

#[test]
fn a_bad_key_or_version_is_a_configuration_error() {
    let key = key_text(9);
    let cases: [(&[(&str, &str)], KeyError); 8] = [
        (
            &[("TOKEN_ENCRYPTION_KEY", "not base64!")],
            KeyError::NotBase64,
        ),
        (
            &[("TOKEN_ENCRYPTION_KEY", "c2hvcnQ=")],
            KeyError::WrongLength { got: 5 },
        ),
        // The previous key's problem names the previous key.
        (
            &[
                ("TOKEN_ENCRYPTION_KEY", &key),
                ("TOKEN_ENCRYPTION_KEY_PREVIOUS", "c2hvcnQ="),
            ],
            KeyError::PreviousMalformed {
                problem: "it decodes to 5 bytes".into(),
            },
        ),
        (
            &[
                ("TOKEN_ENCRYPTION_KEY", &key),
                ("TOKEN_ENCRYPTION_KEY_PREVIOUS", "not base64!"),
            ],
            KeyError::PreviousMalformed {
                problem: "it is not valid base64".into(),
            },
        ),
        (
            &[
                ("TOKEN_ENCRYPTION_KEY", &key),
                ("TOKEN_ENCRYPTION_KEY_VERSION", "0"),
            ],
            KeyError::Version,
        ),
        (
            &[
                ("TOKEN_ENCRYPTION_KEY", &key),
                ("TOKEN_ENCRYPTION_KEY_VERSION", "256"),
            ],
            KeyError::Version,
        ),
        (
            &[
                ("TOKEN_ENCRYPTION_KEY", &key),
                ("TOKEN_ENCRYPTION_KEY_VERSION", "-1"),
            ],
            KeyError::Version,
        ),
        (
            &[
                ("TOKEN_ENCRYPTION_KEY", &key),
                ("TOKEN_ENCRYPTION_KEY_VERSION", "two"),
            ],
            KeyError::Version,
        ),
    ];
    for (vars, expected) in cases {
        match read(vars).keyring() {
            Err(ConnectError::KeyMalformed(e)) => assert_eq!(e, expected, "{vars:?}"),
            other => panic!("{vars:?}: {other:?}"),
        }
    }
    // An empty version is the default.
    let s = read(&[
        ("TOKEN_ENCRYPTION_KEY", &key),
        ("TOKEN_ENCRYPTION_KEY_VERSION", " "),
    ]);
    assert_eq!(s.keyring().expect("keyring").current_version(), 1);
}

#[test]
fn the_admin_token_and_origins_are_read() {
    let s = read(&[
        ("ADMIN_TOKEN", " correct horse battery staple, 32+\n"),
        (
            "ALLOWED_ORIGINS",
            "https://a.example, https://B.example:443 ,",
        ),
        ("DEMO_SERVER_URL", "http://127.0.0.1:9/mcp"),
    ]);
    assert!(
        s.admin_token
            .as_ref()
            .is_ok_and(|t| t.verify("correct horse battery staple, 32+"))
    );
    assert_eq!(
        s.allowed_origins,
        ["https://a.example", "https://b.example"]
    );
    assert_eq!(s.demo_server_url.as_deref(), Some("http://127.0.0.1:9/mcp"));
    let short = read(&[("ADMIN_TOKEN", "short")]);
    assert!(matches!(
        short.admin_token,
        Err(TokenProblem::TooShort { bytes: 5 })
    ));
}

#[test]
fn connect_settings_follow_the_origin() {
    let s = read(&[("CONNECT_STATE_TTL_SECONDS", "30")]);
    let https = s
        .connect_settings(&Url::parse("https://b.example/connect").expect("url"))
        .expect("settings");
    assert_eq!(
        https.redirect_uri.as_str(),
        "https://b.example/oauth/callback"
    );
    assert!(https.secure_cookies);
    assert_eq!(https.state_ttl_ms, 30_000);
    assert_eq!(
        https.client_metadata_url.map(String::from).as_deref(),
        Some("https://b.example/oauth/client-metadata.json")
    );
    let http = s
        .connect_settings(&Url::parse("http://127.0.0.1:8787/").expect("url"))
        .expect("settings");
    assert!(!http.secure_cookies);
    assert_eq!(http.client_metadata_url, None);
}

#[test]
fn client_metadata_url_is_an_https_url_with_a_path() {
    let http_origin = Url::parse("http://127.0.0.1:8787/").expect("url");
    let set = read(&[("CLIENT_METADATA_URL", " https://meta.example/bindify.json ")]);
    assert_eq!(set.problems, []);
    assert_eq!(
        set.client_metadata_url(&http_origin)
            .map(String::from)
            .as_deref(),
        Some("https://meta.example/bindify.json")
    );
    for unusable in [
        "http://meta.example/bindify.json",
        "https://meta.example/",
        "https://meta.example/doc#part",
        "https://user:pw@meta.example/doc",
        "not a url",
    ] {
        let s = read(&[("CLIENT_METADATA_URL", unusable)]);
        assert_eq!(
            s.problems,
            [SettingError::Url {
                variable: Variable::ClientMetadataUrl
            }],
            "{unusable}"
        );
        assert!(!s.problems[0].to_string().contains(unusable));
        // The default applies: the Worker's own https origin, none on plain http.
        assert_eq!(s.client_metadata_url(&http_origin), None, "{unusable}");
        assert_eq!(
            s.client_metadata_url(&Url::parse("https://b.example/").expect("url"))
                .map(String::from)
                .as_deref(),
            Some("https://b.example/oauth/client-metadata.json"),
            "{unusable}"
        );
    }
    assert!(DEFAULT_CLIENT_METADATA_URL.ends_with(registration::CLIENT_METADATA_PATH));
}

/// `docs/configuration.md` documents exactly the variables the code reads, with the same
/// defaults.
#[test]
fn the_configuration_doc_lists_the_same_variables() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/configuration.md"
    ))
    .expect("docs/configuration.md");
    let table = doc
        .split("| name | kind | default | meaning |")
        .nth(1)
        .expect("the variables table");
    let mut documented = BTreeMap::new();
    for line in table.lines().skip(2) {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let name = cells[1].trim_matches('`').to_owned();
        let default = cells[3].trim_matches(|c| c == '`' || c == '"').to_owned();
        documented.insert(name, default);
    }
    let names: BTreeSet<&str> = documented.keys().map(String::as_str).collect();
    let code: BTreeSet<&str> = Variable::ALL.iter().map(|v| v.name()).collect();
    assert_eq!(names, code);
    for variable in Variable::ALL {
        assert_eq!(
            documented[variable.name()],
            variable.default_text().unwrap_or("none"),
            "default of {variable}"
        );
    }
    // The numeric defaults the doc states are the ones the code uses.
    for (variable, bounds) in [
        (Variable::CronMaxRefreshes, CRON_MAX_REFRESHES),
        (Variable::RevocationBoundSeconds, REVOCATION_BOUND_SECONDS),
        (Variable::ConnectStateTtlSeconds, CONNECT_STATE_TTL_SECONDS),
        (Variable::TokenEncryptionKeyVersion, KEY_VERSION),
    ] {
        assert_eq!(
            variable.default_text(),
            Some(bounds.default.to_string().as_str())
        );
    }
}
