use super::pending::Pending;
use super::view::{
    ActivityView, NewPlaceView, counts_text, last_used_text, new_place_text, notice_text,
    place_text,
};
use super::*;

const NOW: UnixMillis = 1_795_690_200_000; // 2026-11-26T10:50:00Z
const MIN: i64 = 60_000;

fn place(colo: &str, country: &str) -> Place {
    Place {
        colo: Some(colo.into()),
        country: Some(country.into()),
    }
}

fn batch_of(uses: &[(UnixMillis, Option<Place>, bool)]) -> Batch {
    let mut batch = Batch::default();
    for (at, place, error) in uses {
        batch.note(*at, place.as_ref(), *error);
    }
    batch
}

#[test]
fn a_reported_place_keeps_short_uppercase_codes_only() {
    assert_eq!(
        Place::reported(Some("ams".into()), Some("NL".into())),
        Some(place("AMS", "NL"))
    );
    assert_eq!(
        Place::reported(Some("AMS".into()), Some("<script>".into())),
        Some(Place {
            colo: Some("AMS".into()),
            country: None
        })
    );
    assert_eq!(Place::reported(None, Some(String::new())), None);
    assert_eq!(Place::reported(None, None), None);
}

#[test]
fn a_batch_counts_per_hour_and_keeps_the_latest_use() {
    let batch = batch_of(&[
        (NOW, Some(place("AMS", "NL")), false),
        (NOW + MIN, Some(place("AMS", "NL")), true),
        (NOW + 15 * MIN, None, false),
    ]);
    assert_eq!(
        batch.hours,
        vec![
            HourCount {
                hour: NOW / HOUR_MS,
                requests: 2,
                errors: 1
            },
            HourCount {
                hour: NOW / HOUR_MS + 1,
                requests: 1,
                errors: 0
            }
        ]
    );
    assert_eq!(
        batch.last,
        Some(LastUse {
            at: NOW + 15 * MIN,
            place: None
        })
    );
    assert_eq!(batch.places.len(), 1);
    assert_eq!(batch.requests(), 3);
}

#[test]
fn merged_batches_add_up_over_24_hours_and_7_days() {
    let mut activity = Activity::default();
    activity.merge(
        &batch_of(&[(NOW - 30 * HOUR_MS, None, true)]),
        NOW - 30 * HOUR_MS,
    );
    activity.merge(
        &batch_of(&[(NOW - MIN, None, false), (NOW, None, true)]),
        NOW,
    );
    activity.merge(&batch_of(&[(NOW, None, false)]), NOW);
    let view = activity.view(NOW);
    assert_eq!(
        (
            view.requests_24h,
            view.errors_24h,
            view.requests_7d,
            view.errors_7d
        ),
        (3, 1, 4, 2)
    );
    // 23 hours later the day's counts are still in the last 24 hours; an hour after, not.
    assert_eq!(activity.counts(NOW + 23 * HOUR_MS, 24), (3, 1));
    assert_eq!(activity.counts(NOW + 24 * HOUR_MS, 24), (0, 0));
}

#[test]
fn counts_older_than_7_days_roll_off_and_the_counters_stay_bounded() {
    let mut activity = Activity::default();
    for hour in 0..400 {
        let at = NOW + hour * HOUR_MS;
        activity.merge(&batch_of(&[(at, None, false)]), at);
    }
    assert_eq!(activity.hours.len(), KEPT_HOURS as usize);
    let end = NOW + 399 * HOUR_MS;
    assert_eq!(activity.counts(end, KEPT_HOURS), (168, 0));
    // A batch delivered long after its uses adds only what is still in the window.
    let mut late = Activity::default();
    late.merge(&batch_of(&[(NOW - 8 * 24 * HOUR_MS, None, true)]), NOW);
    assert_eq!(late.counts(NOW, KEPT_HOURS), (0, 0));
    // A clock far ahead is not believed.
    late.merge(&batch_of(&[(NOW + 5 * HOUR_MS, None, true)]), NOW);
    assert_eq!(late.hours, vec![]);
}

#[test]
fn the_last_use_is_the_latest_whatever_order_batches_arrive_in() {
    let mut activity = Activity::default();
    activity.merge(&batch_of(&[(NOW, Some(place("AMS", "NL")), false)]), NOW);
    activity.merge(
        &batch_of(&[(NOW - MIN, Some(place("FRA", "DE")), false)]),
        NOW,
    );
    assert_eq!(
        activity.last,
        Some(LastUse {
            at: NOW,
            place: Some(place("AMS", "NL"))
        })
    );
}

#[test]
fn the_first_use_is_not_a_new_place() {
    let mut activity = Activity::default();
    activity.merge(&batch_of(&[(NOW, Some(place("AMS", "NL")), false)]), NOW);
    assert_eq!(activity.notices, vec![]);
    assert_eq!(activity.places.len(), 1);
}

#[test]
fn a_new_country_and_a_new_colo_are_notices_a_known_place_is_not() {
    let mut activity = Activity::default();
    activity.merge(&batch_of(&[(NOW, Some(place("AMS", "NL")), false)]), NOW);
    activity.merge(
        &batch_of(&[
            (NOW + MIN, Some(place("AMS", "NL")), false),
            (NOW + 2 * MIN, Some(place("GRU", "BR")), false),
            (NOW + 3 * MIN, Some(place("RTM", "NL")), false),
            (NOW + 4 * MIN, Some(place("GRU", "BR")), false),
        ]),
        NOW + 5 * MIN,
    );
    assert_eq!(
        activity.notices,
        vec![
            NewPlace {
                place: place("GRU", "BR"),
                at: NOW + 2 * MIN,
                novelty: Novelty::Country
            },
            NewPlace {
                place: place("RTM", "NL"),
                at: NOW + 3 * MIN,
                novelty: Novelty::Colo
            },
        ]
    );
    // The known colo in a new country is news by its country.
    activity.merge(
        &batch_of(&[(NOW + 6 * MIN, Some(place("AMS", "BE")), false)]),
        NOW,
    );
    assert_eq!(
        activity.notices.last().map(|n| n.novelty),
        Some(Novelty::Country)
    );
}

#[test]
fn uses_without_a_place_neither_start_nor_break_the_rule() {
    let mut activity = Activity::default();
    activity.merge(&batch_of(&[(NOW, None, false)]), NOW);
    assert!(activity.places.is_empty());
    activity.merge(
        &batch_of(&[(NOW + MIN, Some(place("DFW", "US")), false)]),
        NOW,
    );
    assert_eq!(
        activity.notices,
        vec![],
        "the first place is where it starts"
    );
    activity.merge(&batch_of(&[(NOW + 2 * MIN, None, false)]), NOW);
    assert_eq!(activity.notices, vec![]);
}

#[test]
fn places_within_one_batch_are_judged_in_time_order() {
    let batch = Batch {
        places: vec![
            PlaceSeen {
                place: place("GRU", "BR"),
                at: NOW + MIN,
            },
            PlaceSeen {
                place: place("AMS", "NL"),
                at: NOW,
            },
        ],
        ..Batch::default()
    };
    let mut activity = Activity::default();
    activity.merge(&batch, NOW + MIN);
    assert_eq!(activity.notices.len(), 1);
    assert_eq!(
        activity.notices.first().map(|n| &n.place),
        Some(&place("GRU", "BR"))
    );
}

#[test]
fn notices_and_places_stay_bounded_and_dismissing_keeps_newer_ones() {
    let mut activity = Activity::default();
    activity.merge(&batch_of(&[(NOW, Some(place("AMS", "NL")), false)]), NOW);
    for i in 0..100 {
        let country = format!("C{i}");
        let at = NOW + (i + 1) * MIN;
        activity.merge(&batch_of(&[(at, Some(place("XXX", &country)), false)]), at);
    }
    assert_eq!(activity.places.len(), KEPT_PLACES);
    assert_eq!(activity.notices.len(), KEPT_NOTICES);
    let shown_until = NOW + 98 * MIN;
    assert!(activity.dismiss(shown_until));
    assert_eq!(
        activity.notices.iter().map(|n| n.at).collect::<Vec<_>>(),
        vec![NOW + 99 * MIN, NOW + 100 * MIN]
    );
    assert!(!activity.dismiss(NOW));
}

#[test]
fn the_last_refreshes_are_kept_newest_first_in_the_view() {
    let mut activity = Activity::default();
    let triggers = [
        RefreshTrigger::Alarm,
        RefreshTrigger::Cron,
        RefreshTrigger::Request,
        RefreshTrigger::Rejected,
    ];
    for i in 0..7 {
        activity.note_refresh(RefreshNote {
            at: NOW + i * MIN,
            trigger: triggers[(i % 4) as usize],
            outcome: if i == 6 {
                RefreshResult::NeedsReauth
            } else {
                RefreshResult::Refreshed
            },
        });
    }
    assert_eq!(activity.refreshes.len(), KEPT_REFRESHES);
    let view = activity.view(NOW + 7 * MIN);
    let first = view.refreshes.first().cloned();
    assert_eq!(
        first.map(|r| (r.at, r.trigger, r.outcome)),
        Some((
            crate::time::rfc3339(NOW + 6 * MIN),
            RefreshTrigger::Request,
            RefreshResult::NeedsReauth
        ))
    );
    let json = serde_json::to_value(&view.refreshes).unwrap_or_default();
    assert_eq!(json[1]["trigger"], "cron");
    assert_eq!(json[1]["outcome"], "refreshed");
    assert_eq!(json[3]["trigger"], "401");
}

#[test]
fn the_view_serializes_as_the_api_documents_it() {
    let mut activity = Activity::default();
    activity.merge(
        &batch_of(&[(NOW - 3 * MIN, Some(place("AMS", "NL")), true)]),
        NOW,
    );
    activity.merge(
        &batch_of(&[(NOW - 2 * MIN, Some(place("GRU", "BR")), false)]),
        NOW,
    );
    let json = serde_json::to_value(activity.view(NOW)).unwrap_or_default();
    assert_eq!(
        json,
        serde_json::json!({
            "last_used_at": "2026-11-26T10:48:00Z",
            "last_used_from": {"colo": "GRU", "country": "BR"},
            "requests_24h": 2, "errors_24h": 1, "requests_7d": 2, "errors_7d": 1,
            "refreshes": [],
            "new_places": [{"at": "2026-11-26T10:48:00Z", "colo": "GRU", "country": "BR", "novelty": "country"}],
        })
    );
    let back: ActivityView = serde_json::from_value(json).unwrap_or_default();
    assert_eq!(back, activity.view(NOW));
}

#[test]
fn the_words_for_the_dashboard_and_the_cli() {
    let mut view = ActivityView::default();
    assert_eq!(last_used_text(&view, NOW), "never");
    view.last_used_at = Some(crate::time::rfc3339(NOW - 3 * MIN));
    assert_eq!(last_used_text(&view, NOW), "3 min ago");
    view.last_used_from = Some(place("AMS", "NL"));
    assert_eq!(last_used_text(&view, NOW), "3 min ago from AMS (NL)");
    assert_eq!(
        place_text(&Place {
            colo: None,
            country: Some("NL".into())
        }),
        "NL"
    );
    let notice = NewPlaceView {
        at: crate::time::rfc3339(NOW - 2 * HOUR_MS),
        place: place("GRU", "BR"),
        novelty: Novelty::Country,
    };
    assert_eq!(
        notice_text(&notice, NOW),
        "First use from BR (GRU) 2 h ago — if that was not you, rotate the URL."
    );
    let colo = NewPlaceView {
        novelty: Novelty::Colo,
        place: place("RTM", "NL"),
        ..notice
    };
    assert_eq!(new_place_text(&colo), "RTM (NL)");
    assert_eq!(counts_text(1, 0), "1 request, 0 errors");
    assert_eq!(counts_text(12, 1), "12 requests, 1 error");
}

#[test]
fn an_isolate_schedules_one_delivery_per_batch() {
    let mut pending = Pending::default();
    let nl = place("AMS", "NL");
    assert!(pending.note("a", NOW, Some(&nl), false));
    assert!(!pending.note("a", NOW + 1, Some(&nl), true));
    assert!(pending.note("b", NOW, None, false));
    assert_eq!(pending.waiting(), 2);
    let batch = pending.due("a");
    assert_eq!(batch.as_ref().map(Batch::requests), Some(2));
    assert_eq!(pending.due("a"), None, "a delivery takes the batch once");
    assert!(
        pending.note("a", NOW + 2, None, false),
        "the next use schedules again"
    );
}

#[test]
fn a_batch_taken_along_by_a_token_call_leaves_one_delivery_scheduled() {
    let mut pending = Pending::default();
    assert!(pending.note("a", NOW, None, false));
    // A token call takes the first batch along; the delivery scheduled for it stays the only
    // one: the uses after it join a new batch without scheduling another.
    assert_eq!(pending.take("a").as_ref().map(Batch::requests), Some(1));
    assert_eq!(pending.take("a"), None);
    for i in 1..=50 {
        assert!(!pending.note("a", NOW + i, None, false), "use {i}");
        if i % 10 == 0 {
            assert!(pending.take("a").is_some());
        }
    }
    // The one scheduled delivery takes what gathered since the last token call; then the next
    // use schedules again.
    assert_eq!(pending.due("a"), None, "the last token call took all 50");
    assert!(pending.note("a", NOW + 60, None, false));
    assert!(!pending.note("a", NOW + 61, None, false));
    assert_eq!(pending.due("a").as_ref().map(Batch::requests), Some(2));
    assert_eq!(pending.waiting(), 0);
}

#[test]
fn dismissing_by_a_time_in_whole_seconds_includes_that_second() {
    let mut activity = Activity::default();
    activity.merge(&batch_of(&[(NOW, Some(place("AMS", "NL")), false)]), NOW);
    activity.merge(
        &batch_of(&[(NOW + 1_500, Some(place("GRU", "BR")), false)]),
        NOW,
    );
    activity.merge(
        &batch_of(&[(NOW + 2_100, Some(place("NRT", "JP")), false)]),
        NOW,
    );
    // The page shows the newest it knew as 10:50:01Z; the use at 10:50:02.1 stays.
    assert!(activity.dismiss(NOW + 1_000));
    assert_eq!(
        activity.notices.iter().map(|n| n.at).collect::<Vec<_>>(),
        vec![NOW + 2_100]
    );
}
