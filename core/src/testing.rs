//! Test doubles for the core's I/O: a scripted HTTP peer that records every request, and
//! helpers to build keyrings. Compiled for tests only.

use std::cell::RefCell;
use std::future::{Ready, ready};
use std::rc::Rc;

use crate::http::{HttpError, HttpRequest, HttpResponse};
use crate::vault::envelope::{Keyring, MasterKey};

/// One request the peer received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    /// A form parameter of a urlencoded body.
    pub fn form(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

enum Answer {
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    NetworkError,
}

struct Route {
    method: &'static str,
    url: String,
    answer: Answer,
}

/// A scripted HTTP peer: routes match on method and exact URL; the latest route added for a
/// pair wins, so a test can change an answer midway. Unmatched requests get 404.
#[derive(Clone, Default)]
pub struct ScriptedPeer {
    routes: Rc<RefCell<Vec<Route>>>,
    log: Rc<RefCell<Vec<Recorded>>>,
}

impl ScriptedPeer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn on(&self, method: &'static str, url: &str, status: u16, body: &str) -> &Self {
        self.on_with_headers(method, url, status, &[], body)
    }

    pub fn on_with_headers(
        &self,
        method: &'static str,
        url: &str,
        status: u16,
        headers: &[(&str, &str)],
        body: &str,
    ) -> &Self {
        self.routes.borrow_mut().push(Route {
            method,
            url: url.to_owned(),
            answer: Answer::Respond {
                status,
                headers: headers
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
                body: body.to_owned(),
            },
        });
        self
    }

    pub fn fail(&self, method: &'static str, url: &str) -> &Self {
        self.routes.borrow_mut().push(Route {
            method,
            url: url.to_owned(),
            answer: Answer::NetworkError,
        });
        self
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.log.borrow().clone()
    }

    pub fn requests_to(&self, url_prefix: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.url.starts_with(url_prefix))
            .collect()
    }

    /// The HTTP client to hand to the core.
    pub fn client(&self) -> impl Fn(HttpRequest) -> Ready<Result<HttpResponse, HttpError>> + use<> {
        let peer = self.clone();
        move |request| ready(peer.answer(request))
    }

    fn answer(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let (parts, body) = request.into_parts();
        let recorded = Recorded {
            method: parts.method.to_string(),
            url: parts.uri.to_string(),
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
                .collect(),
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        self.log.borrow_mut().push(recorded.clone());
        let routes = self.routes.borrow();
        let route = routes
            .iter()
            .rev()
            .find(|r| r.method == recorded.method && r.url == recorded.url);
        match route.map(|r| &r.answer) {
            Some(Answer::NetworkError) => Err(HttpError::Network("connection refused".into())),
            Some(Answer::Respond {
                status,
                headers,
                body,
            }) => {
                let mut builder = http::Response::builder().status(*status);
                for (k, v) in headers {
                    builder = builder.header(k, v);
                }
                builder
                    .body(body.clone().into_bytes())
                    .map_err(|e| HttpError::Network(e.to_string()))
            }
            None => http::Response::builder()
                .status(404)
                .body(b"not found".to_vec())
                .map_err(|e| HttpError::Network(e.to_string())),
        }
    }
}

/// A connection record as the flow would create it, with tokens `AT-1` and `RT-1` from
/// `https://auth.example.com/token` for `https://mcp.example.com/mcp`.
pub fn sample_record(
    id: &str,
    secret_hash: crate::secret::SecretHash,
    expires_at: Option<crate::time::UnixMillis>,
) -> crate::vault::record::ConnectionRecord {
    use crate::oauth::registration::{ClientRegistration, ClientSource, TokenAuthMethod};
    use crate::vault::record::{
        ConnectionRecord, ConnectionState, OAuthGrant, TokenSet, UpstreamAuth,
    };
    use oauth2::{AccessToken, RefreshToken};
    ConnectionRecord {
        id: id.into(),
        label: "Example".into(),
        secret_hash,
        server_url: "https://mcp.example.com/mcp".into(),
        oauth: Some(OAuthGrant {
            resource: "https://mcp.example.com/mcp".into(),
            issuer: "https://auth.example.com".into(),
            token_endpoint: "https://auth.example.com/token".into(),
            revocation_endpoint: None,
            client: ClientRegistration {
                client_id: "client".into(),
                client_secret: None,
                auth_method: TokenAuthMethod::None,
                source: ClientSource::Dynamic,
                registered_at: 0,
                private_key: None,
            },
            grant: Default::default(),
            scopes: Vec::new(),
            scope_authorizations: 1,
            step_up: None,
            grant_ends_at: None,
        }),
        upstream_auth: UpstreamAuth::Bearer,
        tokens: TokenSet {
            refresh_token_expires_at: None,
            access_token: AccessToken::new("AT-1".into()),
            refresh_token: Some(RefreshToken::new("RT-1".into())),
            expires_at,
            scope: None,
            obtained_at: None,
        },
        state: ConnectionState::Active,
        created_at: 0,
        last_refresh_at: None,
        last_error: None,
        failures: 0,
        next_attempt_at: None,
    }
}

/// A keyring with a fixed test key.
pub fn keyring() -> Keyring {
    keyring_with(1, [7u8; 32])
}

pub fn keyring_with(version: u8, bytes: [u8; 32]) -> Keyring {
    use base64::Engine;
    let text = base64::engine::general_purpose::STANDARD.encode(bytes);
    match MasterKey::from_base64(version, &text) {
        Ok(key) => Keyring::new(key),
        Err(e) => panic!("test key: {e}"),
    }
}

/// Runs a future to completion on the current thread.
pub fn block_on<F: Future>(future: F) -> F::Output {
    futures_executor::block_on(future)
}

/// A future that is pending once before it yields `value`, so concurrent callers interleave at
/// the HTTP call the way they do against a real server.
pub struct YieldOnce<T> {
    value: Option<T>,
    yielded: bool,
}

impl<T: Unpin> Future for YieldOnce<T> {
    type Output = T;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<T> {
        if !self.yielded {
            self.yielded = true;
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        match self.value.take() {
            Some(value) => std::task::Poll::Ready(value),
            None => panic!("YieldOnce polled after completion"),
        }
    }
}

impl ScriptedPeer {
    /// Like [`ScriptedPeer::client`], but every answer arrives after one yield.
    pub fn slow_client(
        &self,
    ) -> impl Fn(HttpRequest) -> YieldOnce<Result<HttpResponse, HttpError>> + use<> {
        let peer = self.clone();
        move |request| YieldOnce {
            value: Some(peer.answer(request)),
            yielded: false,
        }
    }
}
