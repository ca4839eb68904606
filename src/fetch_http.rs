//! The core's HTTP client on Workers: `http::Request` in, `http::Response` out, over `fetch`.
//! Every request Bindify makes for itself goes through here: discovery, registration, token
//! requests and revocation. Redirects are never followed (an authorization server must not
//! bounce token requests elsewhere); the body is read one chunk at a time and reading stops
//! past `MAX_METADATA_BYTES`; and the whole exchange, headers and body, must finish within
//! `OUTBOUND_TIMEOUT_MS`, after which the request is aborted.

use std::time::Duration;

use bindify_core::http::{
    HttpError, HttpRequest, HttpResponse, MAX_METADATA_BYTES, OUTBOUND_TIMEOUT_MS, append_capped,
};
use futures_util::StreamExt;
use futures_util::future::{Either, select};
use worker::{
    AbortController, Delay, Fetch, Headers, Method, Request, RequestInit, RequestRedirect,
};

/// Sends one request. Usable wherever the core takes an `AsyncHttpClient`.
pub async fn send(request: HttpRequest) -> Result<HttpResponse, HttpError> {
    let controller = AbortController::default();
    let result = {
        let exchange = std::pin::pin!(exchange(request, &controller));
        let timer = std::pin::pin!(Delay::from(Duration::from_millis(OUTBOUND_TIMEOUT_MS)));
        match select(exchange, timer).await {
            Either::Left((result, _)) => result,
            Either::Right(((), _)) => Err(HttpError::Timeout {
                seconds: OUTBOUND_TIMEOUT_MS / 1000,
            }),
        }
    };
    if result.is_err() {
        // Stops the transfer: a timed-out or oversized answer is not read any further.
        controller.abort();
    }
    result
}

async fn exchange(
    request: HttpRequest,
    controller: &AbortController,
) -> Result<HttpResponse, HttpError> {
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
    let mut response = Fetch::Request(request)
        .send_with_signal(&controller.signal())
        .await
        .map_err(network)?;

    let mut bytes = Vec::new();
    if let Some(mut stream) = crate::forward::body_stream(&mut response).map_err(network)? {
        while let Some(chunk) = stream.next().await {
            append_capped(&mut bytes, &chunk.map_err(network)?, MAX_METADATA_BYTES)?;
        }
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
