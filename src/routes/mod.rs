//! The Worker's routing table. Each handler lives in its own file and delegates to the core.

mod callback;
mod cli;
mod client_metadata;
pub(crate) mod connect;
pub(crate) mod credentials;
mod landing;
mod login;
mod manage;
mod reconnect;
mod status;

use worker::{Context, Env, Method, Request, Response, Result};

use bindify_core::settings::Settings;

use crate::activity::Visit;
use crate::{config, respond};

pub async fn handle(req: Request, env: Env, ctx: &Context) -> Result<Response> {
    let settings = config::read(&env);
    route(req, &env, &settings, ctx).await
}

async fn route(req: Request, env: &Env, settings: &Settings, ctx: &Context) -> Result<Response> {
    let url = req.url()?;
    if settings.allow_loopback_http && !bindify_core::oauth::upstream::local_request_allowed(&url) {
        return respond::json(
            403,
            &serde_json::json!({
                "error": "forbidden_host",
                "message": "This local Bindify answers only requests addressed to 127.0.0.1, localhost or [::1].",
            }),
        );
    }
    let path = url.path().to_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let method = req.method();
    match (method, segments.as_slice()) {
        (Method::Get | Method::Head, [""]) => landing::page(&req, env, settings).await,
        (Method::Get, ["connect"]) => connect::start(&req, env, settings, None).await,
        (Method::Post, ["connect"]) => connect::confirmed(req, env, settings).await,
        (Method::Get, ["connect", "key"]) => credentials::key_page(&req, env, settings).await,
        (Method::Post, ["connect", "key"]) => credentials::key(req, env, settings).await,
        (Method::Post, ["connect", "client"]) => credentials::client(req, env, settings).await,
        (Method::Post, ["connect", "credentials"]) => {
            credentials::credentials(req, env, settings).await
        }
        (Method::Get, ["connect", preset]) => {
            connect::start(&req, env, settings, Some(preset)).await
        }
        (Method::Get, ["oauth", "callback"]) => callback::finish(&req, env, settings).await,
        (Method::Get, ["oauth", "client-metadata.json"]) => {
            client_metadata::document(&req, settings)
        }
        (Method::Get, ["login"]) => login::page(&req, settings),
        (Method::Post, ["login"]) => login::submit(req, env, settings).await,
        (Method::Post, ["logout"]) => login::logout(&req),
        (Method::Get, ["manage"]) => manage::dashboard(&req, env, settings).await,
        (Method::Get, ["manage", id, "reconnect"]) => {
            manage::reconnect(&req, env, settings, id).await
        }
        (Method::Get, ["cli", code]) => cli::start(&req, env, settings, code).await,
        (_, ["api", rest @ ..]) => {
            let rest: Vec<String> = rest.iter().map(|s| (*s).to_owned()).collect();
            let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
            crate::api::handle(req, env, settings, &rest).await
        }
        (Method::Get, ["s", secret, "status"]) => status::show(env, secret).await,
        (Method::Get, ["s", secret, "reconnect"]) => reconnect::start(env, secret).await,
        (_, ["s", secret, endpoint @ ("sse" | "message" | "mcp")]) => {
            let (secret, endpoint) = ((*secret).to_owned(), *endpoint);
            let visit = Visit::of(&req);
            let response = match endpoint {
                "sse" => crate::proxy::legacy::stream(req, env, settings, &visit, &secret).await,
                "message" => {
                    crate::proxy::legacy::message(req, env, settings, &visit, &secret).await
                }
                _ => crate::proxy::mcp(req, env, settings, ctx, &visit, &secret).await,
            }?;
            visit.answered(env, ctx, &response);
            Ok(response)
        }
        (_, ["login"]) => respond::method_not_allowed("GET, POST"),
        (_, ["logout"]) => respond::method_not_allowed("POST"),
        (_, ["connect"] | ["connect", "key"]) => respond::method_not_allowed("GET, POST"),
        (_, ["connect", "client" | "credentials"]) => respond::method_not_allowed("POST"),
        (
            _,
            [""]
            | ["connect", _]
            | ["oauth", "callback" | "client-metadata.json"]
            | ["manage"]
            | ["manage", _, "reconnect"]
            | ["cli", _]
            | ["s", _, "status" | "reconnect"],
        ) => respond::method_not_allowed("GET"),
        _ => respond::not_found(),
    }
}
