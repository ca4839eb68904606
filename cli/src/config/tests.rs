use std::collections::HashMap;

use super::*;

fn token(t: &str) -> Option<AdminToken> {
    AdminToken::parse(t)
}

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k| map.get(k).cloned()
}

fn file(worker: &str, t: &str) -> ConfigFile {
    ConfigFile {
        worker_url: Some(worker.into()),
        admin_token: token(t),
    }
}

type Resolved = (Option<(String, Source)>, Option<(String, Source)>);

fn resolved(sources: &Sources) -> Resolved {
    (
        sources.worker(),
        sources.token().map(|(t, s)| (t.expose().to_owned(), s)),
    )
}

#[test]
fn flags_beat_env_beat_file() {
    let env = env_of(&[
        (ENV_WORKER_URL, "https://env.example"),
        (ENV_ADMIN_TOKEN, "env-token"),
    ]);
    let all = Sources::from_env(
        Some("https://flag.example".into()),
        token("flag-token"),
        &env,
        Some(file("https://file.example", "file-token")),
    );
    assert_eq!(
        resolved(&all),
        (
            Some(("https://flag.example".into(), Source::Flag)),
            Some(("flag-token".into(), Source::Flag))
        )
    );

    let no_flags = Sources::from_env(
        None,
        None,
        &env,
        Some(file("https://file.example", "file-token")),
    );
    assert_eq!(
        resolved(&no_flags),
        (
            Some(("https://env.example".into(), Source::Env)),
            Some(("env-token".into(), Source::Env))
        )
    );

    let only_file = Sources::from_env(
        None,
        None,
        &env_of(&[]),
        Some(file("https://file.example", "file-token")),
    );
    assert_eq!(
        resolved(&only_file),
        (
            Some(("https://file.example".into(), Source::File)),
            Some(("file-token".into(), Source::File))
        )
    );

    // Settings resolve independently, and empty values count as unset.
    let mixed = Sources::from_env(
        Some(" ".into()),
        None,
        &env_of(&[
            (ENV_ADMIN_TOKEN, ""),
            (ENV_WORKER_URL, "https://env.example"),
        ]),
        Some(file("https://file.example", "file-token")),
    );
    assert_eq!(
        resolved(&mixed),
        (
            Some(("https://env.example".into(), Source::Env)),
            Some(("file-token".into(), Source::File))
        )
    );
    assert_eq!(
        resolved(&Sources::from_env(None, None, &env_of(&[]), None)),
        (None, None)
    );
}

#[test]
fn config_dir_override() {
    let dir = config_dir(&env_of(&[(ENV_CONFIG_DIR, "/tmp/bindify-x")])).expect("dir");
    assert_eq!(
        config_path(&dir),
        PathBuf::from("/tmp/bindify-x/config.json")
    );
    if let Ok(default) = config_dir(&env_of(&[])) {
        assert!(default.ends_with("bindify"), "{}", default.display());
    }
}

#[test]
fn save_then_load_roundtrip() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("nested/bindify");
    let path = save(&dir, &file("https://w.example", "the-token")).expect("save");
    assert_eq!(path, dir.join("config.json"));
    let mut warnings = Vec::new();
    let loaded = load(&dir, &mut warnings).expect("load").expect("some");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(loaded.worker_url.as_deref(), Some("https://w.example"));
    assert_eq!(
        loaded.admin_token.map(|t| t.expose().to_owned()).as_deref(),
        Some("the-token")
    );
    let text = fs::read_to_string(&path).expect("read");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        json,
        serde_json::json!({"worker_url": "https://w.example", "admin_token": "the-token"})
    );
    // Saving again replaces it.
    save(&dir, &file("https://v.example", "other")).expect("save again");
    let again = load(&dir, &mut warnings).expect("load").expect("some");
    assert_eq!(again.worker_url.as_deref(), Some("https://v.example"));
    assert!(
        load(&tmp.path().join("none"), &mut warnings)
            .expect("load")
            .is_none()
    );
}

#[cfg(unix)]
#[test]
fn file_is_0600_in_a_0700_directory() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("bindify");
    // A loose old file is replaced by a private one.
    fs::create_dir(&dir).expect("mkdir");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).expect("chmod");
    fs::write(dir.join("config.json"), "{}").expect("write");
    fs::set_permissions(dir.join("config.json"), fs::Permissions::from_mode(0o644)).expect("chmod");
    let mut warnings = Vec::new();
    load(&dir, &mut warnings).expect("load");
    assert_eq!(warnings.len(), 1, "a readable file is warned about");
    assert!(warnings[0].contains("chmod 600"), "{}", warnings[0]);

    let path = save(&dir, &file("https://w.example", "the-token")).expect("save");
    let mode = |p: &Path| fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);

    let fresh = tmp.path().join("a/b");
    let path = save(&fresh, &file("https://w.example", "the-token")).expect("save");
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&fresh), 0o700);
    assert_eq!(mode(&tmp.path().join("a")), 0o700);
    // No temporary file is left behind.
    let names: Vec<_> = fs::read_dir(&fresh)
        .expect("ls")
        .map(|e| e.expect("e").file_name())
        .collect();
    assert_eq!(names, ["config.json"]);
}

#[test]
fn broken_file_says_what_to_do_without_the_token() {
    let tmp = tempfile::tempdir().expect("tmp");
    fs::write(
        tmp.path().join("config.json"),
        "{\"admin_token\": \"leaky-secret\", ",
    )
    .expect("write");
    let error = load(tmp.path(), &mut Vec::new()).expect_err("invalid");
    let text = format!("{error} {error:?}");
    assert!(text.contains("bindify login"), "{text}");
    assert!(!text.contains("leaky-secret"), "{text}");
}

#[test]
fn debug_never_shows_the_token() {
    let env = env_of(&[(ENV_ADMIN_TOKEN, "env-secret-1")]);
    let sources = Sources::from_env(
        None,
        token("flag-secret-2"),
        &env,
        Some(file("https://w.example", "file-secret-3")),
    );
    let text = format!("{sources:?}");
    for secret in ["env-secret-1", "flag-secret-2", "file-secret-3"] {
        assert!(!text.contains(secret), "{text}");
    }
}
