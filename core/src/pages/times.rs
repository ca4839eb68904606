//! Times on the pages, both ways: relative text ("in 52 min", "3 h ago") computed from the
//! server's clock, so it reads right without JavaScript and whatever the browser's clock says,
//! and the exact instant in the element's `datetime` and on hover. The dashboard's script keeps
//! the relative text current from `data-at`.

use super::layout::escape;
use crate::time::{UnixMillis, relative, rfc3339};

/// `<time>` for `at`, seen at `now`.
pub fn time_element(at: UnixMillis, now: UnixMillis) -> String {
    let exact = rfc3339(at);
    format!(
        r#"<time datetime="{exact}" data-at="{at}" title="{title}">{text}</time>"#,
        exact = escape(&exact),
        title = escape(&exact_words(&exact)),
        text = escape(&relative(at, now)),
    )
}

/// `2026-11-26T10:50:00Z` as `2026-11-26 10:50:00 UTC`.
fn exact_words(rfc3339: &str) -> String {
    match rfc3339.strip_suffix('Z') {
        Some(time) => format!("{} UTC", time.replacen('T', " ", 1)),
        None => rfc3339.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_text_with_the_exact_time_on_hover() {
        let now = 1_795_690_200_000; // 2026-11-26T10:50:00Z
        assert_eq!(
            time_element(now + 52 * 60_000, now),
            r#"<time datetime="2026-11-26T11:42:00Z" data-at="1795693320000" title="2026-11-26 11:42:00 UTC">in 52 min</time>"#
        );
        assert!(time_element(now - 3 * 3_600_000, now).ends_with(">3 h ago</time>"));
    }
}
