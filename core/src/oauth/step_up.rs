//! Scope step-up (MCP authorization, "Scope Challenge Handling"; RFC 6750 §3.1): an upstream
//! that answers `403` with `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`
//! needs a token with more scopes. Bindify cannot show the owner a consent screen from inside
//! a client's request, so the connection remembers what the next authorization must ask for
//! (the union of the challenge's scopes, the granted ones and those asked for before) and the
//! client gets the owner's reconnect link.
//!
//! The attempts are bounded: an upstream that keeps refusing the scopes it was just granted
//! would otherwise send the owner through consent forever. A challenge that asks for nothing
//! new after [`MAX_AUTHORIZATIONS_PER_SCOPES`] authorizations for those scopes gets an error
//! without a link.

use crate::vault::record::{OAuthGrant, TokenSet};

/// Authorizations in a row that may ask for the same scopes: the first one, and two more
/// prompted by `insufficient_scope` answers that asked for nothing new. The MCP conformance
/// suite's `auth/scope-retry-limit` allows three.
pub const MAX_AUTHORIZATIONS_PER_SCOPES: u32 = 3;

/// The most scopes a connection asks for, and their longest total length: an upstream's
/// challenge cannot grow the authorization request without bound.
pub const MAX_SCOPES: usize = 64;
pub const MAX_SCOPE_CHARS: usize = 2048;

/// What a `403 insufficient_scope` leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepUp {
    /// The owner should authorize again; the reconnect asks for `scopes`.
    Reauthorize { scopes: Vec<String> },
    /// The upstream keeps refusing scopes it was granted: no further authorization helps.
    Exhausted { scopes: Vec<String> },
}

/// Splits a space-delimited `scope` value (RFC 6749 §3.3).
pub fn split(scope: &str) -> Vec<String> {
    scope.split_ascii_whitespace().map(str::to_owned).collect()
}

/// Adds `more` to `scopes`, keeping order and skipping duplicates, within [`MAX_SCOPES`] and
/// [`MAX_SCOPE_CHARS`] (scopes past the limits are left out).
pub fn union_into(scopes: &mut Vec<String>, more: &[String]) {
    let mut length: usize = scopes.iter().map(|s| s.len() + 1).sum();
    for scope in more {
        if scopes.len() >= MAX_SCOPES {
            break;
        }
        if scopes.contains(scope) || !scope_token(scope) {
            continue;
        }
        if length + scope.len() + 1 > MAX_SCOPE_CHARS {
            continue;
        }
        length += scope.len() + 1;
        scopes.push(scope.clone());
    }
}

/// RFC 6749 §3.3 `scope-token`: printable ASCII except space, `"` and `\`.
fn scope_token(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

/// Records an `insufficient_scope` challenge asking for `challenge` on `grant` (whose current
/// tokens are `tokens`) and says what the client is told.
pub fn on_insufficient_scope(
    grant: &mut OAuthGrant,
    tokens: &TokenSet,
    challenge: &[String],
) -> StepUp {
    let mut scopes = grant.step_up.clone().unwrap_or_default();
    union_into(&mut scopes, &grant.scopes);
    if let Some(granted) = &tokens.scope {
        union_into(&mut scopes, &split(granted));
    }
    union_into(&mut scopes, challenge);
    // Only a scope the next authorization will ask for counts as new: one that is not a scope
    // token, or past the limits, is never asked for, so naming it again and again must not
    // send the owner through consent forever.
    let asks_for_new = challenge
        .iter()
        .any(|s| scopes.contains(s) && !grant.scopes.contains(s));
    if !asks_for_new && grant.scope_authorizations >= MAX_AUTHORIZATIONS_PER_SCOPES {
        grant.step_up = None;
        return StepUp::Exhausted { scopes };
    }
    grant.step_up = Some(scopes.clone());
    StepUp::Reauthorize { scopes }
}

/// The scopes an upstream's `403` asks for, when one of its `WWW-Authenticate` values is a
/// Bearer challenge with `error="insufficient_scope"` (RFC 6750 §3.1); empty when it names
/// none.
pub fn challenged_scopes<'a>(
    www_authenticate: impl IntoIterator<Item = &'a str>,
) -> Option<Vec<String>> {
    www_authenticate
        .into_iter()
        .filter_map(crate::oauth::www_authenticate::parse_bearer_challenge)
        .find(|c| c.error.as_deref() == Some("insufficient_scope"))
        .map(|c| c.scope.as_deref().map(split).unwrap_or_default())
}

/// The scopes a reconnect of `grant` asks for: the pending step-up's, else those asked for
/// before. The flow adds what discovery finds today.
pub fn reconnect_scopes(grant: &OAuthGrant) -> Vec<String> {
    grant
        .step_up
        .clone()
        .unwrap_or_else(|| grant.scopes.clone())
}

/// The count of authorizations for the same scopes after a reconnect of `old` asking for
/// `requested`: one more when it answered a step-up and asked for no scope `old` had not asked
/// for; else this is the first.
pub fn authorizations_after(old: &OAuthGrant, requested: &[String]) -> u32 {
    let same = requested.iter().all(|s| old.scopes.contains(s));
    if old.step_up.is_some() && same {
        old.scope_authorizations.max(1).saturating_add(1)
    } else {
        1
    }
}

#[cfg(test)]
mod tests;
