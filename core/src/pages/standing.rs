//! Where a connection stands, as the dashboard shows it: one badge and the next step. Derived
//! from the listed view, the server's clock and the cron's refresh window, most urgent first:
//! a lost grant, a failing authorization server, a grant that ends, a token about to be
//! refreshed, and otherwise active.
//!
//! When a grant ends is known for a grant without a refresh token (it ends with its access
//! token) and for one whose end is stated (`grant_expires_at`: the refresh token's stated
//! expiry, or the lifetime the provider documents). The badge warns [`GRANT_WARNING_MS`] ahead.

use crate::record::{ConnectionState, ConnectionView};
use crate::time::{UnixMillis, parse_rfc3339};

/// The dashboard's reading of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// The authorization server no longer accepts the grant: only a reconnect helps.
    NeedsReauth(ReauthReason),
    /// The last refresh failed for a transient reason; the tokens are kept.
    ServerFailing {
        /// No background retry before this instant; `None` or past: the next request or cron
        /// run tries.
        retry_at: Option<UnixMillis>,
    },
    /// The grant ends at this instant, within [`GRANT_WARNING_MS`], and nothing can extend it
    /// but a reconnect.
    GrantEnding { at: UnixMillis, why: GrantEnd },
    /// The access token expires within the cron's refresh window (or has expired): the next
    /// cron run or request refreshes it.
    RefreshingSoon { expires_at: UnixMillis },
    /// Usable, and refreshed before it expires (`None`: the token states no expiry).
    Active { expires_at: Option<UnixMillis> },
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
    /// The grant had no refresh token and its access token expired at this instant.
    Ended { at: UnixMillis },
}

/// Reads `view` at `now`; the cron refreshes tokens expiring within `refresh_window_ms`.
pub fn standing(view: &ConnectionView, now: UnixMillis, refresh_window_ms: i64) -> Standing {
    let expires_at = view
        .access_token_expires_at
        .as_deref()
        .and_then(parse_rfc3339);
    match view.state {
        ConnectionState::NeedsReauth => return Standing::NeedsReauth(ReauthReason::Refused),
        ConnectionState::Error => {
            return Standing::ServerFailing {
                retry_at: view.next_attempt_at.as_deref().and_then(parse_rfc3339),
            };
        }
        ConnectionState::Active => {}
    }
    if let Some((at, why)) = grant_end(view, expires_at) {
        if at <= now {
            return Standing::NeedsReauth(ReauthReason::Ended { at });
        }
        if at - GRANT_WARNING_MS <= now {
            return Standing::GrantEnding { at, why };
        }
    }
    match expires_at {
        Some(at) if at - refresh_window_ms <= now => Standing::RefreshingSoon { expires_at: at },
        other => Standing::Active { expires_at: other },
    }
}

/// When the grant itself ends, if that is known: its stated end, else, for a grant without a
/// refresh token, its access token's expiry.
pub fn grant_end(
    view: &ConnectionView,
    access_expires_at: Option<UnixMillis>,
) -> Option<(UnixMillis, GrantEnd)> {
    if let Some(at) = view.grant_expires_at.as_deref().and_then(parse_rfc3339) {
        return Some((at, GrantEnd::Stated));
    }
    if view.refreshable {
        None
    } else {
        access_expires_at.map(|at| (at, GrantEnd::NoRefreshToken))
    }
}

impl Standing {
    /// A stable name for styling and tests.
    pub fn key(&self) -> &'static str {
        match self {
            Standing::NeedsReauth(_) => "needs-reauth",
            Standing::ServerFailing { .. } => "server-failing",
            Standing::GrantEnding { .. } => "grant-ending",
            Standing::RefreshingSoon { .. } => "refreshing-soon",
            Standing::Active { .. } => "active",
        }
    }

    /// The badge's text.
    pub fn label(&self) -> &'static str {
        match self {
            Standing::NeedsReauth(_) => "Needs re-authorization",
            Standing::ServerFailing { .. } => "Authorization server failing",
            Standing::GrantEnding { .. } => "Grant ending",
            Standing::RefreshingSoon { .. } => "Refreshing soon",
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
    const WINDOW: i64 = 15 * MIN;

    fn view(
        state: ConnectionState,
        expires_in_min: Option<i64>,
        refreshable: bool,
    ) -> ConnectionView {
        ConnectionView {
            id: "c1".into(),
            label: "Work".into(),
            upstream: "https://mcp.example.com/mcp".into(),
            state,
            access_token_expires_at: expires_in_min.map(|m| rfc3339(NOW + m * MIN)),
            last_refresh_at: None,
            last_error: None,
            created_at: rfc3339(NOW - 86_400_000),
            refreshable,
            next_attempt_at: None,
            kind: crate::record::ConnectionKind::Oauth,
            grant_expires_at: None,
        }
    }

    #[test]
    fn most_urgent_first() {
        use ConnectionState::*;
        let cases = [
            (
                view(Active, Some(52), true),
                Standing::Active {
                    expires_at: Some(NOW + 52 * MIN),
                },
            ),
            (
                view(Active, None, true),
                Standing::Active { expires_at: None },
            ),
            (
                view(Active, Some(15), true),
                Standing::RefreshingSoon {
                    expires_at: NOW + 15 * MIN,
                },
            ),
            (
                view(Active, Some(-3), true),
                Standing::RefreshingSoon {
                    expires_at: NOW - 3 * MIN,
                },
            ),
            (
                view(Active, Some(40), false),
                Standing::GrantEnding {
                    at: NOW + 40 * MIN,
                    why: GrantEnd::NoRefreshToken,
                },
            ),
            (
                view(Active, Some(-1), false),
                Standing::NeedsReauth(ReauthReason::Ended { at: NOW - MIN }),
            ),
            (
                view(Active, None, false),
                Standing::Active { expires_at: None },
            ),
            (
                view(NeedsReauth, Some(52), true),
                Standing::NeedsReauth(ReauthReason::Refused),
            ),
            (
                view(NeedsReauth, Some(5), false),
                Standing::NeedsReauth(ReauthReason::Refused),
            ),
            (
                view(Error, Some(5), true),
                Standing::ServerFailing { retry_at: None },
            ),
        ];
        for (v, expected) in cases {
            assert_eq!(standing(&v, NOW, WINDOW), expected, "{v:?}");
        }
    }

    #[test]
    fn a_failing_server_says_when_it_is_tried_again() {
        let mut v = view(ConnectionState::Error, Some(5), true);
        v.next_attempt_at = Some(rfc3339(NOW + 4 * MIN));
        let s = standing(&v, NOW, WINDOW);
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
        let mut v = view(ConnectionState::Active, Some(52), true);
        v.grant_expires_at = Some(rfc3339(NOW + 8 * day));
        assert_eq!(
            standing(&v, NOW, WINDOW),
            Standing::Active {
                expires_at: Some(NOW + 52 * MIN)
            }
        );
        v.grant_expires_at = Some(rfc3339(NOW + 7 * day));
        let s = standing(&v, NOW, WINDOW);
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
            standing(&v, NOW, WINDOW),
            Standing::NeedsReauth(ReauthReason::Ended { at: NOW - MIN })
        );
    }

    #[test]
    fn badges_read_as_words() {
        let reauth = Standing::NeedsReauth(ReauthReason::Refused);
        assert_eq!(reauth.label(), "Needs re-authorization");
        assert!(reauth.needs_reconnect());
        assert_eq!(
            Standing::RefreshingSoon { expires_at: NOW }.label(),
            "Refreshing soon"
        );
        assert_eq!(Standing::Active { expires_at: None }.key(), "active");
    }
}
