//! Reading a request body with a hard limit, so an oversized body is refused without being
//! held in memory whole.

use bindify_core::mcp::jsonrpc::MAX_BODY_BYTES;
use futures_util::StreamExt;
use worker::{Request, Result};

/// The body, or `None` when it is longer than [`MAX_BODY_BYTES`].
pub async fn read_limited(req: &mut Request) -> Result<Option<Vec<u8>>> {
    let mut stream = req.stream()?;
    let mut body = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}
