use super::*;
use crate::connect::flow::ConnectError;
use crate::mcp::proxy::check_body;
use crate::secret::UrlSecret;
use crate::testing::{block_on, keyring, keyring_with, sample_record};
use crate::vault::Vault;
use crate::vault::envelope::KeyError;
use crate::vault::store::MemoryStore;

const NOW: UnixMillis = 1_795_690_200_000;
const LINK: &str = "https://b.example/manage/conn-1/reconnect";
const UPSTREAM: &str = "https://mcp.example.com/mcp";
const CHECK_STORAGE: &str = "The MCP server and its authorization server are not involved. The operator can look at the Worker's log (`npx wrangler tail`) and at Cloudflare's status page for";

fn own(failure: OwnFailure) -> Failure {
    Failure::Own(failure)
}

struct Row {
    failure: Failure,
    source: Source,
    code: i64,
    status: u16,
    message: String,
    data: Option<Value>,
    retry_after: Option<u64>,
}

/// Every failure, and what the client is told about it.
fn table() -> Vec<Row> {
    let storage = |what, failed: &str, service: &str| Row {
        failure: own(OwnFailure::storage(what)),
        source: Source::BindifyStorage,
        code: STORAGE_FAILED,
        status: 503,
        message: format!(
            "Bindify's own storage failed: {failed}. {CHECK_STORAGE} {service}. Try again in a minute."
        ),
        data: Some(
            json!({ "source": "bindify_storage", "error": "storage_unavailable", "storage": what }),
        ),
        retry_after: Some(60),
    };
    let config = |problem: ConfigProblem, error: &str, variable: &str, message: &str| Row {
        failure: own(OwnFailure::misconfigured(problem)),
        source: Source::BindifyConfiguration,
        code: MISCONFIGURED,
        status: 500,
        message: message.to_owned(),
        data: Some(
            json!({ "source": "bindify_configuration", "error": error, "variable": variable }),
        ),
        retry_after: None,
    };
    vec![
        storage(
            StorageFailure::UrlIndex,
            "the index of permanent URLs (Workers KV) could not be read",
            "Workers KV",
        ),
        storage(
            StorageFailure::Kv,
            "Workers KV could not be read or written",
            "Workers KV",
        ),
        storage(
            StorageFailure::ConnectionRecord,
            "the Durable Object that holds this connection could not read or write its record",
            "Durable Objects",
        ),
        storage(
            StorageFailure::ConnectionObject,
            "the Durable Object that holds this connection did not answer",
            "Durable Objects",
        ),
        storage(
            StorageFailure::CliCode,
            "the Durable Object that holds this connect code could not read or write it",
            "Durable Objects",
        ),
        config(
            ConfigProblem::KeyMissing,
            "encryption_key_missing",
            "TOKEN_ENCRYPTION_KEY",
            "Bindify is not configured: TOKEN_ENCRYPTION_KEY is not set, so no connection can be opened. The MCP server and its authorization server are not involved. The operator must set it to the key the connections were stored with: `npx wrangler secret put TOKEN_ENCRYPTION_KEY` (a Worker without connections can take a new one from `openssl rand -base64 32`).",
        ),
        config(
            ConfigProblem::KeyMalformed {
                reason: KeyError::WrongLength { got: 16 }.to_string(),
            },
            "encryption_key_malformed",
            "TOKEN_ENCRYPTION_KEY",
            "Bindify is not configured: TOKEN_ENCRYPTION_KEY must be 32 random bytes in base64 (got 16 bytes); generate one with `openssl rand -base64 32`. The MCP server and its authorization server are not involved. The operator must set it again: `npx wrangler secret put TOKEN_ENCRYPTION_KEY`.",
        ),
        config(
            ConfigProblem::KeyVersionInvalid,
            "encryption_key_malformed",
            "TOKEN_ENCRYPTION_KEY_VERSION",
            "Bindify is not configured: TOKEN_ENCRYPTION_KEY_VERSION must be a whole number from 1 to 255 (the version of TOKEN_ENCRYPTION_KEY). The MCP server and its authorization server are not involved. The operator corrects it under [vars] in wrangler.toml and deploys again (see docs/configuration.md).",
        ),
        config(
            ConfigProblem::SealedWithOtherKey,
            "encryption_key_mismatch",
            "TOKEN_ENCRYPTION_KEY_PREVIOUS",
            "Bindify is misconfigured: this connection's record does not open with the configured TOKEN_ENCRYPTION_KEY; it was stored under another key. The MCP server and its authorization server are not involved. If the key was changed, the operator puts the old key back, or sets it as TOKEN_ENCRYPTION_KEY_PREVIOUS (`npx wrangler secret put TOKEN_ENCRYPTION_KEY_PREVIOUS`) and raises TOKEN_ENCRYPTION_KEY_VERSION by one (see docs/configuration.md).",
        ),
        config(
            ConfigProblem::KeyVersionMissing { version: 1 },
            "encryption_key_mismatch",
            "TOKEN_ENCRYPTION_KEY_PREVIOUS",
            "Bindify is misconfigured: this connection's record was stored under encryption key version 1, and no configured key has that version. The MCP server and its authorization server are not involved. The operator sets that key as TOKEN_ENCRYPTION_KEY_PREVIOUS (`npx wrangler secret put TOKEN_ENCRYPTION_KEY_PREVIOUS`) with TOKEN_ENCRYPTION_KEY_VERSION = 2 (see docs/configuration.md).",
        ),
        Row {
            failure: own(OwnFailure::Internal),
            source: Source::Bindify,
            code: jsonrpc::INTERNAL_ERROR,
            status: 500,
            message: "Bindify hit an internal error; the MCP server and its authorization server are not involved. Try again; if it keeps happening, the operator can look at the Worker's log (`npx wrangler tail`).".into(),
            data: Some(json!({ "source": "bindify", "error": "internal_error" })),
            retry_after: None,
        },
        Row {
            failure: Failure::NeedsReauth,
            source: Source::AuthorizationServer,
            code: NEEDS_REAUTH,
            status: 503,
            message: format!(
                "Bindify: this connection's authorization has expired or was revoked. Open {LINK} in a browser to authorize it again; this URL keeps working afterwards."
            ),
            data: Some(
                json!({ "reconnect_url": LINK, "state": "needs_reauth", "source": "authorization_server" }),
            ),
            retry_after: None,
        },
        Row {
            failure: Failure::AuthServerUnavailable {
                authorization_server: "https://auth.example.com".into(),
                retry_at: NOW + 4_200,
            },
            source: Source::AuthorizationServer,
            code: AUTH_SERVER_UNAVAILABLE,
            status: 503,
            message: "Bindify: the authorization server https://auth.example.com is unavailable, so the access token could not be renewed. The next request after 2026-11-26T10:50:04Z tries again (in 5 s).".into(),
            data: Some(json!({
                "authorization_server": "https://auth.example.com",
                "retry_at": "2026-11-26T10:50:04Z",
                "state": "error",
                "source": "authorization_server",
            })),
            retry_after: Some(5),
        },
        Row {
            failure: Failure::AuthServerUnavailable {
                authorization_server: "https://auth.example.com".into(),
                retry_at: NOW - 5_000,
            },
            source: Source::AuthorizationServer,
            code: AUTH_SERVER_UNAVAILABLE,
            status: 503,
            message: "Bindify: the authorization server https://auth.example.com is unavailable, so the access token could not be renewed. The next request tries again.".into(),
            data: Some(json!({
                "authorization_server": "https://auth.example.com",
                "retry_at": "2026-11-26T10:49:55Z",
                "state": "error",
                "source": "authorization_server",
            })),
            retry_after: Some(1),
        },
        Row {
            failure: Failure::TokenRefused {
                upstream: UPSTREAM.into(),
                retry_at: Some(NOW + 59_500),
            },
            source: Source::UpstreamServer,
            code: UPSTREAM_REFUSED_TOKEN,
            status: 503,
            message: format!(
                "Bindify: the MCP server {UPSTREAM} refused the access token, and a renewed token did not help. Bindify renews a refused token at most once a minute; the next renewal may happen after 2026-11-26T10:50:59Z. If this persists, the owner can authorize the connection again at {LINK}."
            ),
            data: Some(json!({
                "upstream": UPSTREAM,
                "reconnect_url": LINK,
                "retry_at": "2026-11-26T10:50:59Z",
                "source": "upstream_server",
            })),
            retry_after: Some(60),
        },
        Row {
            failure: Failure::TokenRefused {
                upstream: UPSTREAM.into(),
                retry_at: None,
            },
            source: Source::UpstreamServer,
            code: UPSTREAM_REFUSED_TOKEN,
            status: 503,
            message: format!(
                "Bindify: the MCP server {UPSTREAM} refused the access token, and a renewed token did not help. If this persists, the owner can authorize the connection again at {LINK}."
            ),
            data: Some(json!({
                "upstream": UPSTREAM,
                "reconnect_url": LINK,
                "retry_at": null,
                "source": "upstream_server",
            })),
            retry_after: None,
        },
        Row {
            failure: Failure::UpstreamUnreachable {
                upstream: UPSTREAM.into(),
                detail: "the server did not answer".into(),
            },
            source: Source::UpstreamServer,
            code: UPSTREAM_UNREACHABLE,
            status: 503,
            message: format!(
                "Bindify could not reach the MCP server {UPSTREAM}: the server did not answer"
            ),
            data: Some(json!({ "upstream": UPSTREAM, "source": "upstream_server" })),
            retry_after: Some(10),
        },
        Row {
            failure: Failure::UpstreamBadAnswer {
                upstream: UPSTREAM.into(),
                foreign: Foreign::ContentType {
                    status: 200,
                    quoted: "text/html".into(),
                },
            },
            source: Source::UpstreamServer,
            code: UPSTREAM_BAD_ANSWER,
            status: 502,
            message: format!(
                "Bindify did not relay the answer of the MCP server {UPSTREAM}: it answered HTTP 200 with content type \"text/html\", and only application/json and text/event-stream answers are relayed."
            ),
            data: Some(json!({ "upstream": UPSTREAM, "status": 200, "source": "upstream_server" })),
            retry_after: None,
        },
        Row {
            failure: Failure::KeyRefused {
                upstream: UPSTREAM.into(),
            },
            source: Source::UpstreamServer,
            code: UPSTREAM_REFUSED_TOKEN,
            status: 503,
            message: format!(
                "Bindify: the MCP server {UPSTREAM} refused the API key. If it was revoked or replaced, the owner can enter the new one at {LINK}; this URL keeps working afterwards."
            ),
            data: Some(
                json!({ "upstream": UPSTREAM, "reconnect_url": LINK, "source": "upstream_server" }),
            ),
            retry_after: None,
        },
        Row {
            failure: Failure::InsufficientScope {
                upstream: UPSTREAM.into(),
                scopes: vec!["mcp:basic".into(), "mcp:write".into()],
                exhausted: false,
            },
            source: Source::UpstreamServer,
            code: INSUFFICIENT_SCOPE,
            status: 403,
            message: format!(
                "Bindify: the MCP server {UPSTREAM} needs more access for this request (scopes: mcp:basic mcp:write). The owner can authorize the connection again with these scopes at {LINK}; this URL keeps working afterwards."
            ),
            data: Some(json!({
                "upstream": UPSTREAM,
                "scopes": ["mcp:basic", "mcp:write"],
                "reconnect_url": LINK,
                "state": "insufficient_scope",
                "source": "upstream_server",
            })),
            retry_after: None,
        },
        Row {
            failure: Failure::InsufficientScope {
                upstream: UPSTREAM.into(),
                scopes: vec!["mcp:admin".into()],
                exhausted: true,
            },
            source: Source::UpstreamServer,
            code: INSUFFICIENT_SCOPE,
            status: 403,
            message: format!(
                "Bindify: the MCP server {UPSTREAM} keeps refusing this request for lack of the scopes mcp:admin, although they were authorized 3 times in a row. Authorizing again will not help: the server's operator must grant them."
            ),
            data: Some(json!({
                "upstream": UPSTREAM,
                "scopes": ["mcp:admin"],
                "state": "insufficient_scope_exhausted",
                "source": "upstream_server",
            })),
            retry_after: None,
        },
        Row {
            failure: Failure::ForbiddenOrigin,
            source: Source::ClientRequest,
            code: FORBIDDEN_ORIGIN,
            status: 403,
            message: "Forbidden: this Origin may not use the connection (set ALLOWED_ORIGINS to allow it)".into(),
            data: Some(json!({ "source": "client_request" })),
            retry_after: None,
        },
        Row {
            failure: Failure::MethodNotAllowed,
            source: Source::ClientRequest,
            code: jsonrpc::INVALID_REQUEST,
            status: 405,
            message: "Method not allowed: use POST, GET or DELETE".into(),
            data: Some(json!({ "source": "client_request" })),
            retry_after: None,
        },
        Row {
            failure: Failure::Rejected(JsonRpcReject::too_large()),
            source: Source::ClientRequest,
            code: jsonrpc::INVALID_REQUEST,
            status: 413,
            message: "Invalid Request: body larger than 4 MiB".into(),
            data: None,
            retry_after: None,
        },
    ]
}

#[test]
fn every_failure_maps_to_its_code_status_message_data_and_retry_after() {
    for row in table() {
        let answer = row.failure.answer(LINK, NOW);
        let name = format!("{:?}", row.failure);
        assert_eq!(row.failure.source(), row.source, "{name}");
        assert_eq!(answer.source, row.source, "{name}");
        assert_eq!(answer.code, row.code, "{name}");
        assert_eq!(answer.status, row.status, "{name}");
        assert_eq!(answer.message, row.message, "{name}");
        assert_eq!(answer.data, row.data, "{name}");
        assert_eq!(answer.retry_after, row.retry_after, "{name}");
    }
}

#[test]
fn bindify_s_own_failures_never_blame_the_upstream_or_its_authorization_server() {
    for row in table() {
        if !matches!(row.failure, Failure::Own(_)) {
            continue;
        }
        let message = row.failure.answer(LINK, NOW).message;
        assert!(
            message.contains("are not involved") && !message.contains("unavailable, so"),
            "{message}"
        );
        assert!(!message.contains("1970"), "{message}");
    }
}

#[test]
fn requests_get_the_error_with_their_ids_and_the_rest_get_its_status() {
    let storage = own(OwnFailure::storage(StorageFailure::ConnectionRecord));
    let call = check_body(br#"{"jsonrpc":"2.0","id":7,"method":"tools/list"}"#).expect("valid");
    let refusal = storage.refusal(Some(&call), LINK, NOW);
    assert_eq!((refusal.status, refusal.retry_after), (200, Some(60)));
    let body: Value = serde_json::from_str(&refusal.body).expect("json");
    assert_eq!(body["id"], 7);
    assert_eq!(body["error"]["code"], STORAGE_FAILED);

    let batch = check_body(
        br#"[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","id":"x","method":"b"}]"#,
    )
    .expect("valid");
    let refusal = Failure::NeedsReauth.refusal(Some(&batch), LINK, NOW);
    let body: Value = serde_json::from_str(&refusal.body).expect("json");
    assert_eq!(refusal.status, 200);
    assert_eq!(body.as_array().map(Vec::len), Some(2));
    assert_eq!(body[1]["id"], "x");

    let note =
        check_body(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).expect("valid");
    for inbound in [None, Some(&note)] {
        let refusal = storage.refusal(inbound, LINK, NOW);
        assert_eq!(refusal.status, 503);
        let body: Value = serde_json::from_str(&refusal.body).expect("json");
        assert_eq!(body["id"], Value::Null);
    }
    // A refusal of the request itself is answered once, with the offending message's id.
    let invalid = jsonrpc::inspect(br#"{"jsonrpc":"2.0","id":5,"method":7}"#).expect_err("bad");
    let refusal = Failure::Rejected(invalid).refusal(Some(&call), LINK, NOW);
    assert_eq!(refusal.status, 400);
    let body: Value = serde_json::from_str(&refusal.body).expect("json");
    assert_eq!(
        (body["id"].clone(), body["error"]["code"].clone()),
        (json!(5), json!(-32600))
    );
    assert_eq!(seconds_until(NOW - 5, NOW), 1);
}

#[test]
fn own_failures_on_json_endpoints_use_the_connect_pages_codes() {
    let missing = OwnFailure::misconfigured(ConfigProblem::KeyMissing);
    assert_eq!(missing.status(), 500);
    assert_eq!(
        missing.json_body(),
        json!({
            "error": "encryption_key_missing",
            "message": missing.message(),
            "source": "bindify_configuration",
        })
    );
    let storage = OwnFailure::storage(StorageFailure::ConnectionRecord);
    assert_eq!(
        (storage.status(), storage.code(), storage.retry_after()),
        (503, "storage_unavailable", Some(60))
    );
    assert_eq!(OwnFailure::of_keyring(&ConnectError::KeyMissing), missing);
    assert_eq!(
        OwnFailure::of_keyring(&ConnectError::KeyMalformed(KeyError::NotBase64)),
        OwnFailure::misconfigured(ConfigProblem::KeyMalformed {
            reason: KeyError::NotBase64.to_string()
        })
    );
    assert_eq!(
        OwnFailure::of_keyring(&ConnectError::KeyMalformed(KeyError::Version)),
        OwnFailure::misconfigured(ConfigProblem::KeyVersionInvalid)
    );
    // A malformed previous key is named as such, with what to do about it.
    let previous =
        OwnFailure::of_keyring(&ConnectError::KeyMalformed(KeyError::PreviousMalformed {
            problem: "it decodes to 5 bytes".into(),
        }));
    assert_eq!(previous.code(), "encryption_key_malformed");
    assert_eq!(
        previous.message(),
        "Bindify is not configured: TOKEN_ENCRYPTION_KEY_PREVIOUS must be the previous \
         TOKEN_ENCRYPTION_KEY, 32 bytes in base64 (it decodes to 5 bytes). The MCP server and \
         its authorization server are not involved. The operator must set it again to the key \
         the older connections were stored with (`npx wrangler secret put \
         TOKEN_ENCRYPTION_KEY_PREVIOUS`), or delete it if none was stored with that key (`npx \
         wrangler secret delete TOKEN_ENCRYPTION_KEY_PREVIOUS`)."
    );
}

/// A vault that cannot read its storage, and a record sealed under another key, are told
/// apart, and neither is an authorization server's failure.
#[test]
fn a_failing_vault_is_storage_and_a_foreign_key_is_configuration() {
    let secret = UrlSecret::generate().expect("random");
    let (object, kv) = (MemoryStore::new(), MemoryStore::new());
    let sealed_with = keyring();
    let vault = Vault {
        object: &object,
        kv: &kv,
        keyring: &sealed_with,
    };
    block_on(vault.create(&sample_record("c1", secret.hash(), None))).expect("created");

    object.set_broken(true);
    let broken = block_on(vault.load("c1")).expect_err("broken");
    assert_eq!(
        OwnFailure::of_vault(&broken),
        OwnFailure::storage(StorageFailure::ConnectionRecord)
    );
    object.set_broken(false);

    let other_key = keyring_with(1, [9u8; 32]);
    let changed = Vault {
        object: &object,
        kv: &kv,
        keyring: &other_key,
    };
    let foreign = block_on(changed.load("c1")).expect_err("another key");
    assert_eq!(
        OwnFailure::of_vault(&foreign),
        OwnFailure::misconfigured(ConfigProblem::SealedWithOtherKey)
    );

    let next_version = keyring_with(2, [7u8; 32]);
    let rotated = Vault {
        object: &object,
        kv: &kv,
        keyring: &next_version,
    };
    let unknown = block_on(rotated.load("c1")).expect_err("version 1 is not configured");
    assert_eq!(
        OwnFailure::of_vault(&unknown),
        OwnFailure::misconfigured(ConfigProblem::KeyVersionMissing { version: 1 })
    );

    object.set_failing_prefix(None);
    block_on(crate::vault::store::KvStore::put(
        &object,
        crate::vault::keys::OBJECT_RECORD,
        "not a sealed record",
        crate::vault::store::PutOptions::default(),
    ))
    .expect("written");
    let damaged = block_on(vault.load("c1")).expect_err("damaged");
    assert_eq!(
        OwnFailure::of_vault(&damaged),
        OwnFailure::storage(StorageFailure::ConnectionRecord)
    );
}
