//! The MCP traffic of a permanent URL, between the client and the upstream server.
//!
//! A request is admitted in [`proxy`] (its origin by [`origin`], its declared length, its body
//! by [`jsonrpc::inspect`]) before a token is ever attached. [`proxy_headers`] picks the header
//! fields that cross in each direction, and [`relay`] what of an answer may reach the client.
//! [`sse`] frames event streams; a legacy HTTP+SSE session keeps its event log in [`session`]
//! ([`legacy_sse`] has the transport's own messages), and [`upstream_session`] holds the rules
//! for when Bindify is itself the client of an upstream session (legacy servers and bridges).

pub mod jsonrpc;
pub mod legacy_sse;
pub mod origin;
pub mod proxy;
pub mod proxy_headers;
pub mod relay;
pub mod session;
pub mod sse;
pub mod upstream_session;
