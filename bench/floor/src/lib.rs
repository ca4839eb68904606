//! The Rust floor: a Worker built like Bindify (the `worker` crate, worker-build, the same
//! profile and wasm-opt flags) that forwards each request to its upstream with a bearer token it
//! already holds, streaming the body both ways, and does nothing else.
//!
//! - `POST /__seed {"targets": {<name>: {"upstream": <url>, "token": <token>}}}` sets the
//!   upstreams and tokens, kept in the isolate's memory.
//! - `/<anything>/<name>` forwards to `<name>`'s upstream.

use std::cell::RefCell;

use worker::{Context, Env, Fetch, Request, RequestInit, RequestRedirect, Response, Result, event};

struct Target {
    name: String,
    upstream: String,
    authorization: String,
}

thread_local! {
    static TARGETS: RefCell<Vec<Target>> = const { RefCell::new(Vec::new()) };
}

#[event(fetch)]
async fn fetch(mut req: Request, _env: Env, _ctx: Context) -> Result<Response> {
    let url = req.url()?;
    if url.path() == "/__seed" {
        let seed: serde_json::Value = req.json().await?;
        let targets = seed["targets"]
            .as_object()
            .map(|targets| {
                targets
                    .iter()
                    .map(|(name, target)| Target {
                        name: name.clone(),
                        upstream: target["upstream"].as_str().unwrap_or_default().to_owned(),
                        authorization: format!(
                            "Bearer {}",
                            target["token"].as_str().unwrap_or_default()
                        ),
                    })
                    .collect()
            })
            .unwrap_or_default();
        TARGETS.with(|t| *t.borrow_mut() = targets);
        return Response::ok("seeded");
    }
    let name = url.path().rsplit('/').next().unwrap_or_default();
    let Some((upstream, authorization)) = TARGETS.with(|t| {
        t.borrow()
            .iter()
            .find(|target| target.name == name)
            .map(|target| (target.upstream.clone(), target.authorization.clone()))
    }) else {
        return Response::error("unknown target", 404);
    };
    let headers = req.headers().clone();
    headers.set("authorization", &authorization)?;
    let mut init = RequestInit::new();
    init.with_method(req.method())
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    if let Some(body) = req.inner().body() {
        init.with_body(Some(body.into()));
    }
    Fetch::Request(Request::new_with_init(&upstream, &init)?)
        .send()
        .await
}
