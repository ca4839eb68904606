//! Every stored connection with its plaintext metadata, from the KV mirror's keys alone: no
//! record is read or decrypted. The cron plans from it and the management API lists from it.

use bindify_core::keys;
use bindify_core::record::IndexMetadata;
use worker::Env;

use crate::config;

/// Every `conn:` key with its metadata, page by page (1,000 keys a page).
pub async fn connections(env: &Env) -> worker::Result<Vec<(String, IndexMetadata)>> {
    let kv = env.kv(config::KV_BINDING)?;
    let mut listed = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut request = kv.list().prefix(keys::CONNECTION_PREFIX.to_owned());
        if let Some(c) = cursor.take() {
            request = request.cursor(c);
        }
        let page = request.execute().await.map_err(worker::Error::from)?;
        for key in page.keys {
            let Some(id) = key.name.strip_prefix(keys::CONNECTION_PREFIX) else {
                continue;
            };
            let meta = key
                .metadata
                .and_then(|m| serde_json::from_value::<IndexMetadata>(m).ok());
            if let Some(meta) = meta {
                listed.push((id.to_owned(), meta));
            }
        }
        cursor = page.cursor.filter(|_| !page.list_complete);
        if cursor.is_none() {
            return Ok(listed);
        }
    }
}
