//! Clients the owner registered at an authorization server by hand (GitHub, Asana: servers
//! without dynamic registration), entered on a page or with `bindify connect --client-id`. Each
//! is kept sealed under [`keys::owner_client`], per issuer and redirect URI (a client is
//! registered for one callback URL), with the issuer and the client id as plaintext metadata so
//! the dashboard can list them. `OAUTH_CLIENTS` remains the declarative way and wins over these.

use oauth2::ClientSecret;
use serde::{Deserialize, Serialize};

use crate::oauth::registration::{ClientRegistration, ClientSource, TokenAuthMethod};
use crate::time::UnixMillis;
use crate::vault::envelope::{EnvelopeError, Keyring};
use crate::vault::keys;
use crate::vault::store::{KvStore, PutOptions, StoreError};

/// Longest client id and secret accepted (real ones are well under 100 characters).
pub const MAX_CLIENT_ID_CHARS: usize = 256;
pub const MAX_CLIENT_SECRET_CHARS: usize = 512;

/// A client the owner entered. `Debug` is redacted by `ClientSecret`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OwnerClient {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<ClientSecret>,
    pub entered_at: UnixMillis,
}

/// What the dashboard lists of an entered client: no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerClientListing {
    pub issuer: String,
    pub client_id: String,
}

impl OwnerClient {
    /// The client as registered at a server whose metadata lists `supported` token endpoint
    /// authentication methods.
    pub fn registration(&self, supported: Option<&[String]>) -> ClientRegistration {
        ClientRegistration {
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            auth_method: if self.client_secret.is_some() {
                TokenAuthMethod::for_secret(supported)
            } else {
                TokenAuthMethod::None
            },
            source: ClientSource::Owner,
            registered_at: self.entered_at,
            private_key: None,
        }
    }
}

/// Why an entered client was refused. Messages never quote the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientFormError {
    #[error("enter the client ID the service gave when you registered the app")]
    MissingClientId,
    #[error("a client ID is at most 256 printable characters")]
    BadClientId,
    #[error("a client secret is at most 512 printable characters")]
    BadClientSecret,
}

/// The client id and secret as typed: trimmed, checked. An empty secret means none.
pub fn checked(
    client_id: &str,
    client_secret: &str,
) -> Result<(String, Option<ClientSecret>), ClientFormError> {
    let id = client_id.trim();
    if id.is_empty() {
        return Err(ClientFormError::MissingClientId);
    }
    if id.chars().count() > MAX_CLIENT_ID_CHARS || id.chars().any(char::is_control) {
        return Err(ClientFormError::BadClientId);
    }
    let secret = client_secret.trim();
    if secret.chars().count() > MAX_CLIENT_SECRET_CHARS || secret.chars().any(char::is_control) {
        return Err(ClientFormError::BadClientSecret);
    }
    let secret = (!secret.is_empty()).then(|| ClientSecret::new(secret.to_owned()));
    Ok((id.to_owned(), secret))
}

/// A failure to store or read an entered client.
#[derive(Debug, thiserror::Error)]
pub enum OwnerClientError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Seal(#[from] EnvelopeError),
}

/// The entered clients of one deployment (one redirect URI).
pub struct OwnerClients<'a, S: KvStore> {
    pub store: &'a S,
    pub keyring: &'a Keyring,
    /// `<origin>/oauth/callback`: the URL the clients were registered with.
    pub redirect_uri: &'a str,
}

fn issuer_key(issuer: &str) -> &str {
    issuer.trim_end_matches('/')
}

impl<S: KvStore> OwnerClients<'_, S> {
    fn key(&self, issuer: &str) -> String {
        keys::owner_client(issuer_key(issuer), self.redirect_uri)
    }

    /// Stores `client` for its issuer, replacing any earlier one.
    pub async fn save(&self, client: &OwnerClient) -> Result<(), OwnerClientError> {
        let key = self.key(&client.issuer);
        let sealed = self.keyring.seal_json(key.as_bytes(), client)?;
        let listing = OwnerClientListing {
            issuer: issuer_key(&client.issuer).to_owned(),
            client_id: client.client_id.chars().take(MAX_CLIENT_ID_CHARS).collect(),
        };
        let metadata = serde_json::to_value(listing).ok();
        self.store
            .put(
                &key,
                &sealed,
                PutOptions {
                    ttl_seconds: None,
                    metadata,
                },
            )
            .await?;
        Ok(())
    }

    /// The client entered for `issuer`, if any. One that no longer opens (a key rotated away
    /// without its predecessor) counts as none: the owner enters it again.
    pub async fn find(&self, issuer: &str) -> Result<Option<OwnerClient>, StoreError> {
        let key = self.key(issuer);
        let Some(text) = self.store.get(&key).await? else {
            return Ok(None);
        };
        Ok(self
            .keyring
            .open_json::<OwnerClient>(key.as_bytes(), &text)
            .ok())
    }

    /// Forgets the client entered for `issuer`.
    pub async fn remove(&self, issuer: &str) -> Result<(), StoreError> {
        self.store.delete(&self.key(issuer)).await
    }
}

/// Every entered client of every deployment, from the plaintext metadata of their keys (no
/// record is opened), by issuer.
pub async fn list<S: KvStore>(store: &S) -> Result<Vec<OwnerClientListing>, StoreError> {
    let mut listed = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.list(keys::OWNER_CLIENT_PREFIX, cursor).await?;
        listed.extend(
            page.keys
                .into_iter()
                .filter_map(|(_, metadata)| crate::json::from_value(metadata?).ok()),
        );
        cursor = page.cursor;
        if cursor.is_none() {
            crate::order::sort_by(&mut listed, |a: &OwnerClientListing, b| {
                a.issuer.cmp(&b.issuer)
            });
            return Ok(listed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block_on, keyring};
    use crate::vault::store::MemoryStore;

    const CALLBACK: &str = "https://bindify.example.com/oauth/callback";

    #[test]
    fn an_entered_client_is_sealed_per_issuer_and_callback() {
        let (store, keyring) = (MemoryStore::new(), keyring());
        let clients = OwnerClients {
            store: &store,
            keyring: &keyring,
            redirect_uri: CALLBACK,
        };
        let (id, secret) = checked("  Iv1.abc ", " s3cret-value ").expect("valid");
        let client = OwnerClient {
            issuer: "https://github.com/login/oauth/".into(),
            client_id: id,
            client_secret: secret,
            entered_at: 5,
        };
        block_on(clients.save(&client)).expect("saved");
        let key = keys::owner_client("https://github.com/login/oauth", CALLBACK);
        assert!(store.keys().contains(&key));
        assert!(!store.dump().contains("s3cret-value"), "sealed");
        assert_eq!(
            store.options(&key).and_then(|o| o.metadata),
            Some(
                serde_json::json!({"issuer": "https://github.com/login/oauth", "client_id": "Iv1.abc"})
            )
        );
        let found = block_on(clients.find("https://github.com/login/oauth"))
            .expect("read")
            .expect("found");
        assert_eq!(found.client_id, "Iv1.abc");
        let registration = found.registration(None);
        assert_eq!(registration.source, ClientSource::Owner);
        assert_eq!(registration.auth_method, TokenAuthMethod::ClientSecretPost);
        let basic_only = ["client_secret_basic".to_owned()];
        assert_eq!(
            found.registration(Some(&basic_only)).auth_method,
            TokenAuthMethod::ClientSecretBasic
        );

        // Another deployment's callback, or another issuer, finds nothing.
        let other = OwnerClients {
            redirect_uri: "https://other.example.com/oauth/callback",
            ..clients
        };
        assert!(
            block_on(other.find("https://github.com/login/oauth"))
                .expect("read")
                .is_none()
        );
        assert!(
            block_on(clients.find("https://app.asana.com"))
                .expect("read")
                .is_none()
        );
        let other_issuer = OwnerClient {
            issuer: "https://app.asana.com".into(),
            client_id: "asana-app".into(),
            client_secret: None,
            entered_at: 6,
        };
        block_on(clients.save(&other_issuer)).expect("saved");
        block_on(other.save(&other_issuer)).expect("saved");
        // Listed by issuer, across pages, with no secret; one entry per deployment.
        assert_eq!(
            block_on(list(&store)).expect("listed"),
            vec![
                OwnerClientListing {
                    issuer: "https://app.asana.com".into(),
                    client_id: "asana-app".into()
                },
                OwnerClientListing {
                    issuer: "https://app.asana.com".into(),
                    client_id: "asana-app".into()
                },
                OwnerClientListing {
                    issuer: "https://github.com/login/oauth".into(),
                    client_id: "Iv1.abc".into()
                },
            ]
        );
        block_on(clients.remove("https://github.com/login/oauth")).expect("removed");
        assert!(
            block_on(clients.find("https://github.com/login/oauth"))
                .expect("read")
                .is_none()
        );
    }

    #[test]
    fn typed_values_are_checked() {
        assert_eq!(
            checked(" ", "x").err(),
            Some(ClientFormError::MissingClientId)
        );
        assert_eq!(
            checked("a\nb", "").err(),
            Some(ClientFormError::BadClientId)
        );
        assert_eq!(
            checked("a", &"s".repeat(513)).err(),
            Some(ClientFormError::BadClientSecret)
        );
        let (id, secret) = checked("public-client", "").expect("no secret is fine");
        assert_eq!((id.as_str(), secret.is_none()), ("public-client", true));
    }
}
