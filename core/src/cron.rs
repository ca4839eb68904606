//! Planning one cron run: which connections to refresh, from the plaintext metadata of the KV
//! mirror alone (no record is read or decrypted to decide). The most urgent come first, and a
//! run takes at most a budget of them so it stays within the per-invocation subrequest limit;
//! the rest are picked up by the next runs, which come every few minutes.

use crate::keys;
use crate::record::{ConnectionState, IndexMetadata};
use crate::store::{KvStore, PutOptions, StoreError};
use crate::time::UnixMillis;

/// How often the cron records that it runs: KV writes are a budget (the Free plan allows 1,000
/// a day), so the marker is written at most about hourly, not on every five-minute run.
pub const MARK_EVERY_MS: i64 = 55 * 60_000;

/// Connections one run refreshes at most by default. The Free plan allows 50 subrequests per
/// invocation: this leaves room for the KV list pages (1,000 keys each) of 10,000 connections.
pub const DEFAULT_MAX_REFRESHES_PER_RUN: usize = 40;

/// Object calls in flight at once: Workers allow six open connections per invocation.
pub const CONCURRENCY: usize = 6;

/// Whether the metadata of a listed connection says it is due.
pub fn is_due(meta: &IndexMetadata, now: UnixMillis, window_ms: i64) -> bool {
    meta.state != ConnectionState::NeedsReauth
        && meta.has_refresh_token
        && meta.next_attempt_at.is_none_or(|t| t <= now)
        && meta.expires_at.is_some_and(|e| e - window_ms <= now)
}

/// The ids to refresh this run: due ones, soonest expiry first, at most `budget`.
pub fn plan(
    listed: &[(String, IndexMetadata)],
    now: UnixMillis,
    window_ms: i64,
    budget: usize,
) -> Vec<String> {
    let mut due: Vec<&(String, IndexMetadata)> = listed
        .iter()
        .filter(|(_, meta)| is_due(meta, now, window_ms))
        .collect();
    due.sort_by_key(|(id, meta)| (meta.expires_at, id.clone()));
    due.into_iter()
        .take(budget)
        .map(|(id, _)| id.clone())
        .collect()
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
    use crate::store::MemoryStore;
    use crate::testing::block_on;

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

    fn meta(expires_at: Option<i64>) -> IndexMetadata {
        IndexMetadata {
            label: String::new(),
            upstream: String::new(),
            created_at: 0,
            last_refresh_at: None,
            last_error: None,
            state: ConnectionState::Active,
            expires_at,
            has_refresh_token: true,
            next_attempt_at: None,
            kind: crate::record::ConnectionKind::Oauth,
            grant_expires_at: None,
        }
    }

    #[test]
    fn picks_due_connections_soonest_first_within_budget() {
        let listed: Vec<(String, IndexMetadata)> = (0..500)
            .map(|i| (format!("c{i:03}"), meta(Some(1_000 + i * 100))))
            .collect();
        // Window reaches expiries up to 1_000 + 49 * 100: fifty are due.
        let ids = plan(&listed, 0, 5_900, 40);
        assert_eq!(ids.len(), 40);
        assert_eq!(ids.first().map(String::as_str), Some("c000"));
        assert_eq!(ids.last().map(String::as_str), Some("c039"));
        assert_eq!(plan(&listed, 0, 5_900, 1_000).len(), 50);
    }

    #[test]
    fn skips_what_cannot_or_should_not_be_refreshed() {
        let mut reauth = meta(Some(0));
        reauth.state = ConnectionState::NeedsReauth;
        let mut no_refresh = meta(Some(0));
        no_refresh.has_refresh_token = false;
        let mut backing_off = meta(Some(0));
        backing_off.next_attempt_at = Some(10);
        let mut retry_now = meta(Some(0));
        retry_now.state = ConnectionState::Error;
        retry_now.next_attempt_at = Some(5);
        let listed = vec![
            ("reauth".to_owned(), reauth),
            ("norefresh".to_owned(), no_refresh),
            ("backoff".to_owned(), backing_off),
            ("noexpiry".to_owned(), meta(None)),
            ("later".to_owned(), meta(Some(1_000_000))),
            ("retry".to_owned(), retry_now),
        ];
        assert_eq!(plan(&listed, 5, 100, 40), ["retry"]);
    }
}
