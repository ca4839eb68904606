//! The scheduled handler: lists connection metadata from KV, lets the core plan the run, and
//! asks each due connection's object to refresh itself, a few at a time.

use bindify_core::connection_service::CronOutcome;
use bindify_core::cron::{self, CONCURRENCY};
use futures_util::future::join_all;
use worker::Env;

use crate::{clock, config, connection_client, listing, storage};

/// Runs one cron pass. Never panics and never fails the invocation: every problem is logged,
/// and the next run starts over from KV.
pub async fn run(env: &Env) {
    let now = clock::now();
    note_run(env, now).await;
    let settings = config::read(env);
    let window_ms = settings.refresh_window_ms;
    let budget = settings.cron_max_refreshes;
    let listed = match listing::connections(env).await {
        Ok(listed) => listed,
        Err(e) => {
            worker::console_error!("cron: listing connections failed: {e}");
            return;
        }
    };
    let due = cron::plan(&listed, now, window_ms, budget);
    let mut counts = [0usize; 5];
    for batch in due.chunks(CONCURRENCY) {
        let visits = batch
            .iter()
            .map(|id| connection_client::refresh_if_due(env, id, window_ms));
        for (id, result) in batch.iter().zip(join_all(visits).await) {
            let slot = match result {
                Ok(CronOutcome::Refreshed) => 0,
                Ok(CronOutcome::NotDue) | Ok(CronOutcome::Missing) => 1,
                Ok(CronOutcome::NeedsReauth) => 2,
                Ok(CronOutcome::Transient) => 3,
                Err(e) => {
                    worker::console_error!("cron: connection {id}: {e}");
                    4
                }
            };
            if let Some(count) = counts.get_mut(slot) {
                *count += 1;
            }
        }
    }
    worker::console_log!(
        "cron: {} connections, {} due this run; refreshed {}, skipped {}, needs_reauth {}, transient {}, failed {}",
        listed.len(),
        due.len(),
        counts[0],
        counts[1],
        counts[2],
        counts[3],
        counts[4]
    );
}

/// Records that the cron runs (for `bindify doctor`), at most about hourly (see
/// `bindify_core::cron::note_run`).
async fn note_run(env: &Env, now: i64) {
    let noted = match storage::kv(env) {
        Ok(kv) => cron::note_run(&kv, now).await,
        Err(e) => Err(e),
    };
    if let Err(e) = noted {
        worker::console_warn!("cron: recording the run failed: {e}");
    }
}
