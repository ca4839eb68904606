//! Bindify as the OAuth client of an upstream's authorization server.
//!
//! Connecting starts in [`discovery::discover`]: from an MCP server's URL to its protected
//! resource metadata and its authorization server's metadata ([`wellknown`] lists where to
//! look). [`registration::register`] then gets a client id (a client registered by hand, a
//! client metadata document, or dynamic registration), and [`tokens`] makes every call to the
//! token endpoint: the code exchange, refresh, client credentials, identity assertions (signed
//! by [`jwt`], authenticated by [`client_auth`]) and revocation. [`upstream`] decides which
//! server URLs Bindify may reach at all; [`www_authenticate`] and [`step_up`] read what a
//! server says when it refuses a token.

pub mod client_auth;
pub mod discovery;
pub mod jwt;
pub mod registration;
pub mod step_up;
pub mod tokens;
pub mod upstream;
pub mod wellknown;
pub mod www_authenticate;
