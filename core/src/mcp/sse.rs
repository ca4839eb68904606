//! Server-Sent Events framing: an incremental parser and a serializer.
//!
//! Parsing follows WHATWG HTML §9.2.6 "Interpreting an event stream":
//!
//! - the stream is UTF-8; one leading U+FEFF BOM is dropped and invalid sequences become U+FFFD
//!   (§9.2.6 "decoded using UTF-8 decode");
//! - lines end with CRLF, LF or CR, and a CRLF split across two chunks is still one line end;
//! - a blank line dispatches the event; a line starting with `:` is a comment; `field:value`
//!   drops one space after the colon; a line without a colon is a field with an empty value;
//! - `data` lines are joined with LF; `event` sets the type (none means `message`); `id` is
//!   ignored when it contains NUL; `retry` is used only when it is all ASCII digits; other
//!   fields are ignored;
//! - a block with no `data` line dispatches nothing, but its `id` still becomes the last event
//!   ID ([`SseParser::last_event_id`]), which is what a reconnect sends as `Last-Event-ID`;
//! - at the end of the stream an event missing its blank line is discarded, not dispatched.
//!
//! Chunks may split the stream anywhere, even inside a UTF-8 sequence: lines are only decoded
//! once complete, and CR/LF never occur inside a multi-byte UTF-8 sequence.
//!
//! # Limits
//!
//! The stream comes from an untrusted upstream, so memory is bounded: a line longer than
//! [`MAX_LINE_BYTES`] or an event whose data exceeds [`MAX_EVENT_BYTES`] yields one
//! [`SseItem::Overflow`]. The parser then drops that whole event (everything up to the next
//! blank line, including any `id`, so the last event ID does not move) and carries on with the
//! next event. A relay that cannot tell its client an event was lost should end the stream when
//! it sees `Overflow`. Both limits are as large as the biggest single-line JSON-RPC message the
//! proxy relays, since MCP servers put each message on one `data:` line.
//!
//! # Serializing
//!
//! [`SseEvent::to_bytes`] and [`comment`] write the same grammar back; data containing CR, LF
//! or CRLF is written as several `data:` lines, so no value can break the framing.

use std::fmt::Write as _;

#[cfg(test)]
mod tests;

/// Longest line (of any field, comment or data) the parser buffers, in bytes, line end
/// excluded. A single `data:` line holds a whole JSON-RPC message, so this matches
/// [`MAX_EVENT_BYTES`].
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// Largest `data` of one event (all its `data:` lines, joined with LF), in bytes.
pub const MAX_EVENT_BYTES: usize = 16 << 20;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched event (WHATWG HTML §9.2.6 "dispatch the event").
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `id` field given in this event's own block, if any. `Some("")` resets the last event
    /// ID. The spec's last event ID carries over from earlier events; it is
    /// [`SseParser::last_event_id`], not this field.
    pub id: Option<String>,
    /// The event type; `None` means the default type, `message`.
    pub event: Option<String>,
    /// The data lines joined with LF (the final LF removed).
    pub data: String,
    /// The `retry` field (reconnection time in milliseconds) given in this event's block.
    pub retry: Option<u64>,
}

/// What the parser found in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseItem {
    /// A dispatched event.
    Event(SseEvent),
    /// A comment line, without its leading `:` and one following space. Carries no data, but
    /// shows the stream is alive (keepalives); a relay may drop it.
    Comment(String),
    /// A line over the line limit or an event over the event limit: that event was dropped.
    Overflow,
}

/// Incremental SSE parser: feed byte chunks with [`push`](Self::push), end the stream with
/// [`finish`](Self::finish).
#[derive(Debug)]
pub struct SseParser {
    /// Bytes of the current, unterminated line.
    line: Vec<u8>,
    /// The previous chunk ended with CR: an LF at the start of the next one belongs to it.
    after_cr: bool,
    /// No line has been completed yet, so a BOM may still be at the start of `line`.
    at_stream_start: bool,
    /// Dropping the rest of an over-limit event, up to the next blank line.
    discarding: bool,
    /// While discarding: the current line has at least one byte (so it is not blank).
    discarded_line_has_bytes: bool,
    /// Data buffer: each `data` value followed by LF.
    data: String,
    /// Event type buffer.
    event_type: String,
    /// `id` given in the current block.
    block_id: Option<String>,
    /// `retry` given in the current block.
    block_retry: Option<u64>,
    /// The last event ID string, updated at each blank line.
    last_event_id: String,
    /// The latest valid `retry` value, in milliseconds.
    reconnection_time: Option<u64>,
    max_line: usize,
    max_event: usize,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new()
    }
}

/// Which field a line sets.
enum Field {
    Event,
    Data,
    Id,
    Retry,
    Other,
}

impl SseParser {
    /// A parser with the default limits [`MAX_LINE_BYTES`] and [`MAX_EVENT_BYTES`].
    pub fn new() -> Self {
        Self::with_limits(MAX_LINE_BYTES, MAX_EVENT_BYTES)
    }

    /// A parser with custom limits, in bytes (see the module docs).
    pub fn with_limits(max_line_bytes: usize, max_event_bytes: usize) -> Self {
        Self {
            line: Vec::new(),
            after_cr: false,
            at_stream_start: true,
            discarding: false,
            discarded_line_has_bytes: false,
            data: String::new(),
            event_type: String::new(),
            block_id: None,
            block_retry: None,
            last_event_id: String::new(),
            reconnection_time: None,
            max_line: max_line_bytes,
            max_event: max_event_bytes,
        }
    }

    /// The last event ID (WHATWG HTML §9.2.6): the `id` of the latest completed block that had
    /// one, whether or not that block dispatched an event. `None` when there is none or an
    /// empty `id` reset it; a reconnect then sends no `Last-Event-ID`.
    pub fn last_event_id(&self) -> Option<&str> {
        if self.last_event_id.is_empty() {
            None
        } else {
            Some(&self.last_event_id)
        }
    }

    /// The latest valid `retry` value seen, in milliseconds (the reconnection time).
    pub fn reconnection_time(&self) -> Option<u64> {
        self.reconnection_time
    }

    /// Parses the next chunk of the stream and returns what it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseItem> {
        let mut out = Vec::new();
        let mut rest = chunk;
        while !rest.is_empty() {
            if self.after_cr {
                self.after_cr = false;
                if let Some(after_lf) = rest.strip_prefix(b"\n") {
                    rest = after_lf;
                    continue;
                }
            }
            let end = rest.iter().position(|&b| b == b'\n' || b == b'\r');
            let Some((head, tail)) = end.and_then(|i| rest.split_at_checked(i)) else {
                self.append(rest, &mut out);
                break;
            };
            self.append(head, &mut out);
            let Some((&terminator, after)) = tail.split_first() else {
                break;
            };
            self.after_cr = terminator == b'\r';
            rest = after;
            self.end_line(&mut out);
        }
        out
    }

    /// Ends the stream. An unterminated last line is read as a line (so a trailing comment is
    /// still reported), then the pending event, which never got its blank line, is discarded as
    /// the spec requires. The parser is then ready for a new stream (after a reconnect); the
    /// last event ID and reconnection time are kept.
    pub fn finish(&mut self) -> Vec<SseItem> {
        let mut out = Vec::new();
        if !self.discarding && !self.line.is_empty() {
            self.end_line(&mut out);
        }
        self.line = Vec::new();
        self.after_cr = false;
        self.at_stream_start = true;
        self.discarding = false;
        self.discarded_line_has_bytes = false;
        self.reset_event();
        out
    }

    /// Adds bytes of the current line, watching the line limit.
    fn append(&mut self, bytes: &[u8], out: &mut Vec<SseItem>) {
        if bytes.is_empty() {
            return;
        }
        if self.discarding {
            self.discarded_line_has_bytes = true;
            return;
        }
        if self.line.len().saturating_add(bytes.len()) > self.max_line {
            self.overflow(out);
            self.discarded_line_has_bytes = true;
            return;
        }
        self.line.extend_from_slice(bytes);
    }

    /// Drops the current line and event and discards up to the next blank line.
    fn overflow(&mut self, out: &mut Vec<SseItem>) {
        out.push(SseItem::Overflow);
        self.line = Vec::new();
        self.at_stream_start = false;
        self.discarding = true;
        self.discarded_line_has_bytes = false;
        self.reset_event();
    }

    fn reset_event(&mut self) {
        self.data = String::new();
        self.event_type.clear();
        self.block_id = None;
        self.block_retry = None;
    }

    /// A line end was reached.
    fn end_line(&mut self, out: &mut Vec<SseItem>) {
        if self.discarding {
            if !self.discarded_line_has_bytes {
                self.discarding = false;
            }
            self.discarded_line_has_bytes = false;
            return;
        }
        let mut bytes = std::mem::take(&mut self.line);
        if self.at_stream_start {
            self.at_stream_start = false;
            if bytes.starts_with(BOM) {
                bytes.drain(..BOM.len());
            }
        }
        self.process_line(bytes, out);
    }

    /// Interprets one complete line (§9.2.6 "process the field").
    fn process_line(&mut self, bytes: Vec<u8>, out: &mut Vec<SseItem>) {
        let line = match String::from_utf8(bytes) {
            Ok(line) => line,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if let Some(comment) = line.strip_prefix(':') {
            let text = comment.strip_prefix(' ').unwrap_or(comment);
            out.push(SseItem::Comment(text.to_owned()));
            return;
        }
        let (name, value_start) = match line.find(':') {
            Some(colon) => {
                let after = colon.saturating_add(1);
                let value_start = if line.as_bytes().get(after) == Some(&b' ') {
                    after.saturating_add(1)
                } else {
                    after
                };
                (line.get(..colon).unwrap_or_default(), value_start)
            }
            None => (line.as_str(), line.len()),
        };
        let field = match name {
            "event" => Field::Event,
            "data" => Field::Data,
            "id" => Field::Id,
            "retry" => Field::Retry,
            _ => Field::Other,
        };
        let value = line.get(value_start..).unwrap_or_default();
        match field {
            Field::Event => value.clone_into(&mut self.event_type),
            Field::Id => {
                if !value.contains('\0') {
                    self.block_id = Some(value.to_owned());
                }
            }
            Field::Retry => {
                if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
                    // All digits, so parsing fails only on overflow: ignored like other junk.
                    if let Ok(ms) = value.parse::<u64>() {
                        self.block_retry = Some(ms);
                        self.reconnection_time = Some(ms);
                    }
                }
            }
            Field::Data => {
                let grown = self
                    .data
                    .len()
                    .saturating_add(value.len())
                    .saturating_add(1);
                if grown > self.max_event {
                    // The line is already over: discard from the next line on.
                    self.overflow(out);
                    return;
                }
                if self.data.is_empty() && line.is_char_boundary(value_start) {
                    // The first data line usually is the whole message: reuse its buffer.
                    let mut data = line;
                    data.drain(..value_start);
                    self.data = data;
                } else {
                    self.data.push_str(value);
                }
                self.data.push('\n');
            }
            Field::Other => {}
        }
    }

    /// A blank line: dispatch the pending event (§9.2.6 "dispatch the event").
    fn dispatch(&mut self, out: &mut Vec<SseItem>) {
        let id = self.block_id.take();
        if let Some(id) = &id {
            self.last_event_id.clone_from(id);
        }
        if self.data.is_empty() {
            self.reset_event();
            return;
        }
        let mut data = std::mem::take(&mut self.data);
        if data.ends_with('\n') {
            data.pop();
        }
        let event_type = std::mem::take(&mut self.event_type);
        out.push(SseItem::Event(SseEvent {
            id,
            event: (!event_type.is_empty()).then_some(event_type),
            data,
            retry: self.block_retry.take(),
        }));
    }
}

impl SseEvent {
    /// A default-type (`message`) event carrying `data`.
    pub fn message(data: impl Into<String>) -> Self {
        Self {
            data: data.into(),
            ..Self::default()
        }
    }

    /// The event in wire form: `id:`, `event:`, `retry:`, one `data:` line per line of data
    /// (CR, LF and CRLF all split lines), then a blank line.
    ///
    /// At least one `data:` line is always written, so even an event with empty data is
    /// dispatched by the receiver (a block without `data` would not be). CR and LF are removed
    /// from `id` and `event`, which are single-line fields; an empty `event` is omitted (it
    /// means `message`). Parsing the output gives back this event whenever `data` has no CR.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(self.data.len().saturating_add(64));
        if let Some(id) = &self.id {
            write_field(&mut out, "id", &single_line(id));
        }
        if let Some(event) = self.event.as_deref().filter(|e| !e.is_empty()) {
            write_field(&mut out, "event", &single_line(event));
        }
        if let Some(retry) = self.retry {
            // Writing into a String cannot fail.
            let _ = writeln!(out, "retry: {retry}");
        }
        for line in lines(&self.data) {
            write_field(&mut out, "data", line);
        }
        out.push('\n');
        out.into_bytes()
    }
}

/// A comment block, e.g. `comment("keepalive")` is `: keepalive\n\n` (WHATWG HTML §9.2.6: a line
/// starting with a colon is ignored by the receiver). Each line of `text` becomes its own comment
/// line, so newlines in `text` cannot inject fields or events. The trailing blank line makes
/// intermediaries flush it; it dispatches nothing when written between events.
pub fn comment(text: &str) -> Vec<u8> {
    let mut out = String::with_capacity(text.len().saturating_add(4));
    for line in lines(text) {
        write_field(&mut out, "", line);
    }
    out.push('\n');
    out.into_bytes()
}

/// `name:` then, for a non-empty value, one space and the value, then LF. The space is always
/// written before a non-empty value, so a value starting with a space survives parsing.
fn write_field(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push(':');
    if !value.is_empty() {
        out.push(' ');
        out.push_str(value);
    }
    out.push('\n');
}

/// Splits on CRLF, LF and CR, the SSE line ends. Always yields at least one (maybe empty) line.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split("\r\n").flat_map(|l| l.split(['\r', '\n']))
}

/// `value` without CR and LF.
fn single_line(value: &str) -> std::borrow::Cow<'_, str> {
    if value.contains(['\r', '\n']) {
        std::borrow::Cow::Owned(value.replace(['\r', '\n'], ""))
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}
