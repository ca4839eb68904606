//! The grant a request sends upstream: from this isolate's memory when
//! `bindify_core::lifecycle::grant_cache` allows it, else from the connection's object. This file
//! holds the isolate's cache and makes the object calls; every decision (when to use the cache,
//! when to renew it in the background, what to forget) is the core's.

use std::cell::RefCell;
use std::future::Future;

use bindify_core::failure::{self, OwnFailure};
use bindify_core::lifecycle::activity::Batch;
use bindify_core::lifecycle::connection_service::Grant;
use bindify_core::lifecycle::grant_cache::{GrantCache, Lookup};
use bindify_core::lifecycle::object_protocol::connection::ConnectionReply;
use bindify_core::secret::SecretHash;
use worker::{Context, Env};

use crate::connection_client;
use crate::forward::{Failure, Target};

thread_local! {
    /// This isolate's grants, by connection id.
    static GRANTS: RefCell<GrantCache> = RefCell::new(GrantCache::default());
}

/// Where work that outlives the request runs.
#[derive(Clone, Copy)]
pub enum Background<'a> {
    /// The request's `wait_until`: the runtime keeps the invocation alive for it.
    Request(&'a Context),
    /// Inside a Durable Object, which outlives the request it serves while it holds streams.
    Object,
}

impl Background<'_> {
    fn run(self, work: impl Future<Output = ()> + 'static) {
        match self {
            Background::Request(ctx) => ctx.wait_until(work),
            Background::Object => worker::wasm_bindgen_futures::spawn_local(work),
        }
    }
}

/// How this request may use the isolate's memory: the revocation bound
/// (`REVOCATION_BOUND_SECONDS`) and where a background renewal runs.
#[derive(Clone, Copy)]
pub struct Warm<'a> {
    pub bound_ms: i64,
    pub background: Background<'a>,
}

/// A grant for a request to `target`.
pub async fn for_request(env: &Env, warm: Warm<'_>, target: Target<'_>) -> Result<Grant, Failure> {
    let now = crate::clock::now();
    let lookup = GRANTS.with(|grants| {
        grants
            .borrow_mut()
            .lookup(target.id, target.hash, now, warm.bound_ms)
    });
    match lookup {
        Lookup::Warm(grant) => Ok(grant),
        Lookup::WarmRevalidate(grant) => {
            let (env, id, hash, bound_ms) = (
                env.clone(),
                target.id.to_owned(),
                *target.hash,
                warm.bound_ms,
            );
            warm.background.run(async move {
                // The answer renews or drops the entry; a request already has its grant. The
                // uses this isolate counted ride along.
                let uses = crate::activity::take(&id);
                let _ = ask(&env, &id, &hash, None, bound_ms, uses).await;
            });
            Ok(grant)
        }
        Lookup::Ask(_) => ask(env, target.id, target.hash, None, warm.bound_ms, None).await,
    }
}

/// A grant after the upstream answered 401 to `refused`, whatever its kind (an access token, an
/// API key, no credential): the isolate's entry is dropped if it holds that same credential,
/// and the object is asked with the refused one (it renews at most as its limits allow).
pub async fn after_refusal(
    env: &Env,
    warm: Warm<'_>,
    target: Target<'_>,
    refused: &Grant,
) -> Result<Grant, Failure> {
    let credential = refused.credential_hash();
    GRANTS.with(|grants| grants.borrow_mut().forget_refused(target.id, &credential));
    ask(
        env,
        target.id,
        target.hash,
        Some(refused),
        warm.bound_ms,
        None,
    )
    .await
}

/// After the upstream answered `403 insufficient_scope` to `refused`: the isolate's entry is
/// dropped if it holds that credential, and the object is asked for its current grant. `Some`
/// only when that grant carries another credential (the owner authorized again since), which
/// is worth one more try; `None` when the object's grant is the refused one.
pub async fn after_scope_refusal(
    env: &Env,
    warm: Warm<'_>,
    target: Target<'_>,
    refused: &Grant,
) -> Result<Option<Grant>, Failure> {
    let credential = refused.credential_hash();
    GRANTS.with(|grants| grants.borrow_mut().forget_refused(target.id, &credential));
    let current = ask(env, target.id, target.hash, None, warm.bound_ms, None).await?;
    let same = bindify_core::secret::ct_eq_bytes(&current.credential_hash(), &credential);
    Ok((!same).then_some(current))
}

/// Asks the object for a token, and records its answer in the isolate's memory.
async fn ask(
    env: &Env,
    id: &str,
    hash: &SecretHash,
    refused: Option<&Grant>,
    bound_ms: i64,
    uses: Option<Batch>,
) -> Result<Grant, Failure> {
    let asked_at = crate::clock::now();
    let rejected = refused.map(|g| &g.access_token);
    let reply = connection_client::token(env, id, hash, rejected, uses).await;
    GRANTS.with(|grants| {
        let mut grants = grants.borrow_mut();
        match &reply {
            Ok(ConnectionReply::Token { grant }) => {
                grants.remember(id, hash, grant, asked_at, bound_ms)
            }
            Ok(ConnectionReply::NotFound) => grants.forget_secret(id, hash),
            Ok(_) => grants.forget(id),
            Err(_) => grants.revalidation_failed(id),
        }
    });
    let reply = reply.map_err(|own| Failure::Failed(own.into()))?;
    Err(match reply {
        ConnectionReply::Token { grant } => return Ok(grant),
        ConnectionReply::NotFound => return Err(Failure::Gone),
        ConnectionReply::NeedsReauth => failure::Failure::NeedsReauth,
        ConnectionReply::AuthServerUnavailable {
            authorization_server,
            retry_at,
        } => failure::Failure::AuthServerUnavailable {
            authorization_server,
            retry_at,
        },
        ConnectionReply::RefreshLimited { retry_at } => match refused {
            Some(grant) => crate::forward::refused(grant.upstream.clone(), grant, retry_at),
            None => failure::Failure::TokenRefused {
                upstream: String::new(),
                retry_at,
            },
        },
        ConnectionReply::Failed { failure: own } => failure::Failure::Own(own),
        _ => failure::Failure::Own(OwnFailure::Internal),
    }
    .into())
}
