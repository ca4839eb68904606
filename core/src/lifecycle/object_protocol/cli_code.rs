//! The calls to a `CliCode` object, one per `bindify connect` code (see
//! [`crate::connect::cli_flow`]), named by the code's hash, which every call carries; and its
//! replies.

use serde::{Deserialize, Serialize};

use super::{
    Method, ProtocolError, Received, Reply, Wire, decode_reply, encode_reply, header, json_body,
};
use crate::connect::cli_flow::{CliRecord, CliStatus, Poll};
use crate::failure::OwnFailure;

/// A call to a code's object.
#[derive(Debug, Clone)]
pub enum CliCodeCall {
    /// Store the record of a new code.
    Create(CliRecord),
    /// The browser opened the link: start the flow, once.
    Start,
    /// How the flow ended.
    Finish(CliStatus),
    /// What the CLI learns; a final result is read once.
    Poll,
}

const CREATE: &str = "/create";
const START: &str = "/start";
const FINISH: &str = "/finish";
const POLL: &str = "/poll";

impl CliCodeCall {
    /// The call for the code whose hash (hex) is `hash`.
    pub fn wire(&self, hash: &str) -> Wire {
        let (method, path, body) = match self {
            CliCodeCall::Create(record) => (Method::Post, CREATE, json_body(record)),
            CliCodeCall::Start => (Method::Post, START, None),
            CliCodeCall::Finish(status) => (Method::Post, FINISH, json_body(status)),
            CliCodeCall::Poll => (Method::Get, POLL, None),
        };
        Wire {
            method,
            path,
            headers: vec![(header::CLI_HASH, hash.to_owned())],
            body,
        }
    }

    /// The call an object received, with the code's hash.
    pub fn receive(received: &Received<'_>) -> Result<(String, CliCodeCall), ProtocolError> {
        let hash = received.required(header::CLI_HASH)?.to_owned();
        let call = match (received.method, received.path) {
            (Method::Post, CREATE) => CliCodeCall::Create(received.json()?),
            (Method::Post, START) => CliCodeCall::Start,
            (Method::Post, FINISH) => CliCodeCall::Finish(received.json()?),
            (Method::Get, POLL) => CliCodeCall::Poll,
            _ => return Err(ProtocolError::UnknownCall),
        };
        Ok((hash, call))
    }
}

/// A code object's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CliCodeReply {
    Created,
    /// `Start` started the flow for `server`.
    Started {
        server: String,
    },
    Finished,
    /// `Poll`: where the run stands (a final result is now removed).
    Polled {
        status: CliStatus,
    },
    /// Unknown, expired, used (`Start`) or already read (`Poll`).
    NotFound,
    Failed {
        failure: OwnFailure,
    },
    BadCall,
}

impl CliCodeReply {
    pub fn status(&self) -> u16 {
        match self {
            CliCodeReply::Created => 201,
            CliCodeReply::Started { .. } | CliCodeReply::Finished | CliCodeReply::Polled { .. } => {
                200
            }
            CliCodeReply::NotFound => 404,
            CliCodeReply::Failed { failure } => failure.status(),
            CliCodeReply::BadCall => 400,
        }
    }

    pub fn encode(&self) -> Reply {
        encode_reply(self.status(), self)
    }

    pub fn decode(status: u16, body: &str) -> Result<Self, ProtocolError> {
        decode_reply(status, body, Self::status)
    }

    pub fn of_poll(poll: Poll) -> Self {
        match poll {
            Poll::Gone => CliCodeReply::NotFound,
            Poll::Pending => CliCodeReply::Polled {
                status: CliStatus::Pending,
            },
            Poll::Final(status) => CliCodeReply::Polled { status },
        }
    }
}
