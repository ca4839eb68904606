//! A connection's life once it exists: its Durable Object, its tokens kept fresh, and what
//! the owner sees of its use.
//!
//! Every call from the Worker to a connection's object is an [`object_protocol`] message,
//! answered by [`connection_service::ConnectionService`]; a client request's token comes from
//! `ConnectionService::token`. A refresh starts in one of three places: the object's alarm
//! (`ConnectionService::on_alarm`, set by [`schedule::alarm_at`]), a request whose token is
//! unusable, or the cron's sweep ([`cron::plan`], for objects without the alarm they need).
//! Each goes through [`refresh::decide`] and [`refresh::refresh`], which renews the grant the
//! way its kind allows ([`renewal`]). A Worker isolate serves warm requests from
//! [`grant_cache`] within the revocation bound, and counts them into [`activity`].

pub mod activity;
pub mod connection_service;
pub mod cron;
pub mod grant_cache;
pub mod object_protocol;
pub mod refresh;
pub mod renewal;
pub mod schedule;
