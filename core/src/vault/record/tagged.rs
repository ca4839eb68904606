//! How [`UpstreamAuth`] and [`GrantType`] are read. Both are written internally tagged (a
//! `"type"` field beside the variant's own fields); serde reads such an enum by first buffering
//! the whole object, which compiles a second reader of every type inside it (with the other
//! tagged enums of the Worker, about 10 KB of the gzipped Worker). These read the same JSON in
//! one pass: the tag and every field any variant has, then the variant the tag names.

use serde::Deserialize;

use super::{GrantType, IdToken, IdentityAssertion, UpstreamAuth};
use crate::oauth::registration::ClientRegistration;
use crate::time::UnixMillis;

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum AuthKind {
    Bearer,
    Header,
    None,
}

#[derive(Deserialize)]
pub(super) struct UpstreamAuthWire {
    #[serde(rename = "type")]
    kind: AuthKind,
    name: Option<String>,
}

impl TryFrom<UpstreamAuthWire> for UpstreamAuth {
    type Error = &'static str;

    fn try_from(w: UpstreamAuthWire) -> Result<Self, Self::Error> {
        Ok(match (w.kind, w.name) {
            (AuthKind::Bearer, _) => UpstreamAuth::Bearer,
            (AuthKind::Header, Some(name)) => UpstreamAuth::Header { name },
            (AuthKind::Header, None) => return Err("missing field `name`"),
            (AuthKind::None, _) => UpstreamAuth::None,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum GrantKind {
    AuthorizationCode,
    ClientCredentials,
    IdentityAssertion,
}

#[derive(Deserialize)]
pub(super) struct GrantTypeWire {
    #[serde(rename = "type")]
    kind: GrantKind,
    idp_token_endpoint: Option<String>,
    idp_issuer: Option<String>,
    idp_client: Option<ClientRegistration>,
    id_token: Option<IdToken>,
    id_token_expires_at: Option<UnixMillis>,
}

impl TryFrom<GrantTypeWire> for GrantType {
    type Error = &'static str;

    fn try_from(w: GrantTypeWire) -> Result<Self, Self::Error> {
        Ok(match w.kind {
            GrantKind::AuthorizationCode => GrantType::AuthorizationCode,
            GrantKind::ClientCredentials => GrantType::ClientCredentials,
            GrantKind::IdentityAssertion => {
                match (w.idp_token_endpoint, w.idp_issuer, w.idp_client, w.id_token) {
                    (
                        Some(idp_token_endpoint),
                        Some(idp_issuer),
                        Some(idp_client),
                        Some(id_token),
                    ) => GrantType::IdentityAssertion(IdentityAssertion {
                        idp_token_endpoint,
                        idp_issuer,
                        idp_client,
                        id_token,
                        id_token_expires_at: w.id_token_expires_at,
                    }),
                    _ => return Err("an identity assertion grant without its identity provider"),
                }
            }
        })
    }
}
