//! The `Throttle` Durable Object: one for the whole Worker, counting wrong admin tokens in its
//! memory (no storage writes, no KV writes). The decisions are `bindify_core::throttle`'s.

use std::cell::RefCell;

use bindify_core::throttle::{self, Verdict};
use worker::{DurableObject, Env, Method, Request, Response, Result, State, durable_object};

use crate::{clock, respond};

/// The client's bucket (see `bindify_core::throttle::client_bucket`) on `/wrong-token`.
pub const BUCKET_HEADER: &str = "x-bindify-client-bucket";

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

    async fn fetch(&self, req: Request) -> Result<Response> {
        let bucket = req.headers().get(BUCKET_HEADER)?;
        match (req.method(), req.path().as_str(), bucket) {
            (Method::Post, "/wrong-token", Some(bucket)) => {
                let verdict = self.counts.borrow_mut().wrong_token(&bucket, clock::now());
                let wait = match verdict {
                    Verdict::Counted => None,
                    Verdict::Wait { seconds } => Some(seconds),
                };
                respond::json(200, &serde_json::json!({ "wait": wait }))
            }
            _ => respond::not_found(),
        }
    }
}
