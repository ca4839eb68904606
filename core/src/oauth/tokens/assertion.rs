//! The identity assertion authorization grant (MCP's enterprise-managed authorization,
//! SEP-990; draft-ietf-oauth-identity-assertion-authz-grant): an identity token from the
//! organization's identity provider is exchanged there for an Identity Assertion JWT
//! Authorization Grant (ID-JAG) aimed at the MCP server's authorization server (RFC 8693 token
//! exchange), and the ID-JAG is presented there as a JWT bearer grant (RFC 7523 §2.1) for an
//! access token.

use oauth2::AccessToken;

use super::response::{self, Call};
use super::{TokenEndpoint, TokenError, token_set};
use crate::http::HttpClient;
use crate::oauth::registration::truncate;
use crate::time::UnixMillis;
use crate::vault::record::TokenSet;

pub const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
pub const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
pub const ID_JAG_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id-jag";

/// The most characters of an unexpected `issued_token_type` quoted in an error: the identity
/// provider chooses that text.
const MAX_TOKEN_TYPE_CHARS: usize = 100;

/// An Identity Assertion JWT Authorization Grant, as the identity provider issued it.
/// `Debug` is redacted by `AccessToken`.
#[derive(Debug)]
pub struct IdJag(pub AccessToken);

/// RFC 8693 §2.1 at the identity provider: exchanges `id_token` for an ID-JAG whose audience
/// is `audience` (the authorization server's issuer) and whose resource is `resource`.
pub async fn exchange_identity_token<C: HttpClient>(
    http: &C,
    idp: &Call<'_>,
    id_token: &str,
    audience: &str,
    resource: &str,
    scopes: &[String],
    now: UnixMillis,
) -> Result<IdJag, TokenError> {
    let scope = scopes.join(" ");
    let mut params = vec![
        ("grant_type", TOKEN_EXCHANGE_GRANT),
        ("requested_token_type", ID_JAG_TOKEN_TYPE),
        ("audience", audience),
        ("resource", resource),
        ("subject_token", id_token),
        ("subject_token_type", ID_TOKEN_TYPE),
    ];
    if !scope.is_empty() {
        params.push(("scope", scope.as_str()));
    }
    let response = response::post(http, idp, &params, now).await?;
    match response.issued_token_type.as_deref() {
        Some(ID_JAG_TOKEN_TYPE) => Ok(IdJag(response.access_token)),
        other => Err(TokenError::InvalidResponse(format!(
            "the identity provider issued {}, not an ID-JAG",
            other.map_or_else(
                || "a token of no stated type".to_owned(),
                |t| format!("{:?}", truncate(t, MAX_TOKEN_TYPE_CHARS))
            )
        ))),
    }
}

/// RFC 7523 §2.1 at the MCP server's authorization server: the ID-JAG for an access token.
pub async fn jwt_bearer<C: HttpClient>(
    http: &C,
    endpoint: &TokenEndpoint<'_>,
    grant: &IdJag,
    scopes: &[String],
    now: UnixMillis,
) -> Result<TokenSet, TokenError> {
    let scope = scopes.join(" ");
    let mut params = vec![
        ("grant_type", JWT_BEARER_GRANT),
        ("assertion", grant.0.secret().as_str()),
    ];
    if !scope.is_empty() {
        params.push(("scope", scope.as_str()));
    }
    params.push(("resource", endpoint.resource));
    let response = response::post(http, &endpoint.call(), &params, now).await?;
    Ok(token_set(response, None, now))
}
