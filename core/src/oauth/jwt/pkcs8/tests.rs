use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::*;
use crate::oauth::jwt::tests::TEST_KEY;

/// `TEST_KEY`'s scalar, as `openssl asn1parse` shows it.
const TEST_SCALAR: &str = "8224725ff20dce1ff61d6646b95b088d1bf8ec474a8d0380501e54ac358e26ae";

/// `TEST_KEY` without its public key (`openssl ec -no_public | openssl pkcs8 -topk8 -nocrypt`).
const WITHOUT_PUBLIC: &str = "-----BEGIN PRIVATE KEY-----
MEECAQAwEwYHKoZIzj0CAQYIKoZIzj0DAQcEJzAlAgEBBCCCJHJf8g3OH/YdZka5
WwiNG/jsR0qNA4BQHlSsNY4mrg==
-----END PRIVATE KEY-----";

/// `TEST_KEY` with its public key compressed (`openssl ec -conv_form compressed`).
const COMPRESSED_PUBLIC: &str = "-----BEGIN PRIVATE KEY-----
MGcCAQAwEwYHKoZIzj0CAQYIKoZIzj0DAQcETTBLAgEBBCCCJHJf8g3OH/YdZka5
WwiNG/jsR0qNA4BQHlSsNY4mrqEkAyIAA2l2rYPdms7myZcSrp6mEPjrpT3QvDsC
dDHWCVQos2l+
-----END PRIVATE KEY-----";

/// A P-384 key (`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384`).
const P384: &str = "-----BEGIN PRIVATE KEY-----
MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDAfR1Ffpdx2QeZL43/C
B9JmjL0nCDrTCMfvmE3OOZh3Qn8qlAY5uQjEcKHODcVnNw+hZANiAATbgPq4lvXY
IDrhLgHNKyyYAeBdwEUKTODYr99CrkgWpNMLdgDoZ1Hz79u1tUhp7M7ZhC59D8JZ
4rE3J328AEvcnrIXLAp+dGLjoH1zLfXw5qDDANSZbXR1xeUZeKX7HZ8=
-----END PRIVATE KEY-----";

/// An Ed25519 key (`openssl genpkey -algorithm ed25519`).
const ED25519: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIHhynURHCrFG/h/42vI5nrBhfWNO5uWIDeRwEXUcPTHh
-----END PRIVATE KEY-----";

fn scalar_hex(key: &SigningKey) -> String {
    key.to_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

fn der_of(pem: &str) -> Vec<u8> {
    pem_body(pem).expect("pem")
}

fn pem_of(der: &[u8]) -> String {
    format!("{BEGIN}\n{}\n{END}\n", STANDARD.encode(der))
}

#[test]
fn a_p256_key_is_read_with_or_without_its_public_key() {
    for pem in [TEST_KEY, WITHOUT_PUBLIC, COMPRESSED_PUBLIC] {
        let key = signing_key(pem).expect("a P-256 key");
        assert_eq!(scalar_hex(&key), TEST_SCALAR);
    }
    // Wrapped at another width, with CRLF line ends and surrounding blank lines.
    let der = der_of(TEST_KEY);
    let encoded = STANDARD.encode(&der);
    let (head, tail) = encoded.split_at(10);
    let rewrapped = format!("\r\n{BEGIN}\r\n{head}\r\n{tail}\r\n{END}\r\n\r\n");
    assert_eq!(
        scalar_hex(&signing_key(&rewrapped).expect("rewrapped")),
        TEST_SCALAR
    );
}

#[test]
fn other_keys_and_forms_are_refused() {
    for pem in [
        P384,
        ED25519,
        "",
        "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----",
    ] {
        assert!(signing_key(pem).is_none(), "{pem}");
    }
    // The same key as SEC1 (`EC PRIVATE KEY`) is not PKCS#8.
    let sec1 = TEST_KEY.replace("PRIVATE KEY", "EC PRIVATE KEY");
    assert!(signing_key(&sec1).is_none());
    // Not base64 between the boundaries.
    assert!(signing_key(&format!("{BEGIN}\nnot base64!\n{END}")).is_none());
}

#[test]
fn a_public_key_that_is_not_the_scalars_is_refused() {
    let mut der = der_of(TEST_KEY);
    // The last byte is the point's y coordinate's last byte.
    let last = der.last_mut().expect("bytes");
    *last ^= 1;
    assert!(signing_key(&pem_of(&der)).is_none());
}

#[test]
fn malformed_der_is_refused() {
    let der = der_of(TEST_KEY);
    // Cut short at every length, and with a byte after the end.
    for end in 0..der.len() {
        assert!(signing_key(&pem_of(&der[..end])).is_none(), "cut at {end}");
    }
    let mut longer = der.clone();
    longer.push(0);
    assert!(signing_key(&pem_of(&longer)).is_none());
    // Version 2 of PrivateKeyInfo, and version 2 of ECPrivateKey (at offset 33), are not read.
    let mut version = der.clone();
    version[5] = 2;
    assert!(signing_key(&pem_of(&version)).is_none());
    let mut ec_version = der.clone();
    assert_eq!(ec_version[31..34], [0x02, 0x01, 0x01]);
    ec_version[33] = 2;
    assert!(signing_key(&pem_of(&ec_version)).is_none());
    // A zero scalar is not a key.
    let mut zero = der_of(WITHOUT_PUBLIC);
    let scalar_at = zero.len() - 32;
    zero[scalar_at..].fill(0);
    assert!(signing_key(&pem_of(&zero)).is_none());
}

#[test]
fn der_lengths_are_read_in_their_three_forms() {
    assert_eq!(
        take(&[0x04, 0x01, 0xaa, 0xbb], 0x04),
        Some((&[0xaa][..], &[0xbb][..]))
    );
    let long = [[0x04, 0x81, 0x80].as_slice(), &[7; 0x80]].concat();
    assert_eq!(
        take(&long, 0x04).map(|(c, r)| (c.len(), r.len())),
        Some((0x80, 0))
    );
    let longer = [[0x04, 0x82, 0x01, 0x00].as_slice(), &[7; 0x100]].concat();
    assert_eq!(
        take(&longer, 0x04).map(|(c, r)| (c.len(), r.len())),
        Some((0x100, 0))
    );
    // Not in the shortest form, another tag, or longer than what follows.
    assert_eq!(take(&[0x04, 0x81, 0x01, 0xaa], 0x04), None);
    assert_eq!(take(&[0x04, 0x82, 0x00, 0x01, 0xaa], 0x04), None);
    assert_eq!(take(&[0x04, 0x01, 0xaa], 0x30), None);
    assert_eq!(take(&[0x04, 0x02, 0xaa], 0x04), None);
}
