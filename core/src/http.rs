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
}

/// Largest discovery, registration or token response the core reads.
pub const MAX_METADATA_BYTES: usize = 256 * 1024;

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
