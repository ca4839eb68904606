//! The core's HTTP client on Workers: `http::Request` in, `http::Response` out, over `fetch`.
//! Redirects are never followed (an authorization server must not bounce token requests
//! elsewhere), and response bodies are capped.

use bindify_core::http::{HttpError, HttpRequest, HttpResponse, MAX_METADATA_BYTES};
use worker::{Fetch, Headers, Method, Request, RequestInit, RequestRedirect};

/// Sends one request. Usable wherever the core takes an `AsyncHttpClient`.
pub async fn send(request: HttpRequest) -> Result<HttpResponse, HttpError> {
    let (parts, body) = request.into_parts();
    let headers = Headers::new();
    for (name, value) in &parts.headers {
        let value = value
            .to_str()
            .map_err(|_| HttpError::Network("a header value is not text".into()))?;
        headers.append(name.as_str(), value).map_err(network)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::from(parts.method.as_str().to_owned()))
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    if !body.is_empty() {
        init.with_body(Some(js_sys_bytes(&body)));
    }
    let request = Request::new_with_init(&parts.uri.to_string(), &init).map_err(network)?;
    let mut response = Fetch::Request(request).send().await.map_err(network)?;

    let bytes = response.bytes().await.map_err(network)?;
    if bytes.len() > MAX_METADATA_BYTES {
        return Err(HttpError::TooLarge {
            limit: MAX_METADATA_BYTES,
        });
    }
    let mut builder = http::Response::builder().status(response.status_code());
    for (name, value) in response.headers().entries() {
        builder = builder.header(name, value);
    }
    builder
        .body(bytes)
        .map_err(|e| HttpError::Network(e.to_string()))
}

fn js_sys_bytes(body: &[u8]) -> worker::wasm_bindgen::JsValue {
    worker::js_sys::Uint8Array::from(body).into()
}

fn network(e: worker::Error) -> HttpError {
    HttpError::Network(e.to_string())
}
