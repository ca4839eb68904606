//! What keeps a connection's object in order besides its requests: the KV mirror and the alarm
//! follow every change of the record ([`ConnectionService::settle`]), an operation first
//! catches up with what an earlier one could not finish ([`ConnectionService::catch_up`]), the
//! alarm refreshes the token ([`ConnectionService::on_alarm`]), and the cron's sweep finds an
//! object without the alarm it needs ([`ConnectionService::sweep`]).
//!
//! The object keeps in memory what it last wrote to the mirror and set as its alarm, so a
//! routine refresh costs one write of the record and one of the alarm, and no KV write.
//! Setting the alarm is best effort: when it fails, the next operation sets it, and the cron's
//! sweep finds it missing otherwise.

use super::{ConnectionService, CronOutcome, Visit};
use crate::http::HttpClient;
use crate::lifecycle::activity::RefreshTrigger;
use crate::lifecycle::refresh::{self, Unavailable};
use crate::lifecycle::schedule;
use crate::time::UnixMillis;
use crate::vault::keys;
use crate::vault::record::ConnectionRecord;
use crate::vault::store::{AlarmSlot, KvStore, PutOptions};
use crate::vault::{VaultError, settled_mirror_metadata};

#[cfg(test)]
mod tests;

impl<O: KvStore + AlarmSlot, K: KvStore> ConnectionService<'_, O, K> {
    /// After a change of connection `id` (its `record`, or `None` once deleted): the KV mirror
    /// if its metadata changed, then the alarm. Only the object's own storage failing is an
    /// error.
    pub(super) async fn settle(
        &self,
        id: &str,
        record: Option<&ConnectionRecord>,
    ) -> Result<(), VaultError> {
        self.sync_mirror(id, record).await?;
        // Best effort: a failure leaves the alarm unknown, so the next operation sets it.
        if self.arm(id, record, false).await.is_err() {
            self.memory.alarm.set(None);
        }
        Ok(())
    }

    /// Writes the KV mirror when the metadata it should hold differs from what this object
    /// last wrote. KV refusing is not an error: the next operation compares again.
    async fn sync_mirror(
        &self,
        id: &str,
        record: Option<&ConnectionRecord>,
    ) -> Result<(), VaultError> {
        let cached = self.memory.mirrored.borrow().clone();
        let known = match cached {
            Some(known) => known,
            None => {
                let stored = self.vault.mirrored().await?;
                if stored.is_none() {
                    // An object of an earlier version (or a new one): its marker goes.
                    self.vault.drop_legacy_marker().await?;
                }
                self.memory.mirrored.replace(Some(stored.clone()));
                stored
            }
        };
        let wanted = record.map(|r| settled_mirror_metadata(r, known.as_deref()));
        if known == wanted {
            return Ok(());
        }
        if self.vault.write_mirror(id, wanted.as_deref()).await? {
            self.memory.mirrored.replace(Some(wanted));
        }
        Ok(())
    }

    /// Sets, moves or deletes the alarm so that it is what `record` needs. With `verify`, the
    /// alarm is read from storage even when this object believes it knows it. An alarm that
    /// was needed and missing is noted for the cron's next visit to report.
    async fn arm(
        &self,
        id: &str,
        record: Option<&ConnectionRecord>,
        verify: bool,
    ) -> Result<(), VaultError> {
        let wanted = record.and_then(schedule::alarm_at);
        let current = match self.memory.alarm.get() {
            Some(known) if !verify => known,
            _ => {
                let stored = self.vault.object.alarm().await?;
                // Missing as the runtime says (not because this object saw it fire).
                if wanted.is_some() && stored.is_none() {
                    self.memory.found_missing.set(true);
                }
                stored
            }
        };
        if current != wanted {
            match wanted {
                Some(at) => {
                    self.store_id(id).await?;
                    self.vault.object.set_alarm(at).await?;
                }
                None => self.vault.object.delete_alarm().await?,
            }
        }
        if record.is_none() && self.memory.alarm.get() != Some(None) {
            // The connection is gone: so is the id its alarm handler would have read.
            self.vault.object.delete(keys::OBJECT_ID).await?;
            self.memory.id_stored.set(false);
        }
        self.memory.alarm.set(Some(wanted));
        Ok(())
    }

    /// Keeps the connection's id in storage, where the alarm handler finds it.
    async fn store_id(&self, id: &str) -> Result<(), VaultError> {
        if self.memory.id_stored.get() {
            return Ok(());
        }
        if self.vault.object.get(keys::OBJECT_ID).await?.as_deref() != Some(id) {
            self.vault
                .object
                .put(keys::OBJECT_ID, id, PutOptions::default())
                .await?;
        }
        self.memory.id_stored.set(true);
        Ok(())
    }

    /// The connection's id as stored for the alarm handler (see [`keys::OBJECT_ID`]).
    pub async fn stored_id(&self) -> Result<Option<String>, VaultError> {
        Ok(self.vault.object.get(keys::OBJECT_ID).await?)
    }

    /// Run before each operation: a record write that failed earlier is retried, and the KV
    /// mirror and the alarm catch up with the record. An object from before alarms gets its
    /// alarm here, at its first operation.
    pub async fn catch_up(&self, id: &str) -> Result<(), VaultError> {
        self.flush().await?;
        let record = self.record(id).await?;
        self.sync_mirror(id, record.as_ref()).await?;
        if self.memory.alarm.get().is_none() && self.arm(id, record.as_ref(), false).await.is_err()
        {
            self.memory.alarm.set(None);
        }
        Ok(())
    }

    /// The alarm fired at `now`: refresh if the token's time has come, and set the next alarm.
    pub async fn on_alarm<C: HttpClient>(
        &self,
        http: &C,
        id: &str,
        now: UnixMillis,
    ) -> Result<CronOutcome, VaultError> {
        // The runtime cleared the alarm that fired.
        self.memory.alarm.set(Some(None));
        self.catch_up(id).await?;
        self.refresh_if_due(http, id, now, RefreshTrigger::Alarm)
            .await
    }

    /// The cron's visit: sets the alarm if it is missing (an object from before alarms, or a
    /// chain of alarms that broke), and refreshes if the alarm's time has passed.
    pub async fn sweep<C: HttpClient>(
        &self,
        http: &C,
        id: &str,
        now: UnixMillis,
    ) -> Result<Visit, VaultError> {
        self.catch_up(id).await?;
        let record = self.record(id).await?;
        self.arm(id, record.as_ref(), true).await?;
        // Whoever set it (this visit, or the catch-up of any operation since the last visit).
        let rearmed = self.memory.found_missing.take();
        let outcome = self
            .refresh_if_due(http, id, now, RefreshTrigger::Cron)
            .await?;
        Ok(Visit { rearmed, outcome })
    }

    /// Refreshes under the lock if [`schedule::due`] says so; the commit sets the next alarm.
    /// The attempt is noted in the activity with its `trigger`.
    async fn refresh_if_due<C: HttpClient>(
        &self,
        http: &C,
        id: &str,
        now: UnixMillis,
        trigger: RefreshTrigger,
    ) -> Result<CronOutcome, VaultError> {
        let _turn = self.memory.refresh_lock.lock().await;
        let Some(mut record) = self.record(id).await? else {
            return Ok(CronOutcome::Missing);
        };
        if !schedule::due(&record, now) {
            if self.arm(id, Some(&record), false).await.is_err() {
                self.memory.alarm.set(None);
            }
            return Ok(CronOutcome::NotDue);
        }
        self.memory.last_attempt.set(Some(now));
        let result = refresh::refresh(http, &mut record, now).await;
        self.note_refresh(now, trigger, &result).await;
        let outcome = match result {
            Ok(()) => CronOutcome::Refreshed,
            Err(Unavailable::NeedsReauth) => CronOutcome::NeedsReauth,
            Err(Unavailable::Transient { .. }) => CronOutcome::Transient,
        };
        self.commit(record).await?;
        Ok(outcome)
    }
}
