//! The OAuth `state` parameter (RFC 6749 §10.12). It is sealed by the envelope, so it cannot be
//! forged or altered; it carries its own expiry; it names a server-side pending flow that is
//! deleted on first use; and it is bound to the browser that started the flow by the hash of a
//! random value held in an HttpOnly cookie.

use serde::{Deserialize, Serialize};

use crate::secret::{b64url, ct_eq_bytes, sha256};
use crate::time::UnixMillis;
use crate::vault::envelope::Keyring;

/// Associated data for sealed states: a state can never be opened as any other record.
const STATE_AAD: &[u8] = b"bindify/oauth-state/v1";

/// Name prefix of the per-flow browser-binding cookie.
const COOKIE_PREFIX: &str = "bindify_flow_";

crate::secret_type! {
    /// A sealed state, as sent to the authorization server and returned in the callback.
    #[derive(serde::Deserialize)]
    #[serde(transparent)]
    pub struct SealedState(String);
}

/// What a sealed state carries. `Debug` leaves out the cookie binding.
#[derive(Clone, Serialize, Deserialize)]
pub struct StateClaims {
    /// Id of the pending flow in storage.
    pub flow: String,
    /// Expiry, Unix milliseconds.
    pub exp: UnixMillis,
    /// base64url SHA-256 of the browser's cookie value.
    pub bind: String,
}

impl std::fmt::Debug for StateClaims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateClaims")
            .field("flow", &self.flow)
            .field("exp", &self.exp)
            .finish_non_exhaustive()
    }
}

/// Why a state was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateProblem {
    /// Not produced by this deployment (forged, damaged or sealed under another key).
    Invalid,
    Expired,
    /// The browser presenting it is not the one that started the flow.
    Foreign,
}

impl StateClaims {
    pub fn seal(
        &self,
        keyring: &Keyring,
    ) -> Result<SealedState, crate::vault::envelope::EnvelopeError> {
        keyring.seal_json(STATE_AAD, self).map(SealedState::new)
    }

    /// Opens a state: authenticity, then expiry.
    pub fn open(
        keyring: &Keyring,
        state: &SealedState,
        now: UnixMillis,
    ) -> Result<StateClaims, StateProblem> {
        let state = state.expose();
        // Sealed states are short; anything long is not ours and not worth decrypting.
        if state.len() > 1024 {
            return Err(StateProblem::Invalid);
        }
        let claims: StateClaims = keyring
            .open_json(STATE_AAD, state)
            .map_err(|_| StateProblem::Invalid)?;
        if now >= claims.exp {
            return Err(StateProblem::Expired);
        }
        Ok(claims)
    }

    /// Checks that the browser presenting the state is the one that started the flow.
    pub fn check_binding(&self, cookie_header: Option<&str>) -> Result<(), StateProblem> {
        let cookie = crate::connect::cookies::find(cookie_header, &cookie_name(&self.flow))
            .ok_or(StateProblem::Foreign)?;
        if ct_eq_bytes(binding_of(cookie).as_bytes(), self.bind.as_bytes()) {
            Ok(())
        } else {
            Err(StateProblem::Foreign)
        }
    }
}

/// The cookie that binds flow `flow_id` to its browser. One cookie per flow, so two connects
/// started in two tabs do not disturb each other.
pub fn cookie_name(flow_id: &str) -> String {
    format!("{COOKIE_PREFIX}{flow_id}")
}

/// The value stored in the state for a given cookie value.
pub fn binding_of(cookie_value: &str) -> String {
    b64url(&sha256(cookie_value.as_bytes()))
}
