//! Listing Workers KV keys. The runtime's answer is read as JSON by `core::json`, like every
//! other JSON document, rather than by `KvStore::list` (serde-wasm-bindgen), which would add a
//! second reader of the page and of each key's metadata to the Worker.

use bindify_core::vault::store::{ListPage, StoreError};
use serde::Deserialize;
use worker::js_sys::{Function, JSON, Object, Promise, Reflect};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;

/// One page of `KVNamespace.list()`'s answer, as the runtime documents it.
#[derive(Deserialize)]
struct Page {
    keys: Vec<Key>,
    list_complete: bool,
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Deserialize)]
struct Key {
    name: String,
    #[serde(default)]
    metadata: Option<serde_json::Value>,
}

fn failed(e: JsValue) -> StoreError {
    StoreError {
        op: "list",
        reason: worker::Error::from(e).to_string(),
    }
}

/// The keys under `prefix` on the page after `cursor`, with their metadata, from KV namespace
/// `namespace` (the binding's object).
pub async fn list(
    namespace: &JsValue,
    prefix: &str,
    cursor: Option<&str>,
) -> Result<ListPage, StoreError> {
    let options = Object::new();
    Reflect::set(&options, &"prefix".into(), &prefix.into()).map_err(failed)?;
    if let Some(cursor) = cursor {
        Reflect::set(&options, &"cursor".into(), &cursor.into()).map_err(failed)?;
    }
    let list: Function = Reflect::get(namespace, &"list".into())
        .map_err(failed)?
        .dyn_into()
        .map_err(failed)?;
    let promise: Promise = list
        .call1(namespace, &options)
        .map_err(failed)?
        .dyn_into()
        .map_err(failed)?;
    let answer = JsFuture::from(promise).await.map_err(failed)?;
    let text = String::from(JSON::stringify(&answer).map_err(failed)?);
    let page: Page = bindify_core::json::from_str(&text).map_err(|_| StoreError {
        op: "list",
        reason: "the runtime's answer is not a page of keys".to_owned(),
    })?;
    Ok(ListPage {
        keys: page
            .keys
            .into_iter()
            .map(|key| (key.name, key.metadata))
            .collect(),
        cursor: page.cursor.filter(|_| !page.list_complete),
    })
}
