//! The dashboard's script: live relative times (from the server's clock, advanced by the time
//! the page has been open), label editing, rotate and revoke behind the page's own dialogs, and
//! sign-out. Without it the page still reads right; only the actions need it.

/// `relative` repeats `bindify_core::time::relative`.
pub const DASHBOARD_SCRIPT: &str = r#"(function () {
  var list = document.getElementById("connections");
  var status = document.getElementById("status-line");
  var serverNow = Number(list.dataset.now);
  var openedAt = performance.now();
  function now() { return serverNow + (performance.now() - openedAt); }

  function relative(at, from) {
    var future = at > from;
    var delta = Math.trunc((at - from) / 1000);
    var span = Math.abs(delta);
    if (span < 45) return future ? "in a moment" : "just now";
    var text;
    if (span < 90 * 60) text = Math.floor((span + 30) / 60) + " min";
    else if (span < 36 * 3600) text = Math.floor((span + 1800) / 3600) + " h";
    else text = Math.floor((span + 43200) / 86400) + " days";
    return future ? "in " + text : text + " ago";
  }
  function times() { return document.querySelectorAll("time[data-at]"); }
  times().forEach(function (t) {
    var exact = new Date(Number(t.dataset.at));
    t.title = exact.toLocaleString(undefined, { dateStyle: "full", timeStyle: "long" });
  });
  setInterval(function () {
    times().forEach(function (t) { t.textContent = relative(Number(t.dataset.at), now()); });
  }, 15000);

  function api(method, path, body) {
    return fetch(path, { method: method, credentials: "same-origin",
      headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) {
          if (!r.ok) throw new Error(j.message || j.error || ("The Worker answered " + r.status + "."));
          return j;
        });
      });
  }
  function say(text) { status.textContent = text; }

  function ask(dialog, label) {
    dialog.querySelector(".confirm-label").textContent = "\u201c" + label + "\u201d";
    dialog.returnValue = "";
    dialog.showModal();
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function () { resolve(dialog.returnValue === "confirm"); }, { once: true });
    });
  }

  var newUrls = document.getElementById("new-urls");
  function hideNewUrls() {
    newUrls.hidden = true;
    document.getElementById("mcp-url").textContent = "";
    document.getElementById("sse-url").textContent = "";
    list.after(newUrls);
  }

  function setUp(card) {
    var id = card.dataset.id;
    var view = card.querySelector(".label-view");
    var heading = card.querySelector("h2.label");
    var edit = card.querySelector(".edit-label");
    var form = card.querySelector(".label-edit");
    var input = form.querySelector("input");
    var feedback = card.querySelector(".label-feedback");
    function label() { return heading.textContent; }
    function closeEditor() { form.hidden = true; view.hidden = false; edit.focus(); }

    edit.addEventListener("click", function () {
      input.value = label();
      feedback.textContent = "";
      view.hidden = true;
      form.hidden = false;
      input.focus();
      input.select();
    });
    form.querySelector("[data-label=cancel]").addEventListener("click", closeEditor);
    input.addEventListener("keydown", function (e) { if (e.key === "Escape") { e.preventDefault(); closeEditor(); } });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var value = input.value.trim();
      if (!value) { feedback.textContent = "A label cannot be empty."; input.focus(); return; }
      var buttons = form.querySelectorAll("button");
      buttons.forEach(function (b) { b.disabled = true; });
      feedback.textContent = "Saving\u2026";
      api("PATCH", "/api/connections/" + id, { label: value }).then(function (j) {
        heading.textContent = j.label;
        edit.setAttribute("aria-label", "Edit the label " + j.label);
        feedback.textContent = "Label saved.";
        closeEditor();
      }, function (err) {
        feedback.textContent = "Not saved: " + err.message;
        input.focus();
      }).then(function () { buttons.forEach(function (b) { b.disabled = false; }); });
    });

    var rotate = card.querySelector("[data-action=rotate]");
    rotate.addEventListener("click", function () {
      ask(document.getElementById("rotate-dialog"), label()).then(function (confirmed) {
        if (!confirmed) { rotate.focus(); return; }
        rotate.disabled = true;
        api("POST", "/api/connections/" + id + "/rotate").then(function (j) {
          document.getElementById("mcp-url").textContent = j.mcp_url;
          document.getElementById("sse-url").textContent = j.sse_url;
          newUrls.querySelectorAll("[data-copy-target]").forEach(function (b) { b.textContent = "Copy"; });
          card.appendChild(newUrls);
          newUrls.hidden = false;
          say("The URL of \u201c" + label() + "\u201d was rotated.");
          document.getElementById("new-urls-title").focus();
        }, function (err) { say("Not rotated: " + err.message); })
          .then(function () { rotate.disabled = false; });
      });
    });

    var revoke = card.querySelector("[data-action=revoke]");
    revoke.addEventListener("click", function () {
      ask(document.getElementById("revoke-dialog"), label()).then(function (confirmed) {
        if (!confirmed) { revoke.focus(); return; }
        revoke.disabled = true;
        api("DELETE", "/api/connections/" + id).then(function (j) {
          if (card.contains(newUrls)) hideNewUrls();
          var name = label();
          card.remove();
          var upstream = {
            revoked: "Its tokens were revoked at the authorization server.",
            unsupported: "The authorization server offers no revocation; Bindify deleted the tokens.",
            failed: "The authorization server did not confirm the revocation; Bindify deleted the tokens."
          }[j.upstream_revocation] || "";
          say(("Revoked \u201c" + name + "\u201d. " + upstream).trim());
          if (!list.querySelector("article.connection")) {
            var empty = document.createElement("p");
            empty.id = "no-connections";
            empty.innerHTML = 'No connections yet. <a href="/">Connect a service</a>.';
            list.before(empty);
          }
          status.focus();
        }, function (err) {
          say("Not revoked: " + err.message);
          revoke.disabled = false;
        });
      });
    });
  }
  list.querySelectorAll("article.connection").forEach(setUp);

  document.getElementById("logout").addEventListener("click", function () {
    fetch("/logout", { method: "POST", credentials: "same-origin" }).then(function () { location.href = "/login"; });
  });
})();"#;
