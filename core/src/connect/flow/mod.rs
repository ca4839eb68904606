//! The connect flow: [`begin`] discovers the server, gets a client, and sends the browser to
//! the authorization server; [`complete`] checks the callback, exchanges the code and produces
//! a new connection with its permanent URL secret. Servers without a browser sign-in are
//! connected by [`machine`] from a client's own credentials; servers that take an API key, or
//! nothing, by [`direct`].

mod client;
#[cfg(test)]
mod client_tests;
pub mod confirm;
pub mod direct;
mod error;
pub mod machine;
mod pending_wire;
pub mod revoke;
mod state;
#[cfg(test)]
mod tests;

pub use error::{ConnectError, Problem};
pub use state::{SealedState, StateClaims, StateProblem, binding_of, cookie_name};

use std::collections::BTreeMap;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, ClientId, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::http::HttpClient;
use crate::oauth::discovery::{self, SignIn};
use crate::oauth::registration::{self, ClientRegistration, ConfiguredClient};
use crate::oauth::tokens::{self, TokenEndpoint};
use crate::oauth::upstream::UpstreamPolicy;
use crate::secret::{UrlSecret, b64url, random_bytes};
use crate::time::UnixMillis;
use crate::vault::envelope::Keyring;
use crate::vault::keys;
use crate::vault::record::{
    ConnectionRecord, ConnectionState, GrantType, OAuthGrant, UpstreamAuth,
};
use crate::vault::store::{KvStore, PutOptions};

/// Settings of the connect flow, read from the Worker's configuration.
#[derive(Debug, Clone)]
pub struct ConnectSettings {
    pub policy: UpstreamPolicy,
    /// How long a started flow may take before its state expires.
    pub state_ttl_ms: i64,
    /// `<origin>/oauth/callback` of this deployment.
    pub redirect_uri: Url,
    /// Pre-registered clients by issuer (`OAUTH_CLIENTS`).
    pub configured_clients: BTreeMap<String, ConfiguredClient>,
    /// The https URL of Bindify's Client ID Metadata Document, if it has one.
    pub client_metadata_url: Option<Url>,
    /// Whether the Worker is served over https (sets `Secure` on the cookie).
    pub secure_cookies: bool,
}

/// Client name sent in dynamic registration and shown on consent screens.
pub const CLIENT_NAME: &str = "Bindify";

crate::secret_type! {
    /// The PKCE code verifier of a flow (RFC 7636 §4.1), kept sealed until the code exchange.
    #[derive(Serialize, Deserialize)]
    #[serde(transparent)]
    pub struct PkceVerifier(String);
}

/// What storage holds between [`begin`] and [`complete`]. Sealed; removed on first use.
/// `Debug` leaves out the PKCE verifier and the client.
#[derive(Serialize, Deserialize)]
#[serde(from = "pending_wire::PendingFlowWire")]
pub struct PendingFlow {
    pub server_url: String,
    pub resource: String,
    pub issuer: String,
    pub token_endpoint: String,
    pub revocation_endpoint: Option<String>,
    /// The server advertised `authorization_response_iss_parameter_supported`: its callback
    /// must carry `iss` (RFC 9207 §2.4).
    #[serde(default)]
    pub iss_required: bool,
    pub client: ClientRegistration,
    pub pkce_verifier: PkceVerifier,
    pub created_at: UnixMillis,
    /// The scopes the authorization request asked for.
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(flatten)]
    pub extras: FlowExtras,
}

/// What a flow is for, besides creating a connection from the browser.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FlowExtras {
    /// Set when re-authorizing an existing connection: the new grant replaces its tokens and
    /// its URL stays the same.
    #[serde(default)]
    pub reconnect_id: Option<String>,
    /// Set when `bindify connect` started the flow: the hash of its one-time code, under which
    /// the result is left for the CLI.
    #[serde(default)]
    pub cli_code: Option<String>,
    /// Scopes a reconnect asks for besides those discovery finds: the connection's earlier
    /// ones, or the union a step-up needs (see [`crate::oauth::step_up::reconnect_scopes`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reconnect_scopes: Vec<String>,
}

/// Where to send the browser, and the cookie to set on the way. `Debug` leaves out the cookie.
pub struct Begun {
    pub authorize_url: Url,
    pub set_cookie: String,
}

/// Starts connecting to `server`, for the purpose `extras` names.
pub async fn begin<C: HttpClient, S>(
    http: &C,
    store: &S,
    keyring: &Keyring,
    settings: &ConnectSettings,
    server: &Url,
    extras: FlowExtras,
    now: UnixMillis,
) -> Result<Begun, ConnectError>
where
    S: KvStore,
{
    let found = discovery::discover(http, server, settings.policy).await?;
    if let SignIn::Machine(grants) = found.metadata.sign_in()? {
        return Err(ConnectError::MachineCredentials(grants));
    }
    // A reconnect asks for what it asked before (or a step-up's union), and for anything
    // discovery finds today.
    let mut scopes = extras.reconnect_scopes.clone();
    crate::oauth::step_up::union_into(&mut scopes, &found.scopes);
    let client = client::obtain(http, store, keyring, settings, &found, &scopes, now).await?;

    let flow_id = b64url(&random_bytes::<16>().map_err(|_| ConnectError::Random)?);
    let cookie_value = b64url(&random_bytes::<32>().map_err(|_| ConnectError::Random)?);
    let verifier = PkceVerifier::new(b64url(
        &random_bytes::<32>().map_err(|_| ConnectError::Random)?,
    ));
    let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
        verifier.expose().to_owned(),
    ));

    let ttl_ms = settings.state_ttl_ms.max(1000);
    let state = StateClaims {
        flow: flow_id.clone(),
        exp: now.saturating_add(ttl_ms),
        bind: binding_of(&cookie_value),
    }
    .seal(keyring)?;

    let pending = PendingFlow {
        server_url: found.server.to_string(),
        resource: found.resource.clone(),
        issuer: found.issuer.to_string(),
        token_endpoint: found.metadata.token_endpoint.clone(),
        revocation_endpoint: found.metadata.revocation_endpoint.clone(),
        iss_required: found
            .metadata
            .authorization_response_iss_parameter_supported,
        client: client.clone(),
        pkce_verifier: verifier,
        created_at: now,
        scopes: scopes.clone(),
        extras,
    };
    let key = keys::flow(&flow_id);
    let sealed = keyring.seal_json(key.as_bytes(), &pending)?;
    // KV refuses TTLs under 60 s; the state's own expiry is what is enforced.
    let ttl_seconds = u64::try_from(ttl_ms / 1000).unwrap_or(60).max(60);
    store
        .put(
            &key,
            &sealed,
            PutOptions {
                ttl_seconds: Some(ttl_seconds),
                metadata: None,
            },
        )
        .await?;

    let auth_url = AuthUrl::new(found.metadata.authorization_endpoint.clone()).map_err(|e| {
        ConnectError::Discovery(discovery::DiscoveryError::InvalidMetadata(e.to_string()))
    })?;
    let redirect = RedirectUrl::from_url(settings.redirect_uri.clone());
    let oauth = BasicClient::new(ClientId::new(client.client_id.clone()))
        .set_auth_uri(auth_url)
        .set_redirect_uri(redirect);
    let (authorize_url, _) = oauth
        .authorize_url(move || CsrfToken::new(state.expose().to_owned()))
        .set_pkce_challenge(challenge)
        .add_scopes(scopes.into_iter().map(Scope::new))
        .add_extra_param("resource", found.resource.clone())
        .url();

    Ok(Begun {
        authorize_url,
        set_cookie: crate::connect::cookies::set(
            &cookie_name(&flow_id),
            &cookie_value,
            ttl_seconds,
            settings.secure_cookies,
        ),
    })
}

crate::secret_type! {
    /// The authorization code in a callback (RFC 6749 §4.1.2).
    #[derive(Deserialize)]
    #[serde(transparent)]
    pub struct CallbackCode(String);
}

/// The query of `GET /oauth/callback` (RFC 6749 §4.1.2 and §4.1.2.1, RFC 9207 `iss`).
/// `Debug` says whether a code and a state came, never what they are.
#[derive(Debug, Default, Deserialize)]
pub struct CallbackParams {
    pub code: Option<CallbackCode>,
    pub state: Option<SealedState>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub iss: Option<String>,
}

/// A connection just created, with the one copy of its URL secret. `Debug` leaves out the
/// secret and the cookie.
pub struct Completed {
    pub record: ConnectionRecord,
    pub secret: UrlSecret,
    /// Removes the flow's browser-binding cookie.
    pub clear_cookie: String,
    /// What the flow was for: a reconnect keeps the id and URL of `extras.reconnect_id` and
    /// takes over only the grant of `record` (see [`ConnectionRecord::rebind`]).
    pub extras: FlowExtras,
}

impl std::fmt::Debug for PendingFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingFlow")
            .field("server_url", &self.server_url)
            .field("issuer", &self.issuer)
            .field("iss_required", &self.iss_required)
            .field("created_at", &self.created_at)
            .field("extras", &self.extras)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Begun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Begun")
            .field(
                "authorize_url",
                &self.authorize_url.origin().ascii_serialization(),
            )
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Completed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completed")
            .field("id", &self.record.id)
            .field("server_url", &self.record.server_url)
            .field("extras", &self.extras)
            .finish_non_exhaustive()
    }
}

/// A failed completion, with what the flow was for when that is known.
#[derive(Debug)]
pub struct Failure {
    pub error: ConnectError,
    pub extras: FlowExtras,
}

impl From<ConnectError> for Failure {
    fn from(error: ConnectError) -> Self {
        Failure {
            error,
            extras: FlowExtras::default(),
        }
    }
}

impl From<crate::vault::store::StoreError> for Failure {
    fn from(error: crate::vault::store::StoreError) -> Self {
        ConnectError::from(error).into()
    }
}

impl From<crate::vault::envelope::EnvelopeError> for Failure {
    fn from(error: crate::vault::envelope::EnvelopeError) -> Self {
        ConnectError::from(error).into()
    }
}

/// Finishes a flow. Whatever happens, the pending flow is consumed before the code is used,
/// so a state works at most once; on any error nothing else is stored.
pub async fn complete<C: HttpClient, S>(
    http: &C,
    store: &S,
    keyring: &Keyring,
    settings: &ConnectSettings,
    params: &CallbackParams,
    cookie_header: Option<&str>,
    now: UnixMillis,
) -> Result<Completed, Failure>
where
    S: KvStore,
{
    // Without a state of ours nothing in the query can be trusted, an `error_description`
    // least of all: anyone can send a browser here with text of their choosing.
    let Some(state) = params.state.as_ref().filter(|s| !s.expose().is_empty()) else {
        return Err(ConnectError::StateMissing.into());
    };
    let problem = |p| match p {
        StateProblem::Invalid => ConnectError::StateInvalid,
        StateProblem::Expired => ConnectError::StateExpired,
        StateProblem::Foreign => ConnectError::StateForeign,
    };
    let claims = StateClaims::open(keyring, state, now).map_err(problem)?;
    let key = keys::flow(&claims.flow);
    let Some(text) = store.get(&key).await? else {
        // The state is authentic and unexpired, so its flow existed: it was used already.
        return Err(ConnectError::StateUsed.into());
    };
    // Only the browser that started the flow may consume it.
    claims.check_binding(cookie_header).map_err(problem)?;
    store.delete(&key).await?;
    let pending: PendingFlow = keyring.open_json(key.as_bytes(), &text)?;
    let clear_cookie =
        crate::connect::cookies::clear(&cookie_name(&claims.flow), settings.secure_cookies);
    let extras = pending.extras.clone();
    exchange(http, settings, params, pending, clear_cookie, now)
        .await
        .map_err(|error| Failure { error, extras })
}

/// The second half of [`complete`], once the flow is known and consumed.
async fn exchange<C: HttpClient>(
    http: &C,
    settings: &ConnectSettings,
    params: &CallbackParams,
    pending: PendingFlow,
    clear_cookie: String,
    now: UnixMillis,
) -> Result<Completed, ConnectError> {
    // RFC 9207 §2.4, for answers and errors alike: when the server names itself, it must be
    // the one the user was sent to; a server that promised to name itself must do so.
    match &params.iss {
        Some(iss) if iss.trim_end_matches('/') != pending.issuer.trim_end_matches('/') => {
            return Err(ConnectError::IssuerMismatch);
        }
        None if pending.iss_required => return Err(ConnectError::IssuerMissing),
        _ => {}
    }
    // Nothing is cached to forget on `invalid_client`: each authorization registers its own
    // dynamic client, and an entered one is the owner's to correct.
    if let Some(error) = authorization_error(params) {
        return Err(error);
    }
    let code = params
        .code
        .as_ref()
        .map(CallbackCode::expose)
        .filter(|c| !c.is_empty())
        .ok_or(ConnectError::CodeMissing)?;

    let endpoint = TokenEndpoint {
        token_endpoint: &pending.token_endpoint,
        client: &pending.client,
        resource: &pending.resource,
        issuer: &pending.issuer,
    };
    let tokens = tokens::exchange_code(
        http,
        &endpoint,
        code,
        pending.pkce_verifier.expose(),
        settings.redirect_uri.as_str(),
        now,
    )
    .await?;

    let extras = pending.extras.clone();
    // A provider that ends every grant a fixed time after the code exchange says so in its
    // documentation only; the record carries the date.
    let grant_ends_at = crate::connect::presets::documented_grant_lifetime(&pending.issuer)
        .map(|lifetime| now.saturating_add(lifetime));
    let oauth = OAuthGrant {
        resource: pending.resource,
        issuer: pending.issuer,
        token_endpoint: pending.token_endpoint,
        revocation_endpoint: pending.revocation_endpoint,
        client: pending.client,
        grant: GrantType::AuthorizationCode,
        scopes: pending.scopes,
        scope_authorizations: 1,
        step_up: None,
        grant_ends_at,
    };
    let Created { record, secret } = Created::new(
        &pending.server_url,
        Some(oauth),
        UpstreamAuth::Bearer,
        tokens,
        now,
    )?;
    Ok(Completed {
        record,
        secret,
        clear_cookie,
        extras,
    })
}

/// A new connection and the one copy of its URL secret. `Debug` leaves out the secret.
pub struct Created {
    pub record: ConnectionRecord,
    pub secret: UrlSecret,
}

impl std::fmt::Debug for Created {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Created")
            .field("id", &self.record.id)
            .field("server_url", &self.record.server_url)
            .finish_non_exhaustive()
    }
}

impl Created {
    /// A new active connection to `server_url` with a fresh id and URL secret.
    pub fn new(
        server_url: &str,
        oauth: Option<OAuthGrant>,
        upstream_auth: UpstreamAuth,
        tokens: crate::vault::record::TokenSet,
        now: UnixMillis,
    ) -> Result<Self, ConnectError> {
        let secret = UrlSecret::generate().map_err(|_| ConnectError::Random)?;
        let id = b64url(&random_bytes::<16>().map_err(|_| ConnectError::Random)?);
        let record = ConnectionRecord {
            id,
            label: crate::connect::presets::default_label(server_url),
            secret_hash: secret.hash(),
            server_url: server_url.to_owned(),
            oauth,
            upstream_auth,
            tokens,
            state: ConnectionState::Active,
            created_at: now,
            last_refresh_at: None,
            last_error: None,
            failures: 0,
            next_attempt_at: None,
        };
        Ok(Created { record, secret })
    }
}

/// An `error` in the callback (RFC 6749 §4.1.2.1), as a [`ConnectError`].
fn authorization_error(params: &CallbackParams) -> Option<ConnectError> {
    let error = params.error.as_deref()?;
    let description = params
        .error_description
        .as_deref()
        .map(|d| registration::truncate(d, 300));
    Some(if error == "access_denied" {
        ConnectError::AccessDenied { description }
    } else {
        ConnectError::AuthorizationError {
            error: registration::truncate(error, 64),
            description,
        }
    })
}
