//! Reading a request body with a hard limit: a declared length over the limit is refused before
//! reading, and a streamed body stops being read as soon as it passes the limit.

use bindify_core::headers as header;
use futures_util::StreamExt;
use worker::{Request, Result};

/// The body, or `None` when it is longer than `limit` bytes.
pub async fn read_capped(req: &mut Request, limit: usize) -> Result<Option<Vec<u8>>> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)?
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Ok(None);
    }
    let mut body = Vec::new();
    let Ok(mut stream) = req.stream() else {
        // No body at all.
        return Ok(Some(body));
    };
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if body.len().saturating_add(chunk.len()) > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// The body read as JSON. Parsed by serde_json, as every other JSON Bindify reads, rather than by
/// `Request::json` (the runtime's parser, then serde-wasm-bindgen), which would make a second
/// copy of each body type's reader.
pub async fn json<T: serde::de::DeserializeOwned>(req: &mut Request) -> Result<T> {
    let body = req.bytes().await?;
    Ok(bindify_core::json::from_slice(&body)?)
}
