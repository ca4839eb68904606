//! Where a connection stands, as the dashboard shows it: one badge and the next step. Derived
//! from the listed view and the server's clock, most urgent first: a lost grant, a failing
//! authorization server, a grant that ends, and otherwise active. A refreshable token's expiry
//! is not listed (its object refreshes it ahead of expiry, and the listing is not rewritten for
//! that), so nothing here waits on it.
//!
//! When a grant ends is known for a grant without a refresh token (it ends with its access
//! token) and for one whose end is stated (`grant_expires_at`: the refresh token's stated
//! expiry, or the lifetime the provider documents). The badge warns [`GRANT_WARNING_MS`] ahead.

use crate::time::{UnixMillis, parse_rfc3339};
use crate::vault::record::{ConnectionState, ConnectionView};

/// The dashboard's reading of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// The authorization server no longer accepts the grant: only a reconnect helps.
    NeedsReauth(ReauthReason),
    /// The last refresh failed for a transient reason; the tokens are kept.
    ServerFailing {
        /// No background retry before this instant; `None` (a listing does not say) or past:
        /// the object's next alarm or request tries.
        retry_at: Option<UnixMillis>,
    },
    /// The grant ends at this instant, within [`GRANT_WARNING_MS`], and nothing can extend it
    /// but a reconnect.
    GrantEnding { at: UnixMillis, why: GrantEnd },
    /// Usable. `expires`: the token states an expiry and Bindify renews it ahead of it;
    /// otherwise it is renewed only if the server rejects it.
    Active { expires: bool },
}

/// How long before a grant ends the dashboard warns (and `bindify doctor` reports it).
pub const GRANT_WARNING_MS: i64 = 7 * 86_400_000;

/// Why a grant ends on a known date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantEnd {
    /// The service issued no refresh token: the grant ends with the access token.
    NoRefreshToken,
    /// The end is stated: the refresh token's expiry, or the provider's grant lifetime.
    Stated,
}

/// Why a connection needs to be authorized again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReauthReason {
    /// The authorization server refused the refresh (the record's state says so).
    Refused,
    /// The grant ended at this instant (its stated end, or the expiry of an access token
    /// nothing renews).
    Ended { at: UnixMillis },
}

/// Reads `view` at `now`.
pub fn standing(view: &ConnectionView, now: UnixMillis) -> Standing {
    match view.state {
        ConnectionState::NeedsReauth => return Standing::NeedsReauth(ReauthReason::Refused),
        ConnectionState::Error => {
            return Standing::ServerFailing {
                retry_at: view.next_attempt_at.as_deref().and_then(parse_rfc3339),
            };
        }
        ConnectionState::Active => {}
    }
    if let Some((at, why)) = grant_end(view) {
        if at <= now {
            return Standing::NeedsReauth(ReauthReason::Ended { at });
        }
        if at - GRANT_WARNING_MS <= now {
            return Standing::GrantEnding { at, why };
        }
    }
    Standing::Active {
        expires: view.token_expires || view.access_token_expires_at.is_some(),
    }
}

/// When the grant itself ends, if that is known: its stated end, else, for a grant without a
/// refresh token, its access token's expiry (which a listing shows only for such a grant).
pub fn grant_end(view: &ConnectionView) -> Option<(UnixMillis, GrantEnd)> {
    if let Some(at) = view.grant_expires_at.as_deref().and_then(parse_rfc3339) {
        return Some((at, GrantEnd::Stated));
    }
    if view.refreshable {
        None
    } else {
        view.access_token_expires_at
            .as_deref()
            .and_then(parse_rfc3339)
            .map(|at| (at, GrantEnd::NoRefreshToken))
    }
}

impl Standing {
    /// A stable name for styling and tests.
    pub fn key(&self) -> &'static str {
        match self {
            Standing::NeedsReauth(_) => "needs-reauth",
            Standing::ServerFailing { .. } => "server-failing",
            Standing::GrantEnding { .. } => "grant-ending",
            Standing::Active { .. } => "active",
        }
    }

    /// The badge's text.
    pub fn label(&self) -> &'static str {
        match self {
            Standing::NeedsReauth(_) => "Needs re-authorization",
            Standing::ServerFailing { .. } => "Authorization server failing",
            Standing::GrantEnding { .. } => "Grant ending",
            Standing::Active { .. } => "Active",
        }
    }

    /// Whether the owner must act (the Reconnect button leads).
    pub fn needs_reconnect(&self) -> bool {
        matches!(
            self,
            Standing::NeedsReauth(_) | Standing::GrantEnding { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::rfc3339;

    const NOW: UnixMillis = 1_795_690_200_000; // 2026-11-26T10:50:00Z
    const MIN: i64 = 60_000;

    /// A view as a listing gives it: a refreshable grant's expiry is not there.
    fn listed(
        state: ConnectionState,
        expires_in_min: Option<i64>,
        refreshable: bool,
    ) -> ConnectionView {
        ConnectionView {
            id: "c1".into(),
            label: "Work".into(),
            upstream: "https://mcp.example.com/mcp".into(),
            state,
            access_token_expires_at: expires_in_min
                .filter(|_| !refreshable)
                .map(|m| rfc3339(NOW + m * MIN)),
            last_refresh_at: None,
            last_error: None,
            created_at: rfc3339(NOW - 86_400_000),
            refreshable,
            token_expires: expires_in_min.is_some(),
            next_attempt_at: None,
            kind: crate::vault::record::ConnectionKind::Oauth,
            grant_expires_at: None,
        }
    }

    #[test]
    fn most_urgent_first() {
        use ConnectionState::*;
        let cases = [
            (
                listed(Active, Some(52), true),
                Standing::Active { expires: true },
            ),
            (
                listed(Active, Some(-3), true),
                Standing::Active { expires: true },
            ),
            (
                listed(Active, None, true),
                Standing::Active { expires: false },
            ),
            (
                listed(Active, Some(40), false),
                Standing::GrantEnding {
                    at: NOW + 40 * MIN,
                    why: GrantEnd::NoRefreshToken,
                },
            ),
            (
                listed(Active, Some(-1), false),
                Standing::NeedsReauth(ReauthReason::Ended { at: NOW - MIN }),
            ),
            (
                listed(Active, None, false),
                Standing::Active { expires: false },
            ),
            (
                listed(NeedsReauth, Some(52), true),
                Standing::NeedsReauth(ReauthReason::Refused),
            ),
            (
                listed(NeedsReauth, Some(5), false),
                Standing::NeedsReauth(ReauthReason::Refused),
            ),
            (
                listed(Error, Some(5), true),
                Standing::ServerFailing { retry_at: None },
            ),
        ];
        for (v, expected) in cases {
            assert_eq!(standing(&v, NOW), expected, "{v:?}");
        }
    }

    #[test]
    fn the_objects_own_view_reads_the_same() {
        // `GET /api/connections/<id>` shows a refreshable grant's expiry: still just active.
        let mut v = listed(ConnectionState::Active, Some(2), true);
        v.access_token_expires_at = Some(rfc3339(NOW + 2 * MIN));
        assert_eq!(standing(&v, NOW), Standing::Active { expires: true });
    }

    #[test]
    fn a_failing_server_says_when_it_is_tried_again() {
        let mut v = listed(ConnectionState::Error, Some(5), true);
        v.next_attempt_at = Some(rfc3339(NOW + 4 * MIN));
        let s = standing(&v, NOW);
        assert_eq!(
            s,
            Standing::ServerFailing {
                retry_at: Some(NOW + 4 * MIN)
            }
        );
        assert_eq!(
            (s.key(), s.label()),
            ("server-failing", "Authorization server failing")
        );
        assert!(!s.needs_reconnect());
    }

    #[test]
    fn a_stated_grant_end_warns_a_week_ahead() {
        let day = 86_400_000;
        let mut v = listed(ConnectionState::Active, Some(52), true);
        v.grant_expires_at = Some(rfc3339(NOW + 8 * day));
        assert_eq!(standing(&v, NOW), Standing::Active { expires: true });
        v.grant_expires_at = Some(rfc3339(NOW + 7 * day));
        let s = standing(&v, NOW);
        assert_eq!(
            s,
            Standing::GrantEnding {
                at: NOW + 7 * day,
                why: GrantEnd::Stated
            }
        );
        assert!(s.needs_reconnect());
        v.grant_expires_at = Some(rfc3339(NOW - MIN));
        assert_eq!(
            standing(&v, NOW),
            Standing::NeedsReauth(ReauthReason::Ended { at: NOW - MIN })
        );
    }

    #[test]
    fn badges_read_as_words() {
        let reauth = Standing::NeedsReauth(ReauthReason::Refused);
        assert_eq!(reauth.label(), "Needs re-authorization");
        assert!(reauth.needs_reconnect());
        assert_eq!(
            Standing::GrantEnding {
                at: NOW,
                why: GrantEnd::Stated
            }
            .label(),
            "Grant ending"
        );
        assert_eq!(Standing::Active { expires: true }.key(), "active");
    }
}
