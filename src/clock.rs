//! The Worker's clock: `Date.now()` in Unix milliseconds.

pub fn now() -> bindify_core::time::UnixMillis {
    worker::Date::now().as_millis() as i64
}
