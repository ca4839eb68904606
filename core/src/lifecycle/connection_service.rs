//! What a connection's Durable Object does, written against the core's storage and HTTP
//! traits so it runs natively in tests. One instance of [`ObjectMemory`] lives in each object.
//!
//! Exactly one refresh at a time: every refresh runs under the object's refresh lock, and
//! after acquiring it the record is re-read and the decision taken again, so callers that
//! queued behind a refresh use its result instead of refreshing again. The refreshed record is
//! written to the object's storage before any caller receives the new access token.
//!
//! The lock is held for one token request and one storage write. The HTTP client bounds the
//! token request (on Workers, `fetch_http` aborts it after its timeout), so an authorization
//! server that never answers holds the lock, and every caller queued behind it, no longer than
//! that timeout; the caller that held it gets a transient failure and the backoff starts.
//!
//! A refresh asked for because the upstream refused an unexpired token is limited by
//! [`RejectionRefreshes`]: at most one per token and one a minute, kept in the object's memory.
//! An object only leaves memory after it has been idle, that is when no request is arriving to
//! be refused, so the limit holds for as long as a hostile upstream is being asked.
//!
//! While the authorization server fails, a request that needs a token tries the token endpoint
//! itself, at most once every [`refresh::DEMAND_REFRESH_INTERVAL_MS`] (the time of the last
//! attempt, the alarm's included, is kept in memory too); the backoff only spaces the alarm's
//! attempts. Queued callers re-decide after the lock, so one attempt serves them all.
//!
//! Deleting a connection, and replacing its grant by a reconnect, end the old grant at its
//! authorization server (RFC 7009, best effort); which token ends it is
//! [`crate::connect::flow::revoke`]'s choice.
//!
//! After every change of the record the object sets its alarm from it
//! ([`crate::lifecycle::schedule`]), and rewrites the KV mirror if the record's listed metadata
//! changed ([`crate::vault`]); the alarm handler, the cron's visit and the catch-up that runs
//! before each operation are in [`upkeep`].

use std::cell::{Cell, RefCell};

use futures_util::lock::Mutex;
use oauth2::AccessToken;
use serde::{Deserialize, Serialize};

use crate::connect::flow::revoke::{ReplacedGrant, grant_token, replaced_grant_token, revoke};
use crate::http::HttpClient;
use crate::lifecycle::activity::RefreshTrigger;
use crate::lifecycle::refresh::{self, Decision, RefreshLimited, RejectionRefreshes, Unavailable};
use crate::oauth::tokens::Revocation;
use crate::secret::{SecretHash, sha256};
use crate::time::UnixMillis;
use crate::vault::record::{ConnectionRecord, ConnectionView, UpstreamAuth};
use crate::vault::store::{AlarmSlot, KvStore};
use crate::vault::{Vault, VaultError};

/// In-memory state of one connection object: the decrypted record (the object is its only
/// writer, so the copy cannot go stale), whether it still has to be written, and the lock.
#[derive(Default)]
pub struct ObjectMemory {
    record: RefCell<Option<ConnectionRecord>>,
    /// The cached record is newer than storage (a write failed); write it before anything else.
    unsaved: Cell<bool>,
    refresh_lock: Mutex<()>,
    /// Refreshes made because the upstream refused an unexpired token.
    rejections: Cell<RejectionRefreshes>,
    /// When this object last reached for the token endpoint (a request's attempt, its alarm's
    /// or the cron's); requests wait [`refresh::DEMAND_REFRESH_INTERVAL_MS`] after it while it
    /// fails.
    last_attempt: Cell<Option<UnixMillis>>,
    /// The metadata the KV mirror holds (JSON), as this object last wrote it; `None` until read
    /// from storage, `Some(None)` when there is no mirror.
    mirrored: RefCell<Option<Option<String>>>,
    /// The alarm as this object last set or read it; `None` until known.
    alarm: Cell<Option<Option<UnixMillis>>>,
    /// Whether the connection's id is known to be in storage, for the alarm handler.
    id_stored: Cell<bool>,
    /// This object found itself without the alarm it needed (and set it) since the cron's last
    /// visit, which reports it.
    found_missing: Cell<bool>,
}

/// A usable credential (an access token, or the owner's API key), as the object hands it out
/// and a Worker isolate may keep it (see [`crate::lifecycle::grant_cache`]). `Debug` is redacted by
/// `AccessToken`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Grant {
    pub access_token: AccessToken,
    pub expires_at: Option<UnixMillis>,
    /// The MCP server URL the token is for.
    pub upstream: String,
    /// From this instant the token is no longer sent ([`refresh::fresh_until`]): a holder asks
    /// the object again. `None`: the token states no expiry.
    #[serde(default)]
    pub fresh_until: Option<UnixMillis>,
    /// How the credential goes upstream.
    #[serde(default)]
    pub upstream_auth: UpstreamAuth,
}

impl Grant {
    /// The request field that carries the credential upstream, name and value: `Authorization:
    /// Bearer <token>`, the owner's header with the API key, or none for an open server.
    pub fn authorization(&self) -> Option<(&str, String)> {
        match &self.upstream_auth {
            UpstreamAuth::Bearer => Some((
                "authorization",
                format!("Bearer {}", self.access_token.secret()),
            )),
            UpstreamAuth::Header { name } => {
                Some((name.as_str(), self.access_token.secret().clone()))
            }
            UpstreamAuth::None => None,
        }
    }

    /// Whether the credential is an OAuth access token (a refused one can be renewed).
    pub fn is_oauth(&self) -> bool {
        self.upstream_auth == UpstreamAuth::Bearer
    }

    /// The SHA-256 of the credential this grant sends, whatever its kind: what a refusal names
    /// to the object, and what a Worker isolate compares before it drops a remembered grant.
    pub fn credential_hash(&self) -> [u8; 32] {
        sha256(self.access_token.secret().as_bytes())
    }
}

/// The answer to "give me a token".
#[derive(Debug, Clone)]
pub enum TokenOutcome {
    Token(Grant),
    Unavailable(Unavailable),
    /// The upstream refused the current token, and a refresh for that refusal is not allowed
    /// now (see [`RejectionRefreshes`]).
    RefreshLimited(RefreshLimited),
}

/// What a background visit (the object's alarm, or the cron's sweep) did about the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CronOutcome {
    NotDue,
    Refreshed,
    NeedsReauth,
    Transient,
    Missing,
}

/// What one visit of the cron's sweep found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    /// The object needed an alarm and had none (found by this visit, or by another operation
    /// since the last visit): it set one.
    pub rearmed: bool,
    pub outcome: CronOutcome,
}

/// What deleting a connection did.
#[derive(Debug, Clone)]
pub struct Deleted {
    /// The hash of its URL secret, whose index entry must go.
    pub old_hash: SecretHash,
    /// How revoking its grant at the authorization server went.
    pub upstream_revocation: Revocation,
}

/// A connection object's operations. `O` is the object's storage, with its alarm.
pub struct ConnectionService<'a, O: KvStore + AlarmSlot, K: KvStore> {
    pub vault: Vault<'a, O, K>,
    pub memory: &'a ObjectMemory,
}

impl<O: KvStore + AlarmSlot, K: KvStore> ConnectionService<'_, O, K> {
    /// The current record: from memory, else from storage.
    pub async fn record(&self, id: &str) -> Result<Option<ConnectionRecord>, VaultError> {
        if let Some(record) = self.memory.record.borrow().as_ref() {
            return Ok(Some(record.clone()));
        }
        let loaded = self.vault.load(id).await?;
        self.memory.record.replace(loaded.clone());
        Ok(loaded)
    }

    /// Stores a new connection: its record, its KV mirror and its alarm.
    pub async fn create(&self, record: &ConnectionRecord) -> Result<(), VaultError> {
        self.vault.create(record).await?;
        self.memory.record.replace(Some(record.clone()));
        self.memory.unsaved.set(false);
        // A new object has no alarm yet; that is not an alarm gone missing.
        self.memory.alarm.set(Some(None));
        self.settle(&record.id, Some(record)).await
    }

    /// Writes `record` and makes it the current one, then its mirror and alarm follow. If the
    /// write fails, the record is still kept in memory (it may hold a rotated refresh token
    /// that exists nowhere else) and the write is retried by the next operation.
    async fn commit(&self, record: ConnectionRecord) -> Result<(), VaultError> {
        self.memory.record.replace(Some(record.clone()));
        match self.vault.save(&record).await {
            Ok(()) => self.memory.unsaved.set(false),
            Err(e) => {
                self.memory.unsaved.set(true);
                return Err(e);
            }
        }
        self.settle(&record.id, Some(&record)).await
    }

    /// Retries a write that failed earlier.
    async fn flush(&self) -> Result<(), VaultError> {
        if !self.memory.unsaved.get() {
            return Ok(());
        }
        let record = self.memory.record.borrow().clone();
        match record {
            Some(record) => self.commit(record).await,
            None => Ok(()),
        }
    }

    /// The record, only for the holder of its current URL secret.
    pub async fn authorized(
        &self,
        id: &str,
        presented: &SecretHash,
    ) -> Result<Option<ConnectionRecord>, VaultError> {
        Ok(self
            .record(id)
            .await?
            .filter(|r| r.secret_hash.ct_eq(presented)))
    }

    /// A token for a request. `rejected` is the SHA-256 of a token the upstream just refused
    /// with 401. `None` when the secret does not open this connection.
    pub async fn token<C: HttpClient>(
        &self,
        http: &C,
        id: &str,
        presented: &SecretHash,
        rejected: Option<[u8; 32]>,
        now: UnixMillis,
    ) -> Result<Option<TokenOutcome>, VaultError> {
        self.flush().await?;
        let Some(record) = self.authorized(id, presented).await? else {
            return Ok(None);
        };
        if record.oauth.is_none() {
            // An API key (or no credential) is not renewed: a refusal is reported as it is, and
            // the next request sends the same key again.
            let refused = rejected.is_some_and(|hash| refresh::is_current_token(&record, &hash));
            return Ok(Some(if refused {
                TokenOutcome::RefreshLimited(RefreshLimited { retry_at: None })
            } else {
                TokenOutcome::Token(grant(&record))
            }));
        }
        let last_attempt = self.memory.last_attempt.get();
        match refresh::decide(&record, now, rejected.as_ref(), last_attempt) {
            Ok(Decision::UseCurrent) => Ok(Some(TokenOutcome::Token(grant(&record)))),
            Err(Unavailable::NeedsReauth) => {
                Ok(Some(TokenOutcome::Unavailable(Unavailable::NeedsReauth)))
            }
            // A transient answer is decided again under the lock: the attempt that made it
            // may still be under way, and its result is this caller's too.
            Ok(Decision::Refresh | Decision::RefreshRejected)
            | Err(Unavailable::Transient { .. }) => {
                let _turn = self.memory.refresh_lock.lock().await;
                // Re-read: a refresh may have finished while this caller waited its turn.
                let Some(mut record) = self.record(id).await? else {
                    return Ok(None);
                };
                let last_attempt = self.memory.last_attempt.get();
                match refresh::decide(&record, now, rejected.as_ref(), last_attempt) {
                    Ok(Decision::UseCurrent) => Ok(Some(TokenOutcome::Token(grant(&record)))),
                    Err(unavailable) => Ok(Some(TokenOutcome::Unavailable(unavailable))),
                    Ok(decision) => {
                        if let (Decision::RefreshRejected, Some(rejected)) = (decision, &rejected) {
                            let mut rejections = self.memory.rejections.get();
                            if let Err(limited) = rejections.check(rejected, now) {
                                return Ok(Some(TokenOutcome::RefreshLimited(limited)));
                            }
                            rejections.note(rejected, now);
                            self.memory.rejections.set(rejections);
                        }
                        self.memory.last_attempt.set(Some(now));
                        let result = refresh::refresh(http, &mut record, now).await;
                        let trigger = match decision {
                            Decision::RefreshRejected => RefreshTrigger::Rejected,
                            _ => RefreshTrigger::Request,
                        };
                        self.note_refresh(now, trigger, &result).await;
                        let answer = match result {
                            Ok(()) => TokenOutcome::Token(grant(&record)),
                            Err(unavailable) => TokenOutcome::Unavailable(unavailable),
                        };
                        self.commit(record).await?;
                        Ok(Some(answer))
                    }
                }
            }
        }
    }

    /// Binds the grant of `fresh` to connection `id` (a reconnect), then revokes the grant it
    /// replaced at its server (best effort). `None` when there is no such connection.
    pub async fn rebind<C: HttpClient>(
        &self,
        http: &C,
        id: &str,
        fresh: ConnectionRecord,
        now: UnixMillis,
    ) -> Result<Option<ReplacedGrant>, VaultError> {
        let new_tokens = fresh.tokens.clone();
        let replaced = {
            let _turn = self.memory.refresh_lock.lock().await;
            let Some(mut record) = self.record(id).await? else {
                return Ok(None);
            };
            let replaced = record.clone();
            record.rebind(fresh, now);
            self.commit(record).await?;
            replaced
        };
        Ok(Some(
            match replaced_grant_token(&replaced.tokens, &new_tokens) {
                Some((token, hint)) => {
                    ReplacedGrant::from(revoke(http, &replaced, token, hint, now).await)
                }
                None => ReplacedGrant::StillInUse,
            },
        ))
    }
}

/// Owner operations. The Worker calls these only after checking the owner's credential.
impl<O: KvStore + AlarmSlot, K: KvStore> ConnectionService<'_, O, K> {
    pub async fn view(&self, id: &str) -> Result<Option<ConnectionView>, VaultError> {
        Ok(self.record(id).await?.map(|r| r.view()))
    }

    pub async fn set_label(
        &self,
        id: &str,
        label: &str,
    ) -> Result<Option<ConnectionView>, VaultError> {
        let _turn = self.memory.refresh_lock.lock().await;
        let Some(mut record) = self.record(id).await? else {
            return Ok(None);
        };
        record.label = label.to_owned();
        let view = record.view();
        self.commit(record).await?;
        Ok(Some(view))
    }

    /// Replaces the URL secret's hash; returns the old one (whose index entry must go).
    pub async fn rotate(
        &self,
        id: &str,
        new_hash: SecretHash,
    ) -> Result<Option<SecretHash>, VaultError> {
        let _turn = self.memory.refresh_lock.lock().await;
        let Some(mut record) = self.record(id).await? else {
            return Ok(None);
        };
        let before = record.clone();
        let old = std::mem::replace(&mut record.secret_hash, new_hash);
        if let Err(e) = self.commit(record).await {
            // The owner never receives a URL whose rotation failed, so the one that works stays
            // current; it is written again before the next operation in case the failed write
            // landed.
            self.memory.record.replace(Some(before));
            self.memory.unsaved.set(true);
            return Err(e);
        }
        Ok(Some(old))
    }

    /// Deletes the connection, then ends its grant at its authorization server (RFC 7009, best
    /// effort). `None` when there is no such connection.
    pub async fn delete<C: HttpClient>(
        &self,
        http: &C,
        id: &str,
        now: UnixMillis,
    ) -> Result<Option<Deleted>, VaultError> {
        let record = {
            let _turn = self.memory.refresh_lock.lock().await;
            let Some(record) = self.record(id).await? else {
                return Ok(None);
            };
            self.vault.delete().await?;
            // Best effort: with the record gone, nothing reads or adds to what is left.
            let _ = self.forget_activity().await;
            self.memory.record.replace(None);
            self.memory.unsaved.set(false);
            self.settle(id, None).await?;
            record
        };
        let (token, hint) = grant_token(&record.tokens);
        let upstream_revocation = revoke(http, &record, token, hint, now).await;
        Ok(Some(Deleted {
            old_hash: record.secret_hash,
            upstream_revocation,
        }))
    }
}

fn grant(record: &ConnectionRecord) -> Grant {
    Grant {
        access_token: record.tokens.access_token.clone(),
        expires_at: record.tokens.expires_at,
        upstream: record.server_url.clone(),
        fresh_until: refresh::fresh_until(record),
        upstream_auth: record.upstream_auth.clone(),
    }
}

mod activity;
#[cfg(test)]
mod activity_tests;
mod upkeep;

#[cfg(test)]
mod kinds_tests;
mod scopes;
#[cfg(test)]
mod tests;

pub use scopes::{ReconnectPlan, StepUpOutcome};
