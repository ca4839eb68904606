//! Every call and every reply of every object goes over the wire and back unchanged, with the
//! status its kind has.

use super::cli_code::{CliCodeCall, CliCodeReply};
use super::connection::{ConnectionCall, ConnectionReply};
use super::sse_session::{Opening, SseCall};
use super::throttle::{ThrottleCall, ThrottleReply};
use super::*;
use crate::connect::cli_flow::{CliRecord, CliStatus};
use crate::connect::flow::revoke::ReplacedGrant;
use crate::failure::{ConfigProblem, OwnFailure, StorageFailure};
use crate::lifecycle::connection_service::{CronOutcome, Grant, Visit};
use crate::oauth::tokens::Revocation;
use crate::secret::{SecretHash, UrlSecret, sha256};
use crate::testing::sample_record;
use oauth2::AccessToken;

fn owned_headers(wire: &Wire) -> Vec<(String, String)> {
    wire.headers
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.clone()))
        .collect()
}

/// Delivers `wire` the way an object receives it, and hands the result to `receive`.
fn deliver<T>(wire: &Wire, receive: impl Fn(&Received<'_>) -> T) -> T {
    let headers = owned_headers(wire);
    let body = wire.body.clone().unwrap_or_default();
    receive(&Received {
        method: wire.method,
        path: wire.path,
        headers: &headers,
        body: &body,
    })
}

/// Which variant a call or a reply is; the match is exhaustive, so a new variant fails to
/// compile here until it is added to the samples below.
fn connection_call_kind(call: &ConnectionCall) -> usize {
    match call {
        ConnectionCall::Create(_) => 0,
        ConnectionCall::Rebind(_) => 1,
        ConnectionCall::View => 2,
        ConnectionCall::Label(_) => 3,
        ConnectionCall::Rotate(_) => 4,
        ConnectionCall::Delete => 5,
        ConnectionCall::Status(_) => 6,
        ConnectionCall::Token { .. } => 7,
        ConnectionCall::Sweep => 8,
        ConnectionCall::StepUp { .. } => 9,
        ConnectionCall::ReconnectPlan => 10,
        ConnectionCall::Uses(_) => 11,
        ConnectionCall::Activity => 12,
        ConnectionCall::DismissNotices { .. } => 13,
    }
}

fn connection_reply_kind(reply: &ConnectionReply) -> usize {
    match reply {
        ConnectionReply::Created => 0,
        ConnectionReply::AlreadyExists => 1,
        ConnectionReply::Rebound { .. } => 2,
        ConnectionReply::View { .. } => 3,
        ConnectionReply::Rotated { .. } => 4,
        ConnectionReply::Deleted { .. } => 5,
        ConnectionReply::Status { .. } => 6,
        ConnectionReply::Token { .. } => 7,
        ConnectionReply::NeedsReauth => 8,
        ConnectionReply::AuthServerUnavailable { .. } => 9,
        ConnectionReply::RefreshLimited { .. } => 10,
        ConnectionReply::Swept { .. } => 11,
        ConnectionReply::NotFound => 12,
        ConnectionReply::Failed { .. } => 13,
        ConnectionReply::BadCall => 14,
        ConnectionReply::SteppedUp { .. } => 15,
        ConnectionReply::NotOAuth => 16,
        ConnectionReply::Plan { .. } => 17,
        ConnectionReply::Noted => 18,
        ConnectionReply::Activity { .. } => 19,
    }
}

fn covers_all(kinds: impl Iterator<Item = usize>, count: usize) {
    let mut seen: Vec<usize> = kinds.collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(
        seen,
        (0..count).collect::<Vec<_>>(),
        "every variant is sampled"
    );
}

#[test]
fn every_connection_call_crosses_and_comes_back_the_same() {
    let secret = UrlSecret::generate().expect("random");
    let record = sample_record("c1", secret.hash(), Some(3_600_000));
    let calls = vec![
        ConnectionCall::Create(record.clone()),
        ConnectionCall::Rebind(record),
        ConnectionCall::View,
        ConnectionCall::Label("Work Notion".into()),
        ConnectionCall::Rotate(secret.hash()),
        ConnectionCall::Delete,
        ConnectionCall::Status(secret.hash()),
        ConnectionCall::Token {
            presented: secret.hash(),
            rejected: None,
            uses: None,
        },
        ConnectionCall::Token {
            presented: secret.hash(),
            rejected: Some(sha256(b"AT-1")),
            uses: None,
        },
        ConnectionCall::Token {
            presented: secret.hash(),
            rejected: None,
            uses: Some(sample_batch()),
        },
        ConnectionCall::Sweep,
        ConnectionCall::StepUp {
            presented: secret.hash(),
            scopes: vec!["mcp:basic".into(), "mcp:write".into()],
        },
        ConnectionCall::ReconnectPlan,
        ConnectionCall::Uses(sample_batch()),
        ConnectionCall::Activity,
        ConnectionCall::DismissNotices {
            until: 1_795_690_200_000,
        },
    ];
    covers_all(calls.iter().map(connection_call_kind), 14);
    for call in &calls {
        let wire = call.wire("c1");
        assert!(wire.path.starts_with('/'));
        let (id, received) = deliver(&wire, ConnectionCall::receive).expect("received");
        assert_eq!(id, "c1");
        assert_eq!(connection_call_kind(&received), connection_call_kind(call));
        assert_eq!(received.wire("c1"), wire, "{call:?}");
    }
    // The secret itself never crosses: only its hash.
    let wire = ConnectionCall::Status(secret.hash()).wire("c1");
    assert!(!format!("{wire:?}").contains(secret.expose()));
}

#[test]
fn a_connection_call_off_the_protocol_is_refused() {
    let secret = UrlSecret::generate().expect("random");
    let mut wire = ConnectionCall::Status(secret.hash()).wire("c1");
    wire.headers
        .retain(|(name, _)| *name != header::SECRET_HASH);
    assert_eq!(
        deliver(&wire, ConnectionCall::receive).map(|_| ()).err(),
        Some(ProtocolError::MissingHeader(header::SECRET_HASH))
    );
    let mut wire = ConnectionCall::View.wire("c1");
    wire.method = Method::Delete;
    assert_eq!(
        deliver(&wire, ConnectionCall::receive).map(|_| ()).err(),
        Some(ProtocolError::UnknownCall)
    );
    let wire = ConnectionCall::View.wire("c1");
    let no_id: Vec<(String, String)> = Vec::new();
    let received = Received {
        method: wire.method,
        path: wire.path,
        headers: &no_id,
        body: &[],
    };
    assert_eq!(
        ConnectionCall::receive(&received).map(|_| ()).err(),
        Some(ProtocolError::MissingHeader(header::CONNECTION_ID))
    );
    let mut bad = ConnectionCall::Token {
        presented: secret.hash(),
        rejected: None,
        uses: None,
    }
    .wire("c1");
    bad.body = Some(br#"{"rejected":"short"}"#.to_vec());
    assert_eq!(
        deliver(&bad, ConnectionCall::receive).map(|_| ()).err(),
        Some(ProtocolError::BadBody)
    );
    // No body at all reads as no refused token.
    bad.body = None;
    assert!(matches!(
        deliver(&bad, ConnectionCall::receive),
        Ok((_, ConnectionCall::Token { rejected: None, .. }))
    ));
    // A body with fields this version does not know still reads (a neighbouring version's).
    bad.body = Some(br#"{"later_field":{"requests":3}}"#.to_vec());
    assert!(matches!(
        deliver(&bad, ConnectionCall::receive),
        Ok((_, ConnectionCall::Token { rejected: None, .. }))
    ));
}

#[test]
fn every_connection_reply_crosses_with_its_status_and_comes_back_the_same() {
    let secret = UrlSecret::generate().expect("random");
    let record = sample_record("c1", secret.hash(), Some(3_600_000));
    let replies = vec![
        (ConnectionReply::Created, 201),
        (ConnectionReply::AlreadyExists, 409),
        (
            ConnectionReply::Rebound {
                replaced_grant: ReplacedGrant::Revoked,
            },
            200,
        ),
        (
            ConnectionReply::View {
                view: record.view(),
            },
            200,
        ),
        (
            ConnectionReply::Rotated {
                old_hash: secret.hash(),
            },
            200,
        ),
        (
            ConnectionReply::Deleted {
                old_hash: secret.hash(),
                upstream_revocation: Revocation::Failed,
            },
            200,
        ),
        (
            ConnectionReply::Status {
                status: record.status_view(),
            },
            200,
        ),
        (
            ConnectionReply::Token {
                grant: Grant {
                    access_token: AccessToken::new("AT-1".into()),
                    expires_at: Some(3_600_000),
                    upstream: "https://mcp.example.com/mcp".into(),
                    fresh_until: Some(3_540_000),
                    upstream_auth: crate::vault::record::UpstreamAuth::Header {
                        name: "X-API-Key".into(),
                    },
                },
            },
            200,
        ),
        (
            ConnectionReply::SteppedUp {
                scopes: vec!["mcp:basic".into(), "mcp:write".into()],
                exhausted: false,
            },
            200,
        ),
        (ConnectionReply::NotOAuth, 200),
        (
            ConnectionReply::Plan {
                plan: crate::lifecycle::connection_service::ReconnectPlan::of(&record),
            },
            200,
        ),
        (ConnectionReply::NeedsReauth, 409),
        (
            ConnectionReply::AuthServerUnavailable {
                authorization_server: "https://auth.example.com".into(),
                retry_at: 5_000,
            },
            503,
        ),
        (ConnectionReply::RefreshLimited { retry_at: None }, 429),
        (
            ConnectionReply::RefreshLimited {
                retry_at: Some(60_000),
            },
            429,
        ),
        (
            ConnectionReply::Swept {
                visit: Visit {
                    rearmed: true,
                    outcome: CronOutcome::Transient,
                },
            },
            200,
        ),
        (ConnectionReply::NotFound, 404),
        (
            ConnectionReply::failed(OwnFailure::storage(StorageFailure::ConnectionRecord)),
            503,
        ),
        (
            ConnectionReply::failed(OwnFailure::misconfigured(ConfigProblem::KeyMissing)),
            500,
        ),
        (
            ConnectionReply::failed(OwnFailure::misconfigured(ConfigProblem::KeyMalformed {
                reason: "not base64".into(),
            })),
            500,
        ),
        (
            ConnectionReply::failed(OwnFailure::misconfigured(
                ConfigProblem::KeyVersionMissing { version: 3 },
            )),
            500,
        ),
        (ConnectionReply::failed(OwnFailure::Internal), 500),
        (ConnectionReply::BadCall, 400),
        (ConnectionReply::Noted, 200),
        (
            ConnectionReply::Activity {
                activity: sample_activity(),
            },
            200,
        ),
    ];
    covers_all(replies.iter().map(|(r, _)| connection_reply_kind(r)), 20);
    for (reply, status) in &replies {
        let encoded = reply.encode();
        assert_eq!(encoded.status, *status, "{reply:?}");
        let decoded = ConnectionReply::decode(encoded.status, &encoded.body).expect("decoded");
        assert_eq!(
            connection_reply_kind(&decoded),
            connection_reply_kind(reply)
        );
        assert_eq!(decoded.encode(), encoded, "{reply:?}");
    }
}

#[test]
fn a_reply_with_the_wrong_status_or_no_kind_is_not_a_reply() {
    // A storage failure read as anything else is how a 1970 retry time came about: a body
    // is read only with the status of its kind.
    let storage = ConnectionReply::failed(OwnFailure::storage(StorageFailure::ConnectionRecord));
    let encoded = storage.encode();
    assert_eq!(
        ConnectionReply::decode(200, &encoded.body)
            .map(|_| ())
            .err(),
        Some(ProtocolError::BadReply { status: 200 })
    );
    let unavailable = ConnectionReply::AuthServerUnavailable {
        authorization_server: "https://auth.example.com".into(),
        retry_at: 5_000,
    };
    assert!(ConnectionReply::decode(503, &unavailable.encode().body).is_ok());
    assert!(ConnectionReply::decode(503, r#"{"error":"storage_unavailable"}"#).is_err());
    assert!(ConnectionReply::decode(500, "Internal Server Error").is_err());
    assert!(ConnectionReply::decode(404, r#"{"error":"not_found"}"#).is_err());
}

#[test]
fn every_session_call_crosses_and_comes_back_the_same() {
    fn kind(call: &SseCall) -> usize {
        match call {
            SseCall::Open { .. } => 0,
            SseCall::Resume { .. } => 1,
            SseCall::Message { .. } => 2,
            SseCall::BridgePost { .. } => 3,
            SseCall::BridgeListen => 4,
            SseCall::BridgeEnd => 5,
        }
    }
    let secret = UrlSecret::generate().expect("random");
    let opening = Opening {
        session: "s-1".into(),
        connection_id: "c1".into(),
        reconnect_url: "https://b.example/manage/c1/reconnect".into(),
    };
    let calls = vec![
        SseCall::Open {
            opening: opening.clone(),
            endpoint: "https://b.example/s/x/message?session=s-1".into(),
        },
        SseCall::Resume { after: 42 },
        SseCall::Message {
            body: br#"{"jsonrpc":"2.0","method":"ping","id":1}"#.to_vec(),
        },
        SseCall::BridgePost {
            opening: Some(opening),
            body: b"{}".to_vec(),
        },
        SseCall::BridgePost {
            opening: None,
            body: b"{}".to_vec(),
        },
        SseCall::BridgeListen,
        SseCall::BridgeEnd,
    ];
    covers_all(calls.iter().map(kind), 6);
    for call in &calls {
        let wire = call.wire(&secret.hash());
        let (hash, received) = deliver(&wire, SseCall::receive).expect("received");
        assert!(hash.ct_eq(&secret.hash()));
        assert_eq!(&received, call);
        assert_eq!(received.wire(&secret.hash()), wire);
    }
}

#[test]
fn the_throttle_call_and_replies_cross_and_come_back_the_same() {
    let call = ThrottleCall::WrongToken {
        bucket: "203.0.113.7".into(),
    };
    assert_eq!(
        deliver(&call.wire(), ThrottleCall::receive).expect("received"),
        call
    );
    for (reply, wait) in [
        (ThrottleReply::Counted, None),
        (ThrottleReply::Wait { seconds: 4 }, Some(4)),
        (ThrottleReply::BadCall, None),
    ] {
        let encoded = reply.encode();
        let decoded = ThrottleReply::decode(encoded.status, &encoded.body).expect("decoded");
        assert_eq!((decoded.wait(), &decoded), (wait, &reply));
    }
    let mut wire = call.wire();
    wire.headers.clear();
    assert_eq!(
        deliver(&wire, ThrottleCall::receive).err(),
        Some(ProtocolError::MissingHeader(header::CLIENT_BUCKET))
    );
}

#[test]
fn every_cli_code_call_and_reply_crosses_and_comes_back_the_same() {
    fn call_kind(call: &CliCodeCall) -> usize {
        match call {
            CliCodeCall::Create(_) => 0,
            CliCodeCall::Start => 1,
            CliCodeCall::Finish(_) => 2,
            CliCodeCall::Poll => 3,
        }
    }
    fn reply_kind(reply: &CliCodeReply) -> usize {
        match reply {
            CliCodeReply::Created => 0,
            CliCodeReply::Started { .. } => 1,
            CliCodeReply::Finished => 2,
            CliCodeReply::Polled { .. } => 3,
            CliCodeReply::NotFound => 4,
            CliCodeReply::Failed { .. } => 5,
            CliCodeReply::BadCall => 6,
        }
    }
    let calls = vec![
        CliCodeCall::Create(CliRecord::new("https://mcp.example.com/mcp".into(), 0)),
        CliCodeCall::Start,
        CliCodeCall::Finish(CliStatus::Failed {
            error: "access_denied".into(),
            message: "declined".into(),
        }),
        CliCodeCall::Poll,
    ];
    covers_all(calls.iter().map(call_kind), 4);
    for call in &calls {
        let wire = call.wire("abcd");
        let (hash, received) = deliver(&wire, CliCodeCall::receive).expect("received");
        assert_eq!(hash, "abcd");
        assert_eq!(call_kind(&received), call_kind(call));
        assert_eq!(received.wire("abcd"), wire);
    }
    let replies = vec![
        CliCodeReply::Created,
        CliCodeReply::Started {
            server: "https://mcp.example.com/mcp".into(),
        },
        CliCodeReply::Finished,
        CliCodeReply::Polled {
            status: CliStatus::Pending,
        },
        CliCodeReply::Polled {
            status: CliStatus::Connected {
                id: "c1".into(),
                label: "Example".into(),
                upstream: "https://mcp.example.com/mcp".into(),
                mcp_url: "https://b.example/s/x/mcp".into(),
                sse_url: "https://b.example/s/x/sse".into(),
            },
        },
        CliCodeReply::NotFound,
        CliCodeReply::Failed {
            failure: OwnFailure::storage(StorageFailure::CliCode),
        },
        CliCodeReply::BadCall,
    ];
    covers_all(replies.iter().map(reply_kind), 7);
    for reply in &replies {
        let encoded = reply.encode();
        let decoded = CliCodeReply::decode(encoded.status, &encoded.body).expect("decoded");
        assert_eq!(reply_kind(&decoded), reply_kind(reply));
        assert_eq!(decoded.encode(), encoded);
    }
}

fn sample_batch() -> crate::lifecycle::activity::Batch {
    let mut batch = crate::lifecycle::activity::Batch::default();
    let place = crate::lifecycle::activity::Place::reported(Some("AMS".into()), Some("NL".into()));
    batch.note(1_795_690_200_000, place.as_ref(), false);
    batch.note(1_795_690_260_000, None, true);
    batch
}

fn sample_activity() -> crate::lifecycle::activity::view::ActivityView {
    let mut activity = crate::lifecycle::activity::Activity::default();
    activity.merge(&sample_batch(), 1_795_690_300_000);
    activity.note_refresh(crate::lifecycle::activity::RefreshNote {
        at: 1_795_690_100_000,
        trigger: crate::lifecycle::activity::RefreshTrigger::Rejected,
        outcome: crate::lifecycle::activity::RefreshResult::Failed,
    });
    activity.view(1_795_690_300_000)
}

#[test]
fn a_batch_and_an_activity_view_cross_unchanged() {
    let wire = ConnectionCall::Uses(sample_batch()).wire("c1");
    let (_, received) = deliver(&wire, ConnectionCall::receive).expect("received");
    match received {
        ConnectionCall::Uses(batch) => assert_eq!(batch, sample_batch()),
        other => panic!("received {other:?}"),
    }
    // On the warm path, an isolate's uses ride in the body of the token call that renews it.
    let wire = ConnectionCall::Token {
        presented: SecretHash::from_bytes(sha256(b"secret")),
        rejected: None,
        uses: Some(sample_batch()),
    }
    .wire("c1");
    match deliver(&wire, ConnectionCall::receive).expect("received").1 {
        ConnectionCall::Token { uses, .. } => assert_eq!(uses, Some(sample_batch())),
        other => panic!("received {other:?}"),
    }
    let wire = ConnectionCall::DismissNotices { until: 42 }.wire("c1");
    let (_, received) = deliver(&wire, ConnectionCall::receive).expect("received");
    assert!(matches!(
        received,
        ConnectionCall::DismissNotices { until: 42 }
    ));
    let encoded = ConnectionReply::Activity {
        activity: sample_activity(),
    }
    .encode();
    match ConnectionReply::decode(200, &encoded.body).expect("decoded") {
        ConnectionReply::Activity { activity } => {
            assert_eq!(activity, sample_activity());
            assert_eq!(activity.requests_24h, 2);
            assert_eq!(activity.errors_24h, 1);
        }
        other => panic!("decoded {other:?}"),
    }
}
