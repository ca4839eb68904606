//! The one module that seals records at rest (tokens, client credentials) before they reach
//! Workers KV.
//!
//! Construction: AES-256-GCM (NIST SP 800-38D; as an AEAD per RFC 5116 §5.2 "AEAD_AES_256_GCM")
//! with a fresh random 96-bit nonce per seal (SP 800-38D §8.2.2, RBG-based construction). A
//! long-lived master key needs random nonces; a fixed IV would only be safe with single-use keys.
//!
//! Record layout:
//!
//! ```text
//! [version: u8][nonce: 12 bytes][ciphertext || tag: 16 bytes]
//! ```
//!
//! The associated data given to AES-GCM is
//! `b"bindify/envelope/v1\0" || version || caller_aad`. The version byte is therefore
//! authenticated, and the caller passes the record's KV key as `caller_aad`, so a sealed record
//! copied under another key (or another connection's key) fails to open.
//!
//! Key rotation: every [`MasterKey`] carries a version. [`Keyring::seal`] always uses the
//! current key; [`Keyring::open`] picks the key whose version equals the record's first byte.
//! To rotate, deploy a new current key with a new version and keep the old key as a previous key
//! until every record has been rewritten.
//!
//! Limits: with random 96-bit nonces a single key should seal fewer than 2^32 records
//! (SP 800-38D §8.3); rotate long before that.

use core::fmt;
use std::io;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce, Tag};
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::secret::{b64url, b64url_decode, random_bytes};

/// Domain-separation prefix of the associated data.
const AAD_DOMAIN: &[u8] = b"bindify/envelope/v1\0";
/// Length of the version byte.
const VERSION_LEN: usize = 1;
/// AES-GCM nonce length (96 bits).
const NONCE_LEN: usize = 12;
/// AES-GCM tag length (128 bits).
const TAG_LEN: usize = 16;
/// Bytes before the ciphertext.
const HEADER_LEN: usize = VERSION_LEN + NONCE_LEN;
/// The shortest well-formed sealed record (empty plaintext).
pub const MIN_SEALED_LEN: usize = HEADER_LEN + TAG_LEN;

/// Length of an AES-256 key in bytes.
pub const KEY_LEN: usize = 32;

/// Why a master key from configuration was refused. Messages never contain key material.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    /// The configured value is empty (after trimming whitespace).
    #[error(
        "TOKEN_ENCRYPTION_KEY is empty; set it to 32 random bytes in base64, generated with `openssl rand -base64 32`"
    )]
    Missing,
    /// The configured value is not base64 (standard or URL-safe alphabet).
    #[error(
        "TOKEN_ENCRYPTION_KEY is not valid base64; it must be 32 random bytes in base64, generated with `openssl rand -base64 32`"
    )]
    NotBase64,
    /// The value decodes to the wrong number of bytes.
    #[error(
        "TOKEN_ENCRYPTION_KEY must be 32 random bytes in base64 (got {got} bytes); generate one with `openssl rand -base64 32`"
    )]
    WrongLength {
        /// How many bytes the configured value decoded to.
        got: usize,
    },
    /// `TOKEN_ENCRYPTION_KEY_PREVIOUS` is set but is not 32 bytes of base64; `problem` says how.
    #[error(
        "TOKEN_ENCRYPTION_KEY_PREVIOUS must be the previous TOKEN_ENCRYPTION_KEY, 32 bytes in base64 ({problem})"
    )]
    PreviousMalformed {
        /// What is wrong with it: never its value.
        problem: String,
    },
    /// `TOKEN_ENCRYPTION_KEY_VERSION` is set but is not a version byte.
    #[error(
        "TOKEN_ENCRYPTION_KEY_VERSION must be a whole number from 1 to 255 (the version of TOKEN_ENCRYPTION_KEY)"
    )]
    Version,
}

/// Why sealing or opening a record failed. Messages never contain plaintext or key material.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    /// The record is too short to be a sealed record, or its text is not base64url.
    #[error("sealed record is malformed")]
    Malformed,
    /// The record was sealed under a key version this keyring does not hold.
    #[error("sealed record uses key version {0}, which is not configured")]
    UnknownKeyVersion(u8),
    /// Authentication failed: wrong key, wrong associated data, or the record was tampered with.
    #[error("sealed record failed authentication (wrong key, wrong associated data, or tampered)")]
    Decrypt,
    /// The system random number generator failed, so no nonce could be drawn.
    #[error("the system random number generator failed")]
    Random,
    /// The value could not be serialized to JSON, the opened plaintext did not deserialize into
    /// the requested type, or the plaintext exceeds AES-GCM's length limit.
    #[error("record could not be encoded or decoded")]
    Encode,
}

/// A 256-bit AES key with its version number. Redacted `Debug`, no `PartialEq`, no `Clone`,
/// zeroized on drop.
pub struct MasterKey {
    version: u8,
    key: KeyMaterial,
}

crate::secret_type! {
    /// The 32 bytes of an AES-256 key.
    struct KeyMaterial([u8; KEY_LEN]);
}

/// Standard alphabet (RFC 4648 §4), padding optional.
const STANDARD_ANY_PAD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// URL-safe alphabet (RFC 4648 §5), padding optional.
const URL_SAFE_ANY_PAD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

impl MasterKey {
    /// Parses a key from configuration text (a Worker secret). Surrounding whitespace is
    /// trimmed; the standard (RFC 4648 §4) and URL-safe (§5) alphabets are accepted, with or
    /// without padding; the result must be exactly 32 bytes.
    ///
    /// # Errors
    /// [`KeyError::Missing`] for empty text, [`KeyError::NotBase64`], or
    /// [`KeyError::WrongLength`].
    pub fn from_base64(version: u8, text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(KeyError::Missing);
        }
        let decoded = decode_key_text(text)?;
        let key: [u8; KEY_LEN] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| KeyError::WrongLength { got: decoded.len() })?;
        Ok(Self {
            version,
            key: KeyMaterial::new(key),
        })
    }

    /// The version byte written in front of every record sealed with this key.
    #[must_use]
    pub fn version(&self) -> u8 {
        self.version
    }

    fn cipher(&self) -> Aes256Gcm {
        let key: &Key<Aes256Gcm> = self.key.expose().into();
        Aes256Gcm::new(key)
    }
}

/// Decodes into a zeroizing buffer. Tries the standard alphabet first, then URL-safe.
fn decode_key_text(text: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    // Reserve the exact decoded size up front so no reallocation leaves key bytes behind.
    let mut buf = Zeroizing::new(Vec::with_capacity(base64::decoded_len_estimate(text.len())));
    if STANDARD_ANY_PAD.decode_vec(text, &mut buf).is_ok() {
        return Ok(buf);
    }
    buf.clear();
    if URL_SAFE_ANY_PAD.decode_vec(text, &mut buf).is_ok() {
        return Ok(buf);
    }
    Err(KeyError::NotBase64)
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("version", &self.version)
            .field("key", &format_args!("<redacted>"))
            .finish()
    }
}

/// The current key plus any previous keys still needed to open old records.
pub struct Keyring {
    current: MasterKey,
    previous: Vec<MasterKey>,
}

impl Keyring {
    /// A keyring that seals and opens with `current` only.
    #[must_use]
    pub fn new(current: MasterKey) -> Self {
        Self {
            current,
            previous: Vec::new(),
        }
    }

    /// Adds a key that can still open records but is never used to seal. If several keys share
    /// a version, the current key wins, then the earliest added previous key.
    #[must_use]
    pub fn with_previous(mut self, key: MasterKey) -> Self {
        self.previous.push(key);
        self
    }

    /// The version of the key new records are sealed with.
    #[must_use]
    pub fn current_version(&self) -> u8 {
        self.current.version
    }

    fn key_for(&self, version: u8) -> Option<&MasterKey> {
        if self.current.version == version {
            return Some(&self.current);
        }
        self.previous.iter().find(|k| k.version == version)
    }

    /// Seals `plaintext` under the current key, binding it to `aad` (the record's KV key).
    ///
    /// # Errors
    /// [`EnvelopeError::Random`] when no nonce could be drawn; [`EnvelopeError::Encode`] when the
    /// plaintext exceeds AES-GCM's limit (SP 800-38D §5.2.1.1).
    pub fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        let key = &self.current;
        let nonce_bytes = random_bytes::<NONCE_LEN>().map_err(|_| EnvelopeError::Random)?;
        let nonce = Nonce::from(nonce_bytes);
        let full_aad = associated_data(key.version, aad);

        // The buffer holds plaintext until it is encrypted in place: zeroize it if anything
        // fails, and size it exactly so it never reallocates.
        let total = HEADER_LEN
            .checked_add(plaintext.len())
            .and_then(|n| n.checked_add(TAG_LEN))
            .ok_or(EnvelopeError::Encode)?;
        let mut out = Zeroizing::new(Vec::with_capacity(total));
        out.push(key.version);
        out.extend_from_slice(&nonce_bytes);
        out.extend_from_slice(plaintext);
        let body = out.get_mut(HEADER_LEN..).ok_or(EnvelopeError::Encode)?;
        let tag = key
            .cipher()
            .encrypt_inout_detached(&nonce, &full_aad, body.into())
            .map_err(|_| EnvelopeError::Encode)?;
        out.extend_from_slice(tag.as_slice());
        Ok(core::mem::take(&mut *out))
    }

    /// Opens a record produced by [`Keyring::seal`] with the same `aad`.
    ///
    /// # Errors
    /// [`EnvelopeError::Malformed`] when the record is shorter than version, nonce and tag;
    /// [`EnvelopeError::UnknownKeyVersion`] when no configured key has the record's version;
    /// [`EnvelopeError::Decrypt`] when authentication fails.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
        if sealed.len() < MIN_SEALED_LEN {
            return Err(EnvelopeError::Malformed);
        }
        let (&version, rest) = sealed.split_first().ok_or(EnvelopeError::Malformed)?;
        let (nonce, rest) = rest
            .split_at_checked(NONCE_LEN)
            .ok_or(EnvelopeError::Malformed)?;
        let ciphertext_len = rest
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(EnvelopeError::Malformed)?;
        let (ciphertext, tag) = rest
            .split_at_checked(ciphertext_len)
            .ok_or(EnvelopeError::Malformed)?;
        let nonce = Nonce::try_from(nonce).map_err(|_| EnvelopeError::Malformed)?;
        let tag = Tag::try_from(tag).map_err(|_| EnvelopeError::Malformed)?;

        let key = self
            .key_for(version)
            .ok_or(EnvelopeError::UnknownKeyVersion(version))?;
        let full_aad = associated_data(version, aad);
        let mut buf = Zeroizing::new(ciphertext.to_vec());
        key.cipher()
            .decrypt_inout_detached(&nonce, &full_aad, buf.as_mut_slice().into(), &tag)
            .map_err(|_| EnvelopeError::Decrypt)?;
        Ok(buf)
    }

    /// Serializes `value` to JSON and seals it; returns base64url text (RFC 4648 §5, no padding)
    /// for a KV text value. The JSON plaintext only ever lives in a zeroizing buffer.
    ///
    /// # Errors
    /// As [`Keyring::seal`], plus [`EnvelopeError::Encode`] when serialization fails.
    pub fn seal_json<T: Serialize>(&self, aad: &[u8], value: &T) -> Result<String, EnvelopeError> {
        let json = to_json_zeroizing(value)?;
        let sealed = self.seal(aad, &json)?;
        Ok(b64url(&sealed))
    }

    /// Decodes text from [`Keyring::seal_json`], opens it and deserializes the JSON.
    ///
    /// # Errors
    /// [`EnvelopeError::Malformed`] when the text is not base64url, otherwise as
    /// [`Keyring::open`], plus [`EnvelopeError::Encode`] when the JSON does not match `T`.
    pub fn open_json<T: DeserializeOwned>(
        &self,
        aad: &[u8],
        text: &str,
    ) -> Result<T, EnvelopeError> {
        let sealed = b64url_decode(text).ok_or(EnvelopeError::Malformed)?;
        let json = self.open(aad, &sealed)?;
        crate::json::from_slice(&json).map_err(|_| EnvelopeError::Encode)
    }
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let previous: Vec<u8> = self.previous.iter().map(MasterKey::version).collect();
        f.debug_struct("Keyring")
            .field("current", &self.current.version)
            .field("previous", &previous)
            .finish()
    }
}

/// `b"bindify/envelope/v1\0" || version || caller_aad`.
fn associated_data(version: u8, caller_aad: &[u8]) -> Vec<u8> {
    let mut aad = Vec::with_capacity(
        AAD_DOMAIN
            .len()
            .saturating_add(VERSION_LEN)
            .saturating_add(caller_aad.len()),
    );
    aad.extend_from_slice(AAD_DOMAIN);
    aad.push(version);
    aad.extend_from_slice(caller_aad);
    aad
}

/// Serializes into an exactly sized zeroizing buffer: a first pass counts the bytes, so the
/// second pass never reallocates and leaves no copy of the plaintext in freed memory.
fn to_json_zeroizing<T: Serialize>(value: &T) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    let mut counter = ByteCounter(0);
    serde_json::to_writer(&mut counter, value).map_err(|_| EnvelopeError::Encode)?;
    let mut buf = Zeroizing::new(Vec::with_capacity(counter.0));
    serde_json::to_writer(&mut *buf, value).map_err(|_| EnvelopeError::Encode)?;
    Ok(buf)
}

/// An `io::Write` that only counts.
struct ByteCounter(usize);

impl io::Write for ByteCounter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0 = self.0.saturating_add(data.len());
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
