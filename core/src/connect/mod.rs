//! The owner connecting a service, in the browser or from the CLI.
//!
//! A connection starts in [`flow::begin`] (the connect page's form, or a preset from
//! [`presets`]) and ends in [`flow::complete`] at the OAuth callback, which creates the
//! connection and its permanent URL. [`cookies`] binds the OAuth `state` to the browser that
//! started the flow; [`cli_flow`] lets `bindify connect` hand the browser part to the owner's
//! browser; [`owner_client`] and [`api_key`] keep what the owner entered for servers without
//! dynamic registration or without OAuth.

pub mod api_key;
pub mod cli_flow;
pub mod cookies;
pub mod flow;
pub mod owner_client;
pub mod presets;
