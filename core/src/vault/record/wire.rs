//! How a stored [`ConnectionRecord`] is read. The OAuth fields sit flat beside the others (as
//! records written before connections without OAuth existed have them); they are all there, or
//! none is (a static credential), and anything in between is refused rather than read as a
//! connection without OAuth.

use serde::Deserialize;

use super::{ConnectionRecord, ConnectionState, GrantType, OAuthGrant, TokenSet, UpstreamAuth};
use crate::oauth::registration::ClientRegistration;
use crate::secret::SecretHash;
use crate::time::UnixMillis;

#[derive(Deserialize)]
pub(super) struct RecordWire {
    id: String,
    #[serde(default)]
    label: String,
    secret_hash: SecretHash,
    server_url: String,
    resource: Option<String>,
    issuer: Option<String>,
    token_endpoint: Option<String>,
    #[serde(default)]
    revocation_endpoint: Option<String>,
    client: Option<ClientRegistration>,
    #[serde(default)]
    grant: GrantType,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    scope_authorizations: u32,
    #[serde(default)]
    step_up: Option<Vec<String>>,
    #[serde(default)]
    grant_ends_at: Option<UnixMillis>,
    #[serde(default)]
    upstream_auth: UpstreamAuth,
    tokens: TokenSet,
    state: ConnectionState,
    created_at: UnixMillis,
    last_refresh_at: Option<UnixMillis>,
    last_error: Option<String>,
    #[serde(default)]
    failures: u32,
    #[serde(default)]
    next_attempt_at: Option<UnixMillis>,
}

impl TryFrom<RecordWire> for ConnectionRecord {
    type Error = String;

    fn try_from(w: RecordWire) -> Result<Self, String> {
        let oauth = match (w.resource, w.issuer, w.token_endpoint, w.client) {
            (Some(resource), Some(issuer), Some(token_endpoint), Some(client)) => {
                Some(OAuthGrant {
                    resource,
                    issuer,
                    token_endpoint,
                    revocation_endpoint: w.revocation_endpoint,
                    client,
                    grant: w.grant,
                    scopes: w.scopes,
                    scope_authorizations: w.scope_authorizations,
                    step_up: w.step_up,
                    grant_ends_at: w.grant_ends_at,
                })
            }
            (None, None, None, None) => None,
            _ => return Err("a connection record with only some of its OAuth fields".into()),
        };
        if oauth.is_none() && w.upstream_auth == UpstreamAuth::Bearer {
            return Err(
                "a connection record that sends a bearer token without an OAuth grant".into(),
            );
        }
        Ok(ConnectionRecord {
            id: w.id,
            label: w.label,
            secret_hash: w.secret_hash,
            server_url: w.server_url,
            oauth,
            upstream_auth: w.upstream_auth,
            tokens: w.tokens,
            state: w.state,
            created_at: w.created_at,
            last_refresh_at: w.last_refresh_at,
            last_error: w.last_error,
            failures: w.failures,
            next_attempt_at: w.next_attempt_at,
        })
    }
}
