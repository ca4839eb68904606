//! The sign-in page's return address (core/src/pages/login.rs `safe_next`) and the escaping of
//! every value a page interpolates (core/src/pages/layout.rs `escape`): `next` comes from the
//! query string or the form, so from anyone who can send the owner a link.
//!
//! Properties: a browser following the return address stays on the Worker's origin (resolved
//! with the WHATWG URL parser, as browsers do, which drops tabs and newlines); escaped text
//! holds no markup character and unescapes to the input; the page shows `next` only escaped.
#![no_main]

use bindify_core::pages::{escape, login_page, safe_next};
use libfuzzer_sys::fuzz_target;
use url::Url;

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fuzz_target!(|next: &str| {
    let base = Url::parse("https://bindify.example/login").expect("base");
    let target = safe_next(Some(next));
    let followed = base.join(&target).expect("a return address resolves");
    assert_eq!(
        followed.origin(),
        base.origin(),
        "{next:?} leads to {followed}"
    );

    let escaped = escape(next);
    assert!(!escaped.contains(['<', '>', '"', '\'']));
    assert_eq!(unescape(&escaped), next);

    let page = login_page(&target, Some(next));
    assert!(page.contains(&escape(&target)));
});
