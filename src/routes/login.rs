//! `GET /login`, `POST /login` and `POST /logout`: the dashboard session.

use bindify_core::admin::{
    self, Guard, LoginForm, MAX_LOGIN_FORM_BYTES, SESSION_COOKIE, SESSION_TTL_MS,
};
use bindify_core::headers as header;
use bindify_core::pages::{self, safe_next};
use bindify_core::settings::Settings;
use worker::{Env, Headers, Request, Response, Result};

use crate::admin as gate;
use crate::{clock, request_body, respond};

#[derive(serde::Deserialize)]
struct NextQuery {
    next: Option<String>,
}

pub fn page(req: &Request, settings: &Settings) -> Result<Response> {
    match gate::guard(req, settings) {
        Guard::Unconfigured => return respond::problem_page(&gate::unconfigured_problem()),
        Guard::WeakToken { bytes } => {
            return respond::problem_page(&gate::weak_token_problem(bytes));
        }
        Guard::OpenForLocalDevelopment | Guard::Token(_) => {}
    }
    let next = safe_next(
        req.query::<NextQuery>()
            .ok()
            .and_then(|q| q.next)
            .as_deref(),
    );
    respond::html(200, pages::login_page(&next, None))
}

/// Checks the token in the form. The right token always signs in; a wrong one is counted by
/// the throttle, which may answer "wait" instead of "wrong".
pub async fn submit(mut req: Request, env: &Env, settings: &Settings) -> Result<Response> {
    let token = match gate::guard(&req, settings) {
        Guard::Token(token) => token,
        Guard::OpenForLocalDevelopment => return respond::redirect("/manage", None),
        Guard::Unconfigured => return respond::problem_page(&gate::unconfigured_problem()),
        Guard::WeakToken { bytes } => {
            return respond::problem_page(&gate::weak_token_problem(bytes));
        }
    };
    let Some(body) = request_body::read_capped(&mut req, MAX_LOGIN_FORM_BYTES).await? else {
        return respond::html(
            413,
            pages::login_page("/manage", Some("That form is too large to be a sign-in.")),
        );
    };
    let form = LoginForm::parse(&body);
    let next = safe_next(form.next.as_deref());
    if !form
        .token
        .as_ref()
        .is_some_and(|presented| token.ct_eq(presented))
    {
        if let Some(seconds) = gate::wrong_token(env, &req).await {
            let html = pages::login_page(
                &next,
                Some(&format!(
                    "Too many wrong attempts. Try again in {seconds} seconds."
                )),
            );
            let response = respond::html(429, html)?;
            response
                .headers()
                .set(header::RETRY_AFTER, &seconds.to_string())?;
            return Ok(response);
        }
        return respond::html(
            401,
            pages::login_page(&next, Some("That is not this deployment's admin token.")),
        );
    }
    let keyring = match settings.keyring() {
        Ok(k) => k,
        Err(e) => return respond::problem_page(&e.problem()),
    };
    let Some(session) = admin::issue_session(keyring, token, clock::now()) else {
        return respond::html(
            500,
            pages::login_page(&next, Some("The session could not be created; try again.")),
        );
    };
    let secure = req.url()?.scheme() == "https";
    respond::redirect(
        &next,
        Some(&session_cookie(
            session.expose(),
            SESSION_TTL_MS / 1000,
            secure,
        )),
    )
}

/// Ends the session. Only the Worker's own pages may: a request from elsewhere (or without an
/// `Origin`) is refused, so another site cannot sign the owner out.
pub fn logout(req: &Request) -> Result<Response> {
    let origin = req.headers().get(header::ORIGIN)?;
    if !admin::from_own_origin(origin.as_deref(), &gate::own_origin(req)) {
        return gate::api_error(
            403,
            "forbidden_origin",
            "Sign out from this Worker's own pages.",
        );
    }
    let secure = req.url()?.scheme() == "https";
    let headers = Headers::new();
    headers.set(header::SET_COOKIE, &session_cookie("", 0, secure))?;
    headers.set(header::CACHE_CONTROL, "no-store")?;
    Ok(Response::empty()?.with_status(204).with_headers(headers))
}

/// The session cookie: HttpOnly, `SameSite=Strict`, whole site, `Secure` over https.
fn session_cookie(value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{SESSION_COOKIE}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Strict{secure}"
    )
}
