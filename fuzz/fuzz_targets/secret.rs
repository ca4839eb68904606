//! URL secrets and their hashes (core/src/secret.rs `UrlSecret::parse`, `SecretHash::from_hex`,
//! `b64url_decode`): the secret comes from the path of every proxied request, the hash from
//! headers between the Worker and its Durable Objects.
//!
//! Properties: each parser accepts exactly what an independent check of the format accepts,
//! and what it accepts is the canonical text (writing it back gives the input).
#![no_main]

use bindify_core::connect::cli_flow::code_hash_hex;
use bindify_core::secret::{SecretHash, URL_SECRET_LEN, UrlSecret, b64url, b64url_decode};
use libfuzzer_sys::fuzz_target;

const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// 43 base64url characters whose last one leaves the two spare bits zero.
fn canonical_secret(s: &str) -> bool {
    s.len() == URL_SECRET_LEN
        && s.chars().all(|c| ALPHABET.contains(c))
        && s.chars()
            .last()
            .and_then(|c| ALPHABET.find(c))
            .is_some_and(|i| i % 4 == 0)
}

fuzz_target!(|text: &str| {
    let parsed = UrlSecret::parse(text);
    assert_eq!(parsed.is_some(), canonical_secret(text), "{text:?}");
    if let Some(secret) = parsed {
        assert_eq!(secret.expose(), text);
        let bytes = b64url_decode(text).expect("a parsed secret decodes");
        assert_eq!(bytes.len(), 32);
        assert_eq!(b64url(&bytes), text);
        assert!(!format!("{secret:?}").contains(text));
        assert!(
            secret
                .hash()
                .ct_eq(&UrlSecret::parse(text).expect("again").hash())
        );
    }

    let hash = SecretHash::from_hex(text);
    let hex = text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit());
    assert_eq!(hash.is_some(), hex, "{text:?}");
    if let Some(hash) = hash {
        assert_eq!(hash.to_hex(), text.to_ascii_lowercase());
        let json = serde_json::to_string(&hash).expect("serialize");
        let back: SecretHash = serde_json::from_str(&json).expect("deserialize");
        assert!(back.ct_eq(&hash));
    }
    let from_json =
        serde_json::from_str::<SecretHash>(&serde_json::to_string(text).expect("a string"));
    assert_eq!(from_json.is_ok(), hex);

    if let Some(bytes) = b64url_decode(text) {
        assert_eq!(b64url(&bytes), text, "base64url decoding is canonical");
    }
    assert_eq!(code_hash_hex(text).len(), 64);
});
