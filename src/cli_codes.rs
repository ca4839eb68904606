//! The one-time codes of `bindify connect`, sealed in KV under the hash of the code. KV is
//! eventually consistent; the CLI polls for a few minutes, which covers its propagation.

use bindify_core::cli_flow::{CliRecord, CliStatus, code_hash_hex};
use bindify_core::envelope::Keyring;
use bindify_core::keys;
use bindify_core::store::{KvStore, PutOptions, StoreError};
use worker::Env;

use crate::config;
use crate::storage::Kv;

/// KV keeps a record a little longer than the code lives, so an expired code is reported as
/// expired rather than unknown while the CLI still polls.
const TTL_SECONDS: u64 = 15 * 60;

fn kv(env: &Env) -> Result<Kv, StoreError> {
    env.kv(config::KV_BINDING).map(Kv).map_err(|e| StoreError {
        op: "bind",
        reason: e.to_string(),
    })
}

/// Saves `record` under the code whose hash is `hash`.
pub async fn save(
    env: &Env,
    keyring: &Keyring,
    hash: &str,
    record: &CliRecord,
) -> Result<(), StoreError> {
    let key = keys::cli(hash);
    let sealed = keyring
        .seal_json(key.as_bytes(), record)
        .map_err(|e| StoreError {
            op: "seal",
            reason: e.to_string(),
        })?;
    kv(env)?
        .put(
            &key,
            &sealed,
            PutOptions {
                ttl_seconds: Some(TTL_SECONDS),
                metadata: None,
            },
        )
        .await
}

/// The record of `code` (the code itself, not its hash).
pub async fn load(
    env: &Env,
    keyring: &Keyring,
    code: &str,
) -> Result<Option<(String, CliRecord)>, StoreError> {
    let hash = code_hash_hex(code);
    load_by_hash(env, keyring, &hash)
        .await
        .map(|r| r.map(|r| (hash, r)))
}

async fn load_by_hash(
    env: &Env,
    keyring: &Keyring,
    hash: &str,
) -> Result<Option<CliRecord>, StoreError> {
    let key = keys::cli(hash);
    let Some(text) = kv(env)?.get(&key).await? else {
        return Ok(None);
    };
    Ok(keyring.open_json(key.as_bytes(), &text).ok())
}

/// Records how the flow of the code with hash `hash` ended. Failures are logged: the CLI then
/// times out with a message saying so.
pub async fn finish(env: &Env, hash: &str, status: CliStatus) {
    let result = async {
        let keyring = config::keyring(env).map_err(|e| StoreError {
            op: "key",
            reason: e.to_string(),
        })?;
        let Some(mut record) = load_by_hash(env, &keyring, hash).await? else {
            return Ok(());
        };
        record.status = status;
        save(env, &keyring, hash, &record).await
    }
    .await;
    if let Err(e) = result {
        worker::console_error!("cli code: recording the result failed: {e}");
    }
}

/// Removes a record whose final result was read.
pub async fn consume(env: &Env, hash: &str) -> Result<(), StoreError> {
    kv(env)?.delete(&keys::cli(hash)).await
}
