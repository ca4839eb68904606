//! The owner's credentials (core/src/admin/mod.rs) and the wrong-token throttle
//! (core/src/admin/throttle.rs): a bearer token, a session cookie and an `Origin` from any client,
//! the sign-in form's body, the configured `ADMIN_TOKEN`, and the client addresses (the
//! `CF-Connecting-IP` header) and clock readings of a run of wrong tokens.
//!
//! Properties: no bearer token or cookie the fuzzer makes is accepted (it cannot guess the token
//! or forge a sealed session); a token verifies exactly when it is the token up to surrounding
//! whitespace; a configured token is accepted exactly when it has at least 32 bytes, and a short
//! one is described by its length only; the sign-in form's token is never blank or padded. The
//! throttle: a client's bucket is canonical (bucketing it again gives it back) and short; a wait
//! is between one second and the window; a fresh client's first five wrong tokens are counted
//! unless the global limit is reached; no more than 100 wrong tokens are counted in one window.
#![no_main]

use bindify_core::admin::throttle::{
    FREE_ATTEMPTS, GLOBAL_MAX, Throttle, Verdict, WINDOW_MS, client_bucket,
};
use bindify_core::admin::{
    AdminToken, Guard, LoginForm, MIN_TOKEN_BYTES, Presented, SessionCookie, TokenProblem,
    authorize,
};
use bindify_fuzz::keyring;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

const TOKEN: &str = "an admin token of at least thirty-two bytes";

#[derive(Debug, Arbitrary)]
struct Input {
    bearer: Option<String>,
    session: Option<String>,
    origin: Option<String>,
    unsafe_method: bool,
    /// A clock reading: Unix milliseconds from 1970 to the year 2500.
    now: u64,
    configured: Option<String>,
    form: Vec<u8>,
    /// Wrong tokens: the client's address and the milliseconds since the previous one.
    wrong: Vec<(Option<String>, u16)>,
}

fuzz_target!(|input: Input| {
    let now = i64::try_from(input.now % 16_725_225_600_000).expect("in range");
    let token = AdminToken::new(TOKEN.into());
    let ring = keyring(1, 0x42);
    let bearer = input.bearer.clone().map(AdminToken::new);
    let session = input.session.clone().map(SessionCookie::new);
    let presented = Presented {
        bearer: bearer.as_ref(),
        session: session.as_ref(),
        origin: input.origin.as_deref(),
        own_origin: "https://bindify.example",
        unsafe_method: input.unsafe_method,
    };
    let guessed = input.bearer.as_deref() == Some(TOKEN);
    assert_eq!(
        authorize(&Guard::Token(&token), Some(&ring), &presented, now).is_ok(),
        guessed
    );
    assert!(authorize(&Guard::Unconfigured, Some(&ring), &presented, now).is_err());
    if let Some(bearer) = &input.bearer {
        assert_eq!(token.verify(bearer), bearer.trim() == TOKEN);
    }

    let configured = AdminToken::from_config(input.configured.as_deref());
    let trimmed = input.configured.as_deref().unwrap_or_default().trim();
    match &configured {
        Ok(t) => {
            assert!(trimmed.len() >= MIN_TOKEN_BYTES);
            assert_eq!(t.expose(), trimmed);
        }
        Err(TokenProblem::Missing) => assert!(trimmed.is_empty()),
        Err(TokenProblem::TooShort { bytes }) => {
            assert_eq!(*bytes, trimmed.len());
            assert!((1..MIN_TOKEN_BYTES).contains(bytes));
        }
    }

    let form = LoginForm::parse(&input.form);
    if let Some(t) = &form.token {
        assert!(!t.expose().is_empty());
        assert_eq!(t.expose(), t.expose().trim());
    }

    let mut throttle = Throttle::default();
    let mut clock = now;
    let mut window_start: Option<i64> = None;
    let mut counted_in_window = 0u32;
    let mut counted_per_bucket = std::collections::BTreeMap::<String, (u32, i64)>::new();
    for (address, delta) in &input.wrong {
        clock = clock.saturating_add(i64::from(*delta) * 50);
        let bucket = client_bucket(address.as_deref());
        assert!(bucket.len() <= 24, "{bucket:?}");
        if bucket != "unknown" {
            assert_eq!(client_bucket(Some(&bucket.replace("::/64", "::"))), bucket);
        }
        if window_start.is_none_or(|s| clock - s >= WINDOW_MS) {
            window_start = Some(clock);
            counted_in_window = 0;
        }
        // The client's counted wrong tokens still remembered (within one window of the last).
        let recent = counted_per_bucket
            .get(&bucket)
            .filter(|(_, last)| clock - last < WINDOW_MS)
            .map_or(0, |(n, _)| *n);
        match throttle.wrong_token(&bucket, clock) {
            Verdict::Counted => {
                counted_in_window += 1;
                assert!(counted_in_window <= GLOBAL_MAX);
                counted_per_bucket.insert(bucket, (recent + 1, clock));
            }
            Verdict::Wait { seconds } => {
                assert!((1..=WINDOW_MS as u64 / 1000).contains(&seconds));
                assert!(
                    recent >= FREE_ATTEMPTS || counted_in_window >= GLOBAL_MAX,
                    "a client waits after {recent} wrong tokens"
                );
            }
        }
    }
});
