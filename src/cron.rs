//! The scheduled handler: the sweep behind the connections' alarms (see
//! `bindify_core::lifecycle::cron`). It lists connection metadata from KV, lets the core plan the
//! run, and visits the planned connections' objects, a few at a time.

use bindify_core::lifecycle::cron::{self, CONCURRENCY, Tally};
use futures_util::future::join_all;
use worker::Env;

use crate::{clock, config, connection_client, listing, storage};

/// Runs one cron pass. Never panics and never fails the invocation: every problem is logged,
/// and the next run starts over from KV.
pub async fn run(env: &Env) {
    let now = clock::now();
    note_run(env, now).await;
    let settings = config::read(env);
    let listed = match listing::connections(env).await {
        Ok(listed) => listed,
        Err(e) => {
            worker::console_error!("cron: listing connections failed: {e}");
            return;
        }
    };
    let sweep = cron::plan(&listed, now, settings.cron_max_refreshes);
    let mut tally = Tally::default();
    for batch in sweep.visits.chunks(CONCURRENCY) {
        let visits = batch.iter().map(|id| connection_client::sweep(env, id));
        for (id, result) in batch.iter().zip(join_all(visits).await) {
            match result {
                Ok(visit) => tally.note(Some(visit)),
                Err(e) => {
                    worker::console_error!("cron: connection {id}: {e}");
                    tally.note(None);
                }
            }
        }
    }
    worker::console_log!("{}", cron::summary(listed.len(), &sweep, &tally));
}

/// Records that the cron runs (for `bindify doctor`), at most about hourly (see
/// `bindify_core::lifecycle::cron::note_run`).
async fn note_run(env: &Env, now: i64) {
    let noted = match storage::kv(env) {
        Ok(kv) => cron::note_run(&kv, now).await,
        Err(e) => Err(e),
    };
    if let Err(e) = noted {
        worker::console_warn!("cron: recording the run failed: {e}");
    }
}
