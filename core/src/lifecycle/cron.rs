//! Planning one cron run. Tokens are refreshed by each connection's own alarm
//! ([`crate::lifecycle::schedule`]); the cron is the sweep behind it: it visits connections to set
//! an alarm that is missing and to refresh a token whose alarm slipped. It plans from the
//! plaintext metadata of the KV mirror alone, and visits at most a budget of connections per
//! run (each visit is a subrequest; the Free plan allows 50 per invocation) without writing
//! KV to remember where it stopped:
//!
//! 1. first the connections whose mirror lacks the alarm mark (written by a version before
//!    alarms: their objects have no alarm yet), soonest listed expiry first;
//! 2. then, with what is left of the budget, one slice of the connections that need an alarm
//!    (not needing authorization again, renewable, with a token that expires), in id
//!    order: slice `(now / RUN_EVERY_MS) mod ceil(N / budget)`, so that with N of them every
//!    one is visited at least once every `ceil(N / budget)` runs ([`cycle_runs`]).

use crate::lifecycle::connection_service::{CronOutcome, Visit};
use crate::time::UnixMillis;
use crate::vault::keys;
use crate::vault::record::{ConnectionState, IndexMetadata};
use crate::vault::store::{KvStore, PutOptions, StoreError};

/// How often the cron runs (`crons` in wrangler.toml).
pub const RUN_EVERY_MS: i64 = 5 * 60_000;

/// How often the cron records that it runs: KV writes are a budget (the Free plan allows 1,000
/// a day), so the marker is written at most about hourly, not on every five-minute run.
pub const MARK_EVERY_MS: i64 = 55 * 60_000;

/// Connections one run visits at most by default. The Free plan allows 50 subrequests per
/// invocation: this leaves room for the KV list pages (1,000 keys each) of 10,000 connections.
pub const DEFAULT_MAX_REFRESHES_PER_RUN: usize = 40;

/// Object calls in flight at once: Workers allow six open connections per invocation.
pub const CONCURRENCY: usize = 6;

/// One run's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sweep {
    /// The connections to visit, in order.
    pub visits: Vec<String>,
    /// Listed connections without the alarm mark.
    pub unmarked: usize,
    /// Listed connections with the mark that need an alarm: the ones the slices cover.
    pub scheduled: usize,
}

/// Whether a connection listed with `meta` needs an alarm (see
/// [`crate::lifecycle::schedule::alarm_at`]).
pub fn needs_alarm(meta: &IndexMetadata) -> bool {
    meta.state != ConnectionState::NeedsReauth && meta.has_refresh_token && meta.token_expires
}

/// Runs it takes the slices to cover `scheduled` connections with `budget` visits per run.
pub fn cycle_runs(scheduled: usize, budget: usize) -> usize {
    scheduled.div_ceil(budget.max(1)).max(1)
}

/// The connections to visit at `now`, at most `budget` (see the module docs).
pub fn plan(listed: &[(String, IndexMetadata)], now: UnixMillis, budget: usize) -> Sweep {
    let budget = budget.max(1);
    let mut unmarked: Vec<&(String, IndexMetadata)> =
        listed.iter().filter(|(_, meta)| !meta.alarm).collect();
    unmarked.sort_by_key(|(id, meta)| (meta.expires_at.unwrap_or(i64::MAX), id.clone()));
    let mut scheduled: Vec<&String> = listed
        .iter()
        .filter(|(_, meta)| meta.alarm && needs_alarm(meta))
        .map(|(id, _)| id)
        .collect();
    scheduled.sort();
    let slices = cycle_runs(scheduled.len(), budget);
    let run = usize::try_from(now.div_euclid(RUN_EVERY_MS)).unwrap_or(0);
    let slice = scheduled
        .iter()
        .skip((run % slices).saturating_mul(budget))
        .take(budget);
    let visits: Vec<String> = unmarked
        .iter()
        .map(|(id, _)| id)
        .chain(slice.copied())
        .take(budget)
        .cloned()
        .collect();
    Sweep {
        visits,
        unmarked: unmarked.len(),
        scheduled: scheduled.len(),
    }
}

/// What one run's visits found, for its summary line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub refreshed: usize,
    pub not_due: usize,
    pub needs_reauth: usize,
    pub transient: usize,
    /// Visits that failed (the object could not be reached, or its storage failed).
    pub failed: usize,
    /// Objects that needed an alarm and had none.
    pub rearmed: usize,
}

impl Tally {
    /// Counts one visit; `None` for a visit that failed.
    pub fn note(&mut self, visit: Option<Visit>) {
        let Some(visit) = visit else {
            self.failed += 1;
            return;
        };
        if visit.rearmed {
            self.rearmed += 1;
        }
        match visit.outcome {
            CronOutcome::Refreshed => self.refreshed += 1,
            CronOutcome::NotDue | CronOutcome::Missing => self.not_due += 1,
            CronOutcome::NeedsReauth => self.needs_reauth += 1,
            CronOutcome::Transient => self.transient += 1,
        }
    }
}

/// The run's summary line, as the Worker logs it.
pub fn summary(listed: usize, sweep: &Sweep, tally: &Tally) -> String {
    format!(
        "cron: {listed} connections, {} without the alarm mark; {} visited this run: refreshed \
         {}, not due {}, needs_reauth {}, transient {}, failed {}; re-armed {}",
        sweep.unmarked,
        sweep.visits.len(),
        tally.refreshed,
        tally.not_due,
        tally.needs_reauth,
        tally.transient,
        tally.failed,
        tally.rearmed
    )
}

/// When the cron last recorded a run ([`keys::LAST_CRON`]), for `bindify doctor`. A value that
/// does not read as a time is no run.
pub async fn last_run<K: KvStore>(kv: &K) -> Result<Option<UnixMillis>, StoreError> {
    Ok(kv
        .get(keys::LAST_CRON)
        .await?
        .and_then(|v| v.trim().parse::<UnixMillis>().ok()))
}

/// Records that the cron runs at `now`, unless a run was recorded less than
/// [`MARK_EVERY_MS`] ago. `Ok(true)` when it wrote the marker.
pub async fn note_run<K: KvStore>(kv: &K, now: UnixMillis) -> Result<bool, StoreError> {
    if last_run(kv)
        .await?
        .is_some_and(|last| now.saturating_sub(last) < MARK_EVERY_MS)
    {
        return Ok(false);
    }
    kv.put(keys::LAST_CRON, &now.to_string(), PutOptions::default())
        .await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::block_on;
    use crate::vault::store::MemoryStore;

    #[test]
    fn the_run_marker_is_written_at_most_about_hourly() {
        let kv = MemoryStore::new();
        assert_eq!(block_on(last_run(&kv)), Ok(None));
        assert_eq!(block_on(note_run(&kv, 1_000)), Ok(true));
        assert_eq!(block_on(last_run(&kv)), Ok(Some(1_000)));
        assert_eq!(
            block_on(note_run(&kv, 1_000 + MARK_EVERY_MS - 1)),
            Ok(false)
        );
        assert_eq!(block_on(last_run(&kv)), Ok(Some(1_000)));
        assert_eq!(block_on(note_run(&kv, 1_000 + MARK_EVERY_MS)), Ok(true));
        assert_eq!(block_on(last_run(&kv)), Ok(Some(1_000 + MARK_EVERY_MS)));
        assert_eq!(kv.keys(), ["meta:last-cron"]);
        // A damaged marker is no run, and is replaced.
        block_on(kv.put(keys::LAST_CRON, "soon", PutOptions::default())).expect("put");
        assert_eq!(block_on(last_run(&kv)), Ok(None));
        assert_eq!(block_on(note_run(&kv, 5)), Ok(true));
        kv.set_broken(true);
        assert!(block_on(note_run(&kv, 10 * MARK_EVERY_MS)).is_err());
    }

    fn meta(alarm: bool) -> IndexMetadata {
        IndexMetadata {
            label: String::new(),
            upstream: String::new(),
            created_at: 0,
            last_error: None,
            state: ConnectionState::Active,
            expires_at: None,
            has_refresh_token: true,
            token_expires: true,
            alarm,
            kind: crate::vault::record::ConnectionKind::Oauth,
            grant_expires_at: None,
        }
    }

    fn ids(sweep: &Sweep) -> Vec<&str> {
        sweep.visits.iter().map(String::as_str).collect()
    }

    #[test]
    fn every_scheduled_connection_is_visited_once_per_cycle_of_runs() {
        // 1,000 connections, 40 visits a run: 25 runs of 5 minutes cover them all.
        let listed: Vec<(String, IndexMetadata)> = (0..1_000)
            .map(|i| (format!("c{i:04}"), meta(true)))
            .collect();
        assert_eq!(cycle_runs(1_000, 40), 25);
        let mut seen = std::collections::BTreeMap::new();
        for run in 0..25 {
            let sweep = plan(&listed, run * RUN_EVERY_MS + 1_234, 40);
            assert_eq!((sweep.unmarked, sweep.scheduled), (0, 1_000));
            assert_eq!(sweep.visits.len(), 40);
            for id in sweep.visits {
                *seen.entry(id).or_insert(0) += 1;
            }
        }
        assert_eq!(seen.len(), 1_000);
        assert!(seen.values().all(|&n| n == 1));
        // The next cycle starts over, and runs within one period visit the same slice.
        let first = plan(&listed, 0, 40);
        assert_eq!(plan(&listed, 25 * RUN_EVERY_MS, 40), first);
        assert_eq!(plan(&listed, RUN_EVERY_MS - 1, 40), first);
        assert_eq!(ids(&first).first(), Some(&"c0000"));
        // A last slice that is not full.
        let few: Vec<(String, IndexMetadata)> =
            (0..45).map(|i| (format!("c{i:02}"), meta(true))).collect();
        assert_eq!(plan(&few, RUN_EVERY_MS, 40).visits.len(), 5);
        assert_eq!(plan(&few, 2 * RUN_EVERY_MS, 40).visits.len(), 40);
    }

    #[test]
    fn connections_without_the_alarm_mark_come_first_soonest_expiry_first() {
        let mut listed: Vec<(String, IndexMetadata)> =
            (0..100).map(|i| (format!("m{i:03}"), meta(true))).collect();
        for (i, expires) in [(0, 3_000), (1, 1_000), (2, 2_000)] {
            let mut old = meta(false);
            old.token_expires = false;
            old.expires_at = Some(expires);
            listed.push((format!("old{i}"), old));
        }
        let sweep = plan(&listed, 0, 5);
        assert_eq!(ids(&sweep), ["old1", "old2", "old0", "m000", "m001"]);
        assert_eq!((sweep.unmarked, sweep.scheduled), (3, 100));
        // More unmarked than the budget: this run visits only them.
        assert_eq!(ids(&plan(&listed, 0, 2)), ["old1", "old2"]);
    }

    #[test]
    fn the_summary_line_counts_every_visit() {
        let listed: Vec<(String, IndexMetadata)> = vec![
            ("a".to_owned(), meta(false)),
            ("b".to_owned(), meta(true)),
            ("c".to_owned(), meta(true)),
        ];
        let sweep = plan(&listed, 0, 40);
        let mut tally = Tally::default();
        let visit = |rearmed, outcome| Some(Visit { rearmed, outcome });
        tally.note(visit(true, CronOutcome::Refreshed));
        tally.note(visit(false, CronOutcome::NotDue));
        tally.note(None);
        assert_eq!(
            summary(listed.len(), &sweep, &tally),
            "cron: 3 connections, 1 without the alarm mark; 3 visited this run: refreshed 1, not \
             due 1, needs_reauth 0, transient 0, failed 1; re-armed 1"
        );
    }

    #[test]
    fn connections_that_need_no_alarm_are_not_swept() {
        let mut reauth = meta(true);
        reauth.state = ConnectionState::NeedsReauth;
        let mut no_refresh = meta(true);
        no_refresh.has_refresh_token = false;
        let mut no_expiry = meta(true);
        no_expiry.token_expires = false;
        let mut failing = meta(true);
        failing.state = ConnectionState::Error;
        let listed = vec![
            ("reauth".to_owned(), reauth),
            ("norefresh".to_owned(), no_refresh),
            ("noexpiry".to_owned(), no_expiry),
            ("failing".to_owned(), failing),
            ("active".to_owned(), meta(true)),
        ];
        let sweep = plan(&listed, 0, 40);
        assert_eq!(ids(&sweep), ["active", "failing"]);
        assert_eq!(plan(&[], 0, 40).visits, Vec::<String>::new());
    }
}
