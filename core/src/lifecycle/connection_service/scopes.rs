//! The connection object's part in scope step-up ([`crate::oauth::step_up`]) and in reconnecting:
//! recording an upstream's `insufficient_scope` challenge, and telling the reconnect page what
//! to ask for.

use serde::{Deserialize, Serialize};

use super::ConnectionService;
use crate::oauth::step_up::{self, StepUp};
use crate::secret::SecretHash;
use crate::vault::VaultError;
use crate::vault::record::{ConnectionKind, ConnectionRecord, UpstreamAuth};
use crate::vault::store::{AlarmSlot, KvStore};

/// What an `insufficient_scope` challenge did to a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepUpOutcome {
    /// The secret does not open this connection.
    NotFound,
    /// The connection has no OAuth grant to step up (an API key, an open server): the upstream's
    /// answer goes to the client as it is.
    NotOAuth,
    StepUp(StepUp),
}

/// What reconnecting a connection asks the owner for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconnectPlan {
    pub id: String,
    pub server_url: String,
    pub kind: ConnectionKind,
    /// The scopes the authorization asks for (see [`step_up::reconnect_scopes`]).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The header of an API key, to fill the form with.
    #[serde(default)]
    pub header_name: Option<String>,
    /// The client id of a connection made with a client's own credentials.
    #[serde(default)]
    pub client_id: Option<String>,
}

impl ReconnectPlan {
    pub fn of(record: &ConnectionRecord) -> Self {
        let kind = record.kind();
        ReconnectPlan {
            id: record.id.clone(),
            server_url: record.server_url.clone(),
            kind,
            scopes: record
                .oauth
                .as_ref()
                .map(step_up::reconnect_scopes)
                .unwrap_or_default(),
            header_name: match &record.upstream_auth {
                UpstreamAuth::Header { name } => Some(name.clone()),
                UpstreamAuth::Bearer | UpstreamAuth::None => None,
            },
            client_id: record
                .oauth
                .as_ref()
                .filter(|_| {
                    matches!(
                        kind,
                        ConnectionKind::ClientCredentials | ConnectionKind::IdentityAssertion
                    )
                })
                .map(|o| o.client.client_id.clone()),
        }
    }
}

impl<O: KvStore + AlarmSlot, K: KvStore> ConnectionService<'_, O, K> {
    /// Records that the upstream answered the holder of `presented` with `insufficient_scope`,
    /// asking for `challenge`.
    pub async fn step_up(
        &self,
        id: &str,
        presented: &SecretHash,
        challenge: &[String],
    ) -> Result<StepUpOutcome, VaultError> {
        self.flush().await?;
        let _turn = self.memory.refresh_lock.lock().await;
        let Some(mut record) = self.authorized(id, presented).await? else {
            return Ok(StepUpOutcome::NotFound);
        };
        let tokens = record.tokens.clone();
        let Some(oauth) = record.oauth.as_mut() else {
            return Ok(StepUpOutcome::NotOAuth);
        };
        let verdict = step_up::on_insufficient_scope(oauth, &tokens, challenge);
        self.commit(record).await?;
        Ok(StepUpOutcome::StepUp(verdict))
    }

    /// What reconnecting connection `id` asks for; `None` when there is no such connection.
    pub async fn reconnect_plan(&self, id: &str) -> Result<Option<ReconnectPlan>, VaultError> {
        Ok(self.record(id).await?.as_ref().map(ReconnectPlan::of))
    }
}
