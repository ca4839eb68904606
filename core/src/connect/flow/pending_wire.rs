//! How a [`PendingFlow`] is read. Its [`FlowExtras`] are written flat beside its other fields;
//! serde's reader of a flattened field buffers the whole object first (see `record::tagged`),
//! so this reads the same JSON with every field in one struct.

use serde::Deserialize;

use super::{FlowExtras, PendingFlow, PkceVerifier};
use crate::oauth::registration::ClientRegistration;
use crate::time::UnixMillis;

#[derive(Deserialize)]
pub(super) struct PendingFlowWire {
    server_url: String,
    resource: String,
    issuer: String,
    token_endpoint: String,
    revocation_endpoint: Option<String>,
    #[serde(default)]
    iss_required: bool,
    client: ClientRegistration,
    pkce_verifier: PkceVerifier,
    created_at: UnixMillis,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    reconnect_id: Option<String>,
    #[serde(default)]
    cli_code: Option<String>,
    #[serde(default)]
    reconnect_scopes: Vec<String>,
}

impl From<PendingFlowWire> for PendingFlow {
    fn from(w: PendingFlowWire) -> Self {
        PendingFlow {
            server_url: w.server_url,
            resource: w.resource,
            issuer: w.issuer,
            token_endpoint: w.token_endpoint,
            revocation_endpoint: w.revocation_endpoint,
            iss_required: w.iss_required,
            client: w.client,
            pkce_verifier: w.pkce_verifier,
            created_at: w.created_at,
            scopes: w.scopes,
            extras: FlowExtras {
                reconnect_id: w.reconnect_id,
                cli_code: w.cli_code,
                reconnect_scopes: w.reconnect_scopes,
            },
        }
    }
}
