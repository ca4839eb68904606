//! Phases 4 and 5: the request to the upstream MCP server, and the response relayed back with
//! its body streamed through as it arrives.

use bindify_core::connection_service::Grant;
use worker::{
    Fetch, Headers, Request, RequestInit, RequestRedirect, Response, ResponseBuilder, Result,
};

use super::Admitted;

/// Sends the admitted request with `grant`'s bearer token. `Err` carries a loggable reason
/// when no HTTP response came back.
pub async fn send(admitted: &Admitted, grant: &Grant) -> std::result::Result<Response, String> {
    let headers = Headers::new();
    for (name, value) in &admitted.headers {
        headers.append(name, value).map_err(|e| e.to_string())?;
    }
    headers
        .set(
            "authorization",
            &format!("Bearer {}", grant.access_token.secret()),
        )
        .map_err(|e| e.to_string())?;
    let mut init = RequestInit::new();
    init.with_method(admitted.method.clone())
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    if let Some(body) = &admitted.body {
        init.with_body(Some(
            worker::js_sys::Uint8Array::from(body.as_slice()).into(),
        ));
    }
    let request = Request::new_with_init(&grant.upstream, &init).map_err(|e| e.to_string())?;
    Fetch::Request(request).send().await.map_err(|e| {
        worker::console_warn!("proxy: upstream {} unreachable: {e}", grant.upstream);
        "the server did not answer".to_owned()
    })
}

/// The upstream response with only the headers that may cross, and its body untouched: an
/// SSE answer reaches the client event by event, and when the client goes away the runtime
/// cancels the upstream read.
pub fn relay(response: Response) -> Result<Response> {
    let status = response.status_code();
    let headers = Headers::new();
    for (name, value) in
        bindify_core::proxy_headers::filter_response_headers(response.headers().entries())
    {
        headers.append(&name, &value)?;
    }
    let (_, body) = response.into_parts();
    Ok(ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers)
        .body(body))
}
