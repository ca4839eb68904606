//! A connection's activity on its dashboard card: new-place notices (dismissable), when and
//! from where the URL was last used, requests and errors over 24 hours and 7 days, and the
//! last refreshes in a details section. Words from [`crate::lifecycle::activity::view`].

use super::layout::escape;
use super::times::time_element;
use crate::lifecycle::activity::view::{
    ActivityView, counts_text, new_place_text, outcome_text, place_text, trigger_text,
};
use crate::time::{UnixMillis, parse_rfc3339};

/// The activity section of a card; `None` when the connection's object could not say.
pub fn activity_section(activity: Option<&ActivityView>, now: UnixMillis) -> String {
    let Some(activity) = activity else {
        return r#"<section class="activity" aria-label="Activity"><p class="activity-unknown">Activity is unavailable right now.</p></section>"#.into();
    };
    let at = |text: &str| parse_rfc3339(text).map(|t| time_element(t, now));
    let notices = notices(activity, now);
    let last_used = match (
        activity.last_used_at.as_deref().and_then(at),
        &activity.last_used_from,
    ) {
        (Some(when), Some(place)) => format!("{when} from {}", escape(&place_text(place))),
        (Some(when), None) => when,
        (None, _) => "never".into(),
    };
    let refreshes: String = activity
        .refreshes
        .iter()
        .map(|r| {
            format!(
                r#"<li data-trigger="{trigger_key}" data-outcome="{outcome_key}">{when} · {trigger} · {outcome}</li>"#,
                trigger_key = escape(&json_name(&r.trigger)),
                outcome_key = escape(&json_name(&r.outcome)),
                when = at(&r.at).unwrap_or_else(|| escape(&r.at)),
                trigger = trigger_text(r.trigger),
                outcome = outcome_text(r.outcome),
            )
        })
        .collect();
    let refreshes = if refreshes.is_empty() {
        r#"<p class="no-refreshes">No refresh since this was recorded.</p>"#.to_owned()
    } else {
        format!(r#"<ol class="refresh-list">{refreshes}</ol>"#)
    };
    format!(
        r#"<section class="activity" aria-label="Activity">
{notices}<dl class="facts activity-facts">
<div class="wide"><dt>Last used</dt><dd class="last-used">{last_used}</dd></div>
<div><dt>Last 24 h</dt><dd class="uses-24h" data-requests="{r24}" data-errors="{e24}">{day}</dd></div>
<div><dt>Last 7 days</dt><dd class="uses-7d" data-requests="{r7}" data-errors="{e7}">{week}</dd></div>
</dl>
<details class="refreshes"><summary>Last refreshes</summary>{refreshes}</details>
</section>"#,
        r24 = activity.requests_24h,
        e24 = activity.errors_24h,
        r7 = activity.requests_7d,
        e7 = activity.errors_7d,
        day = counts_text(activity.requests_24h, activity.errors_24h),
        week = counts_text(activity.requests_7d, activity.errors_7d),
    )
}

/// The new-place notices, newest first, with one button that dismisses those shown.
fn notices(activity: &ActivityView, now: UnixMillis) -> String {
    let Some(newest) = activity.new_places.first() else {
        return String::new();
    };
    let items: String = activity
        .new_places
        .iter()
        .map(|n| {
            let when = parse_rfc3339(&n.at)
                .map(|t| format!(" {}", time_element(t, now)))
                .unwrap_or_default();
            format!(
                "<li>First use from {place}{when} — if that was not you, rotate the URL.</li>",
                place = escape(&new_place_text(n)),
            )
        })
        .collect();
    format!(
        r#"<div class="new-place" role="alert" data-until="{until}"><ul>{items}</ul><button class="link" type="button" data-action="dismiss-notices">Dismiss</button></div>
"#,
        until = escape(&newest.at),
    )
}

/// The name a value has in the API's JSON (`"401"`, `"needs_reauth"`).
fn json_name(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Styles of the section, on top of the dashboard's.
pub const ACTIVITY_STYLE: &str = r#"
section.activity { margin: .5rem 0 0; padding-top: .5rem; border-top: 1px solid var(--border); }
dl.activity-facts { margin: .25rem 0 .5rem; }
dl.activity-facts .wide { grid-column: 1 / -1; }
.new-place { display: flex; flex-wrap: wrap; align-items: baseline; justify-content: space-between; gap: .25rem .75rem; margin: .25rem 0 .5rem; padding: .5rem .75rem; border-radius: .5rem; color: #78350f; background: #fef3c7; border: 1px solid #f59e0b; }
.new-place ul { margin: 0; padding: 0; list-style: none; flex: 1 1 12rem; min-width: 0; overflow-wrap: anywhere; }
details.refreshes summary { cursor: pointer; font-size: .9rem; color: var(--muted); }
.refresh-list, .no-refreshes { margin: .35rem 0 0; padding-left: 1.25rem; font-size: .9rem; }
.no-refreshes { padding-left: 0; color: var(--muted); }
"#;

/// Dismissing the notices shown: the API forgets those up to the newest one on the page.
pub const ACTIVITY_SCRIPT: &str = r#"(function () {
  document.querySelectorAll("article.connection .new-place").forEach(function (box) {
    var card = box.closest("article.connection");
    var button = box.querySelector("[data-action=dismiss-notices]");
    button.addEventListener("click", function () {
      button.disabled = true;
      fetch("/api/connections/" + card.dataset.id + "/dismiss-notices", {
        method: "POST", credentials: "same-origin",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ until: box.dataset.until })
      }).then(function (r) {
        if (!r.ok) throw new Error("The Worker answered " + r.status + ".");
        box.remove();
      }).catch(function (err) {
        button.disabled = false;
        var line = document.getElementById("status-line");
        line.textContent = "Not dismissed: " + err.message;
      });
    });
  });
})();"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::activity::{
        Activity, Batch, Place, RefreshNote, RefreshResult, RefreshTrigger,
    };

    const NOW: UnixMillis = 1_795_690_200_000;

    #[test]
    fn the_card_says_when_and_where_counts_and_refreshes() {
        let mut activity = Activity::default();
        let mut batch = Batch::default();
        let ams = Place::reported(Some("AMS".into()), Some("NL".into()));
        batch.note(NOW - 6 * 60_000, ams.as_ref(), false);
        batch.note(NOW - 3 * 60_000, ams.as_ref(), true);
        activity.merge(&batch, NOW);
        activity.note_refresh(RefreshNote {
            at: NOW - 60_000,
            trigger: RefreshTrigger::Rejected,
            outcome: RefreshResult::Refreshed,
        });
        let html = activity_section(Some(&activity.view(NOW)), NOW);
        assert!(
            html.contains(">3 min ago</time> from AMS (NL)</dd>"),
            "{html}"
        );
        assert!(html.contains(r#"data-requests="2" data-errors="1">2 requests, 1 error</dd>"#));
        assert!(html.contains(r#"<li data-trigger="401" data-outcome="refreshed">"#));
        assert!(html.contains("· upstream 401 · refreshed</li>"));
        assert!(!html.contains("new-place"), "the first place is no news");
    }

    #[test]
    fn a_new_place_is_a_notice_with_a_dismiss_button() {
        let mut activity = Activity::default();
        let mut first = Batch::default();
        first.note(
            NOW - 3 * 3_600_000,
            Place::reported(Some("AMS".into()), Some("NL".into())).as_ref(),
            false,
        );
        activity.merge(&first, NOW);
        let mut far = Batch::default();
        far.note(
            NOW - 2 * 3_600_000,
            Place::reported(Some("GRU".into()), Some("BR".into())).as_ref(),
            false,
        );
        activity.merge(&far, NOW);
        let html = activity_section(Some(&activity.view(NOW)), NOW);
        assert!(
            html.contains(r#"data-until="2026-11-26T08:50:00Z""#),
            "{html}"
        );
        assert!(html.contains("First use from BR (GRU) <time"));
        assert!(html.contains(">2 h ago</time> — if that was not you, rotate the URL.</li>"));
        assert!(html.contains(r#"data-action="dismiss-notices""#));
    }

    #[test]
    fn no_activity_yet_and_an_object_that_could_not_say() {
        let html = activity_section(Some(&ActivityView::default()), NOW);
        assert!(html.contains(r#"<dd class="last-used">never</dd>"#));
        assert!(html.contains("0 requests, 0 errors"));
        assert!(html.contains("No refresh since this was recorded."));
        assert!(activity_section(None, NOW).contains("Activity is unavailable right now."));
    }
}
