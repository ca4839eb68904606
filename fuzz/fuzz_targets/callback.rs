//! The OAuth callback (core/src/connect/flow/mod.rs `complete`, core/src/connect/flow/state.rs) and
//! the page it shows (core/src/pages/error.rs): the query of `GET /oauth/callback` parsed the way
//! the Worker parses it, the `Cookie` header, and the token endpoint's answer, against a real
//! pending flow in an in-memory store. Each input runs twice: against a flow whose authorization
//! server promised to name itself (`iss`, RFC 9207 §2.4), and against one that did not.
//!
//! Input: the first line is the query string, the second the `Cookie` header, the rest the
//! token endpoint's answer (fuzz/src/lib.rs format). The fuzzer cannot forge a sealed state,
//! so `STATE` in the query stands for the flow's genuine state and `BINDING` in the cookie
//! header for its genuine cookie value.
//!
//! Properties: nothing completes without the genuine state presented by the browser that
//! holds the genuine cookie; a state that is not the genuine one leaves the pending flow
//! untouched and never reaches the token endpoint; a completed flow is consumed, and its
//! connection comes from the pending flow; a flow that requires `iss` never completes without
//! it. A callback without a valid state (missing, forged, used or from another browser) shows
//! one of the fixed state pages, the same whatever else the query says: no `error`,
//! `error_description`, `iss` or code text reaches the page. Any failure page never carries the
//! state, and does not change when only the code does.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use bindify_core::connect::flow::{
    CallbackCode, CallbackParams, Completed, ConnectError, ConnectSettings, Failure, StateClaims,
    binding_of, complete, cookie_name,
};
use bindify_core::oauth::upstream::UpstreamPolicy;
use bindify_core::pages::error_page;
use bindify_core::vault::keys;
use bindify_core::vault::store::{KvStore, MemoryStore, PutOptions};
use bindify_fuzz::{Peer, block_on, keyring};
use libfuzzer_sys::fuzz_target;
use url::Url;

const NOW: i64 = 1_700_000_000_000;
const FLOW: &str = "flow1";
const COOKIE_VALUE: &str = "Y29va2llLXZhbHVlLWZvci10aGUtZmxvdw";
const ISSUER: &str = "https://auth.example.com/";
const SERVER: &str = "https://mcp.example.com/mcp";

/// The genuine state, and the sealed pending flow without and with `iss_required` (sealed once:
/// sealing draws a random nonce).
struct Sealed {
    state: String,
    pending: [String; 2],
}

fn sealed() -> &'static Sealed {
    static SEALED: OnceLock<Sealed> = OnceLock::new();
    SEALED.get_or_init(|| {
        let ring = keyring(1, 0x42);
        let state = StateClaims {
            flow: FLOW.to_owned(),
            exp: NOW + 600_000,
            bind: binding_of(COOKIE_VALUE),
        }
        .seal(&ring)
        .expect("seal the state");
        let pending = |iss_required: bool| {
            let pending = serde_json::json!({
                "server_url": SERVER,
                "resource": SERVER,
                "issuer": ISSUER,
                "token_endpoint": "https://auth.example.com/token",
                "revocation_endpoint": null,
                "iss_required": iss_required,
                "client": {
                    "client_id": "c1",
                    "client_secret": null,
                    "auth_method": "none",
                    "source": "dynamic",
                    "registered_at": 0,
                },
                "pkce_verifier": "the-verifier-the-verifier-the-verifier-1234",
                "created_at": NOW,
                "scopes": ["read"],
            });
            ring.seal_json(keys::flow(FLOW).as_bytes(), &pending)
                .expect("seal the pending flow")
        };
        Sealed {
            state: state.expose().to_owned(),
            pending: [pending(false), pending(true)],
        }
    })
}

fn settings() -> ConnectSettings {
    ConnectSettings {
        policy: UpstreamPolicy {
            allow_loopback_http: false,
        },
        state_ttl_ms: 600_000,
        redirect_uri: Url::parse("https://bindify.example/oauth/callback").expect("redirect"),
        configured_clients: BTreeMap::new(),
        client_metadata_url: None,
        secure_cookies: true,
    }
}

/// One callback against a fresh store holding the pending flow.
struct Run {
    result: Result<Completed, Failure>,
    store: MemoryStore,
    peer: Peer,
}

fn run(params: &CallbackParams, cookie: &str, script: &[u8], iss_required: bool) -> Run {
    let pending = &sealed().pending[usize::from(iss_required)];
    let ring = keyring(1, 0x42);
    let store = MemoryStore::new();
    block_on(store.put(&keys::flow(FLOW), pending, PutOptions::default())).expect("store the flow");
    let peer = Peer::new("content-type", script);
    let result = block_on(complete(
        &peer.client(),
        &store,
        &ring,
        &settings(),
        params,
        Some(cookie),
        NOW,
    ));
    Run {
        result,
        store,
        peer,
    }
}

/// The query as the Worker reads it: serde_urlencoded over the URL's query pairs, defaults on
/// error.
fn params(query: &str) -> CallbackParams {
    serde_urlencoded::from_str(query).unwrap_or_default()
}

/// The page the browser is shown for a failure.
fn page(failure: &Failure) -> String {
    error_page(&failure.error.problem())
}

/// The pages of a callback without a valid state: fixed text, nothing from the query.
fn state_pages() -> &'static [String] {
    static PAGES: OnceLock<Vec<String>> = OnceLock::new();
    PAGES.get_or_init(|| {
        [
            ConnectError::StateMissing,
            ConnectError::StateInvalid,
            ConnectError::StateExpired,
            ConnectError::StateUsed,
            ConnectError::StateForeign,
        ]
        .iter()
        .map(|e| error_page(&e.problem()))
        .collect()
    })
}

fn check(query: &str, cookie: &str, script: &[u8], iss_required: bool) {
    let state = sealed().state.as_str();
    let params = params(query);
    let Run {
        result,
        store,
        peer,
    } = run(&params, cookie, script, iss_required);
    let flow_key = keys::flow(FLOW);

    let genuine_state = params.state.as_ref().map(|s| s.expose()) == Some(state);
    let genuine_browser = bindify_core::connect::cookies::find(Some(cookie), &cookie_name(FLOW))
        == Some(COOKIE_VALUE);
    let flow_left = block_on(store.get(&flow_key)).expect("store").is_some();
    if !genuine_state {
        assert!(result.is_err(), "completed without the genuine state");
        assert!(flow_left, "a foreign state consumed the flow");
    }
    if !(genuine_state && genuine_browser) {
        assert!(
            peer.seen().is_empty(),
            "a callback without a valid state reached the token endpoint"
        );
    }
    assert_eq!(store.keys().len(), usize::from(flow_left));

    match result {
        Ok(done) => {
            assert!(genuine_state && genuine_browser && !flow_left);
            assert!(params.error.is_none());
            assert!(params.code.as_ref().is_some_and(|c| !c.expose().is_empty()));
            match &params.iss {
                Some(iss) => assert_eq!(iss.trim_end_matches('/'), ISSUER.trim_end_matches('/')),
                None => assert!(!iss_required, "completed without the promised iss"),
            }
            assert_eq!(done.record.server_url, SERVER);
            let oauth = done.record.oauth.as_ref().expect("an OAuth grant");
            assert_eq!(oauth.issuer, ISSUER);
            assert_eq!(oauth.resource, SERVER);
            assert_eq!(oauth.scopes, ["read"]);
            assert!(done.record.secret_hash.ct_eq(&done.secret.hash()));
            assert!(done.clear_cookie.contains("Max-Age=0"));
            assert_eq!(peer.seen().len(), 1);
        }
        Err(failure) => {
            let text = page(&failure);
            if !(genuine_state && genuine_browser) {
                // Without a valid state nothing in the query can be trusted: the page is one of
                // the fixed state pages, and the same as for the state alone.
                assert!(
                    state_pages().contains(&text),
                    "a callback without a valid state shows {:?}",
                    failure.error
                );
                let state_only = CallbackParams {
                    state: params.state.as_ref().map(|s| {
                        bindify_core::connect::flow::SealedState::new(s.expose().to_owned())
                    }),
                    ..CallbackParams::default()
                };
                let alone = run(&state_only, cookie, script, iss_required);
                let alone = alone
                    .result
                    .expect_err("the state alone fails the same way");
                assert_eq!(text, page(&alone), "the query shaped the page");
            }
            let state_quoted = [&params.error, &params.error_description, &params.iss]
                .into_iter()
                .flatten()
                .any(|v| v.contains(state))
                || String::from_utf8_lossy(script).contains(state);
            assert!(
                state_quoted || !text.contains(state),
                "the state is shown: {text:?}"
            );
            // The same callback with another code of the same length must show the same
            // page: the code never shapes what the browser sees.
            if let Some(code) = params.code.as_ref().filter(|c| !c.expose().is_empty()) {
                let other = CallbackParams {
                    code: Some(CallbackCode::new("Z".repeat(code.expose().chars().count()))),
                    ..self::params(query)
                };
                let other_run = run(&other, cookie, script, iss_required);
                let other_failure = other_run.result.expect_err("the same failure");
                assert_eq!(text, page(&other_failure), "the code is shown");
            }
        }
    }
}

fuzz_target!(|input: &[u8]| {
    let mut lines = input.splitn(3, |&b| b == b'\n');
    let query = String::from_utf8_lossy(lines.next().unwrap_or_default());
    let cookie = String::from_utf8_lossy(lines.next().unwrap_or_default());
    let script = lines.next().unwrap_or_default();

    let state = sealed().state.as_str();
    let query = query.replace("STATE", state);
    let cookie = cookie.replace("BINDING", COOKIE_VALUE);
    check(&query, &cookie, script, false);
    check(&query, &cookie, script, true);
});
