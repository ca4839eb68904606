//! A client of the management API (docs/api.md). Every non-success answer is turned into a
//! [`CliError`] here, in one place, with a message that says what to do next.

#[cfg(test)]
pub mod fake;
pub mod transport;
pub mod types;

use serde::de::DeserializeOwned;
use serde_json::json;

use crate::error::{CliError, Result};
use crate::fixes;
use crate::worker_url::{WorkerUrl, segment};
use bindify_core::admin::AdminToken;
use bindify_core::connect::cli_flow::ConnectCode;
use transport::{Method, Response, Transport};
use types::{
    ApiErrorBody, ConnectStarted, ConnectStatus, Connected, Connection, ConnectionList,
    EnteredClient, Health, PermanentUrls, Reconnect, Revoked,
};

const HEALTH: &str = "/api/health";
/// The Worker's refusals while its `ADMIN_TOKEN` is missing or too short (docs/api.md).
const ADMIN_TOKEN_MISSING: &str = "admin_token_missing";
const ADMIN_TOKEN_WEAK: &str = "admin_token_weak";

/// How the Worker answered `GET /api/health`.
#[derive(Debug)]
pub enum HealthAnswer {
    Answered(Health),
    /// 503 `admin_token_missing`: no `ADMIN_TOKEN`, so the Worker refuses all management.
    AdminTokenMissing,
    /// 503 `admin_token_weak`: an `ADMIN_TOKEN` under 32 bytes, refused the same way.
    AdminTokenWeak,
}

pub struct Client<T> {
    transport: T,
    worker: WorkerUrl,
    token: Option<AdminToken>,
    /// Where the token came from, e.g. "BINDIFY_ADMIN_TOKEN", for the 401 message.
    token_origin: String,
}

impl<T: Transport> Client<T> {
    pub fn new(
        transport: T,
        worker: WorkerUrl,
        token: Option<AdminToken>,
        token_origin: String,
    ) -> Self {
        Client {
            transport,
            worker,
            token,
            token_origin,
        }
    }

    pub fn worker(&self) -> &WorkerUrl {
        &self.worker
    }

    #[cfg(test)]
    pub fn transport(&self) -> &T {
        &self.transport
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// `GET /` without credentials: the HTTP status, if the Worker answers at all.
    pub fn root(&self) -> Result<u16> {
        Ok(self.send(Method::Get, "/", None, false)?.status)
    }

    pub fn health(&self) -> Result<Health> {
        self.call(Method::Get, HEALTH, None, |_| self.no_health())
    }

    /// `GET /api/health` for `bindify doctor`: a Worker that refuses management until its
    /// `ADMIN_TOKEN` is fixed is an answer to report, not an error.
    pub fn health_answer(&self) -> Result<HealthAnswer> {
        let response = self.send(Method::Get, HEALTH, None, true)?;
        if response.status == 503 {
            let body: ApiErrorBody = serde_json::from_str(&response.body).unwrap_or_default();
            match body.error.as_str() {
                ADMIN_TOKEN_MISSING => return Ok(HealthAnswer::AdminTokenMissing),
                ADMIN_TOKEN_WEAK => return Ok(HealthAnswer::AdminTokenWeak),
                _ => {}
            }
        }
        self.interpret(Method::Get, HEALTH, &response, |status, _| {
            (status == 404).then(|| self.no_health())
        })
        .map(HealthAnswer::Answered)
    }

    fn no_health(&self) -> CliError {
        CliError::Api(format!(
            "{} has no management API (GET /api/health answered 404): is it a Bindify \
             Worker? Deploy a current version of Bindify there, or check the URL with \
             `bindify login --worker <url>`",
            self.worker
        ))
    }

    pub fn list(&self) -> Result<Vec<Connection>> {
        let list: ConnectionList = self.call(Method::Get, "/api/connections", None, |_| {
            CliError::Api(format!(
                "{} has no management API (GET /api/connections answered 404): deploy a \
                 current version of Bindify",
                self.worker
            ))
        })?;
        Ok(list.connections)
    }

    pub fn get(&self, id: &str) -> Result<Connection> {
        self.call(Method::Get, &connection_path(id, ""), None, |_| gone(id))
    }

    pub fn revoke(&self, id: &str) -> Result<Revoked> {
        self.call(Method::Delete, &connection_path(id, ""), None, |_| gone(id))
    }

    pub fn rotate(&self, id: &str) -> Result<PermanentUrls> {
        self.call(Method::Post, &connection_path(id, "/rotate"), None, |_| {
            gone(id)
        })
    }

    pub fn reconnect(&self, id: &str) -> Result<Reconnect> {
        self.call(
            Method::Post,
            &connection_path(id, "/reconnect"),
            None,
            |_| gone(id),
        )
    }

    /// `POST /api/connect`: starts a CLI connect flow for a preset or an MCP server URL. A 400
    /// is about the server argument: `on_400` words it.
    pub fn connect(
        &self,
        server: &str,
        on_400: impl FnOnce(&ApiErrorBody) -> CliError,
    ) -> Result<ConnectStarted> {
        self.call_with(
            Method::Post,
            "/api/connect",
            Some(json!({ "server": server })),
            |status, body| match status {
                400 => Some(on_400(body)),
                404 => Some(CliError::Api(format!(
                    "{} cannot start a connection from the command line (POST /api/connect \
                     answered 404): deploy a current version of Bindify",
                    self.worker
                ))),
                _ => None,
            },
        )
    }

    /// `PUT /api/clients`: stores a client the owner registered at `server`'s authorization
    /// server. A 400 is about the server or the client: `on_400` words it.
    pub fn enter_client(
        &self,
        server: &str,
        client_id: &str,
        client_secret: Option<&str>,
        on_400: impl FnOnce(&ApiErrorBody) -> CliError,
    ) -> Result<EnteredClient> {
        self.call_with(
            Method::Put,
            "/api/clients",
            Some(
                json!({ "server": server, "client_id": client_id, "client_secret": client_secret }),
            ),
            |status, body| match status {
                400 | 502 => Some(on_400(body)),
                404 => Some(self.too_old("PUT /api/clients")),
                _ => None,
            },
        )
    }

    /// `POST /api/connections`: a connection made without a browser (`body` names its kind and
    /// credential). A 400 or 502 is about the server or the credential: `on_error` words it.
    pub fn create_connection(
        &self,
        body: serde_json::Value,
        on_error: impl FnOnce(&ApiErrorBody) -> CliError,
    ) -> Result<Connected> {
        self.call_with(
            Method::Post,
            "/api/connections",
            Some(body),
            |status, error| match status {
                400 | 502 => Some(on_error(error)),
                404 | 405 => Some(self.too_old("POST /api/connections")),
                _ => None,
            },
        )
    }

    fn too_old(&self, what: &str) -> CliError {
        CliError::Api(format!(
            "{} does not know {what}: deploy a current version of Bindify",
            self.worker
        ))
    }

    /// `GET /api/connect/<code>`. 404: the code expired, or its result was already taken.
    pub fn connect_status(&self, code: &ConnectCode) -> Result<ConnectStatus> {
        let path = format!("/api/connect/{}", segment(code.expose()));
        self.call(Method::Get, &path, None, |_| {
            CliError::FlowFailed(
                "the connect code expired or its result was already collected: run \
                 `bindify connect` again"
                    .into(),
            )
        })
    }

    fn send(
        &self,
        method: Method,
        path: &str,
        json: Option<&serde_json::Value>,
        authenticated: bool,
    ) -> Result<Response> {
        let token = if authenticated {
            self.token.as_ref()
        } else {
            None
        };
        self.transport
            .send(method, &self.worker.join(path), token, json)
            .map_err(|e| CliError::Unreachable {
                url: self.worker.to_string(),
                reason: e.0,
            })
    }

    /// One authenticated request; a 2xx body parsed as `R`, anything else an error. `on_404`
    /// says what a 404 means for this request.
    fn call<R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        json: Option<serde_json::Value>,
        on_404: impl FnOnce(&ApiErrorBody) -> CliError,
    ) -> Result<R> {
        self.call_with(method, path, json, |status, body| {
            (status == 404).then(|| on_404(body))
        })
    }

    /// Like [`Client::call`], with `special` deciding what any non-success status means
    /// (`None`: the usual mapping).
    fn call_with<R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        json: Option<serde_json::Value>,
        special: impl FnOnce(u16, &ApiErrorBody) -> Option<CliError>,
    ) -> Result<R> {
        let response = self.send(method, path, json.as_ref(), true)?;
        self.interpret(method, path, &response, special)
    }

    /// An answer to `method path`: a 2xx body parsed as `R`, anything else an error.
    fn interpret<R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        response: &Response,
        special: impl FnOnce(u16, &ApiErrorBody) -> Option<CliError>,
    ) -> Result<R> {
        if (200..300).contains(&response.status) {
            return serde_json::from_str(&response.body).map_err(|e| {
                CliError::Api(format!(
                    "{} answered {} {path} with something the CLI does not understand ({e}): \
                     is the Worker's version current? `bindify doctor` shows it",
                    self.worker,
                    method.as_str()
                ))
            });
        }
        let body: ApiErrorBody = serde_json::from_str(&response.body).unwrap_or_default();
        if let Some(error) = special(response.status, &body) {
            return Err(error);
        }
        Err(self.failure(method, path, response, &body))
    }

    /// Every non-success answer except 404, mapped once.
    fn failure(
        &self,
        method: Method,
        path: &str,
        response: &Response,
        body: &ApiErrorBody,
    ) -> CliError {
        let detail = if body.message.is_empty() {
            String::new()
        } else {
            format!(": {}", body.message)
        };
        match (response.status, body.error.as_str()) {
            (401, _) if self.token.is_none() => CliError::Unauthorized(format!(
                "no admin token: {} wants one. Run `bindify login --worker {}` (or pass \
                 --token, or set BINDIFY_ADMIN_TOKEN) with the Worker's ADMIN_TOKEN secret",
                self.worker, self.worker
            )),
            (401, _) => CliError::Unauthorized(format!(
                "the admin token is wrong: {} refused the token from {} (401). Run \
                 `bindify login --worker {}` with the Worker's ADMIN_TOKEN secret",
                self.worker, self.token_origin, self.worker
            )),
            (429, _) => CliError::Unauthorized(format!(
                "too many wrong admin tokens were sent from this address: try again in {} s, \
                 with the Worker's ADMIN_TOKEN secret",
                response.retry_after.as_deref().unwrap_or("a few")
            )),
            (503, ADMIN_TOKEN_MISSING) => CliError::Api(format!(
                "{} has no ADMIN_TOKEN secret, so it refuses management: run `{}` in your \
                 Bindify checkout (it sets a random one and prints it once), then \
                 `bindify login --worker {}`",
                self.worker,
                fixes::SET_MISSING_SECRETS,
                self.worker
            )),
            (503, ADMIN_TOKEN_WEAK) => CliError::Api(format!(
                "{} has an ADMIN_TOKEN shorter than 32 bytes, so it refuses management: run \
                 `{}` in your Bindify checkout, then `bindify login --worker {}`",
                self.worker,
                fixes::REPLACE_ADMIN_TOKEN,
                self.worker
            )),
            (400, _) => CliError::Usage(format!(
                "the Worker refused the request ({}){detail}",
                code_or_status(response.status, body)
            )),
            (300..=399, _) => CliError::Api(format!(
                "{} answered {} {path} with a redirect to {}: pass the address it redirects \
                 to with `bindify login --worker <url>`",
                self.worker,
                method.as_str(),
                response.location.as_deref().unwrap_or("somewhere else")
            )),
            (status, _) => CliError::Api(format!(
                "{} answered {} {path} with {}{detail}{}",
                self.worker,
                method.as_str(),
                code_or_status(status, body),
                if status >= 500 {
                    ". Try again; if it persists, check the Worker's logs (`scripts/wrangler.sh tail` in your Bindify checkout)"
                } else {
                    ""
                }
            )),
        }
    }
}

fn code_or_status(status: u16, body: &ApiErrorBody) -> String {
    if body.error.is_empty() {
        status.to_string()
    } else {
        format!("{status} {}", body.error)
    }
}

fn connection_path(id: &str, suffix: &str) -> String {
    format!("/api/connections/{}{suffix}", segment(id))
}

fn gone(id: &str) -> CliError {
    CliError::NotFound(format!(
        "no connection with id {id} (was it just revoked?): `bindify list` shows the \
         connections"
    ))
}

#[cfg(test)]
mod tests;
