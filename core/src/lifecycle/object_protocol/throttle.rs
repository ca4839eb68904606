//! The call to the `Throttle` object, which counts wrong admin tokens in its memory (see
//! [`crate::admin::throttle`]), and its replies.

use serde::{Deserialize, Serialize};

use super::{Method, ProtocolError, Received, Reply, Wire, decode_reply, encode_reply, header};
use crate::admin::throttle::Verdict;

/// A call to the throttle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThrottleCall {
    /// A wrong admin token from the client in `bucket` (see
    /// [`crate::admin::throttle::client_bucket`]).
    WrongToken { bucket: String },
}

const WRONG_TOKEN: &str = "/wrong-token";

impl ThrottleCall {
    pub fn wire(&self) -> Wire {
        match self {
            ThrottleCall::WrongToken { bucket } => Wire {
                method: Method::Post,
                path: WRONG_TOKEN,
                headers: vec![(header::CLIENT_BUCKET, bucket.clone())],
                body: None,
            },
        }
    }

    pub fn receive(received: &Received<'_>) -> Result<Self, ProtocolError> {
        match (received.method, received.path) {
            (Method::Post, WRONG_TOKEN) => Ok(ThrottleCall::WrongToken {
                bucket: received.required(header::CLIENT_BUCKET)?.to_owned(),
            }),
            _ => Err(ProtocolError::UnknownCall),
        }
    }
}

/// The throttle's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThrottleReply {
    /// Counted: answer "wrong token".
    Counted,
    /// Not counted: the client must wait this long.
    Wait { seconds: u64 },
    /// The call does not follow the protocol.
    BadCall,
}

impl ThrottleReply {
    pub fn status(&self) -> u16 {
        match self {
            ThrottleReply::Counted | ThrottleReply::Wait { .. } => 200,
            ThrottleReply::BadCall => 400,
        }
    }

    pub fn encode(&self) -> Reply {
        encode_reply(self.status(), self)
    }

    pub fn decode(status: u16, body: &str) -> Result<Self, ProtocolError> {
        decode_reply(status, body, Self::status)
    }

    /// Seconds the client must wait, if any.
    pub fn wait(&self) -> Option<u64> {
        match self {
            ThrottleReply::Wait { seconds } => Some(*seconds),
            ThrottleReply::Counted | ThrottleReply::BadCall => None,
        }
    }
}

impl From<Verdict> for ThrottleReply {
    fn from(verdict: Verdict) -> Self {
        match verdict {
            Verdict::Counted => ThrottleReply::Counted,
            Verdict::Wait { seconds } => ThrottleReply::Wait { seconds },
        }
    }
}
