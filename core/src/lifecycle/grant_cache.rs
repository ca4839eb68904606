//! What a Worker isolate remembers of the grants its requests used, so that a warm request
//! reaches the upstream with no object call and no KV read. The connection's object stays the
//! single writer: an isolate never refreshes, it only keeps what the object last handed out.
//!
//! Per connection id, an isolate keeps the hash of the URL secret the object accepted, the
//! [`Grant`] it answered with, and when it asked (the moment the call started, which is no later
//! than the moment the object looked). A request is answered from that entry when
//!
//! - the secret it presents hashes to the remembered hash (compared in constant time),
//! - the entry is younger than the **revocation bound** (`REVOCATION_BOUND_SECONDS`, default
//!   [`DEFAULT_BOUND_MS`]), and
//! - the token is fresh by the object's own rule ([`crate::lifecycle::refresh::fresh_until`]).
//!
//! Otherwise the request asks the object and waits for it: an isolate that holds nothing
//! (cold), a secret it has not seen accepted, a token near its expiry, an entry as old as the
//! bound. An upstream's 401 drops the entry that holds the refused credential (compared by its
//! hash, for every kind of connection: an access token, an API key) before the object is asked
//! with it.
//!
//! The bound is the promise made for rotation and revocation: an object that no longer accepts
//! a secret is asked about it at most `bound` after the last time it accepted it, so a
//! rotated-away or revoked URL answers for at most that long, in any isolate. Past half the
//! bound, the first request is still answered from the entry but the isolate asks the object
//! in the background (the Worker's `wait_until`), once; under steady traffic the entry is
//! renewed before it reaches the bound and requests rarely wait for the object. A bound of 0
//! asks the object on every request.
//!
//! Only what an object confirmed is remembered, keyed by connection id: an unknown secret
//! fails at the URL index and never reaches this cache, so a flood of made-up secrets cannot
//! grow it. It holds at most [`MAX_ENTRIES`] entries of at most [`MAX_GRANT_BYTES`] each: when
//! full, entries older than the bound go first, then the least recently used.

use std::collections::HashMap;

use crate::lifecycle::connection_service::Grant;
use crate::secret::{SecretHash, ct_eq_bytes};
use crate::time::UnixMillis;

#[cfg(test)]
mod tests;

/// The revocation bound when `REVOCATION_BOUND_SECONDS` is not set: long enough that an entry
/// renewed in the background every five seconds of traffic spares requests the object's round
/// trip, short enough that a rotated or revoked URL is gone within seconds.
pub const DEFAULT_BOUND_MS: i64 = 10_000;

/// Connections an isolate remembers at most.
pub const MAX_ENTRIES: usize = 1_024;

/// The largest grant an isolate remembers (its token and upstream URL): a larger one is asked
/// for on every request. With [`MAX_ENTRIES`], the cache stays under about 8 MiB.
pub const MAX_GRANT_BYTES: usize = 8 * 1024;

/// Why a request must ask the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// Nothing remembered for this connection (or the bound is 0).
    Cold,
    /// The remembered secret is another one: only the object can say which one opens it now.
    OtherSecret,
    /// The entry is as old as the bound (or the clock went back).
    BoundDue,
    /// The token is too close to its expiry to send.
    NearExpiry,
}

/// What to do for a request.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// Send the request with this grant.
    Warm(Grant),
    /// Send it with this grant, and ask the object in the background to renew the entry.
    WarmRevalidate(Grant),
    /// Ask the object and wait for its answer.
    Ask(Ask),
}

struct Entry {
    hash: SecretHash,
    grant: Grant,
    /// When the call that the object answered with this grant started.
    asked_at: UnixMillis,
    /// A background call under way since then, if any.
    revalidating_since: Option<UnixMillis>,
    used_at: UnixMillis,
}

/// An isolate's grants, by connection id (see the module docs).
pub struct GrantCache {
    entries: HashMap<String, Entry>,
    capacity: usize,
}

impl Default for GrantCache {
    fn default() -> Self {
        Self::new(MAX_ENTRIES)
    }
}

fn grant_bytes(grant: &Grant) -> usize {
    grant
        .access_token
        .secret()
        .len()
        .saturating_add(grant.upstream.len())
}

impl GrantCache {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            capacity: capacity.max(1),
        }
    }

    /// What to do for a request to connection `id` with the secret hashed as `presented`, at
    /// `now`, under the revocation bound `bound_ms`.
    pub fn lookup(
        &mut self,
        id: &str,
        presented: &SecretHash,
        now: UnixMillis,
        bound_ms: i64,
    ) -> Lookup {
        if bound_ms <= 0 {
            return Lookup::Ask(Ask::Cold);
        }
        let Some(entry) = self.entries.get_mut(id) else {
            return Lookup::Ask(Ask::Cold);
        };
        if !entry.hash.ct_eq(presented) {
            return Lookup::Ask(Ask::OtherSecret);
        }
        let age = now.saturating_sub(entry.asked_at);
        if age < 0 || age >= bound_ms {
            return Lookup::Ask(Ask::BoundDue);
        }
        if entry.grant.fresh_until.is_some_and(|until| until <= now) {
            return Lookup::Ask(Ask::NearExpiry);
        }
        entry.used_at = now;
        // A background call that has not reported within a quarter of the bound is taken as
        // lost, so another request tries before the entry reaches the bound.
        let under_way = entry
            .revalidating_since
            .is_some_and(|since| now.saturating_sub(since) < bound_ms / 4);
        if age >= bound_ms / 2 && !under_way {
            entry.revalidating_since = Some(now);
            return Lookup::WarmRevalidate(entry.grant.clone());
        }
        Lookup::Warm(entry.grant.clone())
    }

    /// Remembers that the object answered the secret hashed as `hash` with `grant`, in a call
    /// started at `asked_at`. An answer to a call older than the entry already held is not
    /// kept; nothing is kept under a bound of 0, or for a grant over [`MAX_GRANT_BYTES`].
    pub fn remember(
        &mut self,
        id: &str,
        hash: &SecretHash,
        grant: &Grant,
        asked_at: UnixMillis,
        bound_ms: i64,
    ) {
        if bound_ms <= 0 || grant_bytes(grant) > MAX_GRANT_BYTES {
            self.entries.remove(id);
            return;
        }
        match self.entries.get_mut(id) {
            Some(entry) if entry.asked_at > asked_at => return,
            Some(entry) => {
                entry.hash = *hash;
                entry.grant = grant.clone();
                entry.asked_at = asked_at;
                entry.revalidating_since = None;
                entry.used_at = entry.used_at.max(asked_at);
                return;
            }
            None => {}
        }
        if self.entries.len() >= self.capacity {
            self.make_room(asked_at, bound_ms);
        }
        self.entries.insert(
            id.to_owned(),
            Entry {
                hash: *hash,
                grant: grant.clone(),
                asked_at,
                revalidating_since: None,
                used_at: asked_at,
            },
        );
    }

    /// Drops entries as old as the bound; if none was, the least recently used one.
    fn make_room(&mut self, now: UnixMillis, bound_ms: i64) {
        let before = self.entries.len();
        self.entries
            .retain(|_, entry| now.saturating_sub(entry.asked_at) < bound_ms);
        if self.entries.len() < before {
            return;
        }
        let oldest = self
            .entries
            .iter()
            .min_by_key(|(_, entry)| entry.used_at)
            .map(|(id, _)| id.clone());
        if let Some(oldest) = oldest {
            self.entries.remove(&oldest);
        }
    }

    /// The object did not answer the secret hashed as `hash` with a token (the URL no longer
    /// opens the connection): forgets the entry if it is for that secret.
    pub fn forget_secret(&mut self, id: &str, hash: &SecretHash) {
        if self
            .entries
            .get(id)
            .is_some_and(|entry| entry.hash.ct_eq(hash))
        {
            self.entries.remove(id);
        }
    }

    /// Forgets connection `id`: the object answered that the connection cannot be used (it
    /// needs authorizing again, its server is failing).
    pub fn forget(&mut self, id: &str) {
        self.entries.remove(id);
    }

    /// The upstream answered 401 to the credential hashed as `refused` (an access token, an API
    /// key, or an open server's empty one: [`Grant::credential_hash`]): forgets connection
    /// `id`'s entry if it holds that credential. An entry another request already renewed
    /// holds a newer one, and stays.
    pub fn forget_refused(&mut self, id: &str, refused: &[u8; 32]) {
        if self
            .entries
            .get(id)
            .is_some_and(|entry| ct_eq_bytes(&entry.grant.credential_hash(), refused))
        {
            self.entries.remove(id);
        }
    }

    /// A background call could not reach the object: the entry stays until the bound, and the
    /// next request past half the bound tries again.
    pub fn revalidation_failed(&mut self, id: &str) {
        if let Some(entry) = self.entries.get_mut(id) {
            entry.revalidating_since = None;
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
