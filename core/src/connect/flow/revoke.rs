//! Which token ends a grant at its authorization server (RFC 7009): when a connection is
//! deleted, and when a reconnect replaces its grant with a new one.

use serde::{Deserialize, Serialize};

use crate::http::HttpClient;
use crate::oauth::tokens::{self, Call, Revocation};
use crate::secret::ct_eq_bytes;
use crate::time::UnixMillis;
use crate::vault::record::{ConnectionRecord, TokenSet};

/// What became of the grant a reconnect replaced, as the reconnected page reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplacedGrant {
    /// Its server revoked it.
    Revoked,
    /// Its server offers no revocation endpoint.
    Unsupported,
    /// The revocation request failed.
    Failed,
    /// The new grant holds the same token: nothing was revoked.
    StillInUse,
}

impl From<Revocation> for ReplacedGrant {
    fn from(revocation: Revocation) -> Self {
        match revocation {
            Revocation::Revoked => ReplacedGrant::Revoked,
            Revocation::Unsupported => ReplacedGrant::Unsupported,
            Revocation::Failed => ReplacedGrant::Failed,
        }
    }
}

/// The token that ends the grant of `tokens`, with its `token_type_hint`: the refresh token
/// when there is one (servers end the whole grant with it), else the access token.
pub fn grant_token(tokens: &TokenSet) -> (&str, &'static str) {
    match &tokens.refresh_token {
        Some(refresh) => (refresh.secret().as_str(), "refresh_token"),
        None => (tokens.access_token.secret().as_str(), "access_token"),
    }
}

/// After a reconnect: the token of the `replaced` grant, unless the new grant (`current`)
/// still holds that same token (a server that hands back the refresh token it already issued),
/// where revoking it would end the new grant too.
pub fn replaced_grant_token<'a>(
    replaced: &'a TokenSet,
    current: &TokenSet,
) -> Option<(&'a str, &'static str)> {
    let (token, hint) = grant_token(replaced);
    let (kept, _) = grant_token(current);
    let same = ct_eq_bytes(token.as_bytes(), kept.as_bytes())
        || ct_eq_bytes(token.as_bytes(), current.access_token.secret().as_bytes());
    (!same).then_some((token, hint))
}

/// Revokes `token` (with its `hint`) of `record`'s grant at its authorization server. A
/// connection without OAuth has nothing to revoke there.
pub async fn revoke<C: HttpClient>(
    http: &C,
    record: &ConnectionRecord,
    token: &str,
    hint: &str,
    now: UnixMillis,
) -> Revocation {
    let Some(oauth) = &record.oauth else {
        return Revocation::Unsupported;
    };
    let call_as = Call {
        token_endpoint: &oauth.token_endpoint,
        client: &oauth.client,
        issuer: &oauth.issuer,
    };
    tokens::revoke(
        http,
        oauth.revocation_endpoint.as_deref(),
        &call_as,
        token,
        hint,
        now,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::UrlSecret;
    use crate::testing::sample_record;
    use oauth2::{AccessToken, RefreshToken};

    #[test]
    fn the_replaced_grant_is_revoked_unless_it_is_still_in_use() {
        let hash = UrlSecret::generate().expect("random").hash();
        let old = sample_record("c1", hash, None);
        let mut new = sample_record("c1", hash, None);
        new.tokens.access_token = AccessToken::new("AT-new".into());
        new.tokens.refresh_token = Some(RefreshToken::new("RT-new".into()));
        assert_eq!(grant_token(&old.tokens), ("RT-1", "refresh_token"));
        assert_eq!(
            replaced_grant_token(&old.tokens, &new.tokens),
            Some(("RT-1", "refresh_token"))
        );

        // The server handed back the same refresh token: nothing to revoke.
        new.tokens.refresh_token = Some(RefreshToken::new("RT-1".into()));
        assert_eq!(replaced_grant_token(&old.tokens, &new.tokens), None);

        // No refresh token: the access token stands for the grant.
        let mut bare = old.clone();
        bare.tokens.refresh_token = None;
        new.tokens.refresh_token = None;
        assert_eq!(
            replaced_grant_token(&bare.tokens, &new.tokens),
            Some(("AT-1", "access_token"))
        );
    }
}
