//! The owner's credentials (core/src/admin.rs): a bearer token, a session cookie and an
//! `Origin` from any client, and the throttle's stored value (`<count>:<last unix ms>`).
//!
//! Properties: no presented bearer token or cookie the fuzzer makes is accepted (it cannot
//! guess the token or forge a sealed session); the throttle's value reads back what it wrote,
//! and a client never waits longer than the window after its last failure.
#![no_main]

use bindify_core::admin::{
    AdminToken, Attempts, Guard, Presented, THROTTLE_WINDOW_SECONDS, authorize, retry_after,
};
use bindify_fuzz::keyring;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    bearer: Option<String>,
    session: Option<String>,
    origin: Option<String>,
    unsafe_method: bool,
    /// A clock reading: Unix milliseconds from 1970 to the year 2500.
    now: u64,
    failures: u32,
    stored: String,
}

fuzz_target!(|input: Input| {
    let now = i64::try_from(input.now % 16_725_225_600_000).expect("in range");
    let token =
        AdminToken::new("an admin token of at least thirty-two bytes".into()).expect("token");
    let ring = keyring(1, 0x42);
    let presented = Presented {
        bearer: input.bearer.as_deref(),
        session: input.session.as_deref(),
        origin: input.origin.as_deref(),
        own_origin: "https://bindify.example",
        unsafe_method: input.unsafe_method,
    };
    assert!(authorize(&Guard::Token(&token), Some(&ring), &presented, now).is_err());
    assert!(authorize(&Guard::Unconfigured, Some(&ring), &presented, now).is_err());

    let attempts = Attempts::parse(&input.stored);
    assert_eq!(Attempts::parse(&attempts.to_text()), attempts);
    if let Some(wait) = attempts.wait_seconds(now) {
        assert!(wait >= 1);
        if attempts.last_failure <= now {
            assert!(wait <= THROTTLE_WINDOW_SECONDS);
        }
    }
    let failed = attempts.failed(now);
    assert_eq!(failed.last_failure, now);
    assert!(failed.failures >= attempts.failures);
    if let Some(wait) = retry_after(input.failures) {
        assert!((1..=THROTTLE_WINDOW_SECONDS).contains(&wait));
    }
});
