//! `bindify_core::lifecycle::object_protocol` over the runtime: a call's [`Wire`] becomes a request
//! to a Durable Object stub, and a request an object received becomes the protocol's [`Received`].
//! The URL's host is a placeholder: the request goes to the stub, never to the network.

use bindify_core::headers as header;
use bindify_core::lifecycle::object_protocol::{Method, Received, Reply, Wire};
use worker::{Env, Headers, Request, RequestInit, Response, Result};

const HOST: &str = "https://object.internal";

fn method(method: Method) -> worker::Method {
    match method {
        Method::Get => worker::Method::Get,
        Method::Post => worker::Method::Post,
        Method::Delete => worker::Method::Delete,
    }
}

/// Sends `wire` to the object named `name` of the Durable Object binding `binding`, and
/// returns its response as it came.
pub async fn send(env: &Env, binding: &str, name: &str, wire: &Wire) -> Result<Response> {
    let headers = Headers::new();
    for (field, value) in &wire.headers {
        headers.set(field, value)?;
    }
    let mut init = RequestInit::new();
    init.with_method(method(wire.method)).with_headers(headers);
    if let Some(body) = &wire.body {
        init.with_body(Some(
            worker::js_sys::Uint8Array::from(body.as_slice()).into(),
        ));
    }
    let request = Request::new_with_init(&format!("{HOST}{}", wire.path), &init)?;
    env.durable_object(binding)?
        .get_by_name(name)?
        .fetch_with_request(request)
        .await
}

/// Sends `wire` and reads the object's reply: its status and JSON body.
pub async fn ask(env: &Env, binding: &str, name: &str, wire: &Wire) -> Result<(u16, String)> {
    let mut response = send(env, binding, name, wire).await?;
    let status = response.status_code();
    Ok((status, response.text().await?))
}

/// What an object received: the parts of `req` the protocol reads, its body included.
pub struct Incoming {
    method: Option<Method>,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Incoming {
    pub async fn read(req: &mut Request) -> Result<Self> {
        let method = match req.method() {
            worker::Method::Get => Some(Method::Get),
            worker::Method::Post => Some(Method::Post),
            worker::Method::Delete => Some(Method::Delete),
            _ => None,
        };
        Ok(Incoming {
            method,
            path: req.path(),
            headers: req.headers().entries().collect(),
            body: req.bytes().await?,
        })
    }

    /// The call as the protocol reads it; `None` for a method the protocol has no call with.
    pub fn received(&self) -> Option<Received<'_>> {
        Some(Received {
            method: self.method?,
            path: &self.path,
            headers: &self.headers,
            body: &self.body,
        })
    }
}

/// An object's reply as a response.
pub fn reply(reply: &Reply) -> Result<Response> {
    let headers = Headers::new();
    headers.set(header::CONTENT_TYPE, "application/json")?;
    headers.set(header::CACHE_CONTROL, "no-store")?;
    let response = if reply.body.is_empty() {
        Response::empty()?
    } else {
        Response::ok(reply.body.clone())?
    };
    Ok(response.with_status(reply.status).with_headers(headers))
}
