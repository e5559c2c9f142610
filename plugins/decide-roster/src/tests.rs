use super::*;
use router_plugin_sdk::event::blank;
use router_plugin_sdk::types::{Action, Category, Decision, PersonType, SubjectKind};
use serde_json::{Value, json};

fn settings(value: Value) -> Settings {
    router_plugin_sdk::settings::parse(&value.to_string()).expect("settings parse")
}

fn policy() -> Policy {
    Policy::new(settings(json!({
        "min_score": 0.8,
        "tips": { "stranger": "Unknown face", "outside_hours": "Not now" },
        "rules": [
            { "name": "staff-weekdays", "groups": ["staff"], "days": ["mon", "tue", "wed", "thu", "fri"],
              "hours": ["07:00-19:00"], "tip": "Welcome {name}" },
            { "name": "night-shift", "groups": ["night"], "days": ["fri"], "hours": ["22:00-06:00"] },
            { "name": "ceo", "persons": ["p-ceo"] },
        ],
    })))
    .expect("valid")
}

fn roster(key: &str) -> Option<String> {
    let entry = match key {
        "p-1" => json!({ "person_id": "p-1", "name": "Jane", "groups": "staff;first-aid" }),
        "p-2" => json!({ "person_id": "p-2", "name": "Bob", "groups": ["night"] }),
        "p-3" => json!({ "person_id": "p-3", "name": "Eve", "groups": "staff", "status": "Blocked" }),
        "p-4" => json!({ "person_id": "p-4", "groups": "visitors" }),
        "p-ceo" => json!({ "person_id": "p-ceo" }),
        _ => return None,
    };
    Some(entry.to_string())
}

fn person(id: Option<&str>, score: Option<f64>) -> Event {
    let mut e = blank("sensenebula_pass", Category::Access, Action::AccessRequest);
    let subject = router_plugin_sdk::paths::subject(&mut e, true).expect("created");
    subject.kind = SubjectKind::Person;
    subject.person_id = id.map(str::to_string);
    subject.person_type = PersonType::Employee;
    if let Some(score) = score {
        router_plugin_sdk::event::set_score(&mut e, score);
        router_plugin_sdk::paths::matching(&mut e, true)
            .expect("created")
            .matched = Some(true);
    }
    e
}

const TUESDAY_9: Clock = Clock {
    weekday: 2,
    minute: 9 * 60,
};

fn rule(event: &Event, clock: Clock) -> (Decision, Option<String>, Value) {
    let r = policy().decide(event, clock, 5, roster);
    (r.decision, r.custom_tip, serde_json::from_str(&r.details).unwrap())
}

#[test]
fn staff_pass_in_their_window_with_their_tip() {
    let (decision, tip, details) = rule(&person(Some("p-1"), Some(0.93)), TUESDAY_9);
    assert_eq!(decision, Decision::Granted);
    assert_eq!(tip.as_deref(), Some("Welcome Jane"));
    assert_eq!(
        details,
        json!({ "reason": "staff-weekdays", "user_id": "p-1", "user_name": "Jane" })
    );
}

#[test]
fn outside_the_window_is_denied_with_the_reason() {
    for clock in [
        Clock {
            weekday: 2,
            minute: 19 * 60,
        },
        Clock {
            weekday: 6,
            minute: 9 * 60,
        },
        Clock {
            weekday: 2,
            minute: 6 * 60 + 59,
        },
    ] {
        let (decision, tip, details) = rule(&person(Some("p-1"), Some(0.93)), clock);
        assert_eq!(
            (decision, tip.as_deref()),
            (Decision::Denied, Some("Not now")),
            "{clock:?}"
        );
        assert_eq!(details["reason"], "outside-hours");
    }
}

#[test]
fn a_window_past_midnight_belongs_to_the_day_it_starts() {
    let night = person(Some("p-2"), None);
    let friday_23 = Clock {
        weekday: 5,
        minute: 23 * 60,
    };
    let saturday_5 = Clock {
        weekday: 6,
        minute: 5 * 60,
    };
    let saturday_23 = Clock {
        weekday: 6,
        minute: 23 * 60,
    };
    let friday_5 = Clock {
        weekday: 5,
        minute: 5 * 60,
    };
    assert_eq!(rule(&night, friday_23).0, Decision::Granted);
    assert_eq!(rule(&night, saturday_5).0, Decision::Granted);
    assert_eq!(rule(&night, saturday_23).0, Decision::Denied);
    assert_eq!(
        rule(&night, friday_5).0,
        Decision::Denied,
        "Thursday's night is not open"
    );
}

#[test]
fn strangers_low_scores_unlisted_blocked_and_uncovered_are_denied() {
    let mut stranger = person(Some("p-1"), Some(0.95));
    stranger.subject.as_mut().unwrap().person_type = PersonType::Stranger;
    let mut unmatched = person(Some("p-1"), Some(0.95));
    unmatched.match_.as_mut().unwrap().matched = Some(false);
    let mut no_subject = person(None, None);
    no_subject.subject = None;
    let cases = [
        (stranger, "stranger", Some("Unknown face")),
        (unmatched, "stranger", Some("Unknown face")),
        (no_subject, "stranger", Some("Unknown face")),
        (person(None, Some(0.9)), "stranger", Some("Unknown face")),
        (person(Some("p-1"), Some(0.5)), "low-score", None),
        (person(Some("p-404"), Some(0.9)), "not-listed", None),
        (person(Some("p-3"), Some(0.9)), "blocked", None),
        (person(Some("p-4"), Some(0.9)), "no-rule", None),
    ];
    for (event, reason, tip) in cases {
        let (decision, got_tip, details) = rule(&event, TUESDAY_9);
        assert_eq!(decision, Decision::Denied, "{reason}");
        assert_eq!(details["reason"], reason);
        assert_eq!(got_tip.as_deref(), tip, "{reason}");
    }
}

#[test]
fn a_person_rule_needs_no_group_and_is_always_open_by_default() {
    let (decision, tip, details) = rule(
        &person(Some("p-ceo"), None),
        Clock {
            weekday: 7,
            minute: 3 * 60,
        },
    );
    assert_eq!((decision, tip), (Decision::Granted, None));
    assert_eq!(details, json!({ "reason": "ceo", "user_id": "p-ceo" }));
}

#[test]
fn other_categories_are_left_to_the_normalizer() {
    let alarm = blank("sensenebula_pass", Category::Alarm, Action::DeviceAlarmRaised);
    assert_eq!(rule(&alarm, TUESDAY_9).0, Decision::Unknown);
    let clock_in = Policy::new(settings(json!({
        "categories": ["attendance"],
        "rules": [{ "name": "all", "groups": ["staff"] }],
    })))
    .unwrap();
    let mut event = person(Some("p-1"), None);
    event.category = Category::Attendance;
    assert_eq!(
        clock_in.decide(&event, TUESDAY_9, 5, roster).decision,
        Decision::Granted
    );
    assert_eq!(
        clock_in
            .decide(&person(Some("p-1"), None), TUESDAY_9, 5, roster)
            .decision,
        Decision::Unknown
    );
}

#[test]
fn the_lookup_key_follows_match_on() {
    let policy = Policy::new(settings(json!({
        "match_on": "card_number",
        "rules": [{ "name": "all", "groups": ["staff"] }],
    })))
    .unwrap();
    let mut event = person(Some("p-404"), None);
    event.subject.as_mut().unwrap().card_number = Some("p-1".into());
    assert_eq!(policy.decide(&event, TUESDAY_9, 5, roster).decision, Decision::Granted);
}

#[test]
fn without_a_roster_nobody_is_listed_and_the_reason_says_so() {
    let r = policy().decide(&person(Some("p-1"), Some(0.95)), TUESDAY_9, 0, roster);
    assert_eq!(r.decision, Decision::Denied);
    assert_eq!(
        serde_json::from_str::<Value>(&r.details).unwrap()["reason"],
        "no-roster"
    );
}

#[test]
fn settings_are_validated_with_the_setting_named() {
    let cases = [
        (json!({ "rules": [] }), "no `rules`"),
        (
            json!({ "min_score": 2, "rules": [{ "name": "a", "groups": ["g"] }] }),
            "`min_score`",
        ),
        (
            json!({ "match_on": "face", "rules": [{ "name": "a", "groups": ["g"] }] }),
            "`match_on`",
        ),
        (
            json!({ "rules": [{ "name": "a" }] }),
            "rule 1 (`a`): name `groups` or `persons`",
        ),
        (
            json!({ "rules": [{ "name": "a", "groups": ["g"], "days": ["monday"] }] }),
            "day `monday`",
        ),
        (
            json!({ "rules": [{ "name": "a", "groups": ["g"], "hours": ["7-19"] }] }),
            "hours `7-19`",
        ),
        (
            json!({ "rules": [{ "name": "a", "groups": ["g"], "hours": ["25:00-26:00"] }] }),
            "hours `25:00-26:00`",
        ),
        (
            json!({ "rules": [{ "name": "a", "groups": ["g"] }, { "name": "a", "persons": ["p"] }] }),
            "another rule",
        ),
        (
            json!({ "tips": { "granted": "x" }, "rules": [{ "name": "a", "groups": ["g"] }] }),
            "`tips.granted`",
        ),
        (
            json!({ "rules": [{ "name": "a", "groups": ["g"], "tip": "a\nb" }] }),
            "control characters",
        ),
        (
            json!({ "categories": ["doors"], "rules": [{ "name": "a", "groups": ["g"] }] }),
            "category `doors`",
        ),
    ];
    for (value, want) in cases {
        let err = match Policy::new(settings(value.clone())) {
            Err(PluginError::BadSettings(m)) => m,
            other => panic!("{value}: {other:?}"),
        };
        assert!(err.contains(want), "{value}: {err}");
    }
    let unknown = router_plugin_sdk::settings::parse::<Settings>(r#"{"rules": [], "colour": 1}"#);
    assert!(matches!(unknown, Err(PluginError::BadSettings(m)) if m.contains("colour")));
}
