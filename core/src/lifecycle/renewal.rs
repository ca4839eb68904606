//! Getting a new access token for a connection, the way its grant allows: the refresh token
//! for a grant the owner authorized in the browser, the client's own credentials again for
//! the client credentials grant, the identity token again (while it is valid) for an identity
//! assertion. A static credential (an API key) or none (an open server) cannot be renewed.
//! [`crate::lifecycle::refresh`] decides when, and applies the outcome.

use crate::http::HttpClient;
use crate::oauth::tokens::{self, Call, TokenEndpoint, TokenError};
use crate::time::{UnixMillis, rfc3339};
use crate::vault::record::{
    ConnectionRecord, GrantType, IdentityAssertion, OAuthGrant, TokenSet, UpstreamAuth,
};

/// Why no new token came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenewError {
    /// Nothing Bindify holds can get one: only the owner can help. The text says why.
    Impossible(String),
    /// The token request failed.
    Token(TokenError),
}

/// A new token set for `record`.
pub async fn renew<C: HttpClient>(
    http: &C,
    record: &ConnectionRecord,
    now: UnixMillis,
) -> Result<TokenSet, RenewError> {
    let Some(oauth) = record.oauth.as_ref() else {
        return Err(RenewError::Impossible(match record.upstream_auth {
            UpstreamAuth::Header { .. } => {
                "the server refused the API key; enter a new one to keep the URL working".into()
            }
            UpstreamAuth::None | UpstreamAuth::Bearer => {
                "the server now asks for a credential this open connection does not have".into()
            }
        }));
    };
    let endpoint = TokenEndpoint {
        token_endpoint: &oauth.token_endpoint,
        client: &oauth.client,
        resource: &oauth.resource,
        issuer: &oauth.issuer,
    };
    let result = match &oauth.grant {
        GrantType::AuthorizationCode => {
            let Some(refresh_token) = &record.tokens.refresh_token else {
                return Err(RenewError::Impossible(
                    "the authorization server issued no refresh token".into(),
                ));
            };
            let expiry = record.tokens.refresh_token_expires_at;
            tokens::refresh(http, &endpoint, refresh_token, expiry, now).await
        }
        GrantType::ClientCredentials => {
            tokens::client_credentials(http, &endpoint, &scopes(oauth), now).await
        }
        GrantType::IdentityAssertion(assertion) => {
            identity_assertion(http, &endpoint, oauth, assertion, now).await?
        }
    };
    result.map_err(RenewError::Token)
}

/// The scopes a renewal without the owner asks for.
fn scopes(oauth: &OAuthGrant) -> Vec<String> {
    oauth.scopes.clone()
}

/// The identity token for an ID-JAG at the identity provider, then the ID-JAG for a token.
/// Outer `Err`: the identity token has expired, so only a new one helps.
async fn identity_assertion<C: HttpClient>(
    http: &C,
    endpoint: &TokenEndpoint<'_>,
    oauth: &OAuthGrant,
    assertion: &IdentityAssertion,
    now: UnixMillis,
) -> Result<Result<TokenSet, TokenError>, RenewError> {
    if let Some(expired) = assertion.id_token_expires_at.filter(|at| *at <= now) {
        return Err(RenewError::Impossible(format!(
            "the identity token expired at {}; reconnect with a new one from the identity provider",
            rfc3339(expired)
        )));
    }
    let idp = Call {
        token_endpoint: &assertion.idp_token_endpoint,
        client: &assertion.idp_client,
        issuer: &assertion.idp_issuer,
    };
    let scopes = scopes(oauth);
    let jag = match tokens::exchange_identity_token(
        http,
        &idp,
        assertion.id_token.expose(),
        &oauth.issuer,
        &oauth.resource,
        &scopes,
        now,
    )
    .await
    {
        Ok(jag) => jag,
        Err(e) => return Ok(Err(e)),
    };
    Ok(tokens::jwt_bearer(http, endpoint, &jag, &scopes, now).await)
}

#[cfg(test)]
mod tests;
