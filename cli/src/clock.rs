//! The CLI's clock. Reading the API's RFC 3339 timestamps and saying how far away they are
//! is the core's (`bindify_core::time`), shared with the dashboard.

pub use bindify_core::time::{UnixMillis, parse_rfc3339, relative};

/// Now, in Unix milliseconds.
pub fn now() -> UnixMillis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
