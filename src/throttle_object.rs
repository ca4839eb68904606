//! The `Throttle` Durable Object: one for the whole Worker, counting wrong admin tokens in its
//! memory (no storage writes, no KV writes). The decisions are `bindify_core::admin::throttle`'s;
//! its call and replies are `bindify_core::lifecycle::object_protocol::throttle`'s.

use std::cell::RefCell;

use bindify_core::admin::throttle;
use bindify_core::lifecycle::object_protocol::throttle::{ThrottleCall, ThrottleReply};
use worker::{DurableObject, Env, Request, Response, Result, State, durable_object};

use crate::clock;
use crate::object_call::{self, Incoming};

#[durable_object]
pub struct Throttle {
    counts: RefCell<throttle::Throttle>,
}

impl DurableObject for Throttle {
    fn new(_state: State, _env: Env) -> Self {
        Self {
            counts: RefCell::new(throttle::Throttle::default()),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let incoming = Incoming::read(&mut req).await?;
        let reply = match incoming.received().map(|r| ThrottleCall::receive(&r)) {
            Some(Ok(ThrottleCall::WrongToken { bucket })) => self
                .counts
                .borrow_mut()
                .wrong_token(&bucket, clock::now())
                .into(),
            _ => ThrottleReply::BadCall,
        };
        object_call::reply(&reply.encode())
    }
}
