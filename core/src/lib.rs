//! Bindify's core. Nothing here imports the `worker` crate: the Worker and the CLI are thin
//! adapters around these modules, and `cargo test` exercises them natively.
pub mod envelope;
pub mod secret;
pub mod upstream;
pub mod wellknown;
pub mod www_authenticate;
