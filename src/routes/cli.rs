//! `GET /cli/<code>`: the browser side of `bindify connect`. The one-time code authorizes
//! starting this one flow; no dashboard session is needed.

use bindify_core::cli_flow::CliStatus;
use bindify_core::flow::{ConnectError, FlowExtras, Problem};
use bindify_core::upstream::validate_server_url;
use worker::{Env, Request, Response, Result};

use super::connect::{begin_flow, redirect_or_problem};
use crate::{cli_codes, clock, config, respond};

fn invalid_code() -> Problem {
    Problem {
        status: 404,
        code: "cli_code_invalid",
        title: "This link has expired or was already used",
        detail: "Links from `bindify connect` work once, for ten minutes.".into(),
        next_step: "Run `bindify connect` again in your terminal.",
    }
}

pub async fn start(req: &Request, env: &Env, code: &str) -> Result<Response> {
    let keyring = match config::keyring(env) {
        Ok(k) => k,
        Err(e) => return respond::problem_page(&e.problem()),
    };
    let (hash, mut record) = match cli_codes::load(env, &keyring, code).await {
        Ok(Some(found)) if found.1.can_start(clock::now()) => found,
        Ok(_) => return respond::problem_page(&invalid_code()),
        Err(e) => return respond::problem_page(&ConnectError::Store(e).problem()),
    };
    record.status = CliStatus::Started;
    if let Err(e) = cli_codes::save(env, &keyring, &hash, &record).await {
        return respond::problem_page(&ConnectError::Store(e).problem());
    }
    let begun = match validate_server_url(&record.server, config::upstream_policy(env)) {
        Ok(server) => {
            let extras = FlowExtras {
                reconnect_id: None,
                cli_code: Some(hash.clone()),
            };
            begin_flow(req, env, &server, extras).await
        }
        Err(e) => Err(e.into()),
    };
    if let Err(error) = &begun {
        let problem = error.problem();
        let status = CliStatus::Failed {
            error: problem.code.to_owned(),
            message: problem.message(),
        };
        cli_codes::finish(env, &hash, status).await;
    }
    redirect_or_problem(begun)
}
