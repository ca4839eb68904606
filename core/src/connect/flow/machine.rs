//! Connecting a server whose authorization server offers no browser sign-in, from a client's
//! own credentials the owner enters: the client credentials grant (RFC 6749 §4.4; MCP's client
//! credentials extension, SEP-1046) with a secret or a private key (`private_key_jwt`,
//! RFC 7523 §2.2), or an identity assertion from the organization's identity provider (MCP's
//! enterprise-managed authorization, SEP-990). Bindify asks for the first token at once, and
//! for the next ones itself when they expire ([`crate::lifecycle::renewal`]).

use oauth2::ClientSecret;
use url::Url;

use super::{ConnectError, ConnectSettings, Created};
use crate::http::{self, HttpClient, MAX_METADATA_BYTES};
use crate::oauth::discovery::{self, AuthServerMetadata};
use crate::oauth::jwt::{self, PrivateKey, SigningAlgorithm};
use crate::oauth::registration::{ClientKey, ClientRegistration, ClientSource, TokenAuthMethod};
use crate::oauth::tokens::{self, Call, TokenEndpoint};
use crate::oauth::upstream::validate_server_url;
use crate::oauth::wellknown::authorization_server_metadata_urls;
use crate::time::UnixMillis;
use crate::vault::record::{GrantType, IdToken, IdentityAssertion, OAuthGrant, UpstreamAuth};

/// The credentials the owner entered. `Debug` is redacted by the secret types.
#[derive(Debug, Clone)]
pub struct MachineCredentials {
    pub client_id: String,
    pub client_secret: Option<ClientSecret>,
    pub private_key: Option<ClientKey>,
    /// For an identity assertion: the identity provider and the token it issued.
    pub identity: Option<IdentityProvider>,
}

/// The organization's identity provider, and an identity token it issued for the owner.
#[derive(Debug, Clone)]
pub struct IdentityProvider {
    pub issuer: String,
    /// Its token endpoint; when not given, read from its metadata.
    pub token_endpoint: Option<String>,
    pub client_id: String,
    pub client_secret: Option<ClientSecret>,
    pub id_token: IdToken,
}

/// The longest private key and identity token accepted, in bytes.
pub const MAX_KEY_BYTES: usize = 8 * 1024;
pub const MAX_ID_TOKEN_BYTES: usize = 16 * 1024;

/// The credentials form's fields, by the names the page uses (those of the MCP conformance
/// suite's scenario context): `client_id`, `client_secret`, `private_key_pem`,
/// `signing_algorithm`, and for an identity assertion `idp_issuer`, `idp_token_endpoint`,
/// `idp_client_id`, `idp_client_secret`, `idp_id_token`. Empty fields count as absent.
pub fn from_fields<'a>(
    field: impl Fn(&str) -> Option<&'a str>,
) -> Result<MachineCredentials, ConnectError> {
    let text = |name: &str| field(name).map(str::trim).filter(|v| !v.is_empty());
    let invalid = |why: &str| ConnectError::Credentials(why.to_owned());
    let (client_id, client_secret) = crate::connect::owner_client::checked(
        text("client_id").unwrap_or_default(),
        text("client_secret").unwrap_or_default(),
    )
    .map_err(|e| invalid(&e.to_string()))?;
    let private_key = match text("private_key_pem") {
        Some(pem) if pem.len() > MAX_KEY_BYTES => {
            return Err(invalid("the private key is longer than 8 KiB"));
        }
        Some(pem) => {
            let algorithm = SigningAlgorithm::parse(text("signing_algorithm").unwrap_or_default())
                .map_err(|e| invalid(&e.to_string()))?;
            // Read now, so a key that cannot sign is reported before anything is stored.
            let key = PrivateKey::from_pem(pem, algorithm).map_err(|e| invalid(&e.to_string()))?;
            Some(ClientKey::new(pem.to_owned(), key.algorithm()))
        }
        None => None,
    };
    let identity = match text("idp_id_token") {
        None => None,
        Some(token) if token.len() > MAX_ID_TOKEN_BYTES => {
            return Err(invalid("the identity token is longer than 16 KiB"));
        }
        Some(token) => {
            let issuer = text("idp_issuer")
                .ok_or_else(|| invalid("enter the identity provider's issuer URL"))?;
            let (idp_client_id, idp_client_secret) = crate::connect::owner_client::checked(
                text("idp_client_id").unwrap_or_default(),
                text("idp_client_secret").unwrap_or_default(),
            )
            .map_err(|e| invalid(&format!("at the identity provider, {e}")))?;
            Some(IdentityProvider {
                issuer: issuer.to_owned(),
                token_endpoint: text("idp_token_endpoint").map(str::to_owned),
                client_id: idp_client_id,
                client_secret: idp_client_secret,
                id_token: IdToken::new(token.to_owned()),
            })
        }
    };
    Ok(MachineCredentials {
        client_id,
        client_secret,
        private_key,
        identity,
    })
}

/// Connects `server` with `credentials`: discovery, the grant the credentials are for, and the
/// first token. `reconnect_scopes` are what a reconnect asks for besides what discovery finds
/// (the connection's earlier scopes, or a step-up's union).
pub async fn connect<C: HttpClient>(
    http: &C,
    settings: &ConnectSettings,
    server: &Url,
    credentials: MachineCredentials,
    reconnect_scopes: &[String],
    now: UnixMillis,
) -> Result<Created, ConnectError> {
    // The grants without a browser are used wherever the server offers them, also beside a
    // browser sign-in.
    let found = discovery::discover(http, server, settings.policy).await?;
    let supported = found
        .metadata
        .token_endpoint_auth_methods_supported
        .as_deref();
    let client = client(&credentials, supported, now)?;
    let mut scopes = reconnect_scopes.to_vec();
    crate::oauth::step_up::union_into(&mut scopes, &found.scopes);
    let (grant, tokens) = match credentials.identity {
        Some(idp) => {
            if !found.metadata.offers(tokens::JWT_BEARER_GRANT) {
                return Err(ConnectError::GrantNotOffered(
                    "identity assertion (jwt-bearer)",
                ));
            }
            let assertion = identity_provider(http, settings, idp, now).await?;
            let endpoint = endpoint(&found.metadata, &client, &found.resource, &found.issuer);
            let idp_call = Call {
                token_endpoint: &assertion.idp_token_endpoint,
                client: &assertion.idp_client,
                issuer: &assertion.idp_issuer,
            };
            let jag = tokens::exchange_identity_token(
                http,
                &idp_call,
                assertion.id_token.expose(),
                found.issuer.as_str().trim_end_matches('/'),
                &found.resource,
                &scopes,
                now,
            )
            .await?;
            let tokens = tokens::jwt_bearer(http, &endpoint, &jag, &scopes, now).await?;
            (GrantType::IdentityAssertion(assertion), tokens)
        }
        None => {
            if !found.metadata.offers("client_credentials") {
                return Err(ConnectError::GrantNotOffered("client credentials"));
            }
            let endpoint = endpoint(&found.metadata, &client, &found.resource, &found.issuer);
            let tokens = tokens::client_credentials(http, &endpoint, &scopes, now).await?;
            (GrantType::ClientCredentials, tokens)
        }
    };
    let oauth = OAuthGrant {
        resource: found.resource.clone(),
        issuer: found.issuer.as_str().trim_end_matches('/').to_owned(),
        token_endpoint: found.metadata.token_endpoint.clone(),
        revocation_endpoint: found.metadata.revocation_endpoint.clone(),
        client,
        grant,
        scopes,
        scope_authorizations: 1,
        step_up: None,
        grant_ends_at: None,
    };
    Created::new(
        found.server.as_str(),
        Some(oauth),
        UpstreamAuth::Bearer,
        tokens,
        now,
    )
}

fn endpoint<'a>(
    metadata: &'a AuthServerMetadata,
    client: &'a ClientRegistration,
    resource: &'a str,
    issuer: &'a Url,
) -> TokenEndpoint<'a> {
    TokenEndpoint {
        token_endpoint: &metadata.token_endpoint,
        client,
        resource,
        issuer: issuer.as_str().trim_end_matches('/'),
    }
}

/// The client as the server takes it: with a private key where the server accepts
/// `private_key_jwt`, else with its secret as the server lists.
fn client(
    credentials: &MachineCredentials,
    supported: Option<&[String]>,
    now: UnixMillis,
) -> Result<ClientRegistration, ConnectError> {
    let lists = |m: &str| supported.is_none_or(|s| s.iter().any(|x| x == m));
    let auth_method = match (&credentials.private_key, &credentials.client_secret) {
        (Some(_), _) if lists("private_key_jwt") => TokenAuthMethod::PrivateKeyJwt,
        (Some(_), None) => {
            return Err(ConnectError::Credentials(
                "the authorization server does not accept private_key_jwt; enter the client secret instead"
                    .into(),
            ));
        }
        (_, Some(_)) => TokenAuthMethod::for_secret(supported),
        (None, None) => {
            return Err(ConnectError::Credentials(
                "enter the client secret or the client's private key".into(),
            ));
        }
    };
    Ok(ClientRegistration {
        client_id: credentials.client_id.clone(),
        client_secret: credentials.client_secret.clone(),
        auth_method,
        source: ClientSource::Owner,
        registered_at: now,
        private_key: credentials
            .private_key
            .clone()
            .filter(|_| auth_method == TokenAuthMethod::PrivateKeyJwt),
    })
}

/// The identity provider's token endpoint (given, or from its metadata) and Bindify's client
/// there, with the identity token and its expiry.
async fn identity_provider<C: HttpClient>(
    http: &C,
    settings: &ConnectSettings,
    idp: IdentityProvider,
    now: UnixMillis,
) -> Result<IdentityAssertion, ConnectError> {
    let issuer = validate_server_url(&idp.issuer, settings.policy)?;
    let metadata = idp_metadata(http, &issuer)
        .await
        .filter(|m| m.validate(&issuer, settings.policy).is_ok());
    let token_endpoint = match (&idp.token_endpoint, &metadata) {
        (Some(given), _) => given.clone(),
        (None, Some(metadata)) => metadata.token_endpoint.clone(),
        (None, None) => {
            return Err(ConnectError::Credentials(format!(
                "the identity provider {} publishes no metadata naming its token endpoint; enter the token endpoint",
                issuer.as_str().trim_end_matches('/')
            )));
        }
    };
    let token_endpoint = validate_server_url(&token_endpoint, settings.policy)?;
    let supported = metadata
        .as_ref()
        .and_then(|m| m.token_endpoint_auth_methods_supported.as_deref());
    let expires_at = jwt::unverified_claims(idp.id_token.expose())
        .map_err(|_| ConnectError::Credentials("the identity token is not a JWT".into()))?
        .exp
        .map(|exp| exp.saturating_mul(1000));
    if expires_at.is_some_and(|at| at <= now) {
        return Err(ConnectError::Credentials(
            "the identity token has expired; get a new one from the identity provider".into(),
        ));
    }
    Ok(IdentityAssertion {
        idp_token_endpoint: token_endpoint.to_string(),
        idp_issuer: issuer.as_str().trim_end_matches('/').to_owned(),
        idp_client: ClientRegistration {
            client_id: idp.client_id,
            auth_method: if idp.client_secret.is_some() {
                TokenAuthMethod::for_secret(supported)
            } else {
                TokenAuthMethod::None
            },
            client_secret: idp.client_secret,
            source: ClientSource::Owner,
            registered_at: now,
            private_key: None,
        },
        id_token: idp.id_token,
        id_token_expires_at: expires_at,
    })
}

/// The identity provider's metadata (RFC 8414, then OpenID Connect discovery), if it has any.
async fn idp_metadata<C: HttpClient>(http: &C, issuer: &Url) -> Option<AuthServerMetadata> {
    for url in authorization_server_metadata_urls(issuer) {
        let Ok(request) = http::get_json_request(&url) else {
            continue;
        };
        let Ok(response) = http::send(http, request).await else {
            continue;
        };
        if response.status().is_success()
            && response.body().len() <= MAX_METADATA_BYTES
            && let Ok(metadata) = crate::json::from_slice::<AuthServerMetadata>(response.body())
        {
            return Some(metadata);
        }
    }
    None
}

#[cfg(test)]
mod tests;
