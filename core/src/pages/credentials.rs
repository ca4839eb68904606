//! The forms where the owner gives Bindify what a server needs besides a browser sign-in: a
//! client registered by hand (on the error page of a server without dynamic registration),
//! a client's own credentials (a server that authorizes programs), or an API key. Each form
//! carries the server and a sealed confirmation bound to it, the owner's session and, for a
//! reconnect, the connection; fields are named as the MCP conformance suite names the values
//! it hands a client (`client_id`, `client_secret`, `private_key_pem`, …).

use super::layout::{escape, page_with_style};
use crate::connect::flow::Problem;
use crate::oauth::discovery::MachineGrants;

const STYLE: &str = r#"
form.credentials { display: grid; gap: .75rem; max-width: 34rem; margin-top: 1rem; }
form.credentials label { display: grid; gap: .25rem; font-weight: 600; }
form.credentials label small { font-weight: 400; color: var(--muted); }
form.credentials input, form.credentials textarea, form.credentials select { padding: .5rem .65rem; font: inherit; font-weight: 400; border: 1px solid var(--border); border-radius: .5rem; background: transparent; color: inherit; }
form.credentials textarea { min-height: 7rem; font-family: ui-monospace, monospace; font-size: .85rem; }
form.credentials fieldset { border: 1px solid var(--border); border-radius: .6rem; display: grid; gap: .75rem; padding: .75rem 1rem; }
form.credentials button { justify-self: start; }
"#;

/// What a form is for: the server, its confirmation token, and the connection it reconnects.
pub struct FormTarget<'a> {
    pub server: &'a str,
    pub confirm: &'a str,
    pub reconnect: Option<&'a str>,
}

impl FormTarget<'_> {
    fn hidden(&self) -> String {
        let reconnect = self
            .reconnect
            .map(|id| {
                format!(
                    r#"<input type="hidden" name="reconnect" value="{}">"#,
                    escape(id)
                )
            })
            .unwrap_or_default();
        format!(
            r#"<input type="hidden" name="server" value="{server}">
<input type="hidden" name="confirm" value="{confirm}">{reconnect}"#,
            server = escape(self.server),
            confirm = escape(self.confirm),
        )
    }
}

/// The error page of a server without dynamic registration, with the form for a client the
/// owner registered there. `redirect_uri` is what to register as the app's callback.
pub fn client_needed_page(
    problem: &Problem,
    target: &FormTarget<'_>,
    redirect_uri: &str,
) -> String {
    let body = format!(
        r#"<h1>{title}</h1>
<p id="error-detail">{detail}</p>
<p id="error-next"><strong>What to do:</strong> {next}</p>
<p>Register an app (an OAuth app, or a GitHub App, Asana "MCP app", …) with the service, with
this callback URL:</p>
<div class="url-row"><code class="url" id="redirect-uri">{redirect}</code></div>
<form class="credentials" id="client-form" action="/connect/client" method="post">
{hidden}
<label>Client ID <input name="client_id" required autocomplete="off" maxlength="256"></label>
<label>Client secret <small>if the service issued one; stored encrypted</small>
<input name="client_secret" type="password" autocomplete="off" maxlength="512"></label>
<button type="submit">Save the client and connect</button>
</form>
<p class="error-code">Error code: <span id="error-code">{code}</span> · HTTP {status}</p>
<p><a class="button secondary" href="/">Back to Bindify</a></p>"#,
        title = escape(problem.title),
        detail = escape(&problem.detail),
        next = escape(problem.next_step),
        redirect = escape(redirect_uri),
        hidden = target.hidden(),
        code = escape(problem.code),
        status = problem.status,
    );
    page_with_style(
        problem.title,
        &format!("error:{}", problem.code),
        STYLE,
        &body,
    )
}

/// The form for a server that authorizes programs: a client's id with its secret or private
/// key, and, where the server takes identity assertions, the identity provider's details.
pub fn credentials_page(
    host: &str,
    target: &FormTarget<'_>,
    grants: MachineGrants,
    client_id: &str,
) -> String {
    let identity = if grants.identity_assertion {
        r#"<fieldset id="identity-provider">
<legend>Identity provider <small>(enterprise-managed authorization)</small></legend>
<label>Issuer <input name="idp_issuer" type="url" autocomplete="off" placeholder="https://idp.example.com"></label>
<label>Token endpoint <small>read from the issuer's metadata when empty</small>
<input name="idp_token_endpoint" type="url" autocomplete="off"></label>
<label>Client ID at the identity provider <input name="idp_client_id" autocomplete="off"></label>
<label>Client secret at the identity provider <small>if it issued one</small>
<input name="idp_client_secret" type="password" autocomplete="off"></label>
<label>Identity token <small>the ID token (a JWT) it issued for you; Bindify exchanges it while it is valid</small>
<textarea name="idp_id_token" autocomplete="off" spellcheck="false"></textarea></label>
</fieldset>"#
    } else {
        ""
    };
    let what = match (grants.client_credentials, grants.identity_assertion) {
        (true, true) => "the client credentials grant or an identity assertion",
        (false, true) => "an identity assertion from your organization's identity provider",
        _ => "the client credentials grant",
    };
    let body = format!(
        r#"<h1>Connect <span id="credentials-host">{host}</span> with a client's own credentials</h1>
<p>This server's authorization server offers no sign-in in the browser. It authorizes
programs with {what}. Enter what its operator gave you: Bindify stores it encrypted, asks for
tokens with it, and asks again when they expire.</p>
<form class="credentials" id="credentials-form" action="/connect/credentials" method="post">
{hidden}
<label>Client ID <input name="client_id" required autocomplete="off" maxlength="256" value="{client_id}"></label>
<label>Client secret <small>for client_secret_basic or client_secret_post</small>
<input name="client_secret" type="password" autocomplete="off" maxlength="512"></label>
<label>Private key <small>instead of a secret, for private_key_jwt: PKCS#8 PEM, P-256</small>
<textarea name="private_key_pem" autocomplete="off" spellcheck="false"></textarea></label>
<label>Signing algorithm <select name="signing_algorithm"><option value="">The key's own (ES256)</option><option value="ES256">ES256</option></select></label>
{identity}
<button type="submit">Connect</button>
</form>
<p><a class="button secondary" href="/">Cancel</a></p>"#,
        host = escape(host),
        hidden = target.hidden(),
        client_id = escape(client_id),
    );
    page_with_style("Client credentials", "credentials", STYLE, &body)
}

/// The form for an API key: the header it goes in and its value; no value for an open server.
pub fn api_key_page(host: &str, target: &FormTarget<'_>, header_name: &str) -> String {
    let body = format!(
        r#"<h1>Connect <span id="key-host">{host}</span> with an API key</h1>
<p>Bindify stores the key encrypted and sends it in this header on every request through the
permanent URL, so your MCP client needs no header of its own. Leave the key empty for a server
that needs none.</p>
<form class="credentials" id="api-key-form" action="/connect/key" method="post">
{hidden}
<label>Header <input name="header_name" value="{header}" maxlength="64" autocomplete="off" spellcheck="false"></label>
<label>API key <small>the whole value, with any prefix the server expects, e.g. <code>Bearer sk-…</code></small>
<input name="api_key" type="password" autocomplete="off" maxlength="4096"></label>
<button type="submit">Connect</button>
</form>
<p><a class="button secondary" href="/">Cancel</a></p>"#,
        host = escape(host),
        hidden = target.hidden(),
        header = escape(header_name),
    );
    page_with_style("API key", "api-key", STYLE, &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::flow::ConnectError;
    use crate::oauth::registration::RegistrationError;

    fn target() -> FormTarget<'static> {
        FormTarget {
            server: "https://mcp.example.com/mcp?a=\"b\"",
            confirm: "T0K",
            reconnect: None,
        }
    }

    #[test]
    fn the_client_form_rides_on_the_error_page() {
        let problem = ConnectError::Registration(RegistrationError::Unsupported).problem();
        let html = client_needed_page(
            &problem,
            &target(),
            "https://bindify.example.com/oauth/callback",
        );
        assert!(html.contains(r#"data-page="error:registration_unsupported""#));
        assert!(html.contains(r#"action="/connect/client" method="post""#));
        assert!(html.contains(r#"<input name="client_id" required"#));
        assert!(html.contains(r#"name="client_secret" type="password""#));
        assert!(html.contains(r#"name="confirm" value="T0K""#));
        assert!(html.contains("a=&quot;b&quot;"));
        assert!(html.contains(
            r#"<code class="url" id="redirect-uri">https://bindify.example.com/oauth/callback</code>"#
        ));
        assert!(!html.contains(r#"name="reconnect""#));
    }

    #[test]
    fn the_credentials_form_asks_for_the_identity_provider_only_where_it_applies() {
        let only_cc = MachineGrants {
            client_credentials: true,
            identity_assertion: false,
        };
        let html = credentials_page("mcp.example.com", &target(), only_cc, "");
        assert!(html.contains(r#"data-page="credentials""#));
        assert!(html.contains(r#"name="private_key_pem""#));
        assert!(html.contains(r#"<select name="signing_algorithm">"#));
        assert!(!html.contains("idp_id_token"));
        let with_idp = MachineGrants {
            client_credentials: false,
            identity_assertion: true,
        };
        let reconnect = FormTarget {
            reconnect: Some("conn-1"),
            ..target()
        };
        let html = credentials_page("mcp.example.com", &reconnect, with_idp, "<id>");
        for field in [
            "idp_issuer",
            "idp_token_endpoint",
            "idp_client_id",
            "idp_id_token",
        ] {
            assert!(html.contains(&format!(r#"name="{field}""#)), "{field}");
        }
        assert!(html.contains(r#"name="reconnect" value="conn-1""#));
        assert!(html.contains(r#"value="&lt;id&gt;""#));
    }

    #[test]
    fn the_api_key_form_names_the_header() {
        let html = api_key_page("mcp.example.com", &target(), "Authorization");
        assert!(html.contains(r#"data-page="api-key""#));
        assert!(html.contains(r#"action="/connect/key" method="post""#));
        assert!(html.contains(r#"name="header_name" value="Authorization""#));
        assert!(html.contains(r#"name="api_key" type="password""#));
    }
}
