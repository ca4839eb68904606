//! The connection object's side of [`crate::lifecycle::activity`]: batches the isolates deliver,
//! the refreshes the object makes, the owner's view and the dismissal of new-place notices, all in
//! the object's own storage under [`keys::OBJECT_ACTIVITY`]. Activity is best effort: failing
//! to record it never fails the operation that caused it.

use super::{ConnectionService, TokenOutcome};
use crate::http::HttpClient;
use crate::lifecycle::activity::view::ActivityView;
use crate::lifecycle::activity::{Activity, Batch, RefreshNote, RefreshResult, RefreshTrigger};
use crate::lifecycle::refresh::Unavailable;
use crate::secret::SecretHash;
use crate::time::UnixMillis;
use crate::vault::VaultError;
use crate::vault::keys;
use crate::vault::store::{AlarmSlot, KvStore, PutOptions, StoreError};

impl<O: KvStore + AlarmSlot, K: KvStore> ConnectionService<'_, O, K> {
    /// The stored activity; an unreadable value starts again from nothing (it holds no
    /// credential, and counts are not worth refusing requests over).
    async fn stored_activity(&self) -> Result<Activity, StoreError> {
        Ok(self
            .vault
            .object
            .get(keys::OBJECT_ACTIVITY)
            .await?
            .and_then(|text| crate::json::from_str(&text).ok())
            .unwrap_or_default())
    }

    async fn store_activity(&self, activity: &Activity) -> Result<(), StoreError> {
        let text = serde_json::to_string(activity).map_err(|e| StoreError {
            op: "encode activity",
            reason: e.to_string(),
        })?;
        self.vault
            .object
            .put(keys::OBJECT_ACTIVITY, &text, PutOptions::default())
            .await
    }

    /// Adds a batch of uses an isolate delivered. `false`: there is no such connection (it was
    /// deleted since), and nothing is written.
    pub async fn record_uses(
        &self,
        id: &str,
        batch: &Batch,
        now: UnixMillis,
    ) -> Result<bool, VaultError> {
        if self.record(id).await?.is_none() {
            return Ok(false);
        }
        let mut activity = self.stored_activity().await?;
        activity.merge(batch, now);
        self.store_activity(&activity).await?;
        Ok(true)
    }

    /// A token request that carries the uses an isolate counted (the warm path's renewal):
    /// the uses are recorded first, best effort, then the token is answered as
    /// [`ConnectionService::token`] does.
    pub async fn token_with_uses<C: HttpClient>(
        &self,
        http: &C,
        id: &str,
        presented: &SecretHash,
        rejected: Option<[u8; 32]>,
        uses: Option<&Batch>,
        now: UnixMillis,
    ) -> Result<Option<TokenOutcome>, VaultError> {
        if let Some(batch) = uses {
            // Counts are not worth failing a token over; the next delivery starts afresh.
            let _ = self.record_uses(id, batch, now).await;
        }
        self.token(http, id, presented, rejected, now).await
    }

    /// The owner's view of the activity. `None` when there is no such connection.
    pub async fn activity(
        &self,
        id: &str,
        now: UnixMillis,
    ) -> Result<Option<ActivityView>, VaultError> {
        if self.record(id).await?.is_none() {
            return Ok(None);
        }
        Ok(Some(self.stored_activity().await?.view(now)))
    }

    /// Dismisses the new-place notices of uses at or before `until` (those the owner saw).
    pub async fn dismiss_notices(
        &self,
        id: &str,
        until: UnixMillis,
        now: UnixMillis,
    ) -> Result<Option<ActivityView>, VaultError> {
        if self.record(id).await?.is_none() {
            return Ok(None);
        }
        let mut activity = self.stored_activity().await?;
        if activity.dismiss(until) {
            self.store_activity(&activity).await?;
        }
        Ok(Some(activity.view(now)))
    }

    /// Notes a refresh attempt made at `at` for `trigger` and how it ended. Best effort.
    pub(super) async fn note_refresh(
        &self,
        at: UnixMillis,
        trigger: RefreshTrigger,
        result: &Result<(), Unavailable>,
    ) {
        let outcome = match result {
            Ok(()) => RefreshResult::Refreshed,
            Err(Unavailable::NeedsReauth) => RefreshResult::NeedsReauth,
            Err(Unavailable::Transient { .. }) => RefreshResult::Failed,
        };
        let Ok(mut activity) = self.stored_activity().await else {
            return;
        };
        activity.note_refresh(RefreshNote {
            at,
            trigger,
            outcome,
        });
        let _ = self.store_activity(&activity).await;
    }

    /// Forgets the activity of a deleted connection.
    pub(super) async fn forget_activity(&self) -> Result<(), StoreError> {
        self.vault.object.delete(keys::OBJECT_ACTIVITY).await
    }
}
