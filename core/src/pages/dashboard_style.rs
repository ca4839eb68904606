//! The dashboard's styles, on top of the shared ones: a grid of cards that is one column on a
//! phone, badges that carry their meaning in words (the color only repeats it), and dialogs
//! that fit a 360 px screen.

pub const DASHBOARD_STYLE: &str = r#"
body[data-page=dashboard] main { max-width: 72rem; }
.page-head { display: flex; flex-wrap: wrap; align-items: baseline; justify-content: space-between; gap: .25rem 1.5rem; }
.page-links { display: flex; flex-wrap: wrap; align-items: baseline; gap: .25rem 1.25rem; }
#status-line:empty, .label-feedback:empty { display: none; }
#status-line { padding: .6rem .9rem; border-radius: .5rem; background: var(--bg-soft); }
#connections { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 28rem), 1fr)); gap: 1rem; align-items: start; margin-top: 1rem; }
article.connection { min-width: 0; border: 1px solid var(--border); border-radius: .75rem; padding: 1rem 1.1rem 1.1rem; }
article.connection[data-standing=needs-reauth] { border-color: var(--bad); box-shadow: inset 4px 0 0 var(--bad); }
article.connection[data-standing=server-failing], article.connection[data-standing=grant-ending] { box-shadow: inset 4px 0 0 var(--warn); }
.card-head { display: flex; flex-wrap: wrap; align-items: flex-start; justify-content: space-between; gap: .5rem .75rem; }
.label-view { display: flex; align-items: baseline; gap: .6rem; min-width: 0; flex: 1 1 10rem; }
.label-view[hidden], .label-edit[hidden] { display: none; }
h2.label { margin: 0; font-size: 1.15rem; overflow-wrap: anywhere; }
.label-edit { flex: 1 1 100%; }
.label-edit label { display: block; font-size: .8rem; color: var(--muted); margin-bottom: .2rem; }
.label-row { display: flex; flex-wrap: wrap; gap: .5rem; }
.label-row input { flex: 1 1 10rem; min-width: 0; padding: .4rem .6rem; font: inherit; border: 1px solid var(--border); border-radius: .5rem; background: transparent; color: inherit; }
.label-row button { padding: .4rem .9rem; font-size: .9rem; }
.label-feedback { margin: .35rem 0 0; font-size: .9rem; color: var(--muted); }
.badge { display: inline-block; padding: .15rem .65rem; border: 1px solid; border-radius: 999px; font-size: .85rem; font-weight: 600; line-height: 1.4; }
.badge-active { color: #14532d; background: #dcfce7; border-color: #4ade80; }
.badge-refreshing-soon { color: #1e3a8a; background: #dbeafe; border-color: #60a5fa; }
.badge-needs-reauth { color: #7f1d1d; background: #fee2e2; border-color: #f87171; }
.badge-server-failing { color: #78350f; background: #fef3c7; border-color: #f59e0b; }
.badge-grant-ending { color: #7c2d12; background: #ffedd5; border-color: #fb923c; }
.upstream { margin: .2rem 0 .5rem; font-size: .9rem; color: var(--muted); overflow-wrap: anywhere; }
.next-step { margin: .5rem 0; }
.last-error { color: var(--muted); overflow-wrap: anywhere; }
dl.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(5.5rem, 1fr)); gap: .25rem .75rem; margin: .75rem 0; }
dl.facts dt { font-size: .8rem; color: var(--muted); }
dl.facts dd { margin: 0; }
time[title] { text-decoration: underline dotted; text-underline-offset: .2em; cursor: help; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; margin-top: .75rem; }
.actions .button, .actions button { padding: .35rem .7rem; font-size: .9rem; border: 1px solid var(--accent); }
.actions button.danger { border-color: var(--bad); }
.new-urls { margin-top: 1rem; padding-top: .75rem; border-top: 1px solid var(--border); }
.new-urls h3 { margin: 0 0 .25rem; font-size: 1rem; }
.new-urls .url-kind { margin: .5rem 0 0; font-size: .8rem; color: var(--muted); }
.new-urls .url-row { margin: .2rem 0 .5rem; }
dialog.confirm { width: min(32rem, calc(100vw - 2rem)); max-width: none; padding: 1.25rem; border: 1px solid var(--border); border-radius: .75rem; }
dialog.confirm::backdrop { background: rgba(0, 0, 0, .45); }
dialog.confirm h2 { margin: 0 0 .5rem; overflow-wrap: anywhere; }
.dialog-actions { display: flex; flex-wrap: wrap; justify-content: flex-end; gap: .5rem; margin-top: 1rem; }
dialog button.danger { background: var(--bad); color: #fff; border: 1px solid var(--bad); }
@media (max-width: 30rem) {
  body[data-page=dashboard] main { padding: 1.5rem .75rem 3rem; }
  body[data-page=dashboard] header.brand { margin-bottom: 1.25rem; }
  article.connection { padding: .85rem .9rem 1rem; }
}
"#;
