//! Cookies (core/src/connect/cookies.rs `find`, and the flow's browser binding in
//! core/src/connect/flow/state.rs `check_binding`): the `Cookie` header a browser, or anyone,
//! sends.
//!
//! Properties: a found value lies inside the header and holds no `;`; in a header built from
//! well-formed pairs, the first pair with the name is found; a state's binding is accepted only
//! for the exact cookie value it was made for.
#![no_main]

use bindify_core::connect::cookies::find;
use bindify_core::connect::flow::{StateClaims, binding_of, cookie_name};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

const FLOW: &str = "f1";
const VALUE: &str = "Zm9vYmFyYmF6cXV4";

#[derive(Debug, Arbitrary)]
struct Input {
    header: String,
    name: String,
    pairs: Vec<(String, String)>,
    pick: u8,
}

/// RFC 6265 §4.1.1 cookie-name (a token) and cookie-octet.
fn clean(text: &str, value: bool) -> String {
    text.chars()
        .filter(|&c| {
            c.is_ascii_graphic()
                && !matches!(c, ';' | ',' | '"' | '\\' | '=')
                && (value || !"()<>@:/[]?{}".contains(c))
        })
        .collect()
}

fuzz_target!(|input: Input| {
    if let Some(value) = find(Some(&input.header), &input.name) {
        assert!(input.header.contains(value));
        assert!(!value.contains(';'));
        assert!(!value.starts_with('"') && !value.ends_with('"'));
    }

    // A header of well-formed pairs.
    let pairs: Vec<(String, String)> = input
        .pairs
        .iter()
        .map(|(n, v)| (clean(n, false), clean(v, true)))
        .filter(|(n, _)| !n.is_empty())
        .collect();
    let header = pairs
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    if let Some((name, _)) = pairs.get(usize::from(input.pick) % pairs.len().max(1)) {
        let first = pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str());
        assert_eq!(find(Some(&header), name), first, "{header:?}");
    }

    // The browser binding of a state.
    let claims = StateClaims {
        flow: FLOW.to_owned(),
        exp: i64::MAX,
        bind: binding_of(VALUE),
    };
    for header in [input.header.as_str(), header.as_str()] {
        let presented = find(Some(header), &cookie_name(FLOW));
        assert_eq!(
            claims.check_binding(Some(header)).is_ok(),
            presented == Some(VALUE),
            "{header:?}"
        );
    }
});
