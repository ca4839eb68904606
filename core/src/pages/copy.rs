//! The Copy buttons of the success page and the dashboard: a button with
//! `data-copy-target="<id>"` copies that element's text. It says "Copied" only when the copy
//! happened: the Clipboard API resolved, or `execCommand("copy")` returned true. Otherwise it
//! selects the text and asks for a copy by hand.

/// Text of a button whose copy happened.
pub const COPIED: &str = "Copied";
/// Text of a button whose copy did not happen; the text is selected instead.
pub const COPY_BY_HAND: &str = "Selected: copy by hand";

/// The script, for a `<script>` element at the end of the page. Buttons added later work too.
pub fn copy_script() -> String {
    format!(
        r#"(function () {{
  function legacyCopy(text) {{
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.top = "0";
    area.style.left = "0";
    area.style.width = "1px";
    area.style.height = "1px";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try {{ done = document.execCommand("copy") === true; }} catch (e) {{ done = false; }}
    area.remove();
    return done;
  }}
  function copy(text) {{
    if (navigator.clipboard && window.isSecureContext) {{
      return navigator.clipboard.writeText(text).then(function () {{ return true; }}, function () {{ return legacyCopy(text); }});
    }}
    return Promise.resolve(legacyCopy(text));
  }}
  function select(element) {{
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }}
  document.addEventListener("click", function (event) {{
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var source = document.getElementById(button.dataset.copyTarget);
    if (!source) return;
    clearTimeout(button.copyReset);
    copy(source.textContent).then(function (done) {{
      button.focus();
      if (done) {{
        button.textContent = "{COPIED}";
        button.copyReset = setTimeout(function () {{ button.textContent = "Copy"; }}, 2000);
      }} else {{
        select(source);
        button.textContent = "{COPY_BY_HAND}";
      }}
    }});
  }});
}})();"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copied_is_said_only_after_a_copy_that_happened() {
        let script = copy_script();
        assert!(script.contains(r#"done = document.execCommand("copy") === true"#));
        assert!(script.contains("if (done) {"));
        assert!(script.contains(COPY_BY_HAND));
    }
}
