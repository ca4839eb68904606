use super::*;
use crate::secret::UrlSecret;
use crate::testing::sample_record;

fn grant(scopes: &[&str]) -> (OAuthGrant, TokenSet) {
    let record = sample_record("c", UrlSecret::generate().expect("random").hash(), None);
    let mut oauth = record.oauth.expect("oauth");
    oauth.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
    oauth.scope_authorizations = 1;
    (oauth, record.tokens)
}

fn owned(scopes: &[&str]) -> Vec<String> {
    scopes.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn a_challenge_for_more_scopes_asks_for_the_union() {
    let (mut g, mut tokens) = grant(&["mcp:basic"]);
    tokens.scope = Some("mcp:basic openid".into());
    let verdict = on_insufficient_scope(&mut g, &tokens, &owned(&["mcp:basic", "mcp:write"]));
    let union = owned(&["mcp:basic", "openid", "mcp:write"]);
    assert_eq!(
        verdict,
        StepUp::Reauthorize {
            scopes: union.clone()
        }
    );
    assert_eq!(g.step_up.as_ref(), Some(&union));
    assert_eq!(reconnect_scopes(&g), union);
    // A reconnect asking for a new scope starts the count again.
    assert_eq!(authorizations_after(&g, &union), 1);
}

#[test]
fn a_challenge_that_asks_for_nothing_new_gets_three_authorizations_in_all() {
    let (mut g, tokens) = grant(&["mcp:admin"]);
    let challenge = owned(&["mcp:admin"]);
    let mut authorizations = 1;
    loop {
        match on_insufficient_scope(&mut g, &tokens, &challenge) {
            StepUp::Reauthorize { scopes } => {
                assert_eq!(scopes, challenge);
                g.scope_authorizations = authorizations_after(&g, &scopes);
                g.scopes = scopes;
                g.step_up = None;
                authorizations += 1;
            }
            StepUp::Exhausted { scopes } => {
                assert_eq!(scopes, challenge);
                break;
            }
        }
        assert!(authorizations <= 10, "never exhausted");
    }
    assert_eq!(authorizations, MAX_AUTHORIZATIONS_PER_SCOPES);
    assert_eq!(g.step_up, None);
    // A new need later is answered again.
    assert!(matches!(
        on_insufficient_scope(&mut g, &tokens, &owned(&["mcp:admin", "mcp:audit"])),
        StepUp::Reauthorize { .. }
    ));
}

#[test]
fn an_owner_reconnect_without_a_step_up_is_a_first_authorization() {
    let (g, _) = grant(&["a"]);
    assert_eq!(authorizations_after(&g, &owned(&["a"])), 1);
    let mut old_record = grant(&["a"]).0;
    old_record.scope_authorizations = 0;
    old_record.step_up = Some(owned(&["a"]));
    assert_eq!(authorizations_after(&old_record, &owned(&["a"])), 2);
}

#[test]
fn the_union_stays_within_its_limits_and_takes_only_scope_tokens() {
    let mut scopes = Vec::new();
    union_into(
        &mut scopes,
        &owned(&["a", "a", "", "b\"c", "b\\c", "é", "ok"]),
    );
    assert_eq!(scopes, owned(&["a", "ok"]));
    let many: Vec<String> = (0..200).map(|i| format!("scope-{i}")).collect();
    union_into(&mut scopes, &many);
    assert_eq!(scopes.len(), MAX_SCOPES);
    let long = vec!["x".repeat(MAX_SCOPE_CHARS)];
    let mut short = owned(&["a"]);
    union_into(&mut short, &long);
    assert_eq!(short, owned(&["a"]));
    assert_eq!(split(" a  b\tc "), owned(&["a", "b", "c"]));
}

#[test]
fn an_insufficient_scope_challenge_names_its_scopes() {
    assert_eq!(
        challenged_scopes([
            r#"Bearer scope="mcp:basic mcp:write", resource_metadata="https://m.example/.well-known/oauth-protected-resource/mcp", error="insufficient_scope""#
        ]),
        Some(owned(&["mcp:basic", "mcp:write"]))
    );
    assert_eq!(
        challenged_scopes([r#"Basic realm="x""#, r#"Bearer error="insufficient_scope""#]),
        Some(Vec::new())
    );
    assert_eq!(challenged_scopes([r#"Bearer error="invalid_token""#]), None);
    assert_eq!(challenged_scopes(std::iter::empty()), None);
}

/// Repeats `challenge` against `g`, reconnecting as asked each time; the consents it took.
fn consents_for(mut g: OAuthGrant, tokens: &TokenSet, challenge: &[String]) -> u32 {
    let mut consents = 0;
    while let StepUp::Reauthorize { scopes } = on_insufficient_scope(&mut g, tokens, challenge) {
        consents += 1;
        assert!(consents <= 10, "never exhausted");
        g.scope_authorizations = authorizations_after(&g, &scopes);
        g.scopes = scopes;
        g.step_up = None;
    }
    consents
}

#[test]
fn a_challenge_for_scopes_that_cannot_be_asked_for_is_not_new_each_time() {
    // A scope that is not an RFC 6749 §3.3 scope token is never asked for, so a challenge
    // naming it asks for nothing new once the valid scopes are granted.
    let (g, tokens) = grant(&["mcp:basic"]);
    let challenge = owned(&["mcp:basic", "a\"b"]);
    assert_eq!(consents_for(g, &tokens, &challenge), 2);
    // Scopes past the limits are left out the same way.
    let (g, tokens) = grant(&[]);
    let many: Vec<String> = (0..MAX_SCOPES + 5).map(|i| format!("s{i}")).collect();
    assert_eq!(consents_for(g, &tokens, &many), 3);
}
