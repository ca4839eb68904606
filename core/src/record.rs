//! A connection: one authorized grant at one upstream MCP server, reachable through one
//! permanent URL. The record is sealed whole; only [`IndexMetadata`] is stored in plaintext.

use oauth2::{AccessToken, RefreshToken};
use serde::{Deserialize, Serialize};

use crate::registration::ClientRegistration;
use crate::secret::SecretHash;
use crate::time::{UnixMillis, rfc3339};

/// The lifecycle state shown in status and used by the proxy and the cron.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    /// Tokens are usable or refreshable.
    Active,
    /// The grant is gone upstream (`invalid_grant`): only a reconnect helps.
    NeedsReauth,
    /// The last refresh failed for a transient reason; it will be retried.
    Error,
}

/// The tokens of a grant. `Debug` comes from oauth2's secret types and is redacted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenSet {
    pub access_token: AccessToken,
    pub refresh_token: Option<RefreshToken>,
    /// Absolute expiry of the access token, computed from `expires_in` when it arrived.
    pub expires_at: Option<UnixMillis>,
    pub scope: Option<String>,
    /// When the access token arrived; with `expires_at` it gives the token's lifetime.
    #[serde(default)]
    pub obtained_at: Option<UnixMillis>,
}

/// Everything Bindify knows about one connection.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnectionRecord {
    pub id: String,
    /// A name the owner can edit; defaults to the service's name.
    #[serde(default)]
    pub label: String,
    /// Hash of the permanent URL's secret; compared in constant time on every lookup.
    pub secret_hash: SecretHash,
    /// The MCP server URL the user connected.
    pub server_url: String,
    /// RFC 8707 resource indicator sent on authorization, code exchange and refresh.
    pub resource: String,
    pub issuer: String,
    pub token_endpoint: String,
    pub revocation_endpoint: Option<String>,
    pub client: ClientRegistration,
    pub tokens: TokenSet,
    pub state: ConnectionState,
    pub created_at: UnixMillis,
    pub last_refresh_at: Option<UnixMillis>,
    pub last_error: Option<String>,
    /// Transient refresh failures in a row; drives the backoff.
    #[serde(default)]
    pub failures: u32,
    /// No refresh is attempted before this instant (backoff after transient failures).
    #[serde(default)]
    pub next_attempt_at: Option<UnixMillis>,
}

/// The plaintext metadata of a connection's KV mirror `conn:<id>`: what a listing and the
/// cron's sweep need, without asking every object. Holds no token and no secret.
///
/// It holds only what changes rarely, so that the object rewrites the mirror only when the
/// metadata changes (see [`crate::vault`]), never for a routine refresh: a refreshable grant's
/// access-token expiry, its last refresh and its backoff are the object's to answer
/// ([`ConnectionRecord::view`]). Entries written by earlier versions carry those too
/// (`last_refresh_at`, `next_attempt_at`, the expiry of a refreshable grant); they are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexMetadata {
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub upstream: String,
    #[serde(default)]
    pub created_at: UnixMillis,
    /// Shortened to fit KV's 1,024-byte metadata limit.
    #[serde(default)]
    pub last_error: Option<String>,
    pub state: ConnectionState,
    /// The access token's expiry when it ends the grant (no refresh token), Unix milliseconds.
    pub expires_at: Option<UnixMillis>,
    pub has_refresh_token: bool,
    /// Whether the access token states an expiry at all.
    #[serde(default)]
    pub token_expires: bool,
    /// Written by every version whose objects schedule their refreshes with an alarm; absent
    /// from entries written before, whose objects the cron's sweep visits first.
    #[serde(default)]
    pub alarm: bool,
}

impl IndexMetadata {
    /// The grant's end, if it is known: a grant without a refresh token ends with its access
    /// token. Earlier versions listed every grant's expiry; a refreshable one's is ignored.
    pub fn grant_ends_at(&self) -> Option<UnixMillis> {
        self.expires_at.filter(|_| !self.has_refresh_token)
    }
}

/// Longest label the owner can set.
pub const MAX_LABEL_CHARS: usize = 100;

fn truncate_chars(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// A connection as the management API shows it: never a token, never the URL secret. A
/// listing reads it from the KV mirror's metadata, where a refreshable grant's token expiry,
/// last refresh and backoff are not kept (they change with every refresh): those are `null`
/// there, and `GET /api/connections/<id>` asks the connection's object for them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnectionView {
    pub id: String,
    pub label: String,
    pub upstream: String,
    pub state: ConnectionState,
    pub access_token_expires_at: Option<String>,
    pub last_refresh_at: Option<String>,
    pub last_error: Option<String>,
    pub created_at: String,
    /// Whether Bindify holds a refresh token; without one the grant ends with the access token.
    pub refreshable: bool,
    /// Whether the access token states an expiry (a refreshable one is then refreshed ahead of
    /// it, by the connection's object).
    #[serde(default)]
    pub token_expires: bool,
    /// After a transient refresh failure: no background retry before this instant.
    pub next_attempt_at: Option<String>,
}

impl ConnectionView {
    /// From the plaintext metadata of a listed KV key.
    pub fn from_metadata(id: &str, meta: &IndexMetadata) -> Self {
        ConnectionView {
            id: id.to_owned(),
            label: meta.label.clone(),
            upstream: meta.upstream.clone(),
            state: meta.state,
            access_token_expires_at: meta.grant_ends_at().map(rfc3339),
            last_refresh_at: None,
            last_error: meta.last_error.clone(),
            created_at: rfc3339(meta.created_at),
            refreshable: meta.has_refresh_token,
            token_expires: meta.token_expires || meta.expires_at.is_some(),
            next_attempt_at: None,
        }
    }
}

/// The public view served by `/s/<secret>/status`: never a token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StatusView {
    pub id: String,
    pub upstream: String,
    pub state: ConnectionState,
    pub access_token_expires_at: Option<String>,
    pub last_refresh_at: Option<String>,
    pub created_at: String,
    pub refreshable: bool,
    pub last_error: Option<String>,
    pub next_attempt_at: Option<String>,
}

impl ConnectionRecord {
    /// Takes over the grant of `fresh` (a reconnect): tokens, client and endpoints change; the
    /// id, the URL secret and the creation time stay, so the URL already in use works again.
    pub fn rebind(&mut self, fresh: ConnectionRecord, now: UnixMillis) {
        self.server_url = fresh.server_url;
        self.resource = fresh.resource;
        self.issuer = fresh.issuer;
        self.token_endpoint = fresh.token_endpoint;
        self.revocation_endpoint = fresh.revocation_endpoint;
        self.client = fresh.client;
        self.tokens = fresh.tokens;
        self.state = ConnectionState::Active;
        self.last_refresh_at = Some(now);
        self.last_error = None;
        self.failures = 0;
        self.next_attempt_at = None;
    }

    pub fn index_metadata(&self) -> IndexMetadata {
        let has_refresh_token = self.tokens.refresh_token.is_some();
        IndexMetadata {
            label: truncate_chars(&self.label, MAX_LABEL_CHARS),
            upstream: truncate_chars(&self.server_url, 300),
            created_at: self.created_at,
            last_error: self.last_error.as_deref().map(|e| truncate_chars(e, 200)),
            state: self.state,
            expires_at: self.tokens.expires_at.filter(|_| !has_refresh_token),
            has_refresh_token,
            token_expires: self.tokens.expires_at.is_some(),
            alarm: true,
        }
    }

    /// The owner's view, from the record itself: every time the object knows.
    pub fn view(&self) -> ConnectionView {
        ConnectionView {
            id: self.id.clone(),
            label: truncate_chars(&self.label, MAX_LABEL_CHARS),
            upstream: self.server_url.clone(),
            state: self.state,
            access_token_expires_at: self.tokens.expires_at.map(rfc3339),
            last_refresh_at: self.last_refresh_at.map(rfc3339),
            last_error: self.last_error.clone(),
            created_at: rfc3339(self.created_at),
            refreshable: self.tokens.refresh_token.is_some(),
            token_expires: self.tokens.expires_at.is_some(),
            next_attempt_at: self.next_attempt_at.map(rfc3339),
        }
    }

    pub fn status_view(&self) -> StatusView {
        StatusView {
            id: self.id.clone(),
            upstream: self.server_url.clone(),
            state: self.state,
            access_token_expires_at: self.tokens.expires_at.map(rfc3339),
            last_refresh_at: self.last_refresh_at.map(rfc3339),
            created_at: rfc3339(self.created_at),
            refreshable: self.tokens.refresh_token.is_some(),
            last_error: self.last_error.clone(),
            next_attempt_at: self.next_attempt_at.map(rfc3339),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::record::ConnectionState;
    use crate::secret::UrlSecret;
    use crate::testing::sample_record;

    #[test]
    fn the_view_shows_the_backoff_and_whether_the_grant_refreshes() {
        let hash = UrlSecret::generate().expect("secret").hash();
        let mut record = sample_record("c1", hash, Some(1_795_690_200_000));
        record.state = ConnectionState::Error;
        record.next_attempt_at = Some(1_795_690_230_000);
        record.last_error = Some("the token endpoint answered 503".into());
        let view = record.view();
        assert_eq!(view.state, ConnectionState::Error);
        assert!(view.refreshable);
        assert_eq!(
            view.next_attempt_at.as_deref(),
            Some("2026-11-26T10:50:30Z")
        );
        assert_eq!(
            view.access_token_expires_at.as_deref(),
            Some("2026-11-26T10:50:00Z")
        );
        assert_eq!(
            view.last_error.as_deref(),
            Some("the token endpoint answered 503")
        );

        record.tokens.refresh_token = None;
        record.next_attempt_at = None;
        let view = record.view();
        assert!(!view.refreshable);
        assert_eq!(view.next_attempt_at, None);
        let json = serde_json::to_value(&view).expect("json");
        assert_eq!(json["refreshable"], false);
        assert!(json["next_attempt_at"].is_null());
        assert!(json.get("secret_hash").is_none() && json.get("tokens").is_none());
    }
}
