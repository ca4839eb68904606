//! Helpers shared by the fuzz targets: a fixed keyring, a single-threaded executor, and a
//! scripted HTTP peer that answers the core's outbound requests with fuzzer-chosen responses.
//!
//! The scripted peer reads a small text format, so seed files can be written by hand from real
//! responses:
//!
//! ```text
//! <status>[ <header value>]
//! <body>
//! ---
//! <status>[ <header value>]
//! <body>
//! ```
//!
//! Sections are separated by a line `---`; the peer answers the n-th request with the n-th
//! section, and with 404 once they run out. A status line that is not a number in 100..=999
//! becomes 500; the status line `ERR` is a network failure. The optional header value goes under
//! the header name the target chooses (`WWW-Authenticate` for the discovery probe,
//! `Content-Type` for token and registration responses).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::{Ready, ready};
use std::rc::Rc;

use base64::Engine as _;
use bindify_core::http::{HttpError, HttpRequest, HttpResponse};
use bindify_core::vault::envelope::{Keyring, MasterKey};

/// A keyring whose current key has `version` and is 32 copies of `byte`.
pub fn keyring(version: u8, byte: u8) -> Keyring {
    Keyring::new(master_key(version, byte))
}

/// A master key of `version` made of 32 copies of `byte`.
pub fn master_key(version: u8, byte: u8) -> MasterKey {
    let text = base64::engine::general_purpose::STANDARD.encode([byte; 32]);
    MasterKey::from_base64(version, &text).expect("a valid test key")
}

/// Runs a future to completion on this thread (the scripted peer never leaves one pending).
pub fn block_on<F: Future>(future: F) -> F::Output {
    futures_executor::block_on(future)
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Answer {
    Respond {
        status: u16,
        header: Option<String>,
        body: Vec<u8>,
    },
    NetworkError,
}

/// One request the peer received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub uri: String,
    pub has_authorization: bool,
}

/// A peer that answers requests in order from a script.
#[derive(Clone)]
pub struct Peer {
    header_name: &'static str,
    answers: Rc<RefCell<VecDeque<Answer>>>,
    seen: Rc<RefCell<Vec<Seen>>>,
}

/// Splits `script` into answers (see the module docs for the format).
pub fn parse_script(script: &[u8]) -> VecDeque<Answer> {
    let mut answers = VecDeque::new();
    for section in split_sections(script) {
        let (line, body) = match section.iter().position(|&b| b == b'\n') {
            Some(i) => (&section[..i], section[i + 1..].to_vec()),
            None => (section, Vec::new()),
        };
        let line = String::from_utf8_lossy(line);
        let line = line.trim_end_matches('\r');
        if line == "ERR" {
            answers.push_back(Answer::NetworkError);
            continue;
        }
        let (status, header) = match line.split_once(' ') {
            Some((status, header)) => (status, Some(header.to_owned())),
            None => (line, None),
        };
        let status = status
            .parse::<u16>()
            .ok()
            .filter(|s| (100..=999).contains(s))
            .unwrap_or(500);
        answers.push_back(Answer::Respond {
            status,
            header,
            body,
        });
    }
    answers
}

fn split_sections(script: &[u8]) -> Vec<&[u8]> {
    const SEPARATOR: &[u8] = b"\n---\n";
    let mut sections = Vec::new();
    let mut rest = script;
    while let Some(i) = rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
        sections.push(&rest[..i]);
        rest = &rest[i + SEPARATOR.len()..];
    }
    sections.push(rest);
    sections
}

impl Peer {
    /// A peer answering from `script`, putting each section's header value under `header_name`.
    pub fn new(header_name: &'static str, script: &[u8]) -> Self {
        Peer {
            header_name,
            answers: Rc::new(RefCell::new(parse_script(script))),
            seen: Rc::new(RefCell::new(Vec::new())),
        }
    }

    /// The requests received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.borrow().clone()
    }

    /// The HTTP client to hand to the core.
    pub fn client(&self) -> impl Fn(HttpRequest) -> Ready<Result<HttpResponse, HttpError>> + use<> {
        let peer = self.clone();
        move |request| ready(peer.answer(&request))
    }

    fn answer(&self, request: &HttpRequest) -> Result<HttpResponse, HttpError> {
        self.seen.borrow_mut().push(Seen {
            method: request.method().to_string(),
            uri: request.uri().to_string(),
            has_authorization: request.headers().contains_key(http::header::AUTHORIZATION),
        });
        let answer = self.answers.borrow_mut().pop_front();
        let (status, header, body) = match answer {
            Some(Answer::NetworkError) => {
                return Err(HttpError::Network("scripted failure".into()));
            }
            Some(Answer::Respond {
                status,
                header,
                body,
            }) => (status, header, body),
            None => (404, None, Vec::new()),
        };
        let mut response = http::Response::builder()
            .status(http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK));
        if let Some(value) = header.and_then(|v| http::HeaderValue::from_str(&v).ok()) {
            response = response.header(self.header_name, value);
        }
        Ok(response.body(body).expect("a valid response"))
    }
}

/// Whether `text` has a control character (C0, DEL or C1).
pub fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}
