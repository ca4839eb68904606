//! A scripted transport for unit tests: answers requests in order and records what was sent,
//! with the bearer token it carried.

use std::cell::RefCell;
use std::collections::VecDeque;

use super::transport::{Method, Response, Transport, Unreachable};
use bindify_core::admin::AdminToken;

#[derive(Debug, Clone)]
pub struct Sent {
    pub method: Method,
    pub url: String,
    pub bearer: Option<String>,
    pub body: Option<serde_json::Value>,
}

#[derive(Default)]
pub struct Fake {
    answers: RefCell<VecDeque<Result<Response, Unreachable>>>,
    pub sent: RefCell<Vec<Sent>>,
}

impl Fake {
    pub fn new() -> Self {
        Fake::default()
    }

    /// Queues an answer with this status and JSON body.
    pub fn answer(self, status: u16, body: serde_json::Value) -> Self {
        self.answers.borrow_mut().push_back(Ok(Response {
            status,
            body: body.to_string(),
            ..Response::default()
        }));
        self
    }

    pub fn answer_response(self, response: Response) -> Self {
        self.answers.borrow_mut().push_back(Ok(response));
        self
    }

    /// Queues a failure to connect.
    pub fn unreachable(self, reason: &str) -> Self {
        self.answers
            .borrow_mut()
            .push_back(Err(Unreachable(reason.into())));
        self
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.sent.borrow().clone()
    }
}

impl Transport for Fake {
    fn send(
        &self,
        method: Method,
        url: &str,
        token: Option<&AdminToken>,
        json: Option<&serde_json::Value>,
    ) -> Result<Response, Unreachable> {
        self.sent.borrow_mut().push(Sent {
            method,
            url: url.to_owned(),
            bearer: token.map(|t| t.expose().to_owned()),
            body: json.cloned(),
        });
        self.answers
            .borrow_mut()
            .pop_front()
            .unwrap_or_else(|| panic!("unexpected request {} {url}", method.as_str()))
    }
}

/// A client of `https://w.example` with the token `TOKEN`, over `fake`.
pub const TOKEN: &str = "tok-5ecret-value-0123456789";

pub fn client(fake: Fake) -> super::Client<Fake> {
    client_with(fake, Some(TOKEN))
}

pub fn client_with(fake: Fake, token: Option<&str>) -> super::Client<Fake> {
    super::Client::new(
        fake,
        crate::worker_url::WorkerUrl::parse("https://w.example").expect("url"),
        token.and_then(AdminToken::parse),
        "BINDIFY_ADMIN_TOKEN".into(),
    )
}

/// A listed connection.
pub fn connection(id: &str, label: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "label": label,
        "upstream": "https://mcp.notion.com/mcp",
        "state": "active",
        "access_token_expires_at": "2026-11-26T11:50:00Z",
        "last_refresh_at": null,
        "last_error": null,
        "created_at": "2026-11-20T09:00:00Z",
    })
}
