use super::*;

fn parse(s: &str) -> BearerChallenge {
    parse_bearer_challenge(s).unwrap_or_else(|| panic!("expected a Bearer challenge in {s:?}"))
}

fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

#[test]
fn plain() {
    let c = parse(
        r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#,
    );
    assert_eq!(
        c.resource_metadata,
        some("https://mcp.example.com/.well-known/oauth-protected-resource/mcp")
    );
    assert_eq!(c.scope, None);

    let c = parse(
        r#"Bearer realm="example", error="invalid_token", error_description="The access token expired", scope="read write""#,
    );
    assert_eq!(
        c,
        BearerChallenge {
            resource_metadata: None,
            scope: some("read write"),
            error: some("invalid_token"),
            error_description: some("The access token expired"),
            realm: some("example"),
        }
    );
}

#[test]
fn bare_bearer_and_token_values() {
    assert_eq!(parse("Bearer"), BearerChallenge::default());
    assert_eq!(parse("  Bearer  "), BearerChallenge::default());
    assert_eq!(parse("Bearer,"), BearerChallenge::default());
    let c = parse("Bearer error=invalid_token, scope=mcp");
    assert_eq!(c.error, some("invalid_token"));
    assert_eq!(c.scope, some("mcp"));
}

#[test]
fn whitespace_around_equals_and_commas() {
    let c = parse("Bearer error = \"invalid_token\" ,\tscope\t=\tfiles , , realm=x");
    assert_eq!(c.error, some("invalid_token"));
    assert_eq!(c.scope, some("files"));
    assert_eq!(c.realm, some("x"));
}

#[test]
fn token68_is_ok() {
    assert_eq!(parse("Bearer abc.def-_~+/=="), BearerChallenge::default());
    assert_eq!(parse("Bearer abc="), BearerChallenge::default());
    let c = parse("Negotiate a87421000492aa874209af8bc028, Bearer scope=\"x\"");
    assert_eq!(c.scope, some("x"));
}

#[test]
fn several_challenges() {
    let c = parse(
        r#"Basic realm="x", Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource""#,
    );
    assert_eq!(
        c.resource_metadata,
        some("https://mcp.example.com/.well-known/oauth-protected-resource")
    );
    assert_eq!(c.realm, None, "Basic's realm must not leak into Bearer");

    let c = parse(r#"DPoP algs="ES256", Bearer error="invalid_token""#);
    assert_eq!(c.error, some("invalid_token"));

    let c = parse(r#"Bearer realm="a", Basic realm="b""#);
    assert_eq!(c.realm, some("a"));

    let c = parse(
        r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple", Bearer scope="s""#,
    );
    assert_eq!(
        c,
        BearerChallenge {
            scope: some("s"),
            ..Default::default()
        }
    );
}

#[test]
fn bearer_not_first() {
    let c = parse(r#"Basic realm="simple", Digest realm="d", nonce="n", Bearer realm="b""#);
    assert_eq!(c.realm, some("b"));
    let c = parse(r#"Basic, Bearer realm="b""#);
    assert_eq!(c.realm, some("b"));
}

#[test]
fn no_bearer_is_none() {
    assert_eq!(parse_bearer_challenge(""), None);
    assert_eq!(parse_bearer_challenge(r#"Basic realm="Bearer""#), None);
    assert_eq!(parse_bearer_challenge(r#"DPoP algs="ES256 PS256""#), None);
    assert_eq!(parse_bearer_challenge("Bearerx realm=a"), None);
    assert_eq!(parse_bearer_challenge("Bearer/x"), None);
}

#[test]
fn quoted_escapes() {
    let c = parse(r#"Bearer error_description="say \"hi\" \\ done", realm="a\bc""#);
    assert_eq!(c.error_description, some(r#"say "hi" \ done"#));
    assert_eq!(c.realm, some("abc"));
    let c = parse(r#"Bearer realm="""#);
    assert_eq!(c.realm, some(""));
}

#[test]
fn commas_inside_quotes() {
    let c = parse(r#"Bearer scope="a, b", error="x,y", realm="Bearer realm=z""#);
    assert_eq!(c.scope, some("a, b"));
    assert_eq!(c.error, some("x,y"));
    assert_eq!(c.realm, some("Bearer realm=z"));
}

#[test]
fn case_insensitivity() {
    for scheme in ["bearer", "BEARER", "BeArEr"] {
        let c = parse(&format!(
            r#"{scheme} Resource_Metadata="https://a/b", SCOPE=x, Error="E""#
        ));
        assert_eq!(c.resource_metadata, some("https://a/b"));
        assert_eq!(c.scope, some("x"));
        assert_eq!(c.error, some("E"), "values keep their case");
    }
}

#[test]
fn duplicates_first_wins() {
    let c = parse(r#"Bearer scope="first", SCOPE="second", scope=third"#);
    assert_eq!(c.scope, some("first"));
    let c = parse(r#"Bearer realm="one", Bearer realm="two""#);
    assert_eq!(c.realm, some("one"));
}

#[test]
fn unknown_params_ignored() {
    let c = parse(r#"Bearer foo="bar", error="e", x-y=1"#);
    assert_eq!(
        c,
        BearerChallenge {
            error: some("e"),
            ..Default::default()
        }
    );
}

#[test]
fn unterminated_quote_keeps_earlier_params() {
    let c = parse(r#"Bearer error="invalid_token", resource_metadata="https://evil"#);
    assert_eq!(c.error, some("invalid_token"));
    assert_eq!(c.resource_metadata, None);
    assert_eq!(parse(r#"Bearer realm="abc\"#), BearerChallenge::default());
    // An unterminated quote before the Bearer challenge hides it.
    assert_eq!(
        parse_bearer_challenge(r#"Basic realm="x, Bearer resource_metadata="https://a""#),
        None
    );
}

#[test]
fn stray_equals() {
    assert_eq!(parse("Bearer =x"), BearerChallenge::default());
    assert_eq!(parse("Bearer ="), BearerChallenge::default());
    let c = parse("Bearer scope=a, realm==b, error=c");
    assert_eq!(c.scope, some("a"));
    assert_eq!(c.realm, None);
    assert_eq!(c.error, None, "parsing stops at the first error");
    assert_eq!(parse("Bearer scope=, error=c").scope, None);
    assert_eq!(parse_bearer_challenge("=, Bearer scope=a"), None);
}

#[test]
fn junk_after_value_stops() {
    let c = parse(r#"Bearer realm=r, scope="a" trailing, error="e""#);
    assert_eq!(c.realm, some("r"));
    assert_eq!(
        c.scope, None,
        "a value followed by junk is part of the error"
    );
    assert_eq!(c.error, None);
    assert_eq!(parse(r#"Bearer scope=a"b""#).scope, None);
}

#[test]
fn only_commas_and_whitespace() {
    assert_eq!(parse_bearer_challenge(",,,,"), None);
    assert_eq!(parse_bearer_challenge(" , \t , "), None);
    assert_eq!(parse(",, Bearer ,, scope=a ,,").scope, some("a"));
}

#[test]
fn size_limit() {
    let padding = "a".repeat(MAX_HEADER_LEN);
    let big = format!("Bearer scope=\"{padding}\"");
    assert!(big.len() > MAX_HEADER_LEN);
    assert_eq!(parse_bearer_challenge(&big), None);

    let hundred_kb = format!("Bearer realm=\"{}\"", "x".repeat(100 * 1024));
    assert_eq!(parse_bearer_challenge(&hundred_kb), None);

    let fits = format!("Bearer scope=\"{}\"", "a".repeat(MAX_HEADER_LEN - 15));
    assert_eq!(fits.len(), MAX_HEADER_LEN);
    assert_eq!(
        parse(&fits).scope.map(|s| s.len()),
        Some(MAX_HEADER_LEN - 15)
    );
}

#[test]
fn nul_and_control_bytes() {
    let c = parse("Bearer scope=\"a\0b\", error=x");
    assert_eq!(c.scope, None);
    assert_eq!(c.error, None);
    assert_eq!(parse("Bearer scope=a\0, error=x").scope, None);
    assert_eq!(parse("Bearer realm=r, scope=a\0").realm, some("r"));
    assert_eq!(parse("Bearer scope=\"a\r\nb\"").scope, None);
    assert_eq!(parse("Bearer scope=\"a\\\0\"").scope, None);
    assert_eq!(parse_bearer_challenge("\0Bearer scope=a"), None);
    assert_eq!(parse_bearer_challenge("Bearer\0"), None);
}

#[test]
fn unicode() {
    assert_eq!(parse("Bearer realm=\"café\"").realm, None);
    assert_eq!(parse("Bearer realm=\"a\\é\"").realm, None);
    assert_eq!(parse("Bearer scope=x, realm=naïve").realm, None);
    assert_eq!(parse("Bearer scope=x, realm=naïve").scope, some("x"));
    assert_eq!(parse_bearer_challenge("Béarer realm=x"), None);
    assert_eq!(parse_bearer_challenge("🔑 Bearer realm=x"), None);
    assert_eq!(parse_bearer_challenge(&"é".repeat(5000)), None);
}

fn assert_clean(challenge: &BearerChallenge) {
    for v in [
        &challenge.resource_metadata,
        &challenge.scope,
        &challenge.error,
        &challenge.error_description,
        &challenge.realm,
    ]
    .into_iter()
    .flatten()
    {
        assert!(
            v.bytes().all(|b| b == b'\t' || (0x20..=0x7e).contains(&b)),
            "garbage value {v:?}"
        );
    }
}

/// xorshift64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for _ in 0..20_000 {
        let len = (rng.next() % 64) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let text = String::from_utf8_lossy(&bytes);
        if let Some(c) = parse_bearer_challenge(&text) {
            assert_clean(&c);
        }
    }
}

#[test]
fn random_grammar_fragments_never_panic() {
    const PIECES: &[&str] = &[
        "Bearer",
        "bearer",
        "Basic",
        "DPoP",
        " ",
        "\t",
        ",",
        "=",
        "\"",
        "\\",
        "realm",
        "scope",
        "error",
        "resource_metadata",
        "error_description",
        "abc",
        "a/b+c",
        "==",
        "\0",
        "é",
        "\r\n",
        "\"x y\"",
        "\\\"",
        "https://a.example/.well-known/x",
        "~",
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let n = (rng.next() % 16) as usize;
        let text: String = (0..n)
            .map(|_| PIECES[(rng.next() % PIECES.len() as u64) as usize])
            .collect();
        if let Some(c) = parse_bearer_challenge(&text) {
            assert_clean(&c);
        }
    }
}
