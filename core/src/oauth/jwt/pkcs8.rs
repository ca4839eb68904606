//! Reads a P-256 private key in its PKCS#8 PEM form: `-----BEGIN PRIVATE KEY-----` (RFC 7468
//! §10) around a `PrivateKeyInfo` or `OneAsymmetricKey` (RFC 5208 §5, RFC 5958 §2) whose
//! algorithm is `id-ecPublicKey` on `prime256v1` (RFC 5480 §2.1.1) and whose private key is an
//! `ECPrivateKey` (RFC 5915 §3). The public key an `ECPrivateKey` carries must be the one its
//! scalar gives.
//!
//! This one shape is read by hand rather than with a general DER decoder (`pkcs8`, `der`,
//! `pem-rfc7468`), which made up about 15 KB of the gzipped Worker.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use p256::ecdsa::SigningKey;

const BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
const END: &str = "-----END PRIVATE KEY-----";

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
/// `ECPrivateKey`'s `[0] parameters` and `[1] publicKey`.
const EC_PARAMETERS: u8 = 0xa0;
const EC_PUBLIC_KEY: u8 = 0xa1;
/// `OneAsymmetricKey`'s `[0] attributes` and `[1] publicKey` (implicit BIT STRING).
const ATTRIBUTES: u8 = 0xa0;
const PUBLIC_KEY: u8 = 0x81;

/// 1.2.840.10045.2.1, id-ecPublicKey.
const ID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// 1.2.840.10045.3.1.7, prime256v1 (P-256).
const PRIME256V1: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/// The signing key of a PKCS#8 PEM P-256 key; `None` for anything else.
pub(super) fn signing_key(pem: &str) -> Option<SigningKey> {
    let der = pem_body(pem)?;
    let (info, rest) = take(&der, SEQUENCE)?;
    if !rest.is_empty() {
        return None;
    }
    let (version, info) = take(info, INTEGER)?;
    let v2 = match version {
        [0] => false,
        [1] => true,
        _ => return None,
    };
    let (algorithm, info) = take(info, SEQUENCE)?;
    let (oid, parameters) = take(algorithm, OID)?;
    let (curve, rest) = take(parameters, OID)?;
    if oid != ID_EC_PUBLIC_KEY || curve != PRIME256V1 || !rest.is_empty() {
        return None;
    }
    let (private_key, mut info) = take(info, OCTET_STRING)?;
    if info.first() == Some(&ATTRIBUTES) {
        info = take(info, ATTRIBUTES)?.1;
    }
    if v2 && info.first() == Some(&PUBLIC_KEY) {
        info = take(info, PUBLIC_KEY)?.1;
    }
    if !info.is_empty() {
        return None;
    }
    ec_private_key(private_key)
}

/// An `ECPrivateKey` on P-256: version 1, a 32-byte scalar, optionally the curve and the
/// public key.
fn ec_private_key(der: &[u8]) -> Option<SigningKey> {
    let (key, rest) = take(der, SEQUENCE)?;
    if !rest.is_empty() {
        return None;
    }
    let (version, key) = take(key, INTEGER)?;
    if version != [1] {
        return None;
    }
    let (scalar, mut key) = take(key, OCTET_STRING)?;
    if scalar.len() != 32 {
        return None;
    }
    // Refuses zero and scalars not below the group order.
    let signing = SigningKey::from_slice(scalar).ok()?;
    if key.first() == Some(&EC_PARAMETERS) {
        let (parameters, rest) = take(key, EC_PARAMETERS)?;
        let (curve, end) = take(parameters, OID)?;
        if curve != PRIME256V1 || !end.is_empty() {
            return None;
        }
        key = rest;
    }
    if key.first() == Some(&EC_PUBLIC_KEY) {
        let (public, rest) = take(key, EC_PUBLIC_KEY)?;
        let (bits, end) = take(public, BIT_STRING)?;
        let ([0, point @ ..], []) = (bits, end) else {
            return None;
        };
        let verifying = signing.verifying_key();
        if point != verifying.to_encoded_point(false).as_bytes()
            && point != verifying.to_encoded_point(true).as_bytes()
        {
            return None;
        }
        key = rest;
    }
    key.is_empty().then_some(signing)
}

/// The bytes between the PEM boundaries, whose base64 may be wrapped at any width.
fn pem_body(pem: &str) -> Option<Vec<u8>> {
    let body = pem.trim().strip_prefix(BEGIN)?.strip_suffix(END)?;
    let text: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(text).ok()
}

/// The contents of the DER element at the start of `input` if its tag is `tag`, and what
/// follows it. Lengths up to 65,535 bytes, in their shortest form.
fn take(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&found, rest) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = match (first, rest) {
        (0..=0x7f, rest) => (usize::from(first), rest),
        (0x81, [n, rest @ ..]) if *n >= 0x80 => (usize::from(*n), rest),
        (0x82, [high, low, rest @ ..]) if *high >= 1 => {
            (usize::from(u16::from_be_bytes([*high, *low])), rest)
        }
        _ => return None,
    };
    rest.split_at_checked(length)
}

#[cfg(test)]
mod tests;
