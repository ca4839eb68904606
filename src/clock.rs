//! The Worker's clock: `Date.now()` in Unix milliseconds.

pub fn now() -> bindify_core::time::UnixMillis {
    worker::js_sys::Date::now() as i64
}
