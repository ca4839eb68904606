//! One module per command. Each takes a [`Client`] (generic over the HTTP transport, so the
//! unit tests drive them with a fake) and returns an [`Output`] or a [`CliError`].

pub mod connect;
pub mod doctor;
mod doctor_checks;
pub mod login;
pub mod manage;

use crate::api::Client;
use crate::api::transport::Transport;
use crate::api::types::Connection;
use crate::error::Result;
use crate::resolve::resolve;

/// The connection `wanted` names (label or id), looked up in the Worker's list.
pub fn find<T: Transport>(client: &Client<T>, wanted: &str) -> Result<Connection> {
    let connections = client.list()?;
    resolve(&connections, wanted).cloned()
}

#[cfg(test)]
mod tests;
