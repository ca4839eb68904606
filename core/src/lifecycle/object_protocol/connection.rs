//! The calls to a `Connection` object and its replies. Every call names its connection in
//! [`header::CONNECTION_ID`]; a call for the holder of a URL carries the hash of its secret.

use serde::{Deserialize, Serialize};

use super::{
    Method, ProtocolError, Received, Reply, Wire, decode_reply, encode_reply, header, json_body,
};
use crate::connect::flow::revoke::ReplacedGrant;
use crate::failure::OwnFailure;
use crate::lifecycle::activity::Batch;
use crate::lifecycle::activity::view::ActivityView;
use crate::lifecycle::connection_service::{
    Deleted, Grant, ReconnectPlan, StepUpOutcome, TokenOutcome, Visit,
};
use crate::lifecycle::refresh::Unavailable;
use crate::oauth::step_up::StepUp;
use crate::oauth::tokens::Revocation;
use crate::secret::{SecretHash, b64url, b64url_decode};
use crate::time::UnixMillis;
use crate::vault::record::{ConnectionRecord, ConnectionView, StatusView};

/// A call to a connection's object.
#[derive(Debug, Clone)]
pub enum ConnectionCall {
    /// Store a new connection (the object seals the record before writing it).
    Create(ConnectionRecord),
    /// Bind the grant of this record to the connection (a reconnect).
    Rebind(ConnectionRecord),
    /// The owner's view.
    View,
    Label(String),
    /// Point the connection at a new URL secret.
    Rotate(SecretHash),
    Delete,
    /// The public status, for the holder of the URL secret with this hash.
    Status(SecretHash),
    /// A usable access token, for the holder of the URL secret `presented`; `rejected` is the
    /// SHA-256 of a token the upstream just answered 401 to. A request asks with it when its
    /// isolate holds nothing usable, and an isolate renews what it holds with it (see
    /// [`crate::lifecycle::grant_cache`]): under traffic, every isolate makes this call at least
    /// once per half revocation bound, so what an isolate has to tell the object about the requests
    /// it answered from memory rides in its body ([`TokenBody`]) rather than in a call of its own.
    Token {
        presented: SecretHash,
        rejected: Option<[u8; 32]>,
        /// Uses the isolate counted and has not delivered yet (see [`crate::lifecycle::activity`]).
        uses: Option<Batch>,
    },
    /// The cron's sweep: set the alarm if it is missing, refresh if the alarm's time passed.
    Sweep,
    /// The upstream answered the holder of the URL secret `presented` with
    /// `insufficient_scope`, asking for `scopes` (see [`crate::oauth::step_up`]).
    StepUp {
        presented: SecretHash,
        scopes: Vec<String>,
    },
    /// What reconnecting the connection asks the owner for.
    ReconnectPlan,
    /// Uses an isolate counted (see [`crate::lifecycle::activity`]).
    Uses(Batch),
    /// The owner's view of the connection's activity.
    Activity,
    /// The owner dismissed the new-place notices of uses at or before `until`.
    DismissNotices {
        until: UnixMillis,
    },
}

#[derive(Serialize, Deserialize)]
struct DismissBody {
    until: UnixMillis,
}

#[derive(Serialize, Deserialize)]
struct StepUpBody {
    scopes: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct LabelBody {
    label: String,
}

#[derive(Serialize, Deserialize)]
struct RotateBody {
    hash: String,
}

/// The body of a [`ConnectionCall::Token`]: everything the Worker tells the object besides the
/// secret's hash. A field added later comes with a serde default, so a Worker and an object of
/// neighbouring versions read each other's calls.
#[derive(Debug, Default, Serialize, Deserialize)]
struct TokenBody {
    /// Base64url SHA-256 of the access token the upstream just refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rejected: Option<String>,
    /// Uses the isolate counted since its last delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uses: Option<Batch>,
}

const CREATE: &str = "/create";
const REBIND: &str = "/rebind";
const VIEW: &str = "/view";
const LABEL: &str = "/label";
const ROTATE: &str = "/rotate";
const DELETE: &str = "/delete";
const STATUS: &str = "/status";
const TOKEN: &str = "/token";
const SWEEP: &str = "/sweep";
const STEP_UP: &str = "/step-up";
const RECONNECT_PLAN: &str = "/reconnect-plan";
const USES: &str = "/uses";
const ACTIVITY: &str = "/activity";
const DISMISS_NOTICES: &str = "/dismiss-notices";

impl ConnectionCall {
    /// The call for connection `id`, as it crosses to the object.
    pub fn wire(&self, id: &str) -> Wire {
        let mut headers = vec![(header::CONNECTION_ID, id.to_owned())];
        let (method, path, body) = match self {
            ConnectionCall::Create(record) => (Method::Post, CREATE, json_body(record)),
            ConnectionCall::Rebind(record) => (Method::Post, REBIND, json_body(record)),
            ConnectionCall::View => (Method::Get, VIEW, None),
            ConnectionCall::Label(label) => (
                Method::Post,
                LABEL,
                json_body(&LabelBody {
                    label: label.clone(),
                }),
            ),
            ConnectionCall::Rotate(hash) => (
                Method::Post,
                ROTATE,
                json_body(&RotateBody {
                    hash: hash.to_hex(),
                }),
            ),
            ConnectionCall::Delete => (Method::Post, DELETE, None),
            ConnectionCall::Status(hash) => {
                headers.push((header::SECRET_HASH, hash.to_hex()));
                (Method::Get, STATUS, None)
            }
            ConnectionCall::Token {
                presented,
                rejected,
                uses,
            } => {
                headers.push((header::SECRET_HASH, presented.to_hex()));
                let body = TokenBody {
                    rejected: rejected.as_ref().map(|hash| b64url(hash)),
                    uses: uses.clone(),
                };
                (Method::Post, TOKEN, json_body(&body))
            }
            ConnectionCall::Sweep => (Method::Post, SWEEP, None),
            ConnectionCall::StepUp { presented, scopes } => {
                headers.push((header::SECRET_HASH, presented.to_hex()));
                (
                    Method::Post,
                    STEP_UP,
                    json_body(&StepUpBody {
                        scopes: scopes.clone(),
                    }),
                )
            }
            ConnectionCall::ReconnectPlan => (Method::Get, RECONNECT_PLAN, None),
            ConnectionCall::Uses(batch) => (Method::Post, USES, json_body(batch)),
            ConnectionCall::Activity => (Method::Get, ACTIVITY, None),
            ConnectionCall::DismissNotices { until } => (
                Method::Post,
                DISMISS_NOTICES,
                json_body(&DismissBody { until: *until }),
            ),
        };
        Wire {
            method,
            path,
            headers,
            body,
        }
    }

    /// The call an object received, with the id of the connection it is for.
    pub fn receive(received: &Received<'_>) -> Result<(String, ConnectionCall), ProtocolError> {
        let id = received.required(header::CONNECTION_ID)?.to_owned();
        let presented = || {
            SecretHash::from_hex(received.required(header::SECRET_HASH)?)
                .ok_or(ProtocolError::BadHeader(header::SECRET_HASH))
        };
        let call = match (received.method, received.path) {
            (Method::Post, CREATE) => ConnectionCall::Create(received.json()?),
            (Method::Post, REBIND) => ConnectionCall::Rebind(received.json()?),
            (Method::Get, VIEW) => ConnectionCall::View,
            (Method::Post, LABEL) => ConnectionCall::Label(received.json::<LabelBody>()?.label),
            (Method::Post, ROTATE) => ConnectionCall::Rotate(
                SecretHash::from_hex(&received.json::<RotateBody>()?.hash)
                    .ok_or(ProtocolError::BadBody)?,
            ),
            (Method::Post, DELETE) => ConnectionCall::Delete,
            (Method::Get, STATUS) => ConnectionCall::Status(presented()?),
            (Method::Post, TOKEN) => {
                // No body (a Worker of the version before it): nothing refused.
                let body: TokenBody = if received.body.is_empty() {
                    TokenBody::default()
                } else {
                    received.json()?
                };
                let rejected = match body.rejected {
                    None => None,
                    Some(text) => Some(
                        b64url_decode(&text)
                            .and_then(|b| <[u8; 32]>::try_from(b).ok())
                            .ok_or(ProtocolError::BadBody)?,
                    ),
                };
                ConnectionCall::Token {
                    presented: presented()?,
                    rejected,
                    uses: body.uses,
                }
            }
            (Method::Post, SWEEP) => ConnectionCall::Sweep,
            (Method::Post, STEP_UP) => ConnectionCall::StepUp {
                presented: presented()?,
                scopes: received.json::<StepUpBody>()?.scopes,
            },
            (Method::Get, RECONNECT_PLAN) => ConnectionCall::ReconnectPlan,
            (Method::Post, USES) => ConnectionCall::Uses(received.json()?),
            (Method::Get, ACTIVITY) => ConnectionCall::Activity,
            (Method::Post, DISMISS_NOTICES) => ConnectionCall::DismissNotices {
                until: received.json::<DismissBody>()?.until,
            },
            _ => return Err(ProtocolError::UnknownCall),
        };
        Ok((id, call))
    }
}

/// A connection object's answer. Its JSON body is the kind, alone or with its fields under it
/// (serde's external tagging: no buffering of nested types); [`Self::status`]
/// gives the HTTP status of each kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionReply {
    /// `Create` stored the connection.
    Created,
    /// `Create` found a connection with this id.
    AlreadyExists,
    /// `Rebind` bound the new grant; what became of the one it replaced.
    Rebound {
        replaced_grant: ReplacedGrant,
    },
    /// `View` and `Label`.
    View {
        view: ConnectionView,
    },
    /// `Rotate`: the old secret's hash, whose index entry must go.
    Rotated {
        old_hash: SecretHash,
    },
    Deleted {
        old_hash: SecretHash,
        upstream_revocation: Revocation,
    },
    Status {
        status: StatusView,
    },
    /// `Token`: a usable access token.
    Token {
        grant: Grant,
    },
    /// `Token`: the grant is gone; only the owner can authorize again.
    NeedsReauth,
    /// `Token`: the authorization server is failing; a request may try again at `retry_at`.
    AuthServerUnavailable {
        authorization_server: String,
        retry_at: UnixMillis,
    },
    /// `Token`: the upstream refused the current token, and a refresh for that refusal is not
    /// allowed now.
    RefreshLimited {
        retry_at: Option<UnixMillis>,
    },
    /// `Sweep`: what the cron's visit found and did.
    Swept {
        visit: Visit,
    },
    /// `StepUp`: the scopes the reconnect asks for, or, `exhausted`, the ones authorized as
    /// often as [`crate::oauth::step_up::MAX_AUTHORIZATIONS_PER_SCOPES`] allows without help.
    SteppedUp {
        scopes: Vec<String>,
        exhausted: bool,
    },
    /// `StepUp` for a connection without an OAuth grant: nothing to step up.
    NotOAuth,
    /// `ReconnectPlan`.
    Plan {
        plan: ReconnectPlan,
    },
    /// `Uses`: the batch was added.
    Noted,
    /// `Activity` and `DismissNotices`.
    Activity {
        activity: ActivityView,
    },
    /// No such connection, or the URL secret does not open it (the two are not told apart).
    NotFound,
    /// Bindify's own storage or configuration failed.
    Failed {
        failure: OwnFailure,
    },
    /// The call does not follow the protocol.
    BadCall,
}

impl ConnectionReply {
    pub fn status(&self) -> u16 {
        match self {
            ConnectionReply::Created => 201,
            ConnectionReply::AlreadyExists | ConnectionReply::NeedsReauth => 409,
            ConnectionReply::Rebound { .. }
            | ConnectionReply::View { .. }
            | ConnectionReply::Rotated { .. }
            | ConnectionReply::Deleted { .. }
            | ConnectionReply::Status { .. }
            | ConnectionReply::Token { .. }
            | ConnectionReply::Swept { .. }
            | ConnectionReply::SteppedUp { .. }
            | ConnectionReply::NotOAuth
            | ConnectionReply::Plan { .. }
            | ConnectionReply::Noted
            | ConnectionReply::Activity { .. } => 200,
            ConnectionReply::AuthServerUnavailable { .. } => 503,
            ConnectionReply::RefreshLimited { .. } => 429,
            ConnectionReply::NotFound => 404,
            ConnectionReply::Failed { failure } => failure.status(),
            ConnectionReply::BadCall => 400,
        }
    }

    pub fn encode(&self) -> Reply {
        encode_reply(self.status(), self)
    }

    pub fn decode(status: u16, body: &str) -> Result<Self, ProtocolError> {
        decode_reply(status, body, Self::status)
    }

    /// The answer to a token request.
    pub fn of_token(outcome: TokenOutcome) -> Self {
        match outcome {
            TokenOutcome::Token(grant) => ConnectionReply::Token { grant },
            TokenOutcome::Unavailable(Unavailable::NeedsReauth) => ConnectionReply::NeedsReauth,
            TokenOutcome::Unavailable(Unavailable::Transient {
                authorization_server,
                retry_at,
            }) => ConnectionReply::AuthServerUnavailable {
                authorization_server,
                retry_at,
            },
            TokenOutcome::RefreshLimited(limited) => ConnectionReply::RefreshLimited {
                retry_at: limited.retry_at,
            },
        }
    }

    /// The answer to a step-up.
    pub fn of_step_up(outcome: StepUpOutcome) -> Self {
        match outcome {
            StepUpOutcome::NotFound => ConnectionReply::NotFound,
            StepUpOutcome::NotOAuth => ConnectionReply::NotOAuth,
            StepUpOutcome::StepUp(StepUp::Reauthorize { scopes }) => ConnectionReply::SteppedUp {
                scopes,
                exhausted: false,
            },
            StepUpOutcome::StepUp(StepUp::Exhausted { scopes }) => ConnectionReply::SteppedUp {
                scopes,
                exhausted: true,
            },
        }
    }

    pub fn of_deleted(deleted: Deleted) -> Self {
        ConnectionReply::Deleted {
            old_hash: deleted.old_hash,
            upstream_revocation: deleted.upstream_revocation,
        }
    }

    pub fn failed(failure: OwnFailure) -> Self {
        ConnectionReply::Failed { failure }
    }
}
