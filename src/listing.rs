//! Every stored connection with its plaintext metadata (see
//! `bindify_core::vault::list_connections`): the cron plans from it and the management API
//! lists from it.

use bindify_core::vault::list_connections;
use bindify_core::vault::record::IndexMetadata;
use bindify_core::vault::store::StoreError;
use worker::Env;

use crate::storage;

/// Every `conn:` key with its metadata, page by page.
pub async fn connections(env: &Env) -> Result<Vec<(String, IndexMetadata)>, StoreError> {
    list_connections(&storage::kv(env)?).await
}
