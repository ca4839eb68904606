//! Parsing the `Bearer` challenge out of a `WWW-Authenticate` header value.
//!
//! Syntax is RFC 9110 §11.6.1 (with §11.2 `auth-param`, §5.6.2 `token`, §5.6.4
//! `quoted-string`):
//!
//! ```text
//! WWW-Authenticate = #challenge
//! challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//! auth-param       = token BWS "=" BWS ( token / quoted-string )
//! token68          = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//! ```
//!
//! The parameters kept are those of RFC 6750 §3 (`realm`, `scope`, `error`,
//! `error_description`) and RFC 9728 §5.1 (`resource_metadata`), which an MCP server sends on a
//! 401 to point at its protected resource metadata.
//!
//! The header comes from an untrusted upstream, so the parser is strict and bounded: input over
//! [`MAX_HEADER_LEN`] bytes is refused; it runs in linear time with no recursion; on the first
//! syntax error (unterminated quote, stray `=`, control character, non-ASCII byte) it stops and
//! keeps only the parameters parsed before the error. `obs-text` (bytes >= 0x80) inside quoted
//! strings is rejected rather than passed on, so every returned value is printable ASCII (plus
//! space and tab).

/// Header values longer than this many bytes are refused outright.
pub const MAX_HEADER_LEN: usize = 8 * 1024;

/// The parameters of a `Bearer` challenge (RFC 6750 §3, RFC 9728 §5.1). Unknown parameters are
/// ignored; for a parameter given twice the first occurrence wins.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BearerChallenge {
    /// URL of the protected resource metadata document (RFC 9728 §5.1).
    pub resource_metadata: Option<String>,
    /// Space-delimited scopes needed to access the resource (RFC 6750 §3).
    pub scope: Option<String>,
    /// Error code, e.g. `invalid_token` or `insufficient_scope` (RFC 6750 §3.1).
    pub error: Option<String>,
    /// Human-readable error text (RFC 6750 §3). Untrusted: do not render as HTML.
    pub error_description: Option<String>,
    /// Protection space (RFC 9110 §11.5, RFC 6750 §3).
    pub realm: Option<String>,
}

/// Finds the first `Bearer` challenge (scheme matched case-insensitively, RFC 9110 §11.1) in a
/// `WWW-Authenticate` value that may list several challenges, e.g.
/// `Basic realm="x", Bearer resource_metadata="https://…"`, and returns its parameters.
///
/// Returns `None` when there is no Bearer challenge, when the value is longer than
/// [`MAX_HEADER_LEN`], or when a syntax error occurs before the Bearer challenge starts. A
/// syntax error inside the Bearer challenge keeps the parameters parsed before it. A Bearer
/// challenge carrying a token68 instead of parameters yields an empty [`BearerChallenge`].
///
/// When a response has several `WWW-Authenticate` header lines, call this once per line (or on
/// the lines joined with `", "`, which RFC 9110 §5.3 makes equivalent).
#[must_use]
pub fn parse_bearer_challenge(header_value: &str) -> Option<BearerChallenge> {
    if header_value.len() > MAX_HEADER_LEN {
        return None;
    }
    let mut p = Parser {
        bytes: header_value.as_bytes(),
        pos: 0,
    };
    loop {
        p.skip_ws_and_commas();
        if p.at_end() {
            return None;
        }
        let scheme = p.token()?;
        // The scheme must be followed by whitespace, a comma or the end.
        if !matches!(p.peek(), None | Some(b' ' | b'\t' | b',')) {
            return None;
        }
        if scheme.eq_ignore_ascii_case(b"bearer") {
            let mut challenge = BearerChallenge::default();
            // Whatever the outcome, the first Bearer challenge is the answer.
            let _ = p.challenge_body(Some(&mut challenge));
            return Some(challenge);
        }
        match p.challenge_body(None) {
            Outcome::NextChallenge => {}
            Outcome::End | Outcome::Malformed => return None,
        }
    }
}

/// How a challenge's parameter list ended.
enum Outcome {
    /// The input ended.
    End,
    /// Another challenge starts at the current position.
    NextChallenge,
    /// A syntax error; parsing stops.
    Malformed,
}

/// A parameter value, as a range of the input.
enum Value {
    /// A `token`: the bytes as they are.
    Token { start: usize, end: usize },
    /// The inside of a `quoted-string` (without the quotes); `\` escapes still to be removed.
    Quoted { start: usize, end: usize },
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// `tchar` (RFC 9110 §5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// Characters of `token68` before the trailing `=` (RFC 9110 §11.2).
fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

/// `qdtext` without `obs-text` (RFC 9110 §5.6.4): HTAB, SP, and visible ASCII except `"` and `\`.
fn is_qdtext(b: u8) -> bool {
    matches!(b, b'\t' | b' ' | 0x21 | 0x23..=0x5B | 0x5D..=0x7E)
}

/// What may follow `\` in a `quoted-pair` without `obs-text`: HTAB, SP, VCHAR.
fn is_quoted_pair_char(b: u8) -> bool {
    matches!(b, b'\t' | b' ' | 0x21..=0x7E)
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn bump(&mut self) {
        self.pos = self.pos.saturating_add(1);
    }

    /// Skips OWS (SP / HTAB); returns whether anything was skipped.
    fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.bump();
        }
        self.pos > start
    }

    /// Skips OWS and empty list elements (RFC 9110 §5.6.1).
    fn skip_ws_and_commas(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.bump();
        }
    }

    /// `token`: one or more `tchar`. `None` (and nothing consumed) when empty.
    fn token(&mut self) -> Option<&'a [u8]> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.bump();
        }
        if self.pos == start {
            return None;
        }
        self.bytes.get(start..self.pos)
    }

    /// Consumes a `token68` when one stands alone here (followed by OWS and then a comma or the
    /// end); otherwise consumes nothing and returns false.
    fn try_token68(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_token68_char) {
            self.bump();
        }
        if self.pos == start {
            return false;
        }
        while self.peek() == Some(b'=') {
            self.bump();
        }
        let after = self.pos;
        self.skip_ws();
        if matches!(self.peek(), None | Some(b',')) {
            self.pos = after;
            true
        } else {
            self.pos = start;
            false
        }
    }

    /// `token / quoted-string`.
    fn value(&mut self) -> Option<Value> {
        if self.peek() != Some(b'"') {
            let start = self.pos;
            self.token()?;
            return Some(Value::Token {
                start,
                end: self.pos,
            });
        }
        self.bump();
        let start = self.pos;
        loop {
            match self.peek()? {
                b'"' => {
                    let end = self.pos;
                    self.bump();
                    return Some(Value::Quoted { start, end });
                }
                b'\\' => {
                    self.bump();
                    if !is_quoted_pair_char(self.peek()?) {
                        return None;
                    }
                    self.bump();
                }
                b if is_qdtext(b) => self.bump(),
                _ => return None,
            }
        }
    }

    /// `token BWS "=" BWS ( token / quoted-string )`, positioned at the name.
    fn auth_param(&mut self) -> Option<(&'a [u8], Value)> {
        let name = self.token()?;
        self.skip_ws();
        if self.peek() != Some(b'=') {
            return None;
        }
        self.bump();
        self.skip_ws();
        let value = self.value()?;
        // A value must end at OWS followed by a comma or the end of input; `a"b` or `naïve`
        // would otherwise yield a truncated value.
        if !self.at_element_end() {
            return None;
        }
        Some((name, value))
    }

    /// Whether only OWS stands between here and a comma or the end of input. Consumes nothing.
    fn at_element_end(&self) -> bool {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        matches!(
            rest.iter().find(|&&b| b != b' ' && b != b'\t'),
            None | Some(b',')
        )
    }

    /// Parses what follows an auth-scheme, recording parameters into `sink` when given.
    fn challenge_body(&mut self, mut sink: Option<&mut BearerChallenge>) -> Outcome {
        let had_ws = self.skip_ws();
        match self.peek() {
            None => return Outcome::End,
            Some(b',') => {}
            Some(_) if !had_ws => return Outcome::Malformed,
            Some(_) => {
                if !self.try_token68() {
                    let Some((name, value)) = self.auth_param() else {
                        return Outcome::Malformed;
                    };
                    self.record(sink.as_deref_mut(), name, &value);
                }
            }
        }
        loop {
            self.skip_ws();
            match self.peek() {
                None => return Outcome::End,
                Some(b',') => self.bump(),
                Some(_) => return Outcome::Malformed,
            }
            self.skip_ws_and_commas();
            if self.at_end() {
                return Outcome::End;
            }
            // `name =` continues this challenge; anything else starts the next one.
            let start = self.pos;
            if self.token().is_none() {
                return Outcome::Malformed;
            }
            self.skip_ws();
            let is_param = self.peek() == Some(b'=');
            self.pos = start;
            if !is_param {
                return Outcome::NextChallenge;
            }
            let Some((name, value)) = self.auth_param() else {
                return Outcome::Malformed;
            };
            self.record(sink.as_deref_mut(), name, &value);
        }
    }

    fn record(&self, sink: Option<&mut BearerChallenge>, name: &[u8], value: &Value) {
        let Some(challenge) = sink else { return };
        let slot = if name.eq_ignore_ascii_case(b"resource_metadata") {
            &mut challenge.resource_metadata
        } else if name.eq_ignore_ascii_case(b"scope") {
            &mut challenge.scope
        } else if name.eq_ignore_ascii_case(b"error") {
            &mut challenge.error
        } else if name.eq_ignore_ascii_case(b"error_description") {
            &mut challenge.error_description
        } else if name.eq_ignore_ascii_case(b"realm") {
            &mut challenge.realm
        } else {
            return;
        };
        if slot.is_none() {
            *slot = Some(self.value_text(value));
        }
    }

    /// The text of a validated value, with quoted-pair escapes removed. Only ASCII reaches here.
    fn value_text(&self, value: &Value) -> String {
        let (start, end, quoted) = match *value {
            Value::Token { start, end } => (start, end, false),
            Value::Quoted { start, end } => (start, end, true),
        };
        let raw = self.bytes.get(start..end).unwrap_or_default();
        let mut out = String::with_capacity(raw.len());
        let mut escaped = false;
        for &b in raw {
            if quoted && !escaped && b == b'\\' {
                escaped = true;
                continue;
            }
            escaped = false;
            out.push(char::from(b));
        }
        out
    }
}

#[cfg(test)]
mod tests;
