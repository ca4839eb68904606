//! HTTP as the client needs it: one function from a request to a status and a body. The real
//! one is ureq; unit tests pass a fake that checks each request and answers on purpose.

use std::time::Duration;

use bindify_core::admin::AdminToken;
use bindify_core::headers;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }
}

/// What the Worker answered.
#[derive(Debug, Clone, Default)]
pub struct Response {
    pub status: u16,
    pub body: String,
    pub retry_after: Option<String>,
    pub location: Option<String>,
}

/// No HTTP answer: the reason, for "could not reach …: <reason>".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreachable(pub String);

pub trait Transport {
    /// Sends one request. `token` goes in `Authorization: Bearer`; `json` is the body.
    fn send(
        &self,
        method: Method,
        url: &str,
        token: Option<&AdminToken>,
        json: Option<&serde_json::Value>,
    ) -> Result<Response, Unreachable>;
}

/// The management API over ureq: no redirects followed (the token stays with the Worker), a
/// status is an answer, not an error.
pub struct UreqTransport {
    agent: ureq::Agent,
}

impl UreqTransport {
    pub fn new(timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(timeout))
            .user_agent(concat!("bindify-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        UreqTransport { agent }
    }
}

/// Bodies read at most this far: the API's answers are small.
const MAX_BODY: u64 = 4 * 1024 * 1024;

impl Transport for UreqTransport {
    fn send(
        &self,
        method: Method,
        url: &str,
        token: Option<&AdminToken>,
        json: Option<&serde_json::Value>,
    ) -> Result<Response, Unreachable> {
        let mut builder = ureq::http::Request::builder()
            .method(method.as_str())
            .uri(url)
            .header(headers::ACCEPT, "application/json");
        if let Some(token) = token {
            builder = builder.header(headers::AUTHORIZATION, format!("Bearer {}", token.expose()));
        }
        // The http crate's errors name the part that is wrong, never a header's value.
        let invalid = |e: ureq::http::Error| Unreachable(format!("invalid request: {e}"));
        let result = match json {
            Some(value) => {
                let body = serde_json::to_vec(value)
                    .map_err(|e| Unreachable(format!("cannot encode the request: {e}")))?;
                let request = builder
                    .header(headers::CONTENT_TYPE, "application/json")
                    .body(body)
                    .map_err(invalid)?;
                self.agent.run(request)
            }
            None => self.agent.run(builder.body(()).map_err(invalid)?),
        };
        let mut response = result.map_err(|e| Unreachable(e.to_string()))?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = header(headers::RETRY_AFTER);
        let location = header(headers::LOCATION);
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_string()
            .map_err(|e| Unreachable(format!("the answer broke off: {e}")))?;
        Ok(Response {
            status,
            body,
            retry_after,
            location,
        })
    }
}
