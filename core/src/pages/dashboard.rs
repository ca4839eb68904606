//! `GET /manage`: the owner's connections, with reconnect, rotate and revoke, and the label
//! editable in place. Actions call the management API with the session cookie.

use super::layout::{escape, page};
use crate::record::ConnectionView;

pub fn dashboard_page(connections: &[ConnectionView], local_development_notice: bool) -> String {
    let notice = if local_development_notice {
        r#"<p class="notice" id="open-notice">Local development: no <code>ADMIN_TOKEN</code> is set, so anyone who can reach this Worker can manage these connections.</p>"#
    } else {
        ""
    };
    let rows: String = connections
        .iter()
        .map(|c| {
            format!(
                r#"<tr data-id="{id}">
<td><input class="label" value="{label}" maxlength="100" aria-label="Label"></td>
<td class="upstream">{upstream}</td>
<td class="state state-{state}">{state}</td>
<td>{expires}</td>
<td>{refreshed}</td>
<td class="error">{error}</td>
<td class="actions">
<button class="secondary" type="button" data-action="reconnect">Reconnect</button>
<button class="secondary" type="button" data-action="rotate">Rotate URL</button>
<button class="secondary" type="button" data-action="revoke">Revoke</button>
</td>
</tr>"#,
                id = escape(&c.id),
                label = escape(&c.label),
                upstream = escape(&c.upstream),
                state = escape(state_name(c)),
                expires = escape(c.access_token_expires_at.as_deref().unwrap_or("—")),
                refreshed = escape(c.last_refresh_at.as_deref().unwrap_or("never")),
                error = escape(c.last_error.as_deref().unwrap_or("")),
            )
        })
        .collect();
    let empty = if connections.is_empty() {
        r#"<p id="no-connections">No connections yet. <a href="/">Connect a service</a>.</p>"#
    } else {
        ""
    };
    let body = format!(
        r##"<h1>Connections</h1>
{notice}
<p><a href="/">Connect another service</a> · <a href="#" id="logout">Sign out</a></p>
{empty}
<table id="connections">
<thead><tr><th>Label</th><th>Upstream</th><th>State</th><th>Token expires</th><th>Last refresh</th><th>Last error</th><th></th></tr></thead>
<tbody>{rows}</tbody>
</table>
<section id="new-urls" hidden>
<h2>New permanent URLs</h2>
<p>The old URL no longer works. Copy these now: they are shown once.</p>
<div class="url-row"><code class="url" id="mcp-url"></code><button class="secondary" type="button" data-copy-target="mcp-url">Copy</button></div>
<div class="url-row"><code class="url" id="sse-url"></code><button class="secondary" type="button" data-copy-target="sse-url">Copy</button></div>
</section>
<p id="status-line" role="status"></p>
<script>
(function () {{
  var status = document.getElementById("status-line");
  function api(method, path, body) {{
    return fetch(path, {{ method: method, credentials: "same-origin",
      headers: body ? {{ "content-type": "application/json" }} : {{}},
      body: body ? JSON.stringify(body) : undefined }})
      .then(function (r) {{ return r.json().then(function (j) {{ if (!r.ok) throw new Error(j.message || j.error); return j; }}); }});
  }}
  document.querySelectorAll("#connections tbody tr").forEach(function (row) {{
    var id = row.dataset.id;
    row.querySelector("input.label").addEventListener("change", function (e) {{
      api("PATCH", "/api/connections/" + id, {{ label: e.target.value }})
        .then(function () {{ status.textContent = "Label saved."; }}, function (err) {{ status.textContent = err.message; }});
    }});
    row.querySelector("[data-action=reconnect]").addEventListener("click", function () {{
      location.href = "/manage/" + id + "/reconnect";
    }});
    row.querySelector("[data-action=rotate]").addEventListener("click", function () {{
      if (!confirm("Issue a new URL? The current one stops working at once.")) return;
      api("POST", "/api/connections/" + id + "/rotate").then(function (j) {{
        document.getElementById("mcp-url").textContent = j.mcp_url;
        document.getElementById("sse-url").textContent = j.sse_url;
        document.getElementById("new-urls").hidden = false;
        status.textContent = "URL rotated.";
      }}, function (err) {{ status.textContent = err.message; }});
    }});
    row.querySelector("[data-action=revoke]").addEventListener("click", function () {{
      if (!confirm("Revoke this connection? Its URL stops working and its tokens are revoked.")) return;
      api("DELETE", "/api/connections/" + id).then(function () {{
        row.remove();
        status.textContent = "Connection revoked.";
      }}, function (err) {{ status.textContent = err.message; }});
    }});
  }});
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {{
    button.addEventListener("click", function () {{
      var text = document.getElementById(button.dataset.copyTarget).textContent;
      var area = document.createElement("textarea");
      area.value = text; document.body.appendChild(area); area.select();
      try {{ document.execCommand("copy"); button.textContent = "Copied"; }} catch (e) {{ button.textContent = "Select and copy by hand"; }}
      area.remove();
    }});
  }});
  document.getElementById("logout").addEventListener("click", function (e) {{
    e.preventDefault();
    fetch("/logout", {{ method: "POST", credentials: "same-origin" }}).then(function () {{ location.href = "/login"; }});
  }});
}})();
</script>"##
    );
    page("Connections", "dashboard", &body)
}

fn state_name(c: &ConnectionView) -> &'static str {
    match c.state {
        crate::record::ConnectionState::Active => "active",
        crate::record::ConnectionState::NeedsReauth => "needs_reauth",
        crate::record::ConnectionState::Error => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ConnectionState;

    #[test]
    fn lists_connections_with_actions_and_escapes() {
        let view = ConnectionView {
            id: "abc".into(),
            label: "<Work>".into(),
            upstream: "https://mcp.notion.com/mcp".into(),
            state: ConnectionState::NeedsReauth,
            access_token_expires_at: None,
            last_refresh_at: None,
            last_error: Some("invalid_grant".into()),
            created_at: "2026-11-26T10:00:00Z".into(),
        };
        let html = dashboard_page(&[view], true);
        assert!(html.contains(r#"<tr data-id="abc">"#));
        assert!(html.contains("&lt;Work&gt;"));
        assert!(html.contains("state-needs_reauth"));
        assert!(html.contains(r#"id="open-notice""#));
        for action in ["reconnect", "rotate", "revoke"] {
            assert!(html.contains(&format!(r#"data-action="{action}""#)));
        }
        assert!(dashboard_page(&[], false).contains(r#"id="no-connections""#));
    }
}
