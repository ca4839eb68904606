//! The dashboard's list of clients the owner registered by hand (for servers without dynamic
//! registration, such as GitHub and Asana), with a form to enter one and a button to forget
//! one. The form and the buttons call `/api/clients` with the session cookie.

use super::layout::escape;
use crate::connect::owner_client::OwnerClientListing;

/// The section: the entered clients, the form, and the callback URL to register.
pub fn clients_section(clients: &[OwnerClientListing], redirect_uri: &str) -> String {
    let rows: String = clients
        .iter()
        .map(|c| {
            format!(
                r#"<li data-issuer="{issuer}"><span class="client-issuer">{issuer}</span> <code class="client-id">{id}</code> <button class="link" type="button" data-action="forget-client">Forget</button></li>"#,
                issuer = escape(&c.issuer),
                id = escape(&c.client_id),
            )
        })
        .collect();
    let empty = if clients.is_empty() {
        r#"<p id="no-clients" class="muted">None yet.</p>"#
    } else {
        ""
    };
    format!(
        r#"<section id="owner-clients" aria-labelledby="owner-clients-title">
<h2 id="owner-clients-title">Clients you registered</h2>
<p class="muted">For services without dynamic registration (GitHub, Asana): register an app with
the service, with this callback URL, and enter it here. Bindify uses it for every connection to
that service.</p>
<div class="url-row"><code class="url" id="dashboard-redirect-uri">{redirect}</code></div>
{empty}<ul id="client-list">{rows}</ul>
<form id="client-add" class="client-add">
<label>MCP server URL <input name="server" type="url" required placeholder="https://api.githubcopilot.com/mcp/"></label>
<label>Client ID <input name="client_id" required autocomplete="off" maxlength="256"></label>
<label>Client secret <input name="client_secret" type="password" autocomplete="off" maxlength="512"></label>
<button type="submit">Save the client</button>
</form>
<p id="client-feedback" role="status"></p>
</section>"#,
        redirect = escape(redirect_uri),
    )
}

/// The section's styles: the form's fields stack and fill the width on a small screen.
pub const CLIENTS_STYLE: &str = r#"
#owner-clients { margin-top: 2.5rem; }
#client-list { list-style: none; padding: 0; display: grid; gap: .4rem; }
#client-list li { overflow-wrap: anywhere; }
form.client-add { display: grid; gap: .6rem; max-width: 34rem; }
form.client-add label { display: grid; gap: .2rem; font-size: .9rem; }
form.client-add input { min-width: 0; padding: .45rem .6rem; font: inherit; border: 1px solid var(--border); border-radius: .5rem; background: transparent; color: inherit; }
form.client-add button { justify-self: start; }
"#;

/// The section's script; `api` and `say` come from the dashboard's script.
pub const CLIENTS_SCRIPT: &str = r#"(function () {
  var form = document.getElementById("client-add");
  var feedback = document.getElementById("client-feedback");
  function call(method, body) {
    return fetch("/api/clients", { method: method, credentials: "same-origin",
      headers: { "content-type": "application/json" }, body: JSON.stringify(body) })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (!r.ok) throw new Error(j.message || j.error || ("The Worker answered " + r.status + "."));
          return j;
        });
      });
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var data = new FormData(form);
    feedback.textContent = "Saving\u2026";
    call("PUT", { server: data.get("server"), client_id: data.get("client_id"), client_secret: data.get("client_secret") })
      .then(function (j) {
        feedback.textContent = "Saved the client " + j.client_id + " for " + j.issuer + ".";
        form.reset();
        location.reload();
      }, function (err) { feedback.textContent = "Not saved: " + err.message; });
  });
  document.querySelectorAll("[data-action=forget-client]").forEach(function (button) {
    button.addEventListener("click", function () {
      var item = button.closest("li");
      call("DELETE", { issuer: item.dataset.issuer }).then(function () {
        item.remove();
        feedback.textContent = "Forgot the client for " + item.dataset.issuer + ".";
      }, function (err) { feedback.textContent = "Not forgotten: " + err.message; });
    });
  });
})();"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_entered_clients_without_secrets_and_offers_the_form() {
        let html = clients_section(
            &[OwnerClientListing {
                issuer: "https://github.com/login/oauth".into(),
                client_id: "Iv1.<x>".into(),
            }],
            "https://b.example/oauth/callback",
        );
        assert!(html.contains(r#"<li data-issuer="https://github.com/login/oauth">"#));
        assert!(html.contains(r#"<code class="client-id">Iv1.&lt;x&gt;</code>"#));
        assert!(html.contains(r#"<form id="client-add""#));
        assert!(html.contains(r#"name="client_secret" type="password""#));
        assert!(!html.contains(r#"id="no-clients""#));
        assert!(clients_section(&[], "x").contains(r#"id="no-clients""#));
    }
}
