//! The snake_case names of WIT enums, exactly as they appear in `router.event/v1` JSON and in
//! router.toml route matches, so plugin settings can name them the same way.

use crate::types::{Action, Category};

macro_rules! enum_names {
    ($ty:ident, $name_fn:ident, $parse_fn:ident, { $($variant:ident => $text:literal),* $(,)? }) => {
        /// The schema name of a value.
        pub fn $name_fn(value: $ty) -> &'static str {
            match value { $($ty::$variant => $text),* }
        }
        /// Parses a schema name; `None` for anything unknown.
        pub fn $parse_fn(text: &str) -> Option<$ty> {
            match text { $($text => Some($ty::$variant),)* _ => None }
        }
    };
}

enum_names!(Category, category_name, parse_category, {
    Recognition => "recognition", Access => "access", Attendance => "attendance", Alarm => "alarm",
    Tracking => "tracking", Episode => "episode", Counter => "counter", Repository => "repository",
    System => "system", Unknown => "unknown",
});

enum_names!(Action, action_name, parse_action, {
    FaceDetected => "face_detected", FaceMatched => "face_matched", FaceUnmatched => "face_unmatched",
    Stranger => "stranger", LivenessFailed => "liveness_failed", BlacklistHit => "blacklist_hit",
    VehicleDetected => "vehicle_detected", VehicleMatched => "vehicle_matched", BodyDetected => "body_detected",
    EpisodeOpened => "episode_opened", EpisodeUpdated => "episode_updated", EpisodeClosed => "episode_closed",
    CounterRecord => "counter_record", AreaActivation => "area_activation",
    RoiEnter => "roi_enter", RoiExit => "roi_exit",
    LineCrossForward => "line_cross_forward", LineCrossReverse => "line_cross_reverse",
    HarFall => "har_fall", HarSit => "har_sit", HarLie => "har_lie", HarFight => "har_fight",
    TrackUpdate => "track_update",
    AccessGranted => "access_granted", AccessDenied => "access_denied", AccessRequest => "access_request",
    Register => "register", ClockIn => "clock_in", ClockOut => "clock_out",
    BreakStart => "break_start", BreakEnd => "break_end", TaskStart => "task_start",
    JobStart => "job_start", JobStop => "job_stop", Present => "present",
    DeviceAlarmRaised => "device_alarm_raised", DeviceAlarmClearFailed => "device_alarm_clear_failed",
    DeviceAlarmCleared => "device_alarm_cleared",
    EntityIndexed => "entity_indexed", EntityMoved => "entity_moved",
    EntitySecurityChanged => "entity_security_changed", EntityIngestFailed => "entity_ingest_failed",
    EntityVisibilityChanged => "entity_visibility_changed",
    SubscriptionChallenge => "subscription_challenge", Heartbeat => "heartbeat", Unknown => "unknown",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for text in ["face_matched", "device_alarm_clear_failed", "unknown", "clock_in"] {
            assert_eq!(action_name(parse_action(text).unwrap()), text);
        }
        assert_eq!(parse_category("attendance"), Some(Category::Attendance));
        assert_eq!(parse_action("FaceMatched"), None);
    }
}
