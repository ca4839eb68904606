//! `bindify connect` from a terminal: the CLI asks for a one-time code, the owner's browser
//! opens `/cli/<code>` (signed in to the dashboard: the code alone authorizes nothing), which
//! starts the connect flow once, and the CLI polls for the result, which it can read once.
//!
//! Each code lives in its own `CliCode` Durable Object, which runs [`CliCodes`] over its
//! storage. The object handles one request at a time and no other request runs while its
//! storage is read and written, so starting a code is atomic: of two browsers opening the same
//! link, exactly one starts a flow.

use serde::{Deserialize, Serialize};

use crate::secret::{RandomError, SecretHash, b64url, random_bytes, sha256};
use crate::time::UnixMillis;
use crate::vault::envelope::Keyring;
use crate::vault::store::{KvStore, PutOptions, StoreError};

/// How long a code stays usable.
pub const CODE_TTL_MS: i64 = 10 * 60_000;

/// Where a `bindify connect` run stands. `Debug` leaves out the permanent URLs.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(
    tag = "status",
    rename_all = "snake_case",
    try_from = "wire::CliStatusWire"
)]
pub enum CliStatus {
    /// Waiting for the browser.
    Pending,
    /// The browser has opened the link; the flow is under way.
    Started,
    Connected {
        id: String,
        label: String,
        upstream: String,
        mcp_url: String,
        sse_url: String,
    },
    Failed {
        error: String,
        message: String,
    },
}

impl std::fmt::Debug for CliStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliStatus::Pending => f.write_str("Pending"),
            CliStatus::Started => f.write_str("Started"),
            CliStatus::Connected { id, upstream, .. } => f
                .debug_struct("Connected")
                .field("id", id)
                .field("upstream", upstream)
                .finish_non_exhaustive(),
            CliStatus::Failed { error, .. } => f
                .debug_struct("Failed")
                .field("error", error)
                .finish_non_exhaustive(),
        }
    }
}

/// What a code's object holds (sealed) for it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CliRecord {
    /// The MCP server URL to connect.
    pub server: String,
    pub status: CliStatus,
    pub expires_at: UnixMillis,
}

impl CliRecord {
    pub fn new(server: String, now: UnixMillis) -> Self {
        CliRecord {
            server,
            status: CliStatus::Pending,
            expires_at: now.saturating_add(CODE_TTL_MS),
        }
    }

    pub fn expired(&self, now: UnixMillis) -> bool {
        now >= self.expires_at
    }

    /// Whether the browser may still use the link (once, while it is fresh).
    pub fn can_start(&self, now: UnixMillis) -> bool {
        !self.expired(now) && self.status == CliStatus::Pending
    }

    /// Whether the result is final (then reading it deletes the record).
    pub fn is_final(&self) -> bool {
        matches!(
            self.status,
            CliStatus::Connected { .. } | CliStatus::Failed { .. }
        )
    }
}

crate::secret_type! {
    /// A `bindify connect` code: whoever holds it (with the owner's session) starts the flow,
    /// and the CLI that holds it reads the result. 32 random bytes, base64url.
    #[derive(Clone, Deserialize)]
    #[serde(transparent)]
    pub struct ConnectCode(String);
}

impl ConnectCode {
    /// A fresh code from the system CSPRNG.
    pub fn generate() -> Result<Self, RandomError> {
        Ok(Self::new(b64url(&random_bytes::<32>()?)))
    }

    /// Its storage name (see [`code_hash_hex`]).
    pub fn hash_hex(&self) -> String {
        code_hash_hex(self.expose())
    }
}

/// The storage name of a code: its hash, so storage never holds the code itself.
pub fn code_hash_hex(code: &str) -> String {
    SecretHash::from_bytes(sha256(code.as_bytes())).to_hex()
}

/// Storage key of the sealed record inside a code's object.
const RECORD: &str = "record";

/// What polling a code finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    /// Unknown, expired, or its result was already read.
    Gone,
    /// Waiting for the browser, or the flow is under way.
    Pending,
    /// The final result, now removed.
    Final(CliStatus),
}

/// The operations on one code, over its object's storage. `hash` (see [`code_hash_hex`]) is the
/// associated data of the sealed record, so a record cannot be moved to another code.
pub struct CliCodes<'a, S: KvStore> {
    pub store: &'a S,
    pub keyring: &'a Keyring,
    pub hash: &'a str,
}

impl<S: KvStore> CliCodes<'_, S> {
    fn aad(&self) -> String {
        crate::vault::keys::cli(self.hash)
    }

    async fn load(&self) -> Result<Option<CliRecord>, StoreError> {
        let Some(text) = self.store.get(RECORD).await? else {
            return Ok(None);
        };
        Ok(self.keyring.open_json(self.aad().as_bytes(), &text).ok())
    }

    async fn save(&self, record: &CliRecord) -> Result<(), StoreError> {
        let sealed = self
            .keyring
            .seal_json(self.aad().as_bytes(), record)
            .map_err(|e| StoreError {
                op: "seal",
                reason: e.to_string(),
            })?;
        self.store.put(RECORD, &sealed, PutOptions::default()).await
    }

    /// Stores a new code's record.
    pub async fn create(&self, record: &CliRecord) -> Result<(), StoreError> {
        self.save(record).await
    }

    /// Marks the code started and returns its server, if it is fresh and was never started;
    /// `None` otherwise. Read and write happen with no other request in between.
    pub async fn start(&self, now: UnixMillis) -> Result<Option<String>, StoreError> {
        let Some(mut record) = self.load().await? else {
            return Ok(None);
        };
        if !record.can_start(now) {
            return Ok(None);
        }
        record.status = CliStatus::Started;
        self.save(&record).await?;
        Ok(Some(record.server))
    }

    /// Records how the flow ended.
    pub async fn finish(&self, status: CliStatus) -> Result<(), StoreError> {
        let Some(mut record) = self.load().await? else {
            return Ok(());
        };
        record.status = status;
        self.save(&record).await
    }

    /// What the CLI learns when it polls; a final result is removed as it is read.
    pub async fn poll(&self, now: UnixMillis) -> Result<Poll, StoreError> {
        let Some(record) = self.load().await? else {
            return Ok(Poll::Gone);
        };
        if record.is_final() {
            self.store.delete(RECORD).await?;
            return Ok(Poll::Final(record.status));
        }
        if record.expired(now) {
            return Ok(Poll::Gone);
        }
        Ok(Poll::Pending)
    }
}

/// Removes whatever a code's object holds, once the code can no longer matter (the object's
/// alarm, some time after [`CODE_TTL_MS`]).
pub async fn expire<S: KvStore>(store: &S) -> Result<(), StoreError> {
    store.delete(RECORD).await
}

mod wire;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block_on, keyring};
    use crate::vault::store::MemoryStore;

    #[test]
    fn a_code_starts_one_flow_and_its_result_is_read_once() {
        let (store, keyring) = (MemoryStore::new(), keyring());
        let hash = code_hash_hex("the-code");
        let codes = CliCodes {
            store: &store,
            keyring: &keyring,
            hash: &hash,
        };
        let record = CliRecord::new("https://mcp.notion.com/mcp".into(), 0);
        block_on(codes.create(&record)).expect("created");
        assert!(!store.dump().contains("the-code"));
        assert_eq!(block_on(codes.poll(1)), Ok(Poll::Pending));

        // Ten browsers open the link at once: one starts the flow.
        let starts = block_on(futures_util::future::join_all(
            (0..10).map(|_| codes.start(1)),
        ));
        let started: Vec<_> = starts.into_iter().filter_map(|s| s.expect("ok")).collect();
        assert_eq!(started, ["https://mcp.notion.com/mcp"]);
        assert_eq!(block_on(codes.poll(2)), Ok(Poll::Pending));

        let connected = CliStatus::Failed {
            error: "access_denied".into(),
            message: "declined".into(),
        };
        block_on(codes.finish(connected.clone())).expect("finished");
        assert_eq!(block_on(codes.poll(3)), Ok(Poll::Final(connected)));
        assert_eq!(block_on(codes.poll(4)), Ok(Poll::Gone));
        assert!(store.keys().is_empty());
    }

    #[test]
    fn an_expired_or_moved_code_does_nothing() {
        let (store, keyring) = (MemoryStore::new(), keyring());
        let hash = code_hash_hex("a");
        let codes = CliCodes {
            store: &store,
            keyring: &keyring,
            hash: &hash,
        };
        block_on(codes.create(&CliRecord::new("https://x.example/mcp".into(), 0))).expect("ok");
        assert_eq!(block_on(codes.start(CODE_TTL_MS)), Ok(None));
        assert_eq!(block_on(codes.poll(CODE_TTL_MS)), Ok(Poll::Gone));
        assert_eq!(store.keys(), ["record"]);
        block_on(expire(&store)).expect("expired");
        assert!(store.keys().is_empty());
        // The same sealed record under another code's name does not open.
        let other_hash = code_hash_hex("b");
        let other = CliCodes {
            store: &store,
            keyring: &keyring,
            hash: &other_hash,
        };
        assert_eq!(block_on(other.start(1)), Ok(None));
    }

    #[test]
    fn a_code_starts_once_and_expires() {
        let mut record = CliRecord::new("https://mcp.notion.com/mcp".into(), 0);
        assert!(record.can_start(1));
        assert!(!record.can_start(CODE_TTL_MS));
        record.status = CliStatus::Started;
        assert!(!record.can_start(1));
        assert!(!record.is_final());
        record.status = CliStatus::Failed {
            error: "access_denied".into(),
            message: "declined".into(),
        };
        assert!(record.is_final());
        let json = serde_json::to_value(&record.status).expect("json");
        assert_eq!(json["status"], "failed");
        let connected = CliStatus::Connected {
            id: "c1".into(),
            label: "Notion".into(),
            upstream: "https://mcp.notion.com/mcp".into(),
            mcp_url: "https://b.example/s/SECRET-IN-URL/mcp".into(),
            sse_url: "https://b.example/s/SECRET-IN-URL/sse".into(),
        };
        assert!(!format!("{connected:?}").contains("SECRET-IN-URL"));
        assert_eq!(code_hash_hex("abc").len(), 64);
        assert_ne!(code_hash_hex("abc"), code_hash_hex("abd"));
        let code = ConnectCode::generate().expect("random");
        assert_eq!(code.expose().len(), 43);
        assert_eq!(code.hash_hex(), code_hash_hex(code.expose()));
        assert!(!code.ct_eq(&ConnectCode::generate().expect("random")));
        assert_eq!(format!("{code:?}"), "ConnectCode(<redacted>)");
    }

    #[test]
    fn a_status_reads_the_form_it_is_written_in() {
        let connected = CliStatus::Connected {
            id: "c1".into(),
            label: "Notion".into(),
            upstream: "https://mcp.notion.com/mcp".into(),
            mcp_url: "https://b.example/s/x/mcp".into(),
            sse_url: "https://b.example/s/x/sse".into(),
        };
        let failed = CliStatus::Failed {
            error: "access_denied".into(),
            message: "The owner said no.".into(),
        };
        for status in [CliStatus::Pending, CliStatus::Started, connected, failed] {
            let written = serde_json::to_value(&status).expect("json");
            assert!(written["status"].is_string());
            assert_eq!(
                crate::json::from_value::<CliStatus>(written).ok(),
                Some(status)
            );
        }
        assert!(
            crate::json::from_value::<CliStatus>(serde_json::json!({"status": "failed"})).is_err()
        );
    }
}
