//! The owner's credential on requests: the API's bearer token or session cookie, the pages'
//! session, and the throttle on wrong attempts. Decisions are `bindify_core::admin`'s.

use bindify_core::admin::{self, Attempts, Denied, Guard, Presented};
use bindify_core::keys;
use bindify_core::secret::{SecretHash, sha256};
use worker::{Env, Method, Request, Response, Result};

use crate::{clock, config, respond};

/// What a page request may do.
pub enum PageAccess {
    Allowed { open_notice: bool },
    NeedsLogin,
    Unconfigured,
}

fn session_cookie(req: &Request) -> Option<String> {
    let header = req.headers().get("cookie").ok().flatten();
    bindify_core::cookies::find(header.as_deref(), admin::SESSION_COOKIE).map(str::to_owned)
}

fn own_origin(req: &Request) -> String {
    req.url()
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default()
}

/// Whether a page request comes with a live session (or needs none).
pub fn page_access(req: &Request, env: &Env) -> PageAccess {
    let token = config::admin_token(env);
    match Guard::new(token.as_ref(), config::local_development(env)) {
        Guard::Unconfigured => PageAccess::Unconfigured,
        Guard::OpenForLocalDevelopment => PageAccess::Allowed { open_notice: true },
        Guard::Token(token) => {
            let valid = match (config::keyring(env), session_cookie(req)) {
                (Ok(keyring), Some(value)) => {
                    admin::session_valid(&keyring, token, &value, clock::now())
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

/// The answer for a page that needs the owner: the login page, or the "set ADMIN_TOKEN" page.
pub fn page_refusal(access: &PageAccess, req: &Request) -> Result<Response> {
    match access {
        PageAccess::Unconfigured => respond::problem_page(&unconfigured_problem()),
        _ => {
            let next = req.url().map(|u| u.path().to_owned()).unwrap_or_default();
            let next = match req.url().ok().and_then(|u| u.query().map(str::to_owned)) {
                Some(query) => format!("{next}?{query}"),
                None => next,
            };
            let location = format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            respond::redirect(&location, None)
        }
    }
}

pub fn unconfigured_problem() -> bindify_core::flow::Problem {
    bindify_core::flow::Problem {
        status: 503,
        code: "admin_token_missing",
        title: "Bindify is not configured: the admin token is missing",
        detail: "This deployment has no ADMIN_TOKEN, so nobody may connect or manage services."
            .into(),
        next_step: "The operator must set it: `openssl rand -base64 32 | npx wrangler secret put ADMIN_TOKEN`.",
    }
}

/// The client's address, hashed, for the throttle.
fn client_key(req: &Request) -> String {
    let address = req
        .headers()
        .get("cf-connecting-ip")
        .ok()
        .flatten()
        .unwrap_or_else(|| "local".to_owned());
    keys::throttle(&SecretHash::from_bytes(sha256(address.as_bytes())).to_hex())
}

async fn attempts(env: &Env, req: &Request) -> Attempts {
    let Ok(kv) = env.kv(config::KV_BINDING) else {
        return Attempts::default();
    };
    kv.get(&client_key(req))
        .text()
        .await
        .ok()
        .flatten()
        .map(|v| Attempts::parse(&v))
        .unwrap_or_default()
}

/// Counts a wrong credential. KV's eventual consistency can let a few extra attempts through
/// across locations; the doubling wait still bounds guessing.
pub async fn record_failure(env: &Env, req: &Request) {
    let next = attempts(env, req).await.failed(clock::now());
    if let Ok(kv) = env.kv(config::KV_BINDING)
        && let Ok(put) = kv.put(&client_key(req), next.to_text())
    {
        let _ = put
            .expiration_ttl(admin::THROTTLE_WINDOW_SECONDS)
            .execute()
            .await;
    }
}

/// Seconds the client must still wait before trying again, if it made too many wrong attempts.
pub async fn throttled(env: &Env, req: &Request) -> Option<u64> {
    attempts(env, req).await.wait_seconds(clock::now())
}

/// Checks an API request: `Ok(Err(response))` is the refusal to send.
pub async fn check_api(req: &Request, env: &Env) -> Result<std::result::Result<(), Response>> {
    let token = config::admin_token(env);
    let guard = Guard::new(token.as_ref(), config::local_development(env));
    if let Some(seconds) = throttled(env, req).await {
        return too_many(seconds).map(Err);
    }
    let authorization = req.headers().get("authorization")?;
    let bearer = authorization.as_deref().and_then(|h| {
        h.strip_prefix("Bearer ")
            .or_else(|| h.strip_prefix("bearer "))
    });
    let cookie = session_cookie(req);
    let origin = req.headers().get("origin")?;
    let own = own_origin(req);
    let presented = Presented {
        bearer,
        session: cookie.as_deref(),
        origin: origin.as_deref(),
        own_origin: &own,
        unsafe_method: !matches!(req.method(), Method::Get | Method::Head),
    };
    let keyring = config::keyring(env).ok();
    match admin::authorize(&guard, keyring.as_ref(), &presented, clock::now()) {
        Ok(()) => Ok(Ok(())),
        Err(Denied::Unconfigured) => api_error(
            503,
            "admin_token_missing",
            "This deployment has no ADMIN_TOKEN. Set it with `openssl rand -base64 32 | npx wrangler secret put ADMIN_TOKEN`.",
        )
        .map(Err),
        Err(Denied::ForbiddenOrigin) => api_error(
            403,
            "forbidden_origin",
            "A request with the session cookie must come from this Worker's own pages.",
        )
        .map(Err),
        Err(Denied::Unauthorized) => {
            record_failure(env, req).await;
            api_error(
                401,
                "unauthorized",
                "Send the admin token as `Authorization: Bearer <ADMIN_TOKEN>` (check it with `bindify doctor`), or sign in at /login.",
            )
            .map(Err)
        }
    }
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
        &format!("Too many wrong admin tokens from this address; try again in {seconds} s."),
    )?;
    response
        .headers()
        .set("retry-after", &seconds.to_string())?;
    Ok(response)
}
