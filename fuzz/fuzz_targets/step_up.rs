//! Scope step-up (core/src/oauth/step_up.rs): the `WWW-Authenticate` values of an upstream's `403`
//! (`error="insufficient_scope"`, `scope="…"`, RFC 6750 §3.1), the scopes an authorization
//! server says it granted, and a hostile upstream that answers every request with the same
//! challenge.
//!
//! Properties: the scopes found are the challenge's `scope` split on whitespace; what the next
//! authorization asks for is a list of distinct RFC 6749 §3.3 scope tokens, at most 64 and
//! 2048 characters, that keeps the scopes asked for before (within the limits) and adds the
//! challenge's; an upstream repeating a challenge that asks for nothing new sends the owner
//! through consent at most three times in a row, then is told no further authorization helps.
#![no_main]

use bindify_core::oauth::step_up::{
    MAX_AUTHORIZATIONS_PER_SCOPES, MAX_SCOPE_CHARS, MAX_SCOPES, StepUp, authorizations_after,
    challenged_scopes, on_insufficient_scope, reconnect_scopes, split, union_into,
};
use bindify_core::oauth::www_authenticate::parse_bearer_challenge;
use bindify_core::vault::record::{OAuthGrant, TokenSet};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    /// The `WWW-Authenticate` values of the `403`.
    challenges: Vec<String>,
    /// The scopes asked for at the last authorization, and the pending step-up's.
    scopes: Vec<String>,
    step_up: Option<Vec<String>>,
    authorizations: u8,
    /// The token response's `scope`.
    granted: Option<String>,
}

fn scope_token(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\')
}

fn grant(scopes: &[String], step_up: Option<&[String]>, authorizations: u32) -> OAuthGrant {
    serde_json::from_value(serde_json::json!({
        "resource": "https://mcp.example.com/mcp",
        "issuer": "https://auth.example.com",
        "token_endpoint": "https://auth.example.com/token",
        "revocation_endpoint": null,
        "client": {
            "client_id": "c1",
            "client_secret": null,
            "auth_method": "none",
            "source": "dynamic",
            "registered_at": 0,
        },
        "scopes": scopes,
        "scope_authorizations": authorizations,
        "step_up": step_up,
    }))
    .expect("a grant")
}

fn check_scopes(scopes: &[String]) {
    assert!(scopes.len() <= MAX_SCOPES);
    let length: usize = scopes.iter().map(|s| s.len() + 1).sum();
    assert!(length <= MAX_SCOPE_CHARS, "{length} characters");
    for (i, scope) in scopes.iter().enumerate() {
        assert!(scope_token(scope), "{scope:?}");
        assert!(!scopes[..i].contains(scope), "{scope:?} twice");
    }
}

fuzz_target!(|input: Input| {
    let Some(challenge) = challenged_scopes(input.challenges.iter().map(String::as_str)) else {
        assert!(input.challenges.iter().all(|v| {
            parse_bearer_challenge(v)
                .is_none_or(|c| c.error.as_deref() != Some("insufficient_scope"))
        }));
        return;
    };
    let first = input
        .challenges
        .iter()
        .filter_map(|v| parse_bearer_challenge(v))
        .find(|c| c.error.as_deref() == Some("insufficient_scope"))
        .expect("the challenge found");
    assert_eq!(
        challenge,
        first.scope.as_deref().map(split).unwrap_or_default()
    );
    assert!(
        challenge
            .iter()
            .all(|s| !s.is_empty() && !s.contains(char::is_whitespace))
    );

    let tokens: TokenSet = serde_json::from_value(serde_json::json!({
        "access_token": "the-access-token",
        "refresh_token": null,
        "expires_at": null,
        "scope": input.granted,
    }))
    .expect("a token set");
    // A pending step-up is only ever what an earlier one recorded.
    let step_up = input.step_up.as_ref().map(|more| {
        let mut scopes = Vec::new();
        union_into(&mut scopes, more);
        scopes
    });
    let mut grant = grant(
        &input.scopes,
        step_up.as_deref(),
        u32::from(input.authorizations),
    );
    let before = grant.clone();
    let outcome = on_insufficient_scope(&mut grant, &tokens, &challenge);
    let scopes = match &outcome {
        StepUp::Reauthorize { scopes } => {
            assert_eq!(grant.step_up.as_ref(), Some(scopes));
            assert_eq!(reconnect_scopes(&grant), *scopes);
            scopes
        }
        StepUp::Exhausted { scopes } => {
            // Nothing the next authorization would ask for is new.
            assert!(
                challenge
                    .iter()
                    .all(|s| !scopes.contains(s) || before.scopes.contains(s))
            );
            assert!(before.scope_authorizations >= MAX_AUTHORIZATIONS_PER_SCOPES);
            assert!(grant.step_up.is_none());
            scopes
        }
    };
    check_scopes(scopes);
    // Everything valid that was asked for before, then the challenge's, is kept while it fits.
    let mut model: Vec<String> = Vec::new();
    let mut length = 0;
    let earlier = before.step_up.clone().unwrap_or_default();
    let granted = input.granted.as_deref().map(split).unwrap_or_default();
    for scope in earlier
        .iter()
        .chain(&before.scopes)
        .chain(&granted)
        .chain(&challenge)
    {
        if model.len() < MAX_SCOPES
            && scope_token(scope)
            && !model.contains(scope)
            && length + scope.len() + 1 <= MAX_SCOPE_CHARS
        {
            length += scope.len() + 1;
            model.push(scope.clone());
        }
    }
    assert_eq!(*scopes, model);

    // A hostile upstream answering every request with the same challenge: each reconnect asks
    // for what the step-up recorded and is granted exactly that.
    let mut grant = grant;
    let mut consents = 0;
    for _ in 0..10 {
        match on_insufficient_scope(&mut grant, &tokens, &challenge) {
            StepUp::Exhausted { .. } => break,
            StepUp::Reauthorize { scopes } => {
                consents += 1;
                let authorizations = authorizations_after(&grant, &scopes);
                grant = self::grant(&scopes, None, authorizations);
            }
        }
    }
    assert!(
        consents <= MAX_AUTHORIZATIONS_PER_SCOPES + 1,
        "{consents} consents for the same challenge"
    );
});
