//! Which client Bindify authorizes as, in order: one the operator configured
//! (`OAUTH_CLIENTS`), one the owner entered ([`crate::connect::owner_client`]), Bindify's Client ID
//! Metadata Document where the server accepts those, else a dynamic registration made for this
//! authorization alone.
//!
//! A dynamic registration is not shared between connections. Servers built on Cloudflare's
//! `workers-oauth-provider` (Notion, Sentry, Linear) revoke a user's earlier grants when the
//! same client is authorized by that user again, so two connections to one account through a
//! shared client would end each other; with a client per authorization they stay apart, and
//! a client the server stopped accepting (`invalid_client`, its registration expired) is
//! simply not used again.

use super::{CLIENT_NAME, ConnectError, ConnectSettings};
use crate::connect::owner_client::OwnerClients;
use crate::http::HttpClient;
use crate::oauth::discovery::Discovered;
use crate::oauth::registration::{self, ClientRegistration};
use crate::time::UnixMillis;
use crate::vault::envelope::Keyring;
use crate::vault::store::KvStore;

pub(super) async fn obtain<C: HttpClient, S: KvStore>(
    http: &C,
    store: &S,
    keyring: &Keyring,
    settings: &ConnectSettings,
    found: &Discovered,
    scopes: &[String],
    now: UnixMillis,
) -> Result<ClientRegistration, ConnectError> {
    let issuer = found.issuer.as_str();
    let supported = found
        .metadata
        .token_endpoint_auth_methods_supported
        .as_deref();
    let configured = settings.configured_clients.get(issuer).or_else(|| {
        settings
            .configured_clients
            .get(issuer.trim_end_matches('/'))
    });
    if let Some(configured) = configured {
        return Ok(configured.clone().into_registration(supported, now));
    }
    let entered = OwnerClients {
        store,
        keyring,
        redirect_uri: settings.redirect_uri.as_str(),
    }
    .find(issuer)
    .await?;
    if let Some(entered) = entered {
        return Ok(entered.registration(supported));
    }
    if let Some(client) = registration::without_registration(
        None,
        settings.client_metadata_url.as_ref(),
        &found.metadata,
        now,
    ) {
        return Ok(client);
    }
    Ok(registration::register(
        http,
        &found.metadata,
        &settings.redirect_uri,
        scopes,
        CLIENT_NAME,
        now,
    )
    .await?)
}
