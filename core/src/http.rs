//! The one HTTP abstraction the core uses: oauth2's [`AsyncHttpClient`], which any
//! `Fn(http::Request<Vec<u8>>) -> impl Future<Output = Result<http::Response<Vec<u8>>, E>>`
//! satisfies. The Worker passes an adapter over `worker::Fetch`; tests pass closures that check
//! the exact request and answer from a script.

pub use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};

/// An HTTP client usable for any borrow: what every core function that talks to a server
/// takes. Plain `async fn`s and closures returning `async move` blocks qualify.
pub trait HttpClient: for<'c> AsyncHttpClient<'c> {}
impl<T> HttpClient for T where T: for<'c> AsyncHttpClient<'c> {}

/// Why an outbound request produced no HTTP response. Messages carry no URL query, header or
/// body, so they are safe to log.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum HttpError {
    #[error("network error: {0}")]
    Network(String),
    #[error("the response was larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("no complete answer within {seconds} s")]
    Timeout { seconds: u64 },
}

/// Largest discovery, registration or token response the core reads. Real metadata documents
/// and token responses are a few KiB; 256 KiB is far above any seen, and small enough that an
/// endless body costs nothing. The client stops reading once it is passed, so an endless body
/// is never held.
pub const MAX_METADATA_BYTES: usize = 256 * 1024;

/// How long one request of the core (discovery, registration, token, revocation) may take,
/// from sending it to the last byte of its answer, in milliseconds. Authorization servers
/// answer in well under a second; ten seconds covers a slow one, and bounds how long a refresh
/// holds its connection's lock while an unresponsive server keeps every request of that
/// connection waiting.
pub const OUTBOUND_TIMEOUT_MS: u64 = 10_000;

/// Appends `chunk` to `body` unless that makes `body` longer than `limit`: how a client
/// reads an answer it holds whole, one chunk at a time, so it stops as soon as the answer is
/// too large instead of after reading it all.
pub fn append_capped(body: &mut Vec<u8>, chunk: &[u8], limit: usize) -> Result<(), HttpError> {
    if body.len().saturating_add(chunk.len()) > limit {
        return Err(HttpError::TooLarge { limit });
    }
    body.extend_from_slice(chunk);
    Ok(())
}

/// Sends `request` and turns a transport failure into a loggable string.
pub(crate) async fn send<C: HttpClient>(
    http: &C,
    request: HttpRequest,
) -> Result<HttpResponse, String> {
    http.call(request).await.map_err(|e| e.to_string())
}

/// `GET url` asking for JSON.
pub(crate) fn get_json_request(url: &url::Url) -> Result<HttpRequest, String> {
    http::Request::builder()
        .method(http::Method::GET)
        .uri(url.as_str())
        .header(http::header::ACCEPT, "application/json")
        .body(Vec::new())
        .map_err(|e| e.to_string())
}

/// `POST url` with a JSON body.
pub(crate) fn post_json_request(
    url: &url::Url,
    body: &serde_json::Value,
    accept: &str,
) -> Result<HttpRequest, String> {
    let bytes = serde_json::to_vec(body).map_err(|e| e.to_string())?;
    http::Request::builder()
        .method(http::Method::POST)
        .uri(url.as_str())
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, accept)
        .body(bytes)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_stops_at_the_first_chunk_over_the_limit() {
        let mut body = Vec::new();
        assert_eq!(append_capped(&mut body, b"abcd", 6), Ok(()));
        assert_eq!(append_capped(&mut body, b"ef", 6), Ok(()));
        assert_eq!(
            append_capped(&mut body, b"g", 6),
            Err(HttpError::TooLarge { limit: 6 })
        );
        assert_eq!(body, b"abcdef");
        assert_eq!(
            HttpError::Timeout { seconds: 10 }.to_string(),
            "no complete answer within 10 s"
        );
        assert_eq!(
            HttpError::TooLarge {
                limit: MAX_METADATA_BYTES
            }
            .to_string(),
            "the response was larger than 262144 bytes"
        );
    }
}
