//! `bindify connect` from a terminal: the CLI asks for a one-time code, the browser opens
//! `/cli/<code>`, which starts the connect flow without a dashboard session (the code is the
//! authorization), and the CLI polls for the result, which it can read once.

use serde::{Deserialize, Serialize};

use crate::secret::{SecretHash, sha256};
use crate::time::UnixMillis;

/// How long a code stays usable.
pub const CODE_TTL_MS: i64 = 10 * 60_000;

/// Where a `bindify connect` run stands.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "status", rename_all = "snake_case")]
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

/// What KV holds (sealed) for one code.
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

/// The storage name of a code: its hash, so KV never holds the code itself.
pub fn code_hash_hex(code: &str) -> String {
    SecretHash::from_bytes(sha256(code.as_bytes())).to_hex()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(code_hash_hex("abc").len(), 64);
        assert_ne!(code_hash_hex("abc"), code_hash_hex("abd"));
    }
}
