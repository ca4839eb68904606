//! The OAuth callback (core/src/flow/mod.rs `complete`, core/src/flow/state.rs): the query of
//! `GET /oauth/callback` parsed the way the Worker parses it, the `Cookie` header, and the
//! token endpoint's answer, against a real pending flow in an in-memory store.
//!
//! Input: the first line is the query string, the second the `Cookie` header, the rest the
//! token endpoint's answer (fuzz/src/lib.rs format). The fuzzer cannot forge a sealed state,
//! so `STATE` in the query stands for the flow's genuine state and `BINDING` in the cookie
//! header for its genuine cookie value.
//!
//! Properties: nothing completes without the genuine state presented by the browser that
//! holds the genuine cookie; a state that is not the genuine one leaves the pending flow
//! untouched; a completed flow is consumed, and its connection comes from the pending flow;
//! the message shown for a failure never carries the state, and does not change when only the
//! code does.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use bindify_core::flow::{CallbackParams, ConnectSettings, StateClaims, binding_of, complete};
use bindify_core::keys;
use bindify_core::store::{KvStore, MemoryStore, PutOptions};
use bindify_core::upstream::UpstreamPolicy;
use bindify_fuzz::{Peer, block_on, keyring};
use libfuzzer_sys::fuzz_target;
use url::Url;

const NOW: i64 = 1_700_000_000_000;
const FLOW: &str = "flow1";
const COOKIE_VALUE: &str = "Y29va2llLXZhbHVlLWZvci10aGUtZmxvdw";
const ISSUER: &str = "https://auth.example.com/";
const SERVER: &str = "https://mcp.example.com/mcp";

/// The genuine state and sealed pending flow, sealed once (sealing draws a random nonce).
fn sealed() -> &'static (String, String) {
    static SEALED: OnceLock<(String, String)> = OnceLock::new();
    SEALED.get_or_init(|| {
        let ring = keyring(1, 0x42);
        let state = StateClaims {
            flow: FLOW.to_owned(),
            exp: NOW + 600_000,
            bind: binding_of(COOKIE_VALUE),
        }
        .seal(&ring)
        .expect("seal the state");
        let pending = serde_json::json!({
            "server_url": SERVER,
            "resource": SERVER,
            "issuer": ISSUER,
            "token_endpoint": "https://auth.example.com/token",
            "revocation_endpoint": null,
            "client": {
                "client_id": "c1",
                "client_secret": null,
                "auth_method": "none",
                "source": "dynamic",
                "registered_at": 0,
            },
            "pkce_verifier": "the-verifier-the-verifier-the-verifier-1234",
            "created_at": NOW,
        });
        let text = ring
            .seal_json(keys::flow(FLOW).as_bytes(), &pending)
            .expect("seal the pending flow");
        (state, text)
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
        secure_cookies: true,
    }
}

/// One callback against a fresh store holding the pending flow.
struct Run {
    result: Result<bindify_core::flow::Completed, bindify_core::flow::Failure>,
    store: MemoryStore,
    peer: Peer,
}

fn run(params: &CallbackParams, cookie: &str, script: &[u8]) -> Run {
    let (_, pending) = sealed();
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

/// What the browser is shown for a failure.
fn shown(failure: &bindify_core::flow::Failure) -> String {
    let problem = failure.error.problem();
    format!("{} {}", problem.title, problem.message())
}

fuzz_target!(|input: &[u8]| {
    let mut lines = input.splitn(3, |&b| b == b'\n');
    let query = String::from_utf8_lossy(lines.next().unwrap_or_default());
    let cookie = String::from_utf8_lossy(lines.next().unwrap_or_default());
    let script = lines.next().unwrap_or_default();

    let (state, _) = sealed();
    let query = query.replace("STATE", state);
    let cookie = cookie.replace("BINDING", COOKIE_VALUE);
    // As the Worker reads it: serde_urlencoded over the URL's query pairs, defaults on error.
    let params: CallbackParams = serde_urlencoded::from_str(&query).unwrap_or_default();

    let Run {
        result,
        store,
        peer,
    } = run(&params, &cookie, script);
    let flow_key = keys::flow(FLOW);

    let genuine_state = params.state.as_deref() == Some(state.as_str());
    let flow_left = block_on(store.get(&flow_key)).expect("store").is_some();
    if !genuine_state {
        assert!(result.is_err(), "completed without the genuine state");
        assert!(flow_left, "a foreign state consumed the flow");
        assert!(
            peer.seen().is_empty(),
            "a foreign state reached the token endpoint"
        );
    }
    assert_eq!(store.keys().len(), usize::from(flow_left));

    match result {
        Ok(done) => {
            assert!(genuine_state && !flow_left);
            assert!(
                bindify_core::cookies::find(Some(&cookie), &bindify_core::flow::cookie_name(FLOW))
                    == Some(COOKIE_VALUE)
            );
            assert!(params.error.is_none());
            assert!(params.code.as_deref().is_some_and(|c| !c.is_empty()));
            if let Some(iss) = &params.iss {
                assert_eq!(iss.trim_end_matches('/'), ISSUER.trim_end_matches('/'));
            }
            assert_eq!(done.record.server_url, SERVER);
            assert_eq!(done.record.issuer, ISSUER);
            assert!(done.record.secret_hash.ct_eq(&done.secret.hash()));
            assert!(done.clear_cookie.contains("Max-Age=0"));
            assert_eq!(peer.seen().len(), 1);
        }
        Err(failure) => {
            let text = shown(&failure);
            let state_quoted = [&params.error, &params.error_description, &params.iss]
                .into_iter()
                .flatten()
                .any(|v| v.contains(state.as_str()))
                || String::from_utf8_lossy(script).contains(state.as_str());
            assert!(
                state_quoted || !text.contains(state.as_str()),
                "the state is shown: {text:?}"
            );
            // The same callback with another code of the same length must show the same
            // text: the code never shapes what the browser sees.
            if let Some(code) = params.code.as_deref().filter(|c| !c.is_empty()) {
                let again: CallbackParams = serde_urlencoded::from_str(&query).unwrap_or_default();
                let other = CallbackParams {
                    code: Some("Z".repeat(code.chars().count())),
                    ..again
                };
                let other_run = run(&other, &cookie, script);
                let other_failure = other_run.result.expect_err("the same failure");
                assert_eq!(text, shown(&other_failure), "the code is shown");
            }
        }
    }
});
