//! Counting wrong admin tokens without spending storage writes: the Worker's `Throttle` Durable
//! Object holds one [`Throttle`] in memory and asks it about each wrong token.
//!
//! Two limits apply to every wrong token:
//! - per client: five are free, then the client waits 1 s, 2 s, 4 s … up to the window
//!   (15 minutes), counted from its last wrong token. IPv4 clients are counted per address,
//!   IPv6 clients per /64 (one subscriber's whole prefix), IPv4-mapped IPv6 as their IPv4.
//! - globally: at most [`GLOBAL_MAX`] wrong tokens are answered in a window that starts at the
//!   first of them; after that every wrong token waits for the window to end, whatever its
//!   address, so rotating addresses buys nothing.
//!
//! The right token is checked before the throttle and always accepted: an attacker can make
//! wrong tokens wait, never lock the owner out. The counts live in memory only, so a flood
//! cannot spend the Durable Object storage writes that connections need either; they reset if
//! the runtime evicts the idle object.

use std::collections::BTreeMap;
use std::net::IpAddr;

use crate::time::UnixMillis;

/// Wrong tokens one client may send before it has to wait.
pub const FREE_ATTEMPTS: u32 = 5;
/// How long wrong tokens are remembered, and the longest wait.
pub const WINDOW_MS: i64 = 15 * 60_000;
/// Wrong tokens answered per window across all clients.
pub const GLOBAL_MAX: u32 = 100;
/// Clients remembered at most; older entries go first. The global limit keeps the real number
/// far below this.
const MAX_CLIENTS: usize = 4096;

/// The bucket a client address is counted in. Anything that is not an IP address (a missing
/// header in local development) shares one bucket.
pub fn client_bucket(address: Option<&str>) -> String {
    let parsed = address
        .map(str::trim)
        .and_then(|a| a.parse::<IpAddr>().ok());
    match parsed {
        Some(IpAddr::V4(v4)) => v4.to_string(),
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let [a, b, c, d, ..] = v6.segments();
                format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
            }
        },
        None => "unknown".to_owned(),
    }
}

/// What to answer a wrong token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Counted; answer "wrong token" (401).
    Counted,
    /// Not counted; answer "too many attempts, retry after this many seconds" (429).
    Wait { seconds: u64 },
}

/// The wrong tokens of one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Attempts {
    failures: u32,
    last_failure: UnixMillis,
}

impl Attempts {
    /// Seconds left to wait at `now`: the wait runs from the last wrong token and doubles with
    /// each one past the free ones, so a client that waits as told may try again.
    fn wait_ms(self, now: UnixMillis) -> Option<i64> {
        let extra = self.failures.checked_sub(FREE_ATTEMPTS)?;
        let wait = 1000_i64
            .saturating_mul(1_i64 << extra.min(20))
            .min(WINDOW_MS);
        let until = self.last_failure.saturating_add(wait);
        (now < until).then(|| until.saturating_sub(now))
    }

    fn expired(self, now: UnixMillis) -> bool {
        now.saturating_sub(self.last_failure) >= WINDOW_MS
    }
}

/// The global window: when it started and how many wrong tokens it has answered.
#[derive(Debug, Clone, Copy, Default)]
struct Window {
    started: UnixMillis,
    answered: u32,
}

/// Every count, as one Throttle object keeps it in memory.
#[derive(Debug, Default)]
pub struct Throttle {
    clients: BTreeMap<String, Attempts>,
    global: Window,
}

impl Throttle {
    /// Decides about one wrong token from client `bucket` at `now`, and counts it if it is
    /// answered.
    pub fn wrong_token(&mut self, bucket: &str, now: UnixMillis) -> Verdict {
        if now.saturating_sub(self.global.started) >= WINDOW_MS {
            self.global = Window {
                started: now,
                answered: 0,
            };
        }
        let client = self
            .clients
            .get(bucket)
            .copied()
            .filter(|a| !a.expired(now))
            .unwrap_or_default();
        let global_wait = (self.global.answered >= GLOBAL_MAX).then(|| {
            self.global
                .started
                .saturating_add(WINDOW_MS)
                .saturating_sub(now)
        });
        let wait = client.wait_ms(now).into_iter().chain(global_wait).max();
        if let Some(ms) = wait {
            return Verdict::Wait {
                seconds: u64::try_from(ms.saturating_add(999) / 1000)
                    .unwrap_or(1)
                    .max(1),
            };
        }
        self.global.answered = self.global.answered.saturating_add(1);
        self.remember(
            bucket,
            Attempts {
                failures: client.failures.saturating_add(1),
                last_failure: now,
            },
            now,
        );
        Verdict::Counted
    }

    fn remember(&mut self, bucket: &str, attempts: Attempts, now: UnixMillis) {
        if self.clients.len() >= MAX_CLIENTS && !self.clients.contains_key(bucket) {
            self.clients.retain(|_, a| !a.expired(now));
            if self.clients.len() >= MAX_CLIENTS {
                let oldest = self
                    .clients
                    .iter()
                    .min_by_key(|(_, a)| a.last_failure)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    self.clients.remove(&oldest);
                }
            }
        }
        self.clients.insert(bucket.to_owned(), attempts);
    }

    /// How many clients are remembered (for tests of the memory bound).
    pub fn remembered(&self) -> usize {
        self.clients.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixMillis = 1_795_690_200_000;

    #[test]
    fn ipv6_is_counted_per_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(client_bucket(Some("203.0.113.7")), "203.0.113.7");
        assert_eq!(client_bucket(Some(" 203.0.113.7 ")), "203.0.113.7");
        assert_eq!(client_bucket(Some("::ffff:203.0.113.7")), "203.0.113.7");
        assert_eq!(client_bucket(Some("::ffff:cb00:7107")), "203.0.113.7");
        let a = client_bucket(Some("2001:db8:1:2::1"));
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_eq!(
            client_bucket(Some("2001:0db8:0001:0002:ffff:ffff:ffff:ffff")),
            a
        );
        assert_eq!(client_bucket(Some("2001:DB8:1:2:aaaa::9")), a);
        assert_ne!(client_bucket(Some("2001:db8:1:3::1")), a);
        assert_eq!(client_bucket(Some("::1")), "0:0:0:0::/64");
        assert_eq!(client_bucket(Some("not an address")), "unknown");
        assert_eq!(client_bucket(Some("2001:db8::1%eth0")), "unknown");
        assert_eq!(client_bucket(None), "unknown");
    }

    #[test]
    fn five_are_free_then_the_wait_doubles_from_the_last_failure() {
        let mut t = Throttle::default();
        for i in 0..FREE_ATTEMPTS {
            assert_eq!(t.wrong_token("a", T0 + i64::from(i)), Verdict::Counted);
        }
        let last = T0 + i64::from(FREE_ATTEMPTS - 1);
        assert_eq!(t.wrong_token("a", last), Verdict::Wait { seconds: 1 });
        assert_eq!(t.wrong_token("a", last + 999), Verdict::Wait { seconds: 1 });
        // Waiting as told allows one more, which doubles the wait.
        assert_eq!(t.wrong_token("a", last + 1000), Verdict::Counted);
        assert_eq!(
            t.wrong_token("a", last + 1000),
            Verdict::Wait { seconds: 2 }
        );
        // Another client is not affected.
        assert_eq!(t.wrong_token("b", last + 1000), Verdict::Counted);
        // A client quiet for a whole window starts again.
        let later = last + 1000 + WINDOW_MS;
        for i in 0..FREE_ATTEMPTS {
            assert_eq!(t.wrong_token("a", later + i64::from(i)), Verdict::Counted);
        }
    }

    #[test]
    fn the_wait_never_exceeds_the_window() {
        let mut t = Throttle::default();
        let mut now = T0;
        let mut longest = 0;
        for _ in 0..60 {
            match t.wrong_token("a", now) {
                Verdict::Counted => {}
                Verdict::Wait { seconds } => {
                    longest = longest.max(seconds);
                    now += i64::try_from(seconds).expect("small") * 1000;
                }
            }
        }
        assert_eq!(longest, u64::try_from(WINDOW_MS / 1000).expect("small"));
    }

    #[test]
    fn rotating_addresses_meet_the_global_ceiling() {
        let mut t = Throttle::default();
        let mut answered = 0;
        let mut waits = Vec::new();
        for i in 0..5000_u32 {
            let address = format!("2001:db8:{:x}:{:x}::1", i / 65536, i % 65536);
            let now = T0 + i64::from(i);
            match t.wrong_token(&client_bucket(Some(&address)), now) {
                Verdict::Counted => answered += 1,
                Verdict::Wait { seconds } => waits.push(seconds),
            }
        }
        assert_eq!(answered, GLOBAL_MAX);
        assert_eq!(waits.len(), 5000 - 100);
        // Each waits until the window that began with the first wrong token ends.
        assert_eq!(waits.first(), Some(&900));
        assert!(waits.iter().all(|s| (895..=900).contains(s)));
        assert!(t.remembered() <= usize::try_from(GLOBAL_MAX).expect("small"));
        // A new window answers again.
        assert_eq!(
            t.wrong_token("2001:db8:ffff::/64", T0 + WINDOW_MS),
            Verdict::Counted
        );
    }

    #[test]
    fn memory_stays_bounded() {
        let mut t = Throttle::default();
        for i in 0..(MAX_CLIENTS as i64 + 50) {
            // A new window every time, so the global ceiling does not stop the count.
            let now = T0 + i * WINDOW_MS;
            assert_eq!(t.wrong_token(&format!("c{i}"), now), Verdict::Counted);
        }
        assert!(t.remembered() <= MAX_CLIENTS);
    }
}
