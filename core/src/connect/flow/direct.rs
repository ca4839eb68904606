//! Connecting a server that takes an API key in a header, or nothing at all (an open server):
//! no authorization server is involved. Bindify sends the server an `initialize` with the key
//! first, so a key the server refuses is reported at once instead of at the first tool call.

use oauth2::AccessToken;
use url::Url;

use super::{ConnectError, ConnectSettings, Created};
use crate::http::{self, HttpClient};
use crate::time::UnixMillis;
use crate::vault::record::{TokenSet, UpstreamAuth};

/// What the connection sends upstream. `Debug` is redacted by `AccessToken`.
#[derive(Debug, Clone)]
pub enum StaticCredential {
    /// The owner's key, as the value of header `name` (both checked by
    /// [`crate::connect::api_key`]).
    ApiKey { name: String, value: AccessToken },
    /// Nothing.
    Open,
}

/// Connects `server` with `credential`, after checking that the server takes it.
pub async fn connect<C: HttpClient>(
    http: &C,
    settings: &ConnectSettings,
    server: &Url,
    credential: StaticCredential,
    now: UnixMillis,
) -> Result<Created, ConnectError> {
    let server = crate::oauth::upstream::validate_server_url(server.as_str(), settings.policy)?;
    let status = probe(http, &server, &credential).await?;
    let (upstream_auth, token) = match credential {
        StaticCredential::ApiKey { name, value } => {
            if matches!(status, 401 | 403) {
                return Err(ConnectError::KeyRefused(status));
            }
            (UpstreamAuth::Header { name }, value)
        }
        StaticCredential::Open => {
            if matches!(status, 401 | 403) {
                return Err(ConnectError::NotOpen(status));
            }
            (UpstreamAuth::None, AccessToken::new(String::new()))
        }
    };
    let tokens = TokenSet {
        access_token: token,
        refresh_token: None,
        expires_at: None,
        scope: None,
        obtained_at: Some(now),
        refresh_token_expires_at: None,
    };
    Created::new(server.as_str(), None, upstream_auth, tokens, now)
}

/// The status of an `initialize` sent with `credential`. Only 401 and 403 say the credential
/// is wrong; any other answer (a legacy server's 405, say) means the server took it or does not
/// check it at `initialize`.
async fn probe<C: HttpClient>(
    http: &C,
    server: &Url,
    credential: &StaticCredential,
) -> Result<u16, ConnectError> {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": { "name": "bindify", "version": env!("CARGO_PKG_VERSION") }
        }
    });
    let unreachable = |e: String| {
        ConnectError::Discovery(crate::oauth::discovery::DiscoveryError::Unreachable(e))
    };
    let mut request = http::post_json_request(server, &body, "application/json, text/event-stream")
        .map_err(unreachable)?;
    if let StaticCredential::ApiKey { name, value } = credential {
        let name = ::http::HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| ConnectError::Credentials(e.to_string()))?;
        let value = ::http::HeaderValue::from_str(value.secret())
            .map_err(|_| ConnectError::Credentials("the API key cannot be sent".into()))?;
        request.headers_mut().insert(name, value);
    }
    let response = http::send(http, request).await.map_err(unreachable)?;
    Ok(response.status().as_u16())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{ScriptedPeer, block_on};
    use crate::vault::record::ConnectionKind;
    use std::collections::BTreeMap;

    const MCP: &str = "https://mcp.example.com/mcp";

    fn settings() -> ConnectSettings {
        ConnectSettings {
            policy: crate::oauth::upstream::UpstreamPolicy {
                allow_loopback_http: false,
            },
            state_ttl_ms: 600_000,
            redirect_uri: Url::parse("https://bindify.example.com/oauth/callback").expect("url"),
            configured_clients: BTreeMap::new(),
            client_metadata_url: None,
            secure_cookies: true,
        }
    }

    fn key(value: &str) -> StaticCredential {
        StaticCredential::ApiKey {
            name: "X-API-Key".into(),
            value: AccessToken::new(value.into()),
        }
    }

    fn run(peer: &ScriptedPeer, credential: StaticCredential) -> Result<Created, ConnectError> {
        let server = Url::parse(MCP).expect("url");
        block_on(connect(&peer.client(), &settings(), &server, credential, 7))
    }

    #[test]
    fn a_key_the_server_takes_becomes_a_connection_that_sends_it() {
        let peer = ScriptedPeer::new();
        peer.on("POST", MCP, 200, r#"{"jsonrpc":"2.0","id":0,"result":{}}"#);
        let created = run(&peer, key("sk-live-1")).expect("connected");
        let record = &created.record;
        assert_eq!(record.kind(), ConnectionKind::ApiKey);
        assert_eq!(
            record.upstream_auth,
            UpstreamAuth::Header {
                name: "X-API-Key".into()
            }
        );
        assert_eq!(record.tokens.access_token.secret(), "sk-live-1");
        assert!(record.oauth.is_none() && !record.renewable());
        assert_eq!(record.label, "mcp.example.com");
        let sent = &peer.requests()[0];
        assert!(
            sent.headers
                .iter()
                .any(|(k, v)| k == "x-api-key" && v == "sk-live-1")
        );
    }

    #[test]
    fn a_refused_key_and_a_closed_server_are_reported() {
        let peer = ScriptedPeer::new();
        peer.on("POST", MCP, 401, "");
        assert!(matches!(
            run(&peer, key("wrong")),
            Err(ConnectError::KeyRefused(401))
        ));
        let error = run(&peer, StaticCredential::Open).expect_err("needs auth");
        assert!(matches!(error, ConnectError::NotOpen(401)));
        assert_eq!(error.problem().code, "authorization_required");

        // A legacy server answers a POST with 405: the key is not known to be wrong.
        peer.on("POST", MCP, 405, "");
        assert!(run(&peer, StaticCredential::Open).is_ok());
        peer.fail("POST", MCP);
        assert_eq!(
            run(&peer, key("k")).expect_err("down").problem().code,
            "discovery_failed"
        );
    }
}
