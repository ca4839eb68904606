//! Secrets are compared in constant time (docs/conformance.md, "Vault and secrets"). Nothing
//! here measures time; the tests check how comparisons are written:
//!
//! - the secret types have no `PartialEq`, so `==` cannot compare them;
//! - the comparisons they offer go through `subtle`'s `ConstantTimeEq::ct_eq`;
//! - no code outside tests compares an exposed secret (`.secret()`, `.expose()`) with `==` or
//!   `!=`.
//!
//! (oauth2's `AccessToken` and `RefreshToken` have a `PartialEq` of their own that compares
//! SHA-256 digests of the tokens; Bindify compares tokens by their hashes with `ct_eq`.)

use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use bindify_core::admin::{AdminToken, LoginForm};
use bindify_core::secret::{SecretHash, UrlSecret};
use bindify_core::vault::envelope::{Keyring, MasterKey};

/// `Probe::<T>::PARTIAL_EQ` is true exactly when `T: PartialEq`, decided at compile time: the
/// inherent constant applies when its bound holds, the trait's constant otherwise.
struct Probe<T>(PhantomData<T>);

trait Fallback {
    const PARTIAL_EQ: bool = false;
}

impl<T> Fallback for Probe<T> {}

impl<T: PartialEq> Probe<T> {
    const PARTIAL_EQ: bool = true;
}

#[test]
fn secret_types_have_no_partial_eq() {
    // The probe sees a PartialEq where there is one.
    const { assert!(Probe::<String>::PARTIAL_EQ) };
    const { assert!(Probe::<[u8; 32]>::PARTIAL_EQ) };

    let with_partial_eq: Vec<&str> = [
        ("UrlSecret", Probe::<UrlSecret>::PARTIAL_EQ),
        ("SecretHash", Probe::<SecretHash>::PARTIAL_EQ),
        ("AdminToken", Probe::<AdminToken>::PARTIAL_EQ),
        ("LoginForm", Probe::<LoginForm>::PARTIAL_EQ),
        ("MasterKey", Probe::<MasterKey>::PARTIAL_EQ),
        ("Keyring", Probe::<Keyring>::PARTIAL_EQ),
    ]
    .into_iter()
    .filter(|(_, partial_eq)| *partial_eq)
    .map(|(name, _)| name)
    .collect();
    assert_eq!(with_partial_eq, Vec::<&str>::new());
}

#[test]
fn the_comparisons_secrets_offer_are_subtles_ct_eq() {
    let sources = rust_sources(&core_src());
    // `ct_eq_bytes` and `ct_eq_digest` hand the bytes to subtle; every `ct_eq` a secret type
    // offers (`SecretHash`, and those `secret_type!` declares) goes through one of them or
    // subtle directly, and the admin token and the session fingerprint are checked with them.
    for (function, calls) in [
        ("fn ct_eq_bytes(", &[".ct_eq("][..]),
        ("fn ct_eq_digest(", &[".ct_eq("][..]),
        (
            "fn ct_eq(&self",
            &[".ct_eq(", "ct_eq_digest(", "ct_eq_bytes("][..],
        ),
        (
            "fn verify(&self, presented: &str)",
            &["ct_eq_bytes(", "ct_eq_digest(", ".ct_eq("][..],
        ),
        (
            "fn session_valid(",
            &["ct_eq_bytes(", "ct_eq_digest(", ".ct_eq("][..],
        ),
    ] {
        let bodies: Vec<(PathBuf, String)> = sources
            .iter()
            .flat_map(|(path, text)| {
                function_bodies(text, function)
                    .into_iter()
                    .map(move |body| (path.clone(), body))
            })
            .collect();
        assert!(!bodies.is_empty(), "no `{function}` in core/src");
        for (path, body) in bodies {
            assert!(
                calls.iter().any(|call| body.contains(call)),
                "{} `{function}` calls none of {calls:?}:\n{body}",
                path.display()
            );
        }
    }
    let secret = sources
        .iter()
        .find(|(path, _)| path.ends_with("secret.rs"))
        .map(|(_, text)| text.as_str())
        .unwrap_or_default();
    assert!(secret.contains("use subtle::ConstantTimeEq;"));
}

#[test]
fn no_exposed_secret_is_compared_with_equality() {
    let mut roots = vec![core_src()];
    // The Worker and the CLI, beside the core in the workspace.
    for sibling in ["../src", "../cli/src"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(sibling);
        if dir.is_dir() {
            roots.push(dir);
        }
    }
    let mut found = Vec::new();
    for root in roots {
        for (path, text) in rust_sources(&root) {
            if path.file_name().is_some_and(|name| name == "tests.rs") {
                continue;
            }
            for (number, line) in outside_tests(&text) {
                let code = line.trim_start();
                let exposes = code.contains(".secret()") || code.contains(".expose()");
                let compares = code.contains(" == ") || code.contains(" != ");
                if exposes && compares && !code.starts_with("//") {
                    found.push(format!("{}:{number}: {code}", path.display()));
                }
            }
        }
    }
    assert_eq!(found, Vec::<String>::new());
}

fn core_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, with its text.
fn rust_sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).expect("readable source dir");
        for entry in entries {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                let text = std::fs::read_to_string(&path).expect("readable source");
                out.push((path, text));
            }
        }
    }
    out.sort();
    out
}

/// The bodies (from the signature to the matching closing brace) of the functions whose
/// signature starts with `signature`.
fn function_bodies(text: &str, signature: &str) -> Vec<String> {
    let mut bodies = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(signature) {
        let from = &rest[start..];
        let mut depth = 0usize;
        let mut end = None;
        for (i, c) in from.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i + 1);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end.expect("balanced braces");
        bodies.push(from[..end].to_owned());
        rest = &from[end..];
    }
    bodies
}

/// The numbered lines of a source file before its `#[cfg(test)]` module.
fn outside_tests(text: &str) -> Vec<(usize, &str)> {
    text.lines()
        .enumerate()
        .take_while(|(_, line)| line.trim() != "#[cfg(test)]")
        .map(|(i, line)| (i + 1, line))
        .collect()
}
