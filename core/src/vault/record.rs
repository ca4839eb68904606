//! A connection: one authorized grant at one upstream MCP server, reachable through one
//! permanent URL. The record is sealed whole; only [`IndexMetadata`] is stored in plaintext.

use oauth2::{AccessToken, RefreshToken};
use serde::{Deserialize, Serialize};

use crate::oauth::registration::ClientRegistration;
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
    /// When the refresh token expires, from the authorization server's
    /// `refresh_token_expires_in` (GitHub Apps send it); with it the grant ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_expires_at: Option<UnixMillis>,
}

/// Everything Bindify knows about one connection.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "wire::RecordWire")]
pub struct ConnectionRecord {
    pub id: String,
    /// A name the owner can edit; defaults to the service's name.
    #[serde(default)]
    pub label: String,
    /// Hash of the permanent URL's secret; compared in constant time on every lookup.
    pub secret_hash: SecretHash,
    /// The MCP server URL the user connected.
    pub server_url: String,
    /// Where the connection's tokens come from; `None` for a connection whose credential is
    /// static (an API key) or absent (an open server). Stored flat, beside the other fields.
    #[serde(flatten)]
    pub oauth: Option<OAuthGrant>,
    /// How the credential in `tokens` goes upstream.
    #[serde(default, skip_serializing_if = "UpstreamAuth::is_bearer")]
    pub upstream_auth: UpstreamAuth,
    /// The credential Bindify sends: OAuth tokens, or the owner's API key as `access_token`
    /// (with no expiry and no refresh token), or nothing for an open server.
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

/// An OAuth grant at one authorization server, and how Bindify renews its tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OAuthGrant {
    /// RFC 8707 resource indicator sent on authorization, code exchange and refresh.
    pub resource: String,
    pub issuer: String,
    pub token_endpoint: String,
    pub revocation_endpoint: Option<String>,
    pub client: ClientRegistration,
    /// How the grant was obtained, hence how its tokens are renewed.
    #[serde(default, skip_serializing_if = "GrantType::is_authorization_code")]
    pub grant: GrantType,
    /// The scopes asked for at the last authorization.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Authorizations in a row that asked for the same scopes because the upstream answered
    /// `insufficient_scope` (see [`crate::oauth::step_up`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub scope_authorizations: u32,
    /// The scopes the next authorization asks for, after the upstream answered
    /// `insufficient_scope`: the union of the challenge's, the granted and the earlier ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_up: Option<Vec<String>>,
    /// When the grant ends whatever its refreshes, where the provider documents a lifetime
    /// (see [`crate::connect::presets::documented_grant_lifetime`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_ends_at: Option<UnixMillis>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// How the connection's credential is presented upstream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    try_from = "tagged::UpstreamAuthWire"
)]
pub enum UpstreamAuth {
    /// `Authorization: Bearer <access token>` (RFC 6750 §2.1).
    #[default]
    Bearer,
    /// The owner's API key, as the value of header `name` (validated by
    /// [`crate::connect::api_key`]).
    Header { name: String },
    /// No credential: an open server.
    None,
}

impl UpstreamAuth {
    pub fn is_bearer(&self) -> bool {
        *self == UpstreamAuth::Bearer
    }
}

/// How an OAuth grant was obtained, hence how Bindify gets a new access token.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    try_from = "tagged::GrantTypeWire"
)]
pub enum GrantType {
    /// The owner authorized in the browser; tokens are renewed with the refresh token.
    #[default]
    AuthorizationCode,
    /// The client's own credentials (RFC 6749 §4.4): a new token is asked for when one expires.
    ClientCredentials,
    /// An identity token from the organization's identity provider, exchanged for an ID-JAG
    /// and then for an access token (see [`crate::oauth::tokens::exchange_identity_token`]), again
    /// while the identity token is valid.
    IdentityAssertion(IdentityAssertion),
}

impl GrantType {
    pub fn is_authorization_code(&self) -> bool {
        matches!(self, GrantType::AuthorizationCode)
    }
}

/// What the identity assertion grant needs at the identity provider. `Debug` is redacted by
/// the secret types.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdentityAssertion {
    /// The identity provider's token endpoint, where the identity token is exchanged.
    pub idp_token_endpoint: String,
    /// The identity provider's issuer (the audience of a client assertion there).
    pub idp_issuer: String,
    /// Bindify's client at the identity provider.
    pub idp_client: ClientRegistration,
    /// The identity token the owner gave.
    pub id_token: IdToken,
    /// Its `exp`, read without verifying (the identity provider verifies it).
    pub id_token_expires_at: Option<UnixMillis>,
}

crate::secret_type! {
    /// An OpenID Connect identity token. Stored only sealed.
    #[derive(Clone, Serialize, Deserialize)]
    #[serde(transparent)]
    pub struct IdToken(String);
}

/// What kind of connection it is, as the dashboard, the API and the CLI name it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionKind {
    /// Authorized by the owner in the browser.
    #[default]
    Oauth,
    ClientCredentials,
    IdentityAssertion,
    ApiKey,
    Open,
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
    #[serde(default)]
    pub kind: ConnectionKind,
    /// When the grant ends for good (see [`ConnectionRecord::grant_expires_at`]); a refresh that
    /// moves it later by less than [`GRANT_END_SLACK_MS`] leaves the listed one as it is (see
    /// [`IndexMetadata::settled`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_expires_at: Option<UnixMillis>,
}

/// How much later a grant's end may move before the KV mirror is written again for it. A
/// server can extend the grant with every refresh (a refresh token whose stated lifetime starts
/// again at each refresh, as GitHub's does); rewriting the mirror for that would cost a KV write
/// per refresh. The listed end is then early by less than this, never late; the connection's
/// object answers the exact one (the status, `GET /api/connections/<id>`).
pub const GRANT_END_SLACK_MS: i64 = 24 * 3_600_000;

impl IndexMetadata {
    /// The access token's expiry when nothing renews it, so that it ends the grant. Earlier
    /// versions listed every token's expiry; a renewable one's is ignored.
    pub fn final_token_expiry(&self) -> Option<UnixMillis> {
        self.expires_at.filter(|_| !self.has_refresh_token)
    }

    /// This metadata as the mirror is to hold it, given what it holds now (`listed`): a grant
    /// end that moved later by less than [`GRANT_END_SLACK_MS`] stays as listed.
    pub fn settled(mut self, listed: Option<&IndexMetadata>) -> Self {
        let listed_end = listed.and_then(|l| l.grant_expires_at);
        if let (Some(end), Some(listed_end)) = (self.grant_expires_at, listed_end)
            && (0..GRANT_END_SLACK_MS).contains(&end.saturating_sub(listed_end))
        {
            self.grant_expires_at = Some(listed_end);
        }
        self
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
    #[serde(default)]
    pub kind: ConnectionKind,
    /// When the grant ends whatever Bindify does: the refresh token's stated expiry, or the
    /// lifetime the provider documents. Only a reconnect goes past it.
    #[serde(default)]
    pub grant_expires_at: Option<String>,
}

impl ConnectionView {
    /// From the plaintext metadata of a listed KV key.
    pub fn from_metadata(id: &str, meta: &IndexMetadata) -> Self {
        ConnectionView {
            id: id.to_owned(),
            label: meta.label.clone(),
            upstream: meta.upstream.clone(),
            state: meta.state,
            access_token_expires_at: meta.final_token_expiry().map(rfc3339),
            last_refresh_at: None,
            last_error: meta.last_error.clone(),
            created_at: rfc3339(meta.created_at),
            refreshable: meta.has_refresh_token,
            token_expires: meta.token_expires || meta.expires_at.is_some(),
            next_attempt_at: None,
            kind: meta.kind,
            grant_expires_at: meta.grant_expires_at.map(rfc3339),
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
    pub kind: ConnectionKind,
    pub grant_expires_at: Option<String>,
}

impl ConnectionRecord {
    /// Takes over the grant of `fresh` (a reconnect): the credential, the client and the
    /// endpoints change; the id, the URL secret and the creation time stay, so the URL already
    /// in use works again. A reconnect that answered a step-up asking for no new scope counts
    /// toward [`crate::oauth::step_up::MAX_AUTHORIZATIONS_PER_SCOPES`].
    pub fn rebind(&mut self, fresh: ConnectionRecord, now: UnixMillis) {
        let mut oauth = fresh.oauth;
        if let (Some(new), Some(old)) = (oauth.as_mut(), self.oauth.as_ref()) {
            new.scope_authorizations =
                crate::oauth::step_up::authorizations_after(old, &new.scopes);
        }
        self.server_url = fresh.server_url;
        self.oauth = oauth;
        self.upstream_auth = fresh.upstream_auth;
        self.tokens = fresh.tokens;
        self.state = ConnectionState::Active;
        self.last_refresh_at = Some(now);
        self.last_error = None;
        self.failures = 0;
        self.next_attempt_at = None;
    }

    /// What kind of connection this is.
    pub fn kind(&self) -> ConnectionKind {
        match (&self.upstream_auth, &self.oauth) {
            (UpstreamAuth::Header { .. }, _) => ConnectionKind::ApiKey,
            (UpstreamAuth::None, _) => ConnectionKind::Open,
            (UpstreamAuth::Bearer, Some(oauth)) => match oauth.grant {
                GrantType::AuthorizationCode => ConnectionKind::Oauth,
                GrantType::ClientCredentials => ConnectionKind::ClientCredentials,
                GrantType::IdentityAssertion(_) => ConnectionKind::IdentityAssertion,
            },
            (UpstreamAuth::Bearer, None) => ConnectionKind::Oauth,
        }
    }

    /// When the grant ends whatever Bindify does, if that is known: the earliest of the refresh
    /// token's stated expiry and the provider's documented grant lifetime; for an identity
    /// assertion, when the identity token (or the last access token, if later) expires.
    pub fn grant_expires_at(&self) -> Option<UnixMillis> {
        let oauth = self.oauth.as_ref()?;
        match &oauth.grant {
            GrantType::AuthorizationCode => {
                let refresh_end = self
                    .tokens
                    .refresh_token
                    .as_ref()
                    .and(self.tokens.refresh_token_expires_at);
                match (refresh_end, oauth.grant_ends_at) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
            GrantType::ClientCredentials => None,
            GrantType::IdentityAssertion(assertion) => assertion
                .id_token_expires_at
                .map(|end| self.tokens.expires_at.map_or(end, |access| access.max(end))),
        }
    }

    /// Whether Bindify can get a new access token without the owner.
    pub fn renewable(&self) -> bool {
        match self.oauth.as_ref().map(|o| &o.grant) {
            Some(GrantType::AuthorizationCode) => self.tokens.refresh_token.is_some(),
            Some(GrantType::ClientCredentials | GrantType::IdentityAssertion(_)) => true,
            None => false,
        }
    }

    pub fn index_metadata(&self) -> IndexMetadata {
        let renewable = self.renewable();
        IndexMetadata {
            label: truncate_chars(&self.label, MAX_LABEL_CHARS),
            upstream: truncate_chars(&self.server_url, 300),
            created_at: self.created_at,
            last_error: self.last_error.as_deref().map(|e| truncate_chars(e, 200)),
            state: self.state,
            expires_at: self.tokens.expires_at.filter(|_| !renewable),
            has_refresh_token: renewable,
            token_expires: self.tokens.expires_at.is_some(),
            alarm: true,
            kind: self.kind(),
            grant_expires_at: self.grant_expires_at(),
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
            refreshable: self.renewable(),
            token_expires: self.tokens.expires_at.is_some(),
            next_attempt_at: self.next_attempt_at.map(rfc3339),
            kind: self.kind(),
            grant_expires_at: self.grant_expires_at().map(rfc3339),
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
            refreshable: self.renewable(),
            last_error: self.last_error.clone(),
            next_attempt_at: self.next_attempt_at.map(rfc3339),
            kind: self.kind(),
            grant_expires_at: self.grant_expires_at().map(rfc3339),
        }
    }
}

mod tagged;
mod wire;

#[cfg(test)]
mod tests;
