//! The shared page shell and the HTML escaper.

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root { color-scheme: light dark; --accent: #5b5bd6; --muted: #6b7280; --border: #d1d5db; --bg-soft: rgba(127,127,127,.08); --bad: #b91c1c; --warn: #d97706; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; }
main { max-width: 46rem; margin: 0 auto; padding: 2.5rem 1.25rem 4rem; }
header.brand { display: flex; align-items: baseline; gap: .75rem; margin-bottom: 2rem; }
header.brand a { font-weight: 700; font-size: 1.25rem; color: inherit; text-decoration: none; }
header.brand span { color: var(--muted); }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 .75rem; }
h2 { font-size: 1.1rem; margin: 2rem 0 .5rem; }
p { margin: .5rem 0; }
.muted { color: var(--muted); }
ul.presets { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr)); gap: .75rem; }
ul.presets a { display: block; padding: .9rem 1rem; border: 1px solid var(--border); border-radius: .6rem; color: inherit; text-decoration: none; }
ul.presets a:hover, ul.presets a:focus { border-color: var(--accent); outline: none; }
ul.presets strong { display: block; }
ul.presets small { color: var(--muted); }
form.connect { display: flex; gap: .5rem; flex-wrap: wrap; }
input[type=url] { flex: 1 1 20rem; padding: .6rem .75rem; font: inherit; border: 1px solid var(--border); border-radius: .5rem; background: transparent; color: inherit; }
button, .button { padding: .6rem 1rem; font: inherit; border: 0; border-radius: .5rem; background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
button.secondary, .button.secondary { background: transparent; color: var(--accent); border: 1px solid var(--accent); padding: .35rem .7rem; font-size: .9rem; }
button.danger { background: transparent; color: var(--bad); border: 1px solid var(--bad); padding: .35rem .7rem; font-size: .9rem; }
button.link { background: none; border: 0; padding: 0; color: var(--accent); text-decoration: underline; font: inherit; cursor: pointer; }
button:disabled { opacity: .6; cursor: progress; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.url-row { display: flex; gap: .5rem; align-items: center; margin: .35rem 0 1rem; }
.url-row > * { min-width: 0; }
.url-row > button { flex: none; }
code.url { flex: 1; padding: .55rem .7rem; border-radius: .5rem; background: var(--bg-soft); overflow-wrap: anywhere; font-size: .9rem; }
pre { padding: .75rem; border-radius: .5rem; background: var(--bg-soft); overflow-x: auto; font-size: .85rem; }
.notice { padding: .75rem 1rem; border-left: 4px solid var(--accent); background: var(--bg-soft); border-radius: .25rem; }
.error-code { font-family: ui-monospace, monospace; font-size: .85rem; color: var(--muted); }
"#;

/// Wraps `body` in the page shell. `data_page` names the page for tests and styling.
pub fn page(title: &str, data_page: &str, body: &str) -> String {
    page_with_style(title, data_page, "", body)
}

/// [`page`] with `style` added after the shared styles.
pub fn page_with_style(title: &str, data_page: &str, style: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title} · Bindify</title>
<style>{STYLE}{style}</style>
</head>
<body data-page="{data_page}">
<main>
<header class="brand"><a href="/">Bindify</a><span>permanent URLs for OAuth MCP servers</span></header>
{body}
</main>
</body>
</html>
"#,
        title = escape(title),
        data_page = escape(data_page),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn page_escapes_title() {
        assert!(page("<script>", "x", "").contains("&lt;script&gt; · Bindify"));
    }
}
