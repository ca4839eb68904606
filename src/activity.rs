//! Counting the uses of a connection's URL without slowing them: each request to
//! `/s/<secret>/…` that names a connection is counted in this isolate's
//! `bindify_core::lifecycle::activity::pending::Pending`, after its response is made; a use while
//! no delivery is scheduled schedules one, `DELIVER_AFTER_MS` later, in the request's
//! `wait_until` (the runtime keeps the isolate for it after the response has gone). The token
//! call with which a warm isolate renews its grant in the background (`crate::grants`) takes the
//! uses gathered so far along; the scheduled delivery takes the rest. Nothing is written to KV;
//! the connection's object keeps the counts. What counts, and what a crash can lose, is the
//! core's to say (`bindify_core::lifecycle::activity`).

use std::cell::RefCell;
use std::time::Duration;

use bindify_core::lifecycle::activity::pending::{DELIVER_AFTER_MS, Pending};
use bindify_core::lifecycle::activity::{Batch, Place};
use worker::wasm_bindgen::JsValue;
use worker::{Context, Delay, Env, Request, Response};

use crate::{clock, connection_client};

thread_local! {
    /// This isolate's uses not yet delivered, by connection id.
    static PENDING: RefCell<Pending> = RefCell::new(Pending::default());
}

/// One request to a connection's URL: where it came in, and, once its secret is resolved,
/// which connection it is for.
pub struct Visit {
    place: Option<Place>,
    connection: RefCell<Option<String>>,
}

impl Visit {
    /// The request's place from `request.cf` (`colo`, `country`), read field by field: a
    /// runtime without them (or with only one) gives what it has.
    pub fn of(req: &Request) -> Visit {
        let cf = worker::js_sys::Reflect::get(req.inner(), &JsValue::from_str("cf")).ok();
        let field = |name: &str| {
            cf.as_ref()
                .filter(|cf| cf.is_object())
                .and_then(|cf| worker::js_sys::Reflect::get(cf, &JsValue::from_str(name)).ok())
                .and_then(|value| value.as_string())
        };
        Visit {
            place: Place::reported(field("colo"), field("country")),
            connection: RefCell::new(None),
        }
    }

    /// The request's secret named connection `id`.
    pub fn found(&self, id: &str) {
        self.connection.replace(Some(id.to_owned()));
    }

    /// Counts the request with the status it was answered with, and schedules the delivery
    /// if none is pending. A request whose secret named no connection is not counted.
    pub fn answered(self, env: &Env, ctx: &Context, response: &Response) {
        let Some(id) = self.connection.into_inner() else {
            return;
        };
        let error = response.status_code() >= 400;
        let schedule = PENDING.with(|pending| {
            pending
                .borrow_mut()
                .note(&id, clock::now(), self.place.as_ref(), error)
        });
        if schedule {
            let env = env.clone();
            ctx.wait_until(async move {
                Delay::from(Duration::from_millis(DELIVER_AFTER_MS)).await;
                deliver(&env, &id).await;
            });
        }
    }
}

/// Connection `id`'s pending uses, taken along by the token call with which a warm isolate
/// renews the grant it holds (`crate::grants`); the delivery scheduled stays.
pub fn take(id: &str) -> Option<Batch> {
    PENDING.with(|pending| pending.borrow_mut().take(id))
}

/// Delivers connection `id`'s pending uses to its object, if any are waiting. A failed
/// delivery loses them (logged); the next use starts a new batch.
async fn deliver(env: &Env, id: &str) {
    let Some(batch) = PENDING.with(|pending| pending.borrow_mut().due(id)) else {
        return;
    };
    if let Err(e) = connection_client::uses(env, id, &batch).await {
        worker::console_error!(
            "connection {id}: {} uses not recorded: {e}",
            batch.requests()
        );
    }
}
