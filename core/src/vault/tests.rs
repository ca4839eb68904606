use super::*;
use crate::vault::record::ConnectionState;

use crate::secret::UrlSecret;
use crate::testing::{block_on, keyring, sample_record};
use crate::vault::store::MemoryStore;
use oauth2::{AccessToken, RefreshToken};

fn record(secret: &UrlSecret) -> ConnectionRecord {
    let mut record = sample_record("conn1", secret.hash(), Some(3_600_000));
    // Distinctive values, so finding them in a storage dump cannot be a coincidence.
    record.tokens.access_token = AccessToken::new("AT-plain-secret".into());
    record.tokens.refresh_token = Some(RefreshToken::new("RT-plain-secret".into()));
    record
}

#[test]
fn the_sealed_record_lives_in_the_object_only() {
    let (object, kv, keyring) = (MemoryStore::new(), MemoryStore::new(), keyring());
    let vault = Vault {
        object: &object,
        kv: &kv,
        keyring: &keyring,
    };
    let secret = UrlSecret::generate().expect("random");
    block_on(vault.create(&record(&secret))).expect("created");
    assert_eq!(object.keys(), ["record"]);
    assert!(kv.keys().is_empty(), "the vault writes no KV itself");
    let dump = object.dump();
    assert!(!dump.contains("AT-plain-secret") && !dump.contains("RT-plain-secret"));
    assert!(!dump.contains(secret.expose()));
    assert!(matches!(
        block_on(vault.create(&record(&secret))),
        Err(VaultError::AlreadyExists)
    ));
    block_on(vault.delete()).expect("deleted");
    assert!(object.keys().is_empty());
}

#[test]
fn only_the_current_secret_opens_status() {
    let (object, kv, keyring) = (MemoryStore::new(), MemoryStore::new(), keyring());
    let vault = Vault {
        object: &object,
        kv: &kv,
        keyring: &keyring,
    };
    let secret = UrlSecret::generate().expect("random");
    block_on(vault.create(&record(&secret))).expect("created");
    let view = block_on(vault.status("conn1", &secret.hash()))
        .expect("ok")
        .expect("found");
    assert_eq!(view.state, ConnectionState::Active);
    assert_eq!(
        view.access_token_expires_at.as_deref(),
        Some("1970-01-01T01:00:00Z")
    );
    let json = serde_json::to_string(&view).expect("json");
    assert!(!json.contains("AT-plain-secret") && !json.contains("RT-plain-secret"));

    let other = UrlSecret::generate().expect("random");
    assert!(
        block_on(vault.status("conn1", &other.hash()))
            .expect("ok")
            .is_none()
    );
    // A record cannot be opened under another connection's id.
    assert!(block_on(vault.status("conn2", &secret.hash())).is_err());
}

/// The mirror holds the metadata and a minimal value, never a sealed record; the object notes
/// what it wrote only when KV accepted it.
#[test]
fn the_mirror_is_metadata_and_the_object_notes_what_kv_accepted() {
    let (object, kv, keyring) = (MemoryStore::new(), MemoryStore::new(), keyring());
    let vault = Vault {
        object: &object,
        kv: &kv,
        keyring: &keyring,
    };
    let secret = UrlSecret::generate().expect("random");
    let metadata = mirror_metadata(&record(&secret));
    kv.set_failing_prefix(Some("conn:"));
    assert!(!block_on(vault.write_mirror("conn1", Some(&metadata))).expect("object fine"));
    assert_eq!(block_on(vault.mirrored()).expect("read"), None);
    kv.set_failing_prefix(None);
    assert!(block_on(vault.write_mirror("conn1", Some(&metadata))).expect("written"));
    assert_eq!(kv.peek("conn:conn1").as_deref(), Some(MIRROR_VALUE));
    let listed = kv
        .options("conn:conn1")
        .and_then(|o| o.metadata)
        .expect("metadata");
    assert_eq!(listed["alarm"], true);
    assert_eq!(listed["state"], "active");
    assert_eq!(
        listed["expires_at"],
        serde_json::Value::Null,
        "a refreshable grant's expiry is not listed"
    );
    assert!(!kv.dump().contains("AT-plain-secret") && !kv.dump().contains(secret.expose()));
    assert_eq!(block_on(vault.mirrored()).expect("read"), Some(metadata));
    // Removal: KV first, then the note.
    assert!(block_on(vault.write_mirror("conn1", None)).expect("removed"));
    assert!(kv.keys().is_empty() && object.keys().is_empty());
}

#[test]
fn lists_every_connection_across_pages_from_metadata_alone() {
    let (object, kv, keyring) = (MemoryStore::new(), MemoryStore::new(), keyring());
    let vault = Vault {
        object: &object,
        kv: &kv,
        keyring: &keyring,
    };
    for id in ["c1", "c2", "c3"] {
        let secret = UrlSecret::generate().expect("random");
        let mut record = record(&secret);
        record.id = id.into();
        record.tokens.refresh_token = None;
        block_on(vault.write_mirror(id, Some(&mirror_metadata(&record)))).expect("mirrored");
    }
    // Entries of other kinds, and a mirror whose metadata does not read, are left out.
    block_on(kv.put("url:abc", "c1", PutOptions::default())).expect("put");
    block_on(kv.put("conn:bad", "x", PutOptions::default())).expect("put");
    let listed = block_on(list_connections(&kv)).expect("listed");
    let ids: Vec<&str> = listed.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["c1", "c2", "c3"]);
    // Without a refresh token the access token's expiry ends the grant: it is listed.
    assert!(
        listed
            .iter()
            .all(|(_, m)| m.final_token_expiry() == Some(3_600_000))
    );
    kv.set_failing_prefix(Some("conn:"));
    assert!(block_on(list_connections(&kv)).is_err());
}

/// Metadata written by an earlier version (with the expiry and last refresh of a refreshable
/// grant, and without the alarm mark) still reads; what is no longer listed is ignored.
#[test]
fn metadata_of_an_earlier_version_reads() {
    let earlier = serde_json::json!({
        "label": "Notion", "upstream": "https://mcp.notion.com/mcp", "created_at": 1_795_690_200_000_i64,
        "last_refresh_at": 1_795_690_300_000_i64, "last_error": null, "state": "active",
        "expires_at": 1_795_693_800_000_i64, "has_refresh_token": true,
        "next_attempt_at": 1_795_690_330_000_i64
    });
    let meta: IndexMetadata = serde_json::from_value(earlier).expect("reads");
    assert!(!meta.alarm);
    assert_eq!(meta.final_token_expiry(), None);
    let view = crate::vault::record::ConnectionView::from_metadata("c1", &meta);
    assert_eq!(view.access_token_expires_at, None);
    assert_eq!(view.last_refresh_at, None);
    assert_eq!(view.next_attempt_at, None);
    assert!(view.token_expires && view.refreshable);
}
