use p256::ecdsa::VerifyingKey;
use p256::ecdsa::signature::Verifier;

use super::*;
use crate::secret::b64url_decode;

/// A P-256 key made for these tests with `openssl genpkey -algorithm EC -pkeyopt
/// ec_paramgen_curve:P-256`.
pub(crate) const TEST_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQggiRyX/INzh/2HWZG
uVsIjRv47EdKjQOAUB5UrDWOJq6hRANCAARpdq2D3ZrO5smXEq6ephD466U90Lw7
AnQx1glUKLNpfmkgigAIRXQ49+3cGMVhtkqjFzMOzctJxX6cObLLgcFV
-----END PRIVATE KEY-----
";

fn part(token: &str, index: usize) -> serde_json::Value {
    let segment = token.split('.').nth(index).expect("segment");
    serde_json::from_slice(&b64url_decode(segment).expect("base64url")).expect("json")
}

#[test]
fn an_assertion_is_an_es256_jws_the_public_key_verifies() {
    let key = PrivateKey::from_pem(TEST_KEY, None).expect("key");
    assert_eq!(key.algorithm(), SigningAlgorithm::ES256);
    let claims = AssertionClaims {
        iss: "client-1".into(),
        sub: "client-1".into(),
        aud: "https://auth.example.com".into(),
        iat: 1_000,
        exp: 1_300,
        jti: "j1".into(),
    };
    let token = key.sign(&claims).expect("signed");
    assert_eq!(
        part(&token, 0),
        serde_json::json!({ "alg": "ES256", "typ": "JWT" })
    );
    assert_eq!(part(&token, 1)["aud"], "https://auth.example.com");
    assert_eq!(part(&token, 1)["sub"], "client-1");

    let (input, signature) = token.rsplit_once('.').expect("three parts");
    let signature =
        Signature::from_slice(&b64url_decode(signature).expect("b64")).expect("signature");
    let public = VerifyingKey::from(&key.key);
    assert!(public.verify(input.as_bytes(), &signature).is_ok());
    assert!(public.verify(b"other input", &signature).is_err());
    assert!(!format!("{key:?}").contains("MIG"));
}

#[test]
fn unusable_keys_and_algorithms_are_named_without_the_key() {
    let error = PrivateKey::from_pem(
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        None,
    )
    .expect_err("not a key");
    assert_eq!(error, JwtError::UnreadableKey);
    assert!(!error.to_string().contains("AAAA"));
    assert_eq!(SigningAlgorithm::parse(""), Ok(None));
    assert_eq!(
        SigningAlgorithm::parse("ES256"),
        Ok(Some(SigningAlgorithm::ES256))
    );
    assert_eq!(
        SigningAlgorithm::parse("HS256").map_err(|e| e.to_string()),
        Err("the signing algorithm \"HS256\" is not supported; Bindify signs with ES256".into())
    );
}

#[test]
fn an_identity_token_is_read_for_its_expiry() {
    let payload = b64url(br#"{"iss":"https://idp.example.com","sub":"u1","exp":1800000000}"#);
    let claims = unverified_claims(&format!("e30.{payload}.c2ln")).expect("claims");
    assert_eq!(claims.exp, Some(1_800_000_000));
    assert_eq!(claims.iss.as_deref(), Some("https://idp.example.com"));
    assert!(matches!(
        unverified_claims("not-a-jwt"),
        Err(JwtError::NotAJwt)
    ));
    assert!(matches!(
        unverified_claims("a.b.c.d"),
        Err(JwtError::NotAJwt)
    ));
}
