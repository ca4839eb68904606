//! Every storage key Bindify uses, built in one place. The schema, with example records and
//! lifetimes, is documented in `docs/kv-schema.md`; change both together.

use crate::secret::{SecretHash, b64url, sha256};

/// `conn:<id>`: the KV mirror of a connection, whose plaintext
/// [`crate::vault::record::IndexMetadata`] serves listings and the cron's sweep (see
/// [`crate::vault`]). Also the associated data of the sealed record in the connection's own object.
pub fn connection(id: &str) -> String {
    format!("conn:{id}")
}

/// Prefix shared by every [`connection`] key, for listing.
pub const CONNECTION_PREFIX: &str = "conn:";

/// `url:<sha256 hex of the URL secret>`: the connection id a permanent URL leads to.
pub fn url_index(hash: &SecretHash) -> String {
    format!("url:{}", hash.to_hex())
}

/// `flow:<flow id>`: a sealed [`crate::connect::flow::PendingFlow`], removed when its callback
/// arrives.
pub fn flow(flow_id: &str) -> String {
    format!("flow:{flow_id}")
}

/// `owner-client:<hash>`: a sealed [`crate::connect::owner_client::OwnerClient`], a client the
/// owner registered at one issuer for one redirect URI (the hash is of both), with the issuer and
/// the client id as plaintext metadata.
pub fn owner_client(issuer: &str, redirect_uri: &str) -> String {
    let mut input = Vec::with_capacity(issuer.len() + redirect_uri.len() + 1);
    input.extend_from_slice(issuer.as_bytes());
    input.push(0);
    input.extend_from_slice(redirect_uri.as_bytes());
    format!("{OWNER_CLIENT_PREFIX}{}", b64url(&sha256(&input)))
}

/// Prefix shared by every [`owner_client`] key, for listing.
pub const OWNER_CLIENT_PREFIX: &str = "owner-client:";

/// `cli:<sha256 hex of the code>`: not a KV key; the associated data of the sealed
/// [`crate::connect::cli_flow::CliRecord`] that the code's own `CliCode` Durable Object keeps (the
/// object is named by the same hash).
pub fn cli(code_hash_hex: &str) -> String {
    format!("cli:{code_hash_hex}")
}

/// `meta:last-cron`: when the cron last ran (Unix milliseconds), written at most hourly.
pub const LAST_CRON: &str = "meta:last-cron";

/// Durable Object storage key, inside a connection's object: the JSON metadata of the KV
/// mirror `conn:<id>` as the object last wrote it (see [`crate::vault`]); the mirror is written
/// again only when the record's metadata differs from it.
pub const OBJECT_MIRRORED: &str = "mirrored";

/// Durable Object storage key that earlier versions kept while the KV mirror was behind the
/// object; [`OBJECT_MIRRORED`] replaces it, and the object removes it.
pub const LEGACY_OBJECT_MIRROR_STALE: &str = "mirror-stale";

/// Durable Object storage key, inside a connection's object: the connection's id (not a
/// secret), for the alarm handler, which the runtime calls without one.
pub const OBJECT_ID: &str = "id";

/// Durable Object storage key of the authoritative sealed record, inside the connection's
/// own object. Its associated data is the KV key [`connection`], so the two copies are
/// interchangeable bytes.
pub const OBJECT_RECORD: &str = "record";

/// Durable Object storage key of the connection's activity, inside its own object: uses,
/// counts per hour, places, refreshes (`bindify_core::lifecycle::activity::Activity` as JSON). Not
/// sealed: it holds no credential.
pub const OBJECT_ACTIVITY: &str = "activity";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_client_key_separates_issuer_and_redirect() {
        assert_ne!(
            owner_client("https://a/b", "c"),
            owner_client("https://a/", "bc")
        );
        assert_eq!(owner_client("x", "y"), owner_client("x", "y"));
        assert!(owner_client("x", "y").starts_with(OWNER_CLIENT_PREFIX));
    }

    #[test]
    fn keys_have_their_prefixes() {
        assert_eq!(connection("abc"), "conn:abc");
        assert!(connection("abc").starts_with(CONNECTION_PREFIX));
        assert_eq!(flow("f1"), "flow:f1");
    }
}
