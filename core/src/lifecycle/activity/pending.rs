//! The uses an isolate has counted and not yet delivered, per connection. The first use of a
//! connection while no delivery is scheduled for it asks the caller to schedule one,
//! [`DELIVER_AFTER_MS`] later and after the response ([`Pending::note`]); uses in between join
//! the same batch, and the scheduled delivery takes it ([`Pending::due`]). A token call of the
//! isolate may take the batch along earlier ([`Pending::take`]); the delivery already scheduled
//! stays the only one, and takes whatever has gathered by then. So an isolate has at most one
//! delivery scheduled per connection, calls the connection's object for activity at most once
//! per [`DELIVER_AFTER_MS`] besides the token calls it makes anyway, and the object writes its
//! storage at most that often per isolate.
//!
//! What a crash can lose: the uses of one isolate counted since its last delivery (at most
//! [`DELIVER_AFTER_MS`] of them), if the isolate ends before the scheduled delivery runs, or if
//! the delivery fails (it is not retried).

use std::collections::BTreeMap;

use super::{Batch, Place};
use crate::time::UnixMillis;

/// How long an isolate gathers a connection's uses before delivering them.
pub const DELIVER_AFTER_MS: u64 = 2_000;

/// One connection's uses: the batch gathering, and whether a delivery is scheduled.
#[derive(Debug, Default)]
struct Gathering {
    batch: Batch,
    scheduled: bool,
}

#[derive(Debug, Default)]
pub struct Pending {
    connections: BTreeMap<String, Gathering>,
}

impl Pending {
    /// Counts a use of connection `id`. `true`: no delivery is scheduled for it, and the caller
    /// schedules one (which calls [`Pending::due`]).
    pub fn note(&mut self, id: &str, at: UnixMillis, place: Option<&Place>, error: bool) -> bool {
        let gathering = match self.connections.get_mut(id) {
            Some(gathering) => gathering,
            None => self.connections.entry(id.to_owned()).or_default(),
        };
        gathering.batch.note(at, place, error);
        !std::mem::replace(&mut gathering.scheduled, true)
    }

    /// The batch for connection `id`'s scheduled delivery, which ends with it: the next use
    /// schedules a new one.
    pub fn due(&mut self, id: &str) -> Option<Batch> {
        self.connections
            .remove(id)
            .map(|gathering| gathering.batch)
            .filter(|b| !b.is_empty())
    }

    /// The batch gathered so far for connection `id`, taken along by another call to its
    /// object; the scheduled delivery stays, and takes what gathers after.
    pub fn take(&mut self, id: &str) -> Option<Batch> {
        let gathering = self.connections.get_mut(id)?;
        Some(std::mem::take(&mut gathering.batch)).filter(|b| !b.is_empty())
    }

    /// Connections with uses waiting.
    pub fn waiting(&self) -> usize {
        self.connections
            .values()
            .filter(|gathering| !gathering.batch.is_empty())
            .count()
    }
}
