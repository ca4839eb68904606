//! `GET /cli/<code>`: the browser side of `bindify connect`. It needs the owner's dashboard
//! session (without one, the sign-in form appears in place and comes back here), and the code
//! starts one flow, once.

use bindify_core::connect::cli_flow::{CliStatus, ConnectCode};
use bindify_core::connect::flow::{ConnectError, FlowExtras, Problem};
use bindify_core::oauth::upstream::validate_server_url;
use bindify_core::settings::Settings;
use worker::{Env, Request, Response, Result};

use super::connect::{begin_flow, redirect_or_problem};
use crate::admin::{self, PageAccess};
use crate::{cli_codes, respond};

fn invalid_code() -> Problem {
    Problem {
        status: 404,
        code: "cli_code_invalid",
        title: "This link has expired or was already used",
        detail: "Links from `bindify connect` work once, for ten minutes.".into(),
        next_step: "Run `bindify connect` again in your terminal.",
    }
}

pub async fn start(req: &Request, env: &Env, settings: &Settings, code: &str) -> Result<Response> {
    if let Err(e) = settings.keyring() {
        return respond::problem_page(&e.problem());
    }
    let access = admin::page_access(req, settings);
    if !matches!(access, PageAccess::Allowed { .. }) {
        return admin::page_refusal(&access, req);
    }
    let code = ConnectCode::new(code.to_owned());
    let (hash, server) = match cli_codes::start(env, &code).await {
        Ok(Some(started)) => started,
        Ok(None) => return respond::problem_page(&invalid_code()),
        Err(e) => return respond::problem_page(&ConnectError::Store(e).problem()),
    };
    let begun = match validate_server_url(&server, settings.upstream_policy()) {
        Ok(server) => {
            let extras = FlowExtras {
                reconnect_id: None,
                cli_code: Some(hash.clone()),
                reconnect_scopes: Vec::new(),
            };
            begin_flow(req, env, settings, &server, extras).await
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
