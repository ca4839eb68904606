//! Envelope opening (core/src/vault/envelope.rs): sealed text an attacker controls (the OAuth
//! `state` of a callback, the dashboard session cookie) and records altered at rest.
//!
//! Properties: sealing then opening gives the plaintext back; a sealed record with any change
//! (a flipped bit, cut or extended, another key version, another associated data) never opens;
//! text the fuzzer writes never opens (it cannot forge AES-GCM), and fails with the error its
//! shape calls for; neither a state nor a session cookie made of it is ever accepted.
#![no_main]

use bindify_core::admin::{AdminToken, SessionCookie, session_valid};
use bindify_core::connect::flow::{SealedState, StateClaims};
use bindify_core::secret::b64url_decode;
use bindify_core::vault::envelope::{EnvelopeError, Keyring, MIN_SEALED_LEN, MasterKey};
use bindify_fuzz::{keyring, master_key};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    plaintext: Vec<u8>,
    aad: Vec<u8>,
    /// Bits to flip: (position, mask), positions taken modulo the record's length.
    flips: Vec<(u16, u8)>,
    cut: Option<u16>,
    extend: Vec<u8>,
    other_aad: Option<Vec<u8>>,
    now: i64,
    /// Text presented as a sealed value (a state, a session cookie, a key).
    text: String,
}

fn ring() -> Keyring {
    // Version 1 seals; version 2 is another key that still opens.
    keyring(1, 0x42).with_previous(master_key(2, 0x17))
}

fuzz_target!(|input: Input| {
    let ring = ring();
    let sealed = ring.seal(&input.aad, &input.plaintext).expect("seal");
    assert_eq!(sealed.len(), MIN_SEALED_LEN + input.plaintext.len());
    let opened = ring
        .open(&input.aad, &sealed)
        .expect("open what was sealed");
    assert_eq!(opened.as_slice(), input.plaintext.as_slice());

    // Any change to the record or its associated data makes it fail.
    let mut changed = sealed.clone();
    for (position, mask) in &input.flips {
        let i = usize::from(*position) % changed.len();
        changed[i] ^= mask;
    }
    if let Some(cut) = input.cut {
        changed.truncate(usize::from(cut) % (changed.len() + 1));
    }
    changed.extend_from_slice(&input.extend);
    let aad = input.other_aad.as_deref().unwrap_or(&input.aad);
    let result = ring.open(aad, &changed);
    if changed == sealed && aad == input.aad.as_slice() {
        assert!(result.is_ok());
    } else {
        let error = result.expect_err("a changed record must not open");
        match error {
            EnvelopeError::Malformed => assert!(changed.len() < MIN_SEALED_LEN),
            EnvelopeError::UnknownKeyVersion(v) => assert!(v != 1 && v != 2),
            EnvelopeError::Decrypt => {}
            other => panic!("unexpected {other:?}"),
        }
    }

    // Attacker text never opens.
    let opened = ring.open_json::<serde_json::Value>(&input.aad, &input.text);
    let error = opened.expect_err("forged text must not open");
    match b64url_decode(&input.text) {
        None => assert_eq!(error, EnvelopeError::Malformed),
        Some(bytes) if bytes.len() < MIN_SEALED_LEN => assert_eq!(error, EnvelopeError::Malformed),
        Some(bytes) if bytes[0] != 1 && bytes[0] != 2 => {
            assert_eq!(error, EnvelopeError::UnknownKeyVersion(bytes[0]))
        }
        Some(_) => assert_eq!(error, EnvelopeError::Decrypt),
    }
    let state = SealedState::new(input.text.clone());
    assert!(StateClaims::open(&ring, &state, input.now).is_err());
    let token = AdminToken::new("an admin token of at least thirty-two bytes".into());
    let cookie = SessionCookie::new(input.text.clone());
    assert!(!session_valid(&ring, &token, &cookie, input.now));

    // A key from configuration text: accepted only as 32 bytes of base64.
    if MasterKey::from_base64(3, &input.text).is_ok() {
        assert!(input.text.trim().len() >= 43);
    }
});
