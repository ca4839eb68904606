//! `GET /login`, `POST /login` and `POST /logout`: the dashboard session.

use bindify_core::admin::{self, Guard, SESSION_COOKIE, SESSION_TTL_MS};
use bindify_core::pages::{self, safe_next};
use worker::{Env, Headers, Request, Response, Result};

use crate::{admin as gate, clock, config, respond};

#[derive(serde::Deserialize)]
struct NextQuery {
    next: Option<String>,
}

pub fn page(req: &Request, env: &Env) -> Result<Response> {
    if let Guard::Unconfigured = Guard::new(
        config::admin_token(env).as_ref(),
        config::local_development(env),
    ) {
        return respond::problem_page(&gate::unconfigured_problem());
    }
    let next = safe_next(
        req.query::<NextQuery>()
            .ok()
            .and_then(|q| q.next)
            .as_deref(),
    );
    respond::html(200, pages::login_page(&next, None))
}

pub async fn submit(mut req: Request, env: &Env) -> Result<Response> {
    let Some(token) = config::admin_token(env) else {
        return match config::local_development(env) {
            true => respond::redirect("/manage", None),
            false => respond::problem_page(&gate::unconfigured_problem()),
        };
    };
    if let Some(seconds) = gate::throttled(env, &req).await {
        let html = pages::login_page(
            "/manage",
            Some(&format!(
                "Too many wrong attempts. Try again in {seconds} seconds."
            )),
        );
        let response = respond::html(429, html)?;
        response
            .headers()
            .set("retry-after", &seconds.to_string())?;
        return Ok(response);
    }
    let form = req.form_data().await?;
    let field = |name: &str| match form.get(name) {
        Some(worker::FormEntry::Field(value)) => Some(value),
        _ => None,
    };
    let next = safe_next(field("next").as_deref());
    let presented = field("token").unwrap_or_default();
    if !token.verify(&presented) {
        gate::record_failure(env, &req).await;
        return respond::html(
            401,
            pages::login_page(&next, Some("That is not this deployment's admin token.")),
        );
    }
    let keyring = match config::keyring(env) {
        Ok(k) => k,
        Err(e) => return respond::problem_page(&e.problem()),
    };
    let Some(session) = admin::issue_session(&keyring, &token, clock::now()) else {
        return respond::html(
            500,
            pages::login_page(&next, Some("The session could not be created; try again.")),
        );
    };
    let secure = req.url()?.scheme() == "https";
    respond::redirect(
        &next,
        Some(&session_cookie(&session, SESSION_TTL_MS / 1000, secure)),
    )
}

pub fn logout(req: &Request) -> Result<Response> {
    let secure = req.url()?.scheme() == "https";
    let headers = Headers::new();
    headers.set("set-cookie", &session_cookie("", 0, secure))?;
    headers.set("cache-control", "no-store")?;
    Ok(Response::empty()?.with_status(204).with_headers(headers))
}

/// The session cookie: HttpOnly, `SameSite=Strict`, whole site, `Secure` over https.
fn session_cookie(value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Strict{secure}"
    )
}
