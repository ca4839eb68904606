//! Building responses: pages, JSON, redirects and the one 404. Security headers are set here
//! for every page.

use bindify_core::connect::flow::Problem;
use bindify_core::failure::OwnFailure;
use bindify_core::headers as header;
use bindify_core::pages;
use worker::{Headers, Response, Result};

/// Headers every HTML page carries.
fn page_headers() -> Result<Headers> {
    let headers = Headers::new();
    headers.set(header::CONTENT_TYPE, "text/html; charset=utf-8")?;
    headers.set(header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'",
    )?;
    headers.set(header::X_CONTENT_TYPE_OPTIONS, "nosniff")?;
    headers.set(header::REFERRER_POLICY, "no-referrer")?;
    headers.set(header::X_FRAME_OPTIONS, "DENY")?;
    headers.set(header::CACHE_CONTROL, "no-store")?;
    Ok(headers)
}

pub fn html(status: u16, body: String) -> Result<Response> {
    Ok(Response::from_html(body)?
        .with_status(status)
        .with_headers(page_headers()?))
}

pub fn problem_page(problem: &Problem) -> Result<Response> {
    html(problem.status, pages::error_page(problem))
}

pub fn json<T: serde::Serialize>(status: u16, value: &T) -> Result<Response> {
    let response = Response::from_json(value)?.with_status(status);
    let headers = response.headers().clone();
    headers.set(header::CACHE_CONTROL, "no-store")?;
    headers.set(header::X_CONTENT_TYPE_OPTIONS, "nosniff")?;
    Ok(response.with_headers(headers))
}

/// The same answer for every unknown path and every unknown or revoked secret, so a secret
/// cannot be probed by comparing responses.
pub fn not_found() -> Result<Response> {
    json(
        404,
        &serde_json::json!({ "error": "not_found", "message": "Nothing is here." }),
    )
}

/// A 302 to `location`, with an optional cookie.
pub fn redirect(location: &str, set_cookie: Option<&str>) -> Result<Response> {
    let headers = Headers::new();
    headers.set(header::LOCATION, location)?;
    headers.set(header::CACHE_CONTROL, "no-store")?;
    headers.set(header::REFERRER_POLICY, "no-referrer")?;
    if let Some(cookie) = set_cookie {
        headers.append(header::SET_COOKIE, cookie)?;
    }
    Ok(Response::empty()?.with_status(302).with_headers(headers))
}

pub fn method_not_allowed(allow: &str) -> Result<Response> {
    let response = json(
        405,
        &serde_json::json!({ "error": "method_not_allowed", "message": format!("Use {allow}.") }),
    )?;
    let headers = response.headers().clone();
    headers.set(header::ALLOW, allow)?;
    Ok(response.with_headers(headers))
}

/// Bindify's own failure (its storage, its configuration) on a JSON endpoint:
/// `{"error", "message", "source"}` with its status and `Retry-After`.
pub fn own_failure(failed: &OwnFailure) -> Result<Response> {
    let response = json(failed.status(), &failed.json_body())?;
    let Some(seconds) = failed.retry_after() else {
        return Ok(response);
    };
    let headers = response.headers().clone();
    headers.set(header::RETRY_AFTER, &seconds.to_string())?;
    Ok(response.with_headers(headers))
}
