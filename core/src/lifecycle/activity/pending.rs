//! The uses an isolate has counted and not yet delivered, per connection. The first use of a
//! connection since its last delivery asks the caller to schedule one, [`DELIVER_AFTER_MS`]
//! later and after the response; uses in between join the same batch. So an isolate calls a
//! connection's object at most once per [`DELIVER_AFTER_MS`] for activity, and the object
//! writes its storage at most that often per isolate.
//!
//! What a crash can lose: the uses of one isolate counted since its last delivery (at most
//! [`DELIVER_AFTER_MS`] of them), if the isolate ends before the scheduled delivery runs, or if
//! the delivery fails (it is not retried).

use std::collections::BTreeMap;

use super::{Batch, Place};
use crate::time::UnixMillis;

/// How long an isolate gathers a connection's uses before delivering them.
pub const DELIVER_AFTER_MS: u64 = 2_000;

#[derive(Debug, Default)]
pub struct Pending {
    batches: BTreeMap<String, Batch>,
}

impl Pending {
    /// Counts a use of connection `id`. `true`: no delivery is scheduled for it yet, and the
    /// caller schedules one (which calls [`Pending::take`]).
    pub fn note(&mut self, id: &str, at: UnixMillis, place: Option<&Place>, error: bool) -> bool {
        match self.batches.get_mut(id) {
            Some(batch) => {
                batch.note(at, place, error);
                false
            }
            None => {
                let mut batch = Batch::default();
                batch.note(at, place, error);
                self.batches.insert(id.to_owned(), batch);
                true
            }
        }
    }

    /// The batch to deliver for connection `id`; the next use schedules a new delivery.
    pub fn take(&mut self, id: &str) -> Option<Batch> {
        self.batches.remove(id).filter(|b| !b.is_empty())
    }

    /// Connections with uses waiting.
    pub fn waiting(&self) -> usize {
        self.batches.len()
    }
}
