use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use super::*;

const AAD: &[u8] = b"conn:0123abcd";

fn key_bytes(seed: u8) -> [u8; 32] {
    let mut k = [0u8; 32];
    for (i, b) in k.iter_mut().enumerate() {
        *b = seed
            .wrapping_mul(31)
            .wrapping_add(i as u8)
            .wrapping_add(0xf8);
    }
    k
}

fn key(version: u8, seed: u8) -> MasterKey {
    MasterKey::from_base64(version, &STANDARD.encode(key_bytes(seed))).unwrap()
}

fn ring(version: u8, seed: u8) -> Keyring {
    Keyring::new(key(version, seed))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Record {
    access_token: String,
    refresh_token: Option<String>,
    expires_at: u64,
}

fn record() -> Record {
    Record {
        access_token: "at-SUPERSECRET-access".to_owned(),
        refresh_token: Some("rt-SUPERSECRET-refresh".to_owned()),
        expires_at: 1_900_000_000,
    }
}

#[test]
fn roundtrip() {
    let kr = ring(1, 1);
    for plaintext in [&b""[..], b"x", b"hello world", &[0u8; 4096][..]] {
        let sealed = kr.seal(AAD, plaintext).unwrap();
        assert_eq!(sealed.len(), MIN_SEALED_LEN + plaintext.len());
        assert_eq!(sealed[0], 1);
        let opened = kr.open(AAD, &sealed).unwrap();
        assert_eq!(opened.as_slice(), plaintext);
    }
}

#[test]
fn roundtrip_json() {
    let kr = ring(3, 9);
    let text = kr.seal_json(AAD, &record()).unwrap();
    assert!(
        text.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    );
    let back: Record = kr.open_json(AAD, &text).unwrap();
    assert_eq!(back, record());
}

#[test]
fn is_randomized() {
    let kr = ring(1, 1);
    let a = kr.seal(AAD, b"same plaintext").unwrap();
    let b = kr.seal(AAD, b"same plaintext").unwrap();
    assert_ne!(a, b);
    assert_ne!(a[1..13], b[1..13], "nonces must differ");
    let ja = kr.seal_json(AAD, &record()).unwrap();
    let jb = kr.seal_json(AAD, &record()).unwrap();
    assert_ne!(ja, jb);
}

#[test]
fn hides_plaintext() {
    let kr = ring(1, 1);
    let plaintext = b"at-SUPERSECRET-access";
    let sealed = kr.seal(AAD, plaintext).unwrap();
    assert!(!contains(&sealed, plaintext));
    assert!(!contains(&sealed, b"SUPERSECRET"));

    let text = kr.seal_json(AAD, &record()).unwrap();
    assert!(!text.contains("SUPERSECRET"));
    assert!(!text.contains("access_token"));
    let raw = b64url_decode(&text).unwrap();
    assert!(!contains(&raw, b"SUPERSECRET"));
    assert!(!contains(&raw, b"access_token"));
}

#[test]
fn tamper_fails() {
    let kr = ring(1, 1);
    let sealed = kr.seal(AAD, b"token material").unwrap();
    for i in 0..sealed.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut t = sealed.clone();
            t[i] ^= flip;
            let err = kr.open(AAD, &t).unwrap_err();
            if i == 0 {
                assert!(matches!(
                    err,
                    EnvelopeError::UnknownKeyVersion(_) | EnvelopeError::Decrypt
                ));
            } else {
                assert_eq!(err, EnvelopeError::Decrypt, "byte {i} flip {flip:#x}");
            }
        }
    }
}

#[test]
fn tamper_fails_json_text() {
    let kr = ring(1, 1);
    let text = kr.seal_json(AAD, &record()).unwrap();
    let mut chars: Vec<char> = text.chars().collect();
    chars[20] = if chars[20] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    assert_eq!(
        kr.open_json::<Record>(AAD, &tampered).unwrap_err(),
        EnvelopeError::Decrypt
    );
}

#[test]
fn wrong_aad_fails() {
    let kr = ring(1, 1);
    let sealed = kr.seal(AAD, b"token").unwrap();
    assert_eq!(
        kr.open(b"conn:other", &sealed).unwrap_err(),
        EnvelopeError::Decrypt
    );
    assert_eq!(kr.open(b"", &sealed).unwrap_err(), EnvelopeError::Decrypt);
    let text = kr.seal_json(AAD, &record()).unwrap();
    assert_eq!(
        kr.open_json::<Record>(b"conn:other", &text).unwrap_err(),
        EnvelopeError::Decrypt
    );
}

#[test]
fn wrong_key_fails() {
    let sealed = ring(1, 1).seal(AAD, b"token").unwrap();
    let other = ring(1, 2);
    assert_eq!(
        other.open(AAD, &sealed).unwrap_err(),
        EnvelopeError::Decrypt
    );
}

#[test]
fn wrong_key_version_fails() {
    let kr = ring(1, 1).with_previous(key(2, 1));
    let mut sealed = kr.seal(AAD, b"token").unwrap();
    // Same key bytes under version 2: the version byte is in the associated data.
    sealed[0] = 2;
    assert_eq!(kr.open(AAD, &sealed).unwrap_err(), EnvelopeError::Decrypt);
    // A version no key has.
    sealed[0] = 7;
    assert_eq!(
        kr.open(AAD, &sealed).unwrap_err(),
        EnvelopeError::UnknownKeyVersion(7)
    );
}

#[test]
fn rotation_opens_old_records() {
    let v1 = ring(1, 1);
    let old = v1.seal(AAD, b"old record").unwrap();
    let old_json = v1.seal_json(AAD, &record()).unwrap();

    let rotated = ring(2, 2).with_previous(key(1, 1));
    assert_eq!(rotated.current_version(), 2);
    assert_eq!(rotated.open(AAD, &old).unwrap().as_slice(), b"old record");
    assert_eq!(
        rotated.open_json::<Record>(AAD, &old_json).unwrap(),
        record()
    );

    // New records use the current key.
    let new = rotated.seal(AAD, b"new record").unwrap();
    assert_eq!(new[0], 2);
    assert_eq!(rotated.open(AAD, &new).unwrap().as_slice(), b"new record");
    // ... which the old keyring cannot open.
    assert_eq!(
        v1.open(AAD, &new).unwrap_err(),
        EnvelopeError::UnknownKeyVersion(2)
    );

    let only_v2 = ring(2, 2);
    assert_eq!(
        only_v2.open(AAD, &old).unwrap_err(),
        EnvelopeError::UnknownKeyVersion(1)
    );
}

#[test]
fn truncated_fails() {
    let kr = ring(1, 1);
    let sealed = kr.seal(AAD, b"some token").unwrap();
    for len in 0..sealed.len() {
        let err = kr.open(AAD, &sealed[..len]).unwrap_err();
        if len < MIN_SEALED_LEN {
            assert_eq!(err, EnvelopeError::Malformed, "len {len}");
        } else {
            assert_eq!(err, EnvelopeError::Decrypt, "len {len}");
        }
    }
    let mut extended = sealed.clone();
    extended.push(0);
    assert_eq!(kr.open(AAD, &extended).unwrap_err(), EnvelopeError::Decrypt);
}

#[test]
fn open_json_rejects_bad_text() {
    let kr = ring(1, 1);
    for text in ["", "!!!!", "AAAA", "a b c", "QUJD====", "+/+/+/+/"] {
        assert_eq!(
            kr.open_json::<Record>(AAD, text).unwrap_err(),
            EnvelopeError::Malformed,
            "{text:?}"
        );
    }
}

#[test]
fn open_json_wrong_type_is_encode_error() {
    let kr = ring(1, 1);
    let text = kr.seal_json(AAD, &vec![1, 2, 3]).unwrap();
    assert_eq!(
        kr.open_json::<Record>(AAD, &text).unwrap_err(),
        EnvelopeError::Encode
    );
}

#[test]
fn seal_json_serialize_error_is_encode() {
    struct Fails;
    impl Serialize for Fails {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("no"))
        }
    }
    assert_eq!(
        ring(1, 1).seal_json(AAD, &Fails).unwrap_err(),
        EnvelopeError::Encode
    );
}

#[test]
fn hostile_sealed_inputs_do_not_panic() {
    let kr = ring(1, 1);
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..2000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = (state % 80) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|i| (state.rotate_left(i as u32) & 0xff) as u8)
            .collect();
        assert!(kr.open(AAD, &bytes).is_err());
        let text = String::from_utf8_lossy(&bytes);
        assert!(kr.open_json::<Record>(AAD, &text).is_err());
    }
}

// ---- key parsing ----

#[test]
fn key_missing() {
    assert_eq!(
        MasterKey::from_base64(1, "").unwrap_err(),
        KeyError::Missing
    );
    assert_eq!(
        MasterKey::from_base64(1, "  \n\t ").unwrap_err(),
        KeyError::Missing
    );
}

#[test]
fn key_not_base64() {
    for text in ["not base64!", "@@@@", "abc def", "ab+_cd==", "é"] {
        assert_eq!(
            MasterKey::from_base64(1, text).unwrap_err(),
            KeyError::NotBase64,
            "{text:?}"
        );
    }
}

#[test]
fn key_wrong_length() {
    for n in [1usize, 16, 31, 33, 64] {
        let text = STANDARD.encode(vec![7u8; n]);
        assert_eq!(
            MasterKey::from_base64(1, &text).unwrap_err(),
            KeyError::WrongLength { got: n }
        );
    }
}

#[test]
fn key_all_encodings_ok_and_equivalent() {
    // Bytes chosen so the standard and URL-safe encodings differ (+/ vs -_).
    let bytes = [0xfb; 32];
    let encodings = [
        STANDARD.encode(bytes),
        STANDARD_NO_PAD.encode(bytes),
        URL_SAFE.encode(bytes),
        URL_SAFE_NO_PAD.encode(bytes),
        format!("  {}\n", STANDARD.encode(bytes)),
    ];
    assert!(encodings[0].contains('/') && encodings[0].ends_with('='));
    assert!(encodings[2].contains('_'));
    let reference = Keyring::new(MasterKey::from_base64(4, &encodings[0]).unwrap());
    let sealed = reference.seal(AAD, b"x").unwrap();
    for text in &encodings {
        let k = MasterKey::from_base64(4, text).unwrap();
        assert_eq!(k.version(), 4);
        assert_eq!(
            Keyring::new(k).open(AAD, &sealed).unwrap().as_slice(),
            b"x",
            "{text:?}"
        );
    }
}

#[test]
fn key_error_messages_say_what_to_do() {
    let msg = KeyError::WrongLength { got: 31 }.to_string();
    assert_eq!(
        msg,
        "TOKEN_ENCRYPTION_KEY must be 32 random bytes in base64 (got 31 bytes); generate one with `openssl rand -base64 32`"
    );
    assert!(
        KeyError::Missing
            .to_string()
            .contains("openssl rand -base64 32")
    );
    assert!(
        KeyError::NotBase64
            .to_string()
            .contains("openssl rand -base64 32")
    );
}

#[test]
fn debug_is_redacted() {
    let raw = key_bytes(5);
    let text = STANDARD.encode(raw);
    let k = MasterKey::from_base64(9, &text).unwrap();
    let dbg = format!("{k:?} {k:#?}");
    assert!(dbg.contains("<redacted>"));
    assert!(dbg.contains('9'));
    assert!(!dbg.contains(&text));
    assert!(!dbg.contains(&format!("{:?}", raw)));

    let kr = Keyring::new(k).with_previous(key(8, 1));
    let dbg = format!("{kr:?}");
    assert_eq!(dbg, "Keyring { current: 9, previous: [8] }");
}

#[test]
fn errors_never_contain_plaintext() {
    let kr = ring(1, 1);
    let sealed = kr.seal(AAD, b"SUPERSECRET").unwrap();
    let err = ring(1, 2).open(AAD, &sealed).unwrap_err();
    assert!(!err.to_string().contains("SUPERSECRET"));
    assert!(!format!("{err:?}").contains("SUPERSECRET"));
}
