//! Secrets and the small primitives every other module shares: randomness, SHA-256, base64url
//! and constant-time comparison.
//!
//! The permanent URL a user pastes into their MCP client is `/s/<secret>/mcp`. The secret is
//! 32 random bytes written as base64url without padding (RFC 4648 §5, 43 characters), so it
//! carries 256 bits of entropy. It is never stored: storage keys use [`SecretHash`], a
//! domain-separated SHA-256 of the secret, so a leaked KV listing cannot be turned back into a
//! working URL.
//!
//! Every secret type is declared with [`secret_type!`](crate::secret_type), after oauth2-rs's
//! `new_secret_type!`: redacted `Debug`, no `PartialEq` and no `Display` (compare with the
//! constant-time `ct_eq`), an explicit `expose()`, and the value held in [`Zeroizing`], so it is
//! wiped from memory when dropped.

use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
pub use zeroize::Zeroizing;

/// Declares a secret type: a tuple struct over `Zeroizing<String>` (or `Zeroizing<[u8; N]>` for
/// key material) with
///
/// - `new(value)` and an explicit `expose()`: every place the secret leaves its type is a call
///   to find in review;
/// - a `Debug` that prints only the type's name and `<redacted>`;
/// - `ct_eq`, a constant-time comparison of SHA-256 digests (neither the content nor the length
///   leaks through timing), and no `PartialEq` or `Display`.
///
/// Attributes pass through, so a type can add `#[derive(Clone)]` or
/// `#[derive(serde::Deserialize)] #[serde(transparent)]` where it needs them.
///
/// ```
/// bindify_core::secret_type! {
///     /// A pass phrase.
///     #[derive(Clone)]
///     pub struct PassPhrase(String);
/// }
/// let phrase = PassPhrase::new("open sesame".to_owned());
/// assert_eq!(format!("{phrase:?}"), "PassPhrase(<redacted>)");
/// assert!(phrase.ct_eq(&phrase.clone()));
/// assert_eq!(phrase.expose(), "open sesame");
/// ```
#[macro_export]
macro_rules! secret_type {
    ($(#[$meta:meta])* $vis:vis struct $name:ident(String);) => {
        $(#[$meta])*
        $vis struct $name($crate::secret::Zeroizing<::std::string::String>);

        #[allow(dead_code)] // Generated: a type need not use every method.
        impl $name {
            /// Wraps `value`.
            #[must_use]
            pub fn new(value: ::std::string::String) -> Self {
                Self($crate::secret::Zeroizing::new(value))
            }

            /// The secret itself, for the one place it is sent or stored sealed.
            #[must_use]
            pub fn expose(&self) -> &str {
                self.0.as_str()
            }

            /// Constant-time equality.
            #[must_use]
            pub fn ct_eq(&self, other: &Self) -> bool {
                $crate::secret::ct_eq_digest(self.expose().as_bytes(), other.expose().as_bytes())
            }
        }

        $crate::secret_type!(@debug $name);
    };
    ($(#[$meta:meta])* $vis:vis struct $name:ident([u8; $len:expr]);) => {
        $(#[$meta])*
        $vis struct $name($crate::secret::Zeroizing<[u8; $len]>);

        #[allow(dead_code)] // Generated: a type need not use every method.
        impl $name {
            /// Wraps `value`.
            #[must_use]
            pub fn new(value: [u8; $len]) -> Self {
                Self($crate::secret::Zeroizing::new(value))
            }

            /// The secret bytes, for the one place they are used.
            #[must_use]
            pub fn expose(&self) -> &[u8; $len] {
                &self.0
            }

            /// Constant-time equality.
            #[must_use]
            pub fn ct_eq(&self, other: &Self) -> bool {
                $crate::secret::ct_eq_digest(self.expose(), other.expose())
            }
        }

        $crate::secret_type!(@debug $name);
    };
    (@debug $name:ident) => {
        impl ::core::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

/// The system random number generator failed (`getrandom::fill` returned an error).
///
/// The underlying error is dropped on purpose: it says nothing the operator can act on and it
/// must never be mistaken for a reason to retry with weaker randomness.
#[derive(Debug, thiserror::Error)]
#[error("the system random number generator failed")]
pub struct RandomError;

/// `N` bytes from the operating system's CSPRNG (`crypto.getRandomValues` on Workers).
///
/// # Errors
/// [`RandomError`] when the platform generator is unavailable.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|_| RandomError)?;
    Ok(out)
}

/// SHA-256 (FIPS 180-4) of `data`.
#[must_use]
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// Base64url without padding (RFC 4648 §5, padding omitted as allowed by §3.2).
#[must_use]
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding (RFC 4648 §5). Padding, the standard alphabet's `+` and
/// `/`, whitespace and non-canonical trailing bits are all rejected.
#[must_use]
pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).ok()
}

/// Constant-time equality for byte strings of equal length. Strings of different lengths are
/// unequal; the length itself is not treated as secret.
#[must_use]
pub fn ct_eq_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Constant-time equality of the SHA-256 digests of `a` and `b`: the time taken depends neither
/// on where they differ nor on their lengths. For comparing secrets.
#[must_use]
pub fn ct_eq_digest(a: &[u8], b: &[u8]) -> bool {
    bool::from(sha256(a).ct_eq(&sha256(b)))
}

/// Number of random bytes in a [`UrlSecret`].
pub const URL_SECRET_BYTES: usize = 32;

/// Length of a [`UrlSecret`] in base64url characters without padding: ceil(32 * 8 / 6).
pub const URL_SECRET_LEN: usize = 43;

/// Domain-separation prefix of [`UrlSecret::hash`], so the hash can never collide with a SHA-256
/// computed elsewhere over the same string.
const URL_SECRET_HASH_DOMAIN: &[u8] = b"bindify/url-secret/v1\0";

crate::secret_type! {
    /// The secret part of a permanent URL `/s/<secret>/mcp`: 32 random bytes in base64url
    /// without padding (RFC 4648 §5), 43 characters. Anyone holding it can use the connection,
    /// so it is a bearer credential.
    pub struct UrlSecret(String);
}

impl UrlSecret {
    /// A fresh secret from the system CSPRNG.
    ///
    /// # Errors
    /// [`RandomError`] when the platform generator is unavailable.
    pub fn generate() -> Result<Self, RandomError> {
        let bytes = Zeroizing::new(random_bytes::<URL_SECRET_BYTES>()?);
        Ok(Self::new(b64url(bytes.as_slice())))
    }

    /// Parses the secret from a URL path segment. Accepts exactly 43 base64url characters that
    /// decode to 32 bytes (canonical encoding: the two spare low bits of the last character are
    /// zero). Anything else, including padding, is `None`. Length is checked before any other
    /// work, so hostile input costs nothing.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        if s.len() != URL_SECRET_LEN {
            return None;
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return None;
        }
        let mut decoded = Zeroizing::new([0u8; URL_SECRET_BYTES]);
        match URL_SAFE_NO_PAD.decode_slice(s, decoded.as_mut_slice()) {
            Ok(URL_SECRET_BYTES) => Some(Self::new(s.to_owned())),
            _ => None,
        }
    }

    /// The storage identity of this secret: SHA-256 over `b"bindify/url-secret/v1\0"` followed
    /// by the secret text.
    #[must_use]
    pub fn hash(&self) -> SecretHash {
        let digest = Sha256::new()
            .chain_update(URL_SECRET_HASH_DOMAIN)
            .chain_update(self.0.as_bytes())
            .finalize();
        SecretHash(digest.into())
    }
}

/// Domain-separated SHA-256 of a [`UrlSecret`]; the key under which a connection is stored.
///
/// Not secret in itself, but compare with [`SecretHash::ct_eq`] (there is no `PartialEq`) so
/// that no lookup path leaks timing. Serializes as 64 lowercase hex characters.
#[derive(Clone, Copy)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    /// Lowercase hex, 64 characters.
    #[must_use]
    pub fn to_hex(&self) -> String {
        let mut out = String::with_capacity(64);
        for byte in self.0 {
            out.push(hex_digit(byte >> 4));
            out.push(hex_digit(byte & 0x0f));
        }
        out
    }

    /// Parses 64 hex characters (either case). Anything else is `None`.
    #[must_use]
    pub fn from_hex(s: &str) -> Option<Self> {
        if s.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (slot, pair) in out.iter_mut().zip(s.as_bytes().chunks_exact(2)) {
            let [hi, lo] = pair else { return None };
            *slot = (hex_value(*hi)? << 4) | hex_value(*lo)?;
        }
        Some(Self(out))
    }

    /// Constant-time equality.
    #[must_use]
    pub fn ct_eq(&self, other: &SecretHash) -> bool {
        bool::from(self.0.ct_eq(&other.0))
    }

    /// The raw 32 digest bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Wraps a digest computed elsewhere (another domain, such as a CLI code's hash).
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

/// Lowercase hex digit for a nibble (`n` < 16).
fn hex_digit(n: u8) -> char {
    char::from(if n < 10 { b'0' + n } else { b'a' + (n - 10) })
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = self.to_hex();
        let short = hex.get(..8).unwrap_or("");
        write!(f, "SecretHash({short}…)")
    }
}

impl Serialize for SecretHash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for SecretHash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::from_hex(&text)
            .ok_or_else(|| serde::de::Error::custom("expected 64 hex characters (a SecretHash)"))
    }
}

#[cfg(test)]
mod tests;
