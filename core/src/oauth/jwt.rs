//! The JSON Web Tokens Bindify makes and reads: client assertions it signs for `private_key_jwt`
//! (RFC 7523 §2.2, RFC 7521 §4.2), and the claims of an identity token it was handed, read
//! without verifying them (Bindify only needs to know when the token expires; the servers it
//! presents the token to verify it).
//!
//! Signing is ES256 (ECDSA P-256 with SHA-256, RFC 7518 §3.4), from a PKCS#8 PEM private key,
//! the form `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256` writes and the one
//! authorization servers hand out for `private_key_jwt` clients.

use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde::{Deserialize, Serialize};

use crate::secret::b64url;

/// The signing algorithms Bindify signs client assertions with (`signing_algorithm` on the
/// credentials form; RFC 7518 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SigningAlgorithm {
    ES256,
}

impl SigningAlgorithm {
    /// From the form's or the API's text; empty means the key's own algorithm.
    pub fn parse(text: &str) -> Result<Option<Self>, JwtError> {
        match text.trim() {
            "" => Ok(None),
            "ES256" | "es256" => Ok(Some(SigningAlgorithm::ES256)),
            other => Err(JwtError::UnsupportedAlgorithm(
                other.chars().take(16).collect(),
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SigningAlgorithm::ES256 => "ES256",
        }
    }
}

/// Why a key could not be used or a token not read. Messages never quote key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error(
        "the private key is not a PKCS#8 PEM P-256 key (\"-----BEGIN PRIVATE KEY-----\"); convert it with `openssl pkcs8 -topk8 -nocrypt`"
    )]
    UnreadableKey,
    #[error("the signing algorithm {0:?} is not supported; Bindify signs with ES256")]
    UnsupportedAlgorithm(String),
    #[error("the token is not a JWT")]
    NotAJwt,
}

/// A private key for signing, checked when it is read.
pub struct PrivateKey {
    key: SigningKey,
    algorithm: SigningAlgorithm,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl PrivateKey {
    /// Reads a PKCS#8 PEM key for `algorithm` (`None`: the key's own, ES256 for P-256).
    pub fn from_pem(pem: &str, algorithm: Option<SigningAlgorithm>) -> Result<Self, JwtError> {
        let key = pkcs8::signing_key(pem).ok_or(JwtError::UnreadableKey)?;
        Ok(PrivateKey {
            key,
            algorithm: algorithm.unwrap_or(SigningAlgorithm::ES256),
        })
    }

    pub fn algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }

    /// A compact JWS of `claims`, with header `{"alg", "typ": "JWT"}`.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, serde_json::Error> {
        let header = serde_json::json!({ "alg": self.algorithm.name(), "typ": "JWT" });
        let input = format!(
            "{}.{}",
            b64url(&serde_json::to_vec(&header)?),
            b64url(&serde_json::to_vec(claims)?)
        );
        let signature: Signature = self.key.sign(input.as_bytes());
        Ok(format!("{input}.{}", b64url(&signature.to_bytes())))
    }
}

/// The claims of a client assertion (RFC 7523 §3): the client is issuer and subject, the
/// authorization server the audience; short-lived and unique.
#[derive(Debug, Serialize, Deserialize)]
pub struct AssertionClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
}

/// How long a client assertion is valid, in seconds: long enough for one token request and
/// some clock skew.
pub const ASSERTION_LIFETIME_SECONDS: i64 = 300;

/// The registered claims of a JWT Bindify reads but does not verify (an identity token the
/// owner handed it).
#[derive(Debug, Default, Deserialize)]
pub struct UnverifiedClaims {
    pub exp: Option<i64>,
    pub iss: Option<String>,
    pub sub: Option<String>,
}

/// The payload of compact JWT `token`, not verified.
pub fn unverified_claims(token: &str) -> Result<UnverifiedClaims, JwtError> {
    let mut parts = token.trim().split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::NotAJwt);
    };
    let bytes = crate::secret::b64url_decode(payload).ok_or(JwtError::NotAJwt)?;
    crate::json::from_slice(&bytes).map_err(|_| JwtError::NotAJwt)
}

mod pkcs8;

#[cfg(test)]
pub(crate) mod tests;
