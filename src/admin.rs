//! The owner's credential on requests: the API's bearer token or session cookie, the pages'
//! session, and the throttle on wrong tokens. Decisions are `bindify_core::admin`'s and
//! `bindify_core::admin::throttle`'s; the counting happens in the `Throttle` Durable Object.

use bindify_core::admin::throttle;
use bindify_core::admin::{self, AdminToken, Denied, Guard, Presented, SessionCookie};
use bindify_core::connect::flow::Problem;
use bindify_core::headers as header;
use bindify_core::lifecycle::object_protocol::throttle::{ThrottleCall, ThrottleReply};
use bindify_core::pages::{self, safe_next};
use bindify_core::settings::Settings;
use worker::{Env, Method, Request, Response, Result};

use crate::{clock, config, object_call, respond};

/// What a page request may do.
pub enum PageAccess {
    Allowed {
        open_notice: bool,
    },
    NeedsLogin,
    /// `ADMIN_TOKEN` is missing (outside local development) or too short.
    Refused(Problem),
}

/// The dashboard session cookie's value, as presented (not checked).
pub fn session_value(req: &Request) -> Option<SessionCookie> {
    session_cookie(req)
}

fn session_cookie(req: &Request) -> Option<SessionCookie> {
    let header = req.headers().get(header::COOKIE).ok().flatten();
    bindify_core::connect::cookies::find(header.as_deref(), admin::SESSION_COOKIE)
        .map(|value| SessionCookie::new(value.to_owned()))
}

pub fn own_origin(req: &Request) -> String {
    req.url()
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

/// The guard for this request: the configured token, or open local development when the
/// Worker allows it and the request is addressed to a loopback host.
pub fn guard<'a>(req: &Request, settings: &'a Settings) -> Guard<'a> {
    let local = req
        .url()
        .is_ok_and(|url| settings.local_development(url.host_str()));
    Guard::new(&settings.admin_token, local)
}

/// Whether a page request comes with a live session (or needs none).
pub fn page_access(req: &Request, settings: &Settings) -> PageAccess {
    match guard(req, settings) {
        Guard::Unconfigured => PageAccess::Refused(unconfigured_problem()),
        Guard::WeakToken { bytes } => PageAccess::Refused(weak_token_problem(bytes)),
        Guard::OpenForLocalDevelopment => PageAccess::Allowed { open_notice: true },
        Guard::Token(token) => {
            let valid = match (settings.keyring(), session_cookie(req)) {
                (Ok(keyring), Some(cookie)) => {
                    admin::session_valid(keyring, token, &cookie, clock::now())
                }
                _ => false,
            };
            if valid {
                PageAccess::Allowed { open_notice: false }
            } else {
                PageAccess::NeedsLogin
            }
        }
    }
}

/// The answer for a page that needs the owner: the sign-in form in place (it returns to this
/// page, which never goes into a query string), or the page saying what to configure.
pub fn page_refusal(access: &PageAccess, req: &Request) -> Result<Response> {
    match access {
        PageAccess::Refused(problem) => respond::problem_page(problem),
        _ => {
            let here = req.url().ok().map(|u| match u.query() {
                Some(query) => format!("{}?{query}", u.path()),
                None => u.path().to_owned(),
            });
            respond::html(401, pages::login_page(&safe_next(here.as_deref()), None))
        }
    }
}

pub fn unconfigured_problem() -> Problem {
    Problem {
        status: 503,
        code: "admin_token_missing",
        title: "Bindify is not configured: the admin token is missing",
        detail: "This deployment has no ADMIN_TOKEN, so nobody may connect or manage services."
            .into(),
        next_step: "The operator must set it: `openssl rand -base64 32 | npx wrangler secret put ADMIN_TOKEN`.",
    }
}

pub fn weak_token_problem(bytes: usize) -> Problem {
    Problem {
        status: 503,
        code: "admin_token_weak",
        title: "Bindify is not configured: the admin token is too short",
        detail: format!(
            "ADMIN_TOKEN has {bytes} bytes; it needs at least {} so that it cannot be guessed. Until it is replaced, nobody may connect or manage services.",
            admin::MIN_TOKEN_BYTES
        ),
        next_step: "The operator must set a random one: `openssl rand -base64 32 | npx wrangler secret put ADMIN_TOKEN`.",
    }
}

/// Reports a wrong admin token from this request's client to the `Throttle` object. `Some`
/// seconds when the client must wait instead of hearing "wrong token". If the object cannot be
/// reached, the answer is the plain "wrong token".
pub async fn wrong_token(env: &Env, req: &Request) -> Option<u64> {
    let address = req.headers().get(header::CF_CONNECTING_IP).ok().flatten();
    let bucket = throttle::client_bucket(address.as_deref());
    let call = ThrottleCall::WrongToken { bucket };
    let answer = object_call::ask(env, config::THROTTLE_BINDING, "admin", &call.wire())
        .await
        .and_then(|(status, body)| {
            ThrottleReply::decode(status, &body)
                .map_err(|e| worker::Error::RustError(e.to_string()))
        });
    match answer {
        Ok(answer) => answer.wait(),
        Err(e) => {
            worker::console_error!("throttle unavailable: {e}");
            None
        }
    }
}

/// Checks an API request: `Ok(Err(response))` is the refusal to send. The credential is
/// checked first, so the right token is never throttled.
pub async fn check_api(
    req: &Request,
    env: &Env,
    settings: &Settings,
) -> Result<std::result::Result<(), Response>> {
    let guard = guard(req, settings);
    let authorization = req.headers().get(header::AUTHORIZATION)?;
    let bearer = authorization
        .as_deref()
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        })
        .and_then(AdminToken::parse);
    let cookie = session_cookie(req);
    let origin = req.headers().get(header::ORIGIN)?;
    let own = own_origin(req);
    let presented = Presented {
        bearer: bearer.as_ref(),
        session: cookie.as_ref(),
        origin: origin.as_deref(),
        own_origin: &own,
        unsafe_method: !matches!(req.method(), Method::Get | Method::Head),
    };
    let keyring = settings.keyring().ok();
    match admin::authorize(&guard, keyring, &presented, clock::now()) {
        Ok(()) => Ok(Ok(())),
        Err(Denied::Unconfigured) => problem_json(&unconfigured_problem()).map(Err),
        Err(Denied::WeakToken { bytes }) => problem_json(&weak_token_problem(bytes)).map(Err),
        Err(Denied::ForbiddenOrigin) => api_error(
            403,
            "forbidden_origin",
            "A request with the session cookie must come from this Worker's own pages.",
        )
        .map(Err),
        Err(Denied::Unauthorized) => {
            // Only a presented token is a guess worth counting.
            if bearer.is_some()
                && let Some(seconds) = wrong_token(env, req).await
            {
                return too_many(seconds).map(Err);
            }
            api_error(
                401,
                "unauthorized",
                "Send the admin token as `Authorization: Bearer <ADMIN_TOKEN>` (check it with `bindify doctor`), or sign in at /login.",
            )
            .map(Err)
        }
    }
}

fn problem_json(problem: &Problem) -> Result<Response> {
    api_error(problem.status, problem.code, &problem.message())
}

pub fn api_error(status: u16, code: &str, message: &str) -> Result<Response> {
    respond::json(
        status,
        &serde_json::json!({ "error": code, "message": message }),
    )
}

pub fn too_many(seconds: u64) -> Result<Response> {
    let response = api_error(
        429,
        "too_many_attempts",
        &format!("Too many wrong admin tokens; try again in {seconds} s."),
    )?;
    response
        .headers()
        .set(header::RETRY_AFTER, &seconds.to_string())?;
    Ok(response)
}
