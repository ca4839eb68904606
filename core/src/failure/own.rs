//! Bindify's own failures: its storage, its configuration, or Bindify itself. Each says what
//! failed, that the MCP server and its authorization server are not involved, what the
//! operator can check or set (naming the variable, as [`crate::settings::Variable`] spells
//! it, and the command, never a value), and whether to try again.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Source;
use crate::connect::flow::ConnectError;
use crate::settings::{KEY_VERSION, Variable};
use crate::vault::VaultError;
use crate::vault::envelope::{EnvelopeError, KeyError};

/// `Retry-After` of a storage failure, in seconds.
const STORAGE_RETRY_AFTER: u64 = 60;

/// Which part of Bindify's own storage failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageFailure {
    /// The index from permanent URLs to connections (Workers KV) could not be read.
    UrlIndex,
    /// Workers KV (the connection list, an index entry) could not be read or written.
    Kv,
    /// The connection's Durable Object could not read or write its storage, or the record
    /// there is damaged.
    ConnectionRecord,
    /// The connection's Durable Object did not answer: it could not start (its storage would
    /// not open) or it failed.
    ConnectionObject,
    /// The Durable Object of a `bindify connect` code could not read or write its storage, or
    /// did not answer.
    CliCode,
}

/// What is wrong with Bindify's configuration. Never holds key material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigProblem {
    /// `TOKEN_ENCRYPTION_KEY` is not set.
    KeyMissing,
    /// `TOKEN_ENCRYPTION_KEY` is not 32 bytes of base64; `reason` is
    /// [`crate::vault::envelope::KeyError`]'s message.
    KeyMalformed { reason: String },
    /// `TOKEN_ENCRYPTION_KEY_PREVIOUS` is set but is not 32 bytes of base64; `reason` is
    /// [`crate::vault::envelope::KeyError`]'s message.
    PreviousKeyMalformed { reason: String },
    /// `TOKEN_ENCRYPTION_KEY_VERSION` is set but is not a version byte.
    KeyVersionInvalid,
    /// A record does not open with the key of its version: it was sealed under another key.
    SealedWithOtherKey,
    /// A record was sealed under a key version no configured key has.
    KeyVersionMissing { version: u8 },
}

/// Bindify's own failures: what its objects answer when they cannot do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum OwnFailure {
    #[error("Bindify's storage failed: {what:?}")]
    Storage { what: StorageFailure },
    #[error("Bindify is misconfigured: {problem:?}")]
    Misconfigured { problem: ConfigProblem },
    #[error("Bindify hit an internal error")]
    Internal,
}

impl OwnFailure {
    pub fn storage(what: StorageFailure) -> Self {
        OwnFailure::Storage { what }
    }

    pub fn misconfigured(problem: ConfigProblem) -> Self {
        OwnFailure::Misconfigured { problem }
    }

    /// What a configuration that yields no keyring lacks.
    pub fn of_keyring(error: &ConnectError) -> Self {
        match error {
            ConnectError::KeyMissing => Self::misconfigured(ConfigProblem::KeyMissing),
            ConnectError::KeyMalformed(KeyError::Version) => {
                Self::misconfigured(ConfigProblem::KeyVersionInvalid)
            }
            ConnectError::KeyMalformed(e @ KeyError::PreviousMalformed { .. }) => {
                Self::misconfigured(ConfigProblem::PreviousKeyMalformed {
                    reason: e.to_string(),
                })
            }
            ConnectError::KeyMalformed(e) => Self::misconfigured(ConfigProblem::KeyMalformed {
                reason: e.to_string(),
            }),
            _ => OwnFailure::Internal,
        }
    }

    /// What a failing vault operation of a connection object means: its storage failed, or its
    /// record does not open with the configured keys.
    pub fn of_vault(error: &VaultError) -> Self {
        match error {
            VaultError::Store(_) | VaultError::AlreadyExists => {
                Self::storage(StorageFailure::ConnectionRecord)
            }
            VaultError::Envelope(envelope) => Self::of_envelope(envelope),
        }
    }

    /// What a failure to open or seal a record means.
    pub fn of_envelope(error: &EnvelopeError) -> Self {
        match error {
            EnvelopeError::Decrypt => Self::misconfigured(ConfigProblem::SealedWithOtherKey),
            EnvelopeError::UnknownKeyVersion(version) => {
                Self::misconfigured(ConfigProblem::KeyVersionMissing { version: *version })
            }
            EnvelopeError::Malformed | EnvelopeError::Encode => {
                Self::storage(StorageFailure::ConnectionRecord)
            }
            EnvelopeError::Random => OwnFailure::Internal,
        }
    }

    pub fn source(&self) -> Source {
        match self {
            OwnFailure::Storage { .. } => Source::BindifyStorage,
            OwnFailure::Misconfigured { .. } => Source::BindifyConfiguration,
            OwnFailure::Internal => Source::Bindify,
        }
    }

    /// The HTTP status of the failure on Bindify's JSON endpoints (`/s/<secret>/status`, the
    /// management API) and of a JSON-RPC error without request ids.
    pub fn status(&self) -> u16 {
        match self {
            OwnFailure::Storage { .. } => 503,
            OwnFailure::Misconfigured { .. } | OwnFailure::Internal => 500,
        }
    }

    /// The stable error code on Bindify's JSON endpoints (the same codes the connect pages use).
    pub fn code(&self) -> &'static str {
        match self {
            OwnFailure::Storage { .. } => "storage_unavailable",
            OwnFailure::Misconfigured { problem } => match problem {
                ConfigProblem::KeyMissing => "encryption_key_missing",
                ConfigProblem::KeyMalformed { .. }
                | ConfigProblem::PreviousKeyMalformed { .. }
                | ConfigProblem::KeyVersionInvalid => "encryption_key_malformed",
                ConfigProblem::SealedWithOtherKey | ConfigProblem::KeyVersionMissing { .. } => {
                    "encryption_key_mismatch"
                }
            },
            OwnFailure::Internal => "internal_error",
        }
    }

    /// What happened, what the operator can check or set, and whether to try again.
    pub fn message(&self) -> String {
        match self {
            OwnFailure::Storage { what } => storage_message(*what),
            OwnFailure::Misconfigured { problem } => config_message(problem),
            OwnFailure::Internal => "Bindify hit an internal error; the MCP server and its authorization server are not involved. Try again; if it keeps happening, the operator can look at the Worker's log (`npx wrangler tail`).".to_owned(),
        }
    }

    /// `Retry-After`, in seconds: storage failures pass; configuration waits for the operator.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            OwnFailure::Storage { .. } => Some(STORAGE_RETRY_AFTER),
            OwnFailure::Misconfigured { .. } | OwnFailure::Internal => None,
        }
    }

    /// The body of the failure on Bindify's JSON endpoints: `{"error", "message", "source"}`.
    pub fn json_body(&self) -> Value {
        json!({
            "error": self.code(),
            "message": self.message(),
            "source": self.source(),
        })
    }

    pub(super) fn data(&self) -> Value {
        let (source, error) = (self.source(), self.code());
        match self {
            OwnFailure::Storage { what } => {
                json!({ "source": source, "error": error, "storage": what })
            }
            OwnFailure::Misconfigured { problem } => {
                json!({ "source": source, "error": error, "variable": variable(problem).name() })
            }
            OwnFailure::Internal => json!({ "source": source, "error": error }),
        }
    }
}

/// The configuration variable the operator sets to fix `problem`.
fn variable(problem: &ConfigProblem) -> Variable {
    match problem {
        ConfigProblem::KeyMissing | ConfigProblem::KeyMalformed { .. } => {
            Variable::TokenEncryptionKey
        }
        ConfigProblem::KeyVersionInvalid => Variable::TokenEncryptionKeyVersion,
        ConfigProblem::PreviousKeyMalformed { .. }
        | ConfigProblem::SealedWithOtherKey
        | ConfigProblem::KeyVersionMissing { .. } => Variable::TokenEncryptionKeyPrevious,
    }
}

const NOT_THE_UPSTREAM: &str = "The MCP server and its authorization server are not involved.";

fn storage_message(what: StorageFailure) -> String {
    let (failed, service) = match what {
        StorageFailure::UrlIndex => (
            "the index of permanent URLs (Workers KV) could not be read",
            "Workers KV",
        ),
        StorageFailure::Kv => ("Workers KV could not be read or written", "Workers KV"),
        StorageFailure::ConnectionRecord => (
            "the Durable Object that holds this connection could not read or write its record",
            "Durable Objects",
        ),
        StorageFailure::ConnectionObject => (
            "the Durable Object that holds this connection did not answer",
            "Durable Objects",
        ),
        StorageFailure::CliCode => (
            "the Durable Object that holds this connect code could not read or write it",
            "Durable Objects",
        ),
    };
    format!(
        "Bindify's own storage failed: {failed}. {NOT_THE_UPSTREAM} The operator can look at the Worker's log (`npx wrangler tail`) and at Cloudflare's status page for {service}. Try again in a minute."
    )
}

fn config_message(problem: &ConfigProblem) -> String {
    let (key, previous, version) = (
        Variable::TokenEncryptionKey,
        Variable::TokenEncryptionKeyPrevious,
        Variable::TokenEncryptionKeyVersion,
    );
    match problem {
        ConfigProblem::KeyMissing => format!(
            "Bindify is not configured: {key} is not set, so no connection can be opened. {NOT_THE_UPSTREAM} The operator must set it to the key the connections were stored with: `npx wrangler secret put {key}` (a Worker without connections can take a new one from `openssl rand -base64 32`)."
        ),
        ConfigProblem::KeyMalformed { reason } => format!(
            "Bindify is not configured: {}. {NOT_THE_UPSTREAM} The operator must set it again: `npx wrangler secret put {key}`.",
            reason.trim_end_matches('.')
        ),
        ConfigProblem::PreviousKeyMalformed { reason } => format!(
            "Bindify is not configured: {}. {NOT_THE_UPSTREAM} The operator must set it again to the key the older connections were stored with (`npx wrangler secret put {previous}`), or delete it if none was stored with that key (`npx wrangler secret delete {previous}`).",
            reason.trim_end_matches('.')
        ),
        ConfigProblem::KeyVersionInvalid => format!(
            "Bindify is not configured: {version} must be a whole number from {} to {} (the version of {key}). {NOT_THE_UPSTREAM} The operator corrects it under [vars] in wrangler.toml and deploys again (see docs/configuration.md).",
            KEY_VERSION.min, KEY_VERSION.max
        ),
        ConfigProblem::SealedWithOtherKey => format!(
            "Bindify is misconfigured: this connection's record does not open with the configured {key}; it was stored under another key. {NOT_THE_UPSTREAM} If the key was changed, the operator puts the old key back, or sets it as {previous} (`npx wrangler secret put {previous}`) and raises {version} by one (see docs/configuration.md)."
        ),
        ConfigProblem::KeyVersionMissing { version: stored } => format!(
            "Bindify is misconfigured: this connection's record was stored under encryption key version {stored}, and no configured key has that version. {NOT_THE_UPSTREAM} The operator sets that key as {previous} (`npx wrangler secret put {previous}`) with {version} = {} (see docs/configuration.md).",
            u16::from(*stored) + 1
        ),
    }
}
