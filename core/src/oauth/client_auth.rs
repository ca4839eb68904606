//! How Bindify's client authenticates at a token or revocation endpoint (RFC 6749 §2.3,
//! RFC 7591 §2 `token_endpoint_auth_method`): not at all (a public client sends its
//! `client_id`), with its secret in HTTP Basic or in the body, or with a signed JWT assertion
//! (`private_key_jwt`, RFC 7523 §2.2).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use url::form_urlencoded::{Serializer, byte_serialize};

use crate::oauth::jwt::{ASSERTION_LIFETIME_SECONDS, AssertionClaims, JwtError, PrivateKey};
use crate::oauth::registration::{ClientRegistration, TokenAuthMethod};
use crate::secret::{RandomError, b64url, random_bytes};
use crate::time::UnixMillis;

/// RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion.
pub const JWT_BEARER_ASSERTION_TYPE: &str =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Why the client's credential could not be put on a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientAuthError {
    #[error("the client has no secret for {0}")]
    MissingSecret(&'static str),
    #[error("the client has no private key for private_key_jwt")]
    MissingKey,
    #[error("{0}")]
    Key(#[from] JwtError),
    #[error("the client assertion could not be made: {0}")]
    Assertion(String),
}

impl From<RandomError> for ClientAuthError {
    fn from(_: RandomError) -> Self {
        ClientAuthError::Assertion("random number generation failed".into())
    }
}

/// Adds `client`'s authentication to a form request: form parameters, and the `Authorization`
/// header value to send, if any. `audience` is the authorization server's issuer, the `aud` of
/// a client assertion (RFC 7523 §3, as the MCP authorization extension for client credentials
/// states it).
pub fn authenticate(
    client: &ClientRegistration,
    audience: &str,
    now: UnixMillis,
    form: &mut Serializer<'_, String>,
) -> Result<Option<String>, ClientAuthError> {
    match client.auth_method {
        TokenAuthMethod::None => {
            form.append_pair("client_id", &client.client_id);
            Ok(None)
        }
        TokenAuthMethod::ClientSecretBasic => {
            let secret = client
                .client_secret
                .as_ref()
                .ok_or(ClientAuthError::MissingSecret("client_secret_basic"))?;
            Ok(Some(basic(&client.client_id, secret.secret())))
        }
        TokenAuthMethod::ClientSecretPost => {
            let secret = client
                .client_secret
                .as_ref()
                .ok_or(ClientAuthError::MissingSecret("client_secret_post"))?;
            form.append_pair("client_id", &client.client_id)
                .append_pair("client_secret", secret.secret());
            Ok(None)
        }
        TokenAuthMethod::PrivateKeyJwt => {
            let stored = client
                .private_key
                .as_ref()
                .ok_or(ClientAuthError::MissingKey)?;
            let key = PrivateKey::from_pem(stored.pem(), Some(stored.algorithm))?;
            let assertion = assertion(&key, &client.client_id, audience, now)?;
            form.append_pair("client_id", &client.client_id)
                .append_pair("client_assertion_type", JWT_BEARER_ASSERTION_TYPE)
                .append_pair("client_assertion", &assertion);
            Ok(None)
        }
    }
}

/// `Basic` credentials: id and secret each form-urlencoded, then joined (RFC 6749 §2.3.1).
pub fn basic(client_id: &str, secret: &str) -> String {
    let pair = format!(
        "{}:{}",
        byte_serialize(client_id.as_bytes()).collect::<String>(),
        byte_serialize(secret.as_bytes()).collect::<String>()
    );
    format!("Basic {}", STANDARD.encode(pair))
}

/// A client assertion for `client_id` at `audience`, valid for
/// [`ASSERTION_LIFETIME_SECONDS`], with a random `jti`.
pub fn assertion(
    key: &PrivateKey,
    client_id: &str,
    audience: &str,
    now: UnixMillis,
) -> Result<String, ClientAuthError> {
    let iat = now / 1000;
    let claims = AssertionClaims {
        iss: client_id.to_owned(),
        sub: client_id.to_owned(),
        aud: audience.to_owned(),
        iat,
        exp: iat.saturating_add(ASSERTION_LIFETIME_SECONDS),
        jti: b64url(&random_bytes::<16>()?),
    };
    key.sign(&claims)
        .map_err(|e| ClientAuthError::Assertion(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::jwt::SigningAlgorithm;
    use crate::oauth::registration::{ClientKey, ClientSource};
    use oauth2::ClientSecret;

    fn client(method: TokenAuthMethod) -> ClientRegistration {
        ClientRegistration {
            client_id: "id:1".into(),
            client_secret: Some(ClientSecret::new("s&2".into())),
            auth_method: method,
            source: ClientSource::Owner,
            registered_at: 0,
            private_key: None,
        }
    }

    fn form_of(client: &ClientRegistration) -> (Vec<(String, String)>, Option<String>) {
        let mut form = Serializer::new(String::new());
        let header =
            authenticate(client, "https://auth.example.com", 1_000_000, &mut form).expect("auth");
        let body = form.finish();
        let pairs = url::form_urlencoded::parse(body.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        (pairs, header)
    }

    #[test]
    fn each_method_puts_the_credential_where_it_belongs() {
        let (form, header) = form_of(&client(TokenAuthMethod::ClientSecretBasic));
        assert!(form.is_empty());
        // "id%3A1:s%262" in base64.
        assert_eq!(header.as_deref(), Some("Basic aWQlM0ExOnMlMjYy"));

        let (form, header) = form_of(&client(TokenAuthMethod::ClientSecretPost));
        assert_eq!(header, None);
        assert_eq!(
            form,
            vec![
                ("client_id".to_owned(), "id:1".to_owned()),
                ("client_secret".to_owned(), "s&2".to_owned())
            ]
        );

        let (form, header) = form_of(&client(TokenAuthMethod::None));
        assert_eq!((form.len(), header), (1, None));
    }

    #[test]
    fn private_key_jwt_sends_a_fresh_assertion_for_the_issuer() {
        let mut c = client(TokenAuthMethod::PrivateKeyJwt);
        c.client_secret = None;
        c.private_key = Some(ClientKey::new(
            crate::oauth::jwt::tests::TEST_KEY.into(),
            SigningAlgorithm::ES256,
        ));
        let (form, header) = form_of(&c);
        assert_eq!(header, None);
        let get = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
                .expect(name)
        };
        assert_eq!(get("client_assertion_type"), JWT_BEARER_ASSERTION_TYPE);
        let claims = crate::oauth::jwt::unverified_claims(&get("client_assertion")).expect("jwt");
        assert_eq!(claims.iss.as_deref(), Some("id:1"));
        assert_eq!(claims.sub.as_deref(), Some("id:1"));
        assert_eq!(claims.exp, Some(1_000 + ASSERTION_LIFETIME_SECONDS));
        let (again, _) = form_of(&c);
        assert_ne!(
            again.iter().find(|(k, _)| k == "client_assertion"),
            form.iter().find(|(k, _)| k == "client_assertion"),
            "every assertion has its own jti"
        );
    }

    #[test]
    fn a_missing_credential_is_named() {
        let mut c = client(TokenAuthMethod::ClientSecretBasic);
        c.client_secret = None;
        let mut form = Serializer::new(String::new());
        assert_eq!(
            authenticate(&c, "a", 0, &mut form),
            Err(ClientAuthError::MissingSecret("client_secret_basic"))
        );
        c.auth_method = TokenAuthMethod::PrivateKeyJwt;
        assert_eq!(
            authenticate(&c, "a", 0, &mut form),
            Err(ClientAuthError::MissingKey)
        );
    }
}
