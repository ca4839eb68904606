//! Reading a request body with a hard limit, so an oversized body is refused without being
//! held in memory whole.

use bindify_core::mcp::jsonrpc::MAX_BODY_BYTES;
use futures_util::StreamExt;
use worker::{Request, Result};

/// The body, or `None` when it is longer than [`MAX_BODY_BYTES`]. A body whose length was
/// declared (`declared`, within the limit: admission refused a longer one) is read by the
/// runtime in one piece, as the connection's framing ends it at that length. One without a
/// declared length is read chunk by chunk, and given up as soon as it passes the limit.
pub async fn read_limited(req: &mut Request, declared: Option<usize>) -> Result<Option<Vec<u8>>> {
    if declared.is_some_and(|length| length <= MAX_BODY_BYTES) {
        let body = req.bytes().await?;
        return Ok((body.len() <= MAX_BODY_BYTES).then_some(body));
    }
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
