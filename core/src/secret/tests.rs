use super::*;

#[test]
fn random_bytes_differ() {
    let a = random_bytes::<32>().unwrap();
    let b = random_bytes::<32>().unwrap();
    assert_ne!(a, b);
}

#[test]
fn generate_gives_43_url_safe_chars_and_differs() {
    let a = UrlSecret::generate().unwrap();
    let b = UrlSecret::generate().unwrap();
    assert_eq!(a.expose().len(), URL_SECRET_LEN);
    assert!(
        a.expose()
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    );
    assert_ne!(a.expose(), b.expose());
    assert_eq!(b64url_decode(a.expose()).unwrap().len(), 32);
    assert!(UrlSecret::parse(a.expose()).is_some());
}

#[test]
fn parse_accepts_canonical() {
    let text = b64url(&[0xAB; 32]);
    let parsed = UrlSecret::parse(&text).unwrap();
    assert_eq!(parsed.expose(), text);
}

#[test]
fn parse_rejects_wrong_length() {
    let text = b64url(&[7; 32]);
    assert!(UrlSecret::parse("").is_none());
    assert!(UrlSecret::parse(&text[..42]).is_none());
    assert!(UrlSecret::parse(&format!("{text}A")).is_none());
    assert!(UrlSecret::parse(&b64url(&[7; 31])).is_none());
    assert!(UrlSecret::parse(&b64url(&[7; 33])).is_none());
    assert!(UrlSecret::parse(&"A".repeat(100_000)).is_none());
}

#[test]
fn parse_rejects_bad_chars_and_padding() {
    let text = b64url(&[7; 32]);
    let mut plus = text.clone();
    plus.replace_range(0..1, "+");
    assert!(UrlSecret::parse(&plus).is_none());
    let mut slash = text.clone();
    slash.replace_range(5..6, "/");
    assert!(UrlSecret::parse(&slash).is_none());
    let mut padded = text.clone();
    padded.replace_range(42..43, "=");
    assert!(UrlSecret::parse(&padded).is_none());
    assert!(UrlSecret::parse(&format!("{}=", &text[..42])).is_none());
    let mut space = text.clone();
    space.replace_range(10..11, " ");
    assert!(UrlSecret::parse(&space).is_none());
    // 43 bytes but with a multi-byte character.
    let unicode = format!("{}é", &text[..41]);
    assert_eq!(unicode.len(), 43);
    assert!(UrlSecret::parse(&unicode).is_none());
}

#[test]
fn parse_rejects_non_canonical_trailing_bits() {
    // 32 bytes leave 2 spare bits in the last character; "A" has them zero, "B" does not.
    let text = b64url(&[0; 32]);
    assert!(text.ends_with('A'));
    assert!(UrlSecret::parse(&text).is_some());
    let noncanonical = format!("{}B", &text[..42]);
    assert!(UrlSecret::parse(&noncanonical).is_none());
}

#[test]
fn debug_never_contains_secret() {
    let s = UrlSecret::generate().unwrap();
    let dbg = format!("{s:?}");
    assert_eq!(dbg, "UrlSecret(<redacted>)");
    assert!(!dbg.contains(s.expose()));
    let pretty = format!("{s:#?}");
    assert!(!pretty.contains(s.expose()));
}

#[test]
fn hash_is_deterministic_and_domain_separated() {
    let text = b64url(&[42; 32]);
    let a = UrlSecret::parse(&text).unwrap().hash();
    let b = UrlSecret::parse(&text).unwrap().hash();
    assert!(a.ct_eq(&b));
    assert_eq!(a.to_hex(), b.to_hex());
    assert_ne!(a.as_bytes(), &sha256(text.as_bytes()));
    let mut manual = URL_SECRET_HASH_DOMAIN.to_vec();
    manual.extend_from_slice(text.as_bytes());
    assert_eq!(a.as_bytes(), &sha256(&manual));
}

#[test]
fn hash_differs_between_secrets() {
    let a = UrlSecret::generate().unwrap().hash();
    let b = UrlSecret::generate().unwrap().hash();
    assert!(!a.ct_eq(&b));
}

#[test]
fn hex_round_trip() {
    let h = UrlSecret::generate().unwrap().hash();
    let hex = h.to_hex();
    assert_eq!(hex.len(), 64);
    assert!(
        hex.bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
    );
    let back = SecretHash::from_hex(&hex).unwrap();
    assert!(back.ct_eq(&h));
    let upper = SecretHash::from_hex(&hex.to_ascii_uppercase()).unwrap();
    assert!(upper.ct_eq(&h));
}

#[test]
fn from_hex_rejects_bad_input() {
    assert!(SecretHash::from_hex("").is_none());
    assert!(SecretHash::from_hex(&"a".repeat(63)).is_none());
    assert!(SecretHash::from_hex(&"a".repeat(65)).is_none());
    assert!(SecretHash::from_hex(&"g".repeat(64)).is_none());
    assert!(SecretHash::from_hex(&format!("{}é", "a".repeat(62))).is_none());
}

#[test]
fn secret_hash_debug_is_short() {
    let h = SecretHash::from_hex(&"0123456789abcdef".repeat(4)).unwrap();
    assert_eq!(format!("{h:?}"), "SecretHash(01234567…)");
}

#[test]
fn secret_hash_serde_is_hex() {
    let h = UrlSecret::generate().unwrap().hash();
    let json = serde_json::to_string(&h).unwrap();
    assert_eq!(json, format!("\"{}\"", h.to_hex()));
    let back: SecretHash = serde_json::from_str(&json).unwrap();
    assert!(back.ct_eq(&h));
    assert!(serde_json::from_str::<SecretHash>("\"nothex\"").is_err());
    assert!(serde_json::from_str::<SecretHash>("42").is_err());
}

crate::secret_type! {
    #[derive(Clone)]
    struct Phrase(String);
}

crate::secret_type! {
    struct Material([u8; 4]);
}

#[test]
fn declared_secrets_redact_debug_and_compare_in_constant_time() {
    let phrase = Phrase::new("open sesame".into());
    for shown in [
        format!("{phrase:?}"),
        format!("{phrase:#?}"),
        format!("{:?}", Some(phrase.clone())),
    ] {
        assert!(!shown.contains("sesame"), "{shown}");
        assert!(shown.contains("Phrase(<redacted>)"), "{shown}");
    }
    assert!(phrase.ct_eq(&phrase.clone()));
    assert!(!phrase.ct_eq(&Phrase::new("open sesame!".into())));
    assert!(!phrase.ct_eq(&Phrase::new(String::new())));
    assert_eq!(phrase.expose(), "open sesame");

    let material = Material::new([1, 2, 3, 4]);
    assert_eq!(format!("{material:?}"), "Material(<redacted>)");
    assert!(material.ct_eq(&Material::new([1, 2, 3, 4])));
    assert!(!material.ct_eq(&Material::new([1, 2, 3, 5])));
    assert_eq!(material.expose(), &[1, 2, 3, 4]);
}

#[test]
fn ct_eq_digest_behaves() {
    assert!(ct_eq_digest(b"abc", b"abc"));
    assert!(ct_eq_digest(b"", b""));
    assert!(!ct_eq_digest(b"abc", b"abd"));
    assert!(!ct_eq_digest(b"abc", b"abcd"));
}

#[test]
fn ct_eq_bytes_behaves() {
    assert!(ct_eq_bytes(b"abc", b"abc"));
    assert!(ct_eq_bytes(b"", b""));
    assert!(!ct_eq_bytes(b"abc", b"abd"));
    assert!(!ct_eq_bytes(b"abc", b"abcd"));
    assert!(!ct_eq_bytes(b"", b"a"));
}

#[test]
fn b64url_round_trip_and_strictness() {
    let data = [0xfb, 0xff, 0x00, 0x10];
    let text = b64url(&data);
    assert_eq!(text, "-_8AEA");
    assert_eq!(b64url_decode(&text).unwrap(), data);
    assert!(b64url_decode("+/8AEA").is_none());
    assert!(b64url_decode("-_8AEA==").is_none());
    assert!(b64url_decode("-_8A EA").is_none());
}

#[test]
fn sha256_known_answer() {
    // FIPS 180-4 test vector "abc".
    let hex = SecretHash(sha256(b"abc")).to_hex();
    assert_eq!(
        hex,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}
