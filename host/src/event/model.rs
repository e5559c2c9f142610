//! The event record and its parts, as written to sinks.

use super::json_object::JsonObject;
use serde::{Deserialize, Serialize};

/// The schema id of every event this router emits.
pub const SCHEMA: &str = "router.event/v1";

/// Declares a schema enum: serde names, `as_str`, `parse` and `ALL` from one list.
macro_rules! schema_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[expect(missing_docs, reason = "variants are the schema's enum values, documented in wit/types.wit")]
        pub enum $name { $(#[serde(rename = $text)] $variant),* }

        impl $name {
            /// Every value, in schema order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The schema (snake_case) name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            /// Parses a schema name.
            pub fn parse(text: &str) -> Option<$name> {
                match text { $($text => Some($name::$variant),)* _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

schema_enum!(
    /// How `occurred_at` got its zone.
    TzSource { Explicit = "explicit", AssumedUtc = "assumed_utc", DerivedFromLocal = "derived_from_local",
    DeviceClockUnverified = "device_clock_unverified", Missing = "missing" }
);
schema_enum!(
    /// The broad family of an event.
    Category { Recognition = "recognition", Access = "access", Attendance = "attendance", Alarm = "alarm",
    Tracking = "tracking", Episode = "episode", Counter = "counter", Repository = "repository", System = "system",
    Unknown = "unknown" }
);
schema_enum!(
    /// What happened.
    Action {
    FaceDetected = "face_detected", FaceMatched = "face_matched", FaceUnmatched = "face_unmatched",
    Stranger = "stranger", LivenessFailed = "liveness_failed", BlacklistHit = "blacklist_hit",
    VehicleDetected = "vehicle_detected", VehicleMatched = "vehicle_matched", BodyDetected = "body_detected",
    EpisodeOpened = "episode_opened", EpisodeUpdated = "episode_updated", EpisodeClosed = "episode_closed",
    CounterRecord = "counter_record", AreaActivation = "area_activation",
    RoiEnter = "roi_enter", RoiExit = "roi_exit",
    LineCrossForward = "line_cross_forward", LineCrossReverse = "line_cross_reverse",
    HarFall = "har_fall", HarSit = "har_sit", HarLie = "har_lie", HarFight = "har_fight",
    TrackUpdate = "track_update",
    AccessGranted = "access_granted", AccessDenied = "access_denied", AccessRequest = "access_request",
    Register = "register", ClockIn = "clock_in", ClockOut = "clock_out",
    BreakStart = "break_start", BreakEnd = "break_end", TaskStart = "task_start",
    JobStart = "job_start", JobStop = "job_stop", Present = "present",
    DeviceAlarmRaised = "device_alarm_raised", DeviceAlarmClearFailed = "device_alarm_clear_failed",
    DeviceAlarmCleared = "device_alarm_cleared",
    EntityIndexed = "entity_indexed", EntityMoved = "entity_moved",
    EntitySecurityChanged = "entity_security_changed", EntityIngestFailed = "entity_ingest_failed",
    EntityVisibilityChanged = "entity_visibility_changed",
    SubscriptionChallenge = "subscription_challenge", Heartbeat = "heartbeat", Unknown = "unknown" }
);
schema_enum!(
    /// What the subject is.
    SubjectKind { Person = "person", Vehicle = "vehicle", Body = "body", RepositoryEntity = "repository_entity", Unknown = "unknown" }
);
schema_enum!(
    /// The subject's role.
    PersonType { Employee = "employee", Visitor = "visitor", Blacklist = "blacklist", Stranger = "stranger",
    Vip = "vip", Other = "other", Unknown = "unknown" }
);
schema_enum!(
    /// What kind of group.
    GroupKind { Watchlist = "watchlist", Group = "group", ProfileGroup = "profile_group" }
);
schema_enum!(
    /// Liveness verdict.
    Liveness { Live = "live", Spoof = "spoof", Unknown = "unknown" }
);
schema_enum!(
    /// Gender attribute.
    Gender { Male = "male", Female = "female", Unknown = "unknown" }
);
schema_enum!(
    /// Face-mask state.
    MaskState { Worn = "worn", NotWorn = "not_worn", Unknown = "unknown", NotEnabled = "not_enabled" }
);
schema_enum!(
    /// The role of an image.
    MediaRole { FaceCrop = "face_crop", FullFrame = "full_frame", NormalizedFace = "normalized_face",
    PlateCrop = "plate_crop", AlarmPhoto = "alarm_photo", BestShot = "best_shot", Avatar = "avatar", Sample = "sample" }
);
schema_enum!(
    /// An access decision.
    Decision { Granted = "granted", Denied = "denied", Unknown = "unknown" }
);
schema_enum!(
    /// Who made the access decision, as a normalizer reports it (the WIT `decided-by`).
    DecidedByKind { Device = "device", Router = "router", VendorCloud = "vendor_cloud", Unknown = "unknown" }
);

/// Who made the access decision (`access.decided_by`): what the normalizer reported, or, on a
/// source with a `decider`, the decider's plugin id, `fallback` (the source's fallback
/// answered: the decider was late, trapped, failed or the router was overloaded) or `device`
/// (`fallback = "device"`: the terminal's own decision stands). Decider ids cannot be one of
/// the words (config rejects them), so the string alone tells them apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DecidedBy {
    /// A schema value reported by the normalizer.
    Reported(DecidedByKind),
    /// The source's fallback.
    Fallback,
    /// A decider plugin, by id.
    Plugin(String),
}

impl DecidedBy {
    /// The word `fallback`.
    pub const FALLBACK: &'static str = "fallback";
    /// The terminal decided.
    pub const DEVICE: DecidedBy = DecidedBy::Reported(DecidedByKind::Device);

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        match self {
            DecidedBy::Reported(kind) => kind.as_str(),
            DecidedBy::Fallback => Self::FALLBACK,
            DecidedBy::Plugin(id) => id,
        }
    }

    /// Whether `id` cannot name a decider (it would read as one of the reserved words).
    pub fn is_reserved(id: &str) -> bool {
        id == Self::FALLBACK || DecidedByKind::parse(id).is_some()
    }
}

impl Serialize for DecidedBy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DecidedBy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<DecidedBy, D::Error> {
        let text = String::deserialize(d)?;
        Ok(match DecidedByKind::parse(&text) {
            Some(kind) => DecidedBy::Reported(kind),
            None if text == DecidedBy::FALLBACK => DecidedBy::Fallback,
            None => DecidedBy::Plugin(text),
        })
    }
}
schema_enum!(
    /// How the person identified.
    AccessMethod { Face = "face", Card = "card", Qr = "qr", Pin = "pin", Passcode = "passcode", IdCard = "id_card",
    Button = "button", Other = "other" }
);
schema_enum!(
    /// Device alarm state.
    AlarmState { Raised = "raised", ClearFailed = "clear_failed", Cleared = "cleared" }
);
schema_enum!(
    /// How the event reached the router.
    Transport { HttpPost = "http_post", HttpPut = "http_put", HttpGet = "http_get", Websocket = "websocket", SyncAuth = "sync_auth" }
);
schema_enum!(
    /// How the sender authenticated.
    AuthKind { None = "none", Basic = "basic", Bearer = "bearer", Oauth2 = "oauth2", Hmac = "hmac", UrlToken = "url_token" }
);

/// Where the event came from.
#[expect(missing_docs, reason = "fields are documented in wit/types.wit and VENDORS.md §7")]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    pub org: Option<String>,
    pub site: Option<String>,
    pub tenant: Option<String>,
    pub device_id: Option<String>,
    pub device_name: Option<String>,
    pub camera_id: Option<String>,
    pub camera_name: Option<String>,
    pub camera_group_id: Option<String>,
    pub camera_group_name: Option<String>,
    pub agent_id: Option<String>,
    pub subscription_id: Option<String>,
}

/// A group the subject belongs to.
#[expect(missing_docs, reason = "fields are documented in wit/types.wit")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub name: Option<String>,
    pub color: Option<String>,
    pub kind: GroupKind,
}

/// Who or what the event is about.
#[expect(missing_docs, reason = "fields are documented in wit/types.wit")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Subject {
    pub kind: SubjectKind,
    pub person_id: Option<String>,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub employee_number: Option<String>,
    pub card_number: Option<String>,
    pub id_document_number: Option<String>,
    pub person_type: PersonType,
    pub person_type_raw: Option<String>,
    pub groups: Vec<Group>,
}

/// A recognition candidate.
#[expect(missing_docs, reason = "fields are documented in wit/types.wit")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub person_id: String,
    pub score: Option<f64>,
    pub group_ids: Vec<String>,
    pub rank: u32,
}

/// The recognition result.
#[expect(missing_docs, reason = "fields are documented in wit/types.wit")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchInfo {
    pub matched: Option<bool>,
    pub score: Option<f64>,
    pub score_raw: Option<String>,
    pub candidates: Vec<Candidate>,
    pub liveness: Liveness,
    pub liveness_score: Option<f64>,
    pub quality: Option<f64>,
    pub track_id: Option<String>,
    pub track_start: Option<String>,
    pub track_end: Option<String>,
}

/// Vehicle attributes.
#[expect(missing_docs, reason = "fields are documented in wit/types.wit")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vehicle {
    pub plate: Option<String>,
    pub plate_country: Option<String>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub color: Option<String>,
    pub body: Option<String>,
}

/// Estimated or profile attributes.
#[expect(missing_docs, reason = "fields are documented in wit/types.wit")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attributes {
    pub age: Option<f64>,
    pub gender: Option<Gender>,
    pub emotion: Option<String>,
    pub glasses: Option<String>,
    pub beard: Option<String>,
    pub mask: Option<MaskState>,
    pub body_temperature_c: Option<f64>,
    pub temperature_elevated: Option<bool>,
    pub sentiment: Option<String>,
    pub vehicle: Option<Vehicle>,
}

/// A bounding box in pixels.
#[expect(missing_docs, reason = "fields are documented in wit/types.wit")]
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bbox {
    pub left: i32,
    pub top: i32,
    pub right: i32,
    pub bottom: i32,
}

/// An image reference (never the image itself).
#[expect(missing_docs, reason = "fields are documented in wit/types.wit")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaRef {
    pub role: MediaRole,
    pub url: Option<String>,
    pub vendor_media_id: Option<String>,
    pub blob_ref: Option<String>,
    pub mime: Option<String>,
    pub bytes: Option<u64>,
    pub decode_error: Option<String>,
    pub bbox: Option<Bbox>,
}

/// Where a mobile device was.
#[expect(missing_docs, reason = "fields are documented in wit/types.wit")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub accuracy_m: Option<f64>,
    pub altitude_m: Option<f64>,
}

/// Access-control details.
#[expect(missing_docs, reason = "fields are documented in wit/types.wit")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Access {
    pub decision: Decision,
    pub decided_by: DecidedBy,
    pub verify_mode_raw: Option<String>,
    pub entry_mode: Option<String>,
    pub entry_mode_raw: Option<i64>,
    pub abnormal: Option<String>,
    pub abnormal_raw: Option<i64>,
    pub custom_tip: Option<String>,
    pub method: Option<AccessMethod>,
    /// Host-owned (not in the WIT record): why the decider (or fallback) ruled as it did.
    #[serde(default)]
    pub reason: Option<String>,
    /// Host-owned: from the complete request to the ruling, in milliseconds.
    #[serde(default)]
    pub decision_latency_ms: Option<f64>,
}

/// A device alarm.
#[expect(missing_docs, reason = "fields are documented in wit/types.wit")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    pub code: Option<String>,
    pub code_name: Option<String>,
    pub state: Option<AlarmState>,
    pub trace_id: Option<String>,
    pub description: Option<String>,
}

/// A typed identifier of a repository entity.
#[expect(missing_docs, reason = "fields are documented in wit/types.wit")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identifier {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

/// A digital-repository entity (Preservica).
#[expect(missing_docs, reason = "fields are documented in wit/types.wit")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Repository {
    pub entity_ref: Option<String>,
    pub entity_type: Option<String>,
    pub trigger: Option<String>,
    pub identifiers: Vec<Identifier>,
}

/// How the event reached the router (host-owned).
#[expect(missing_docs, reason = "fields are documented in wit/types.wit")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub transport: Transport,
    pub delivery_id: String,
    pub batch_index: Option<u32>,
    pub batch_size: Option<u32>,
    pub auth: AuthKind,
    pub signature_valid: Option<bool>,
    pub duplicate_of: Option<String>,
    pub replay_suspected: bool,
}

/// One normalized event, `router.event/v1`.
#[expect(missing_docs, reason = "fields are documented in wit/types.wit and VENDORS.md §7")]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub schema: String,
    pub event_uid: String,
    pub dedup_key: Option<String>,
    pub vendor: String,
    pub vendor_product: Option<String>,
    pub vendor_event_id: Option<String>,
    pub vendor_event_type: Option<String>,
    pub category: Category,
    pub action: Action,
    pub occurred_at: Option<String>,
    pub occurred_at_raw: Option<String>,
    pub occurred_at_tz_source: TzSource,
    pub local_time: Option<String>,
    pub utc_offset_minutes: Option<i32>,
    pub received_at: String,
    pub source: SourceInfo,
    pub subject: Option<Subject>,
    #[serde(rename = "match")]
    pub matching: Option<MatchInfo>,
    pub attributes: Option<Attributes>,
    pub media: Vec<MediaRef>,
    pub location: Option<Location>,
    pub access: Option<Access>,
    pub alarm: Option<Alarm>,
    pub repository: Option<Repository>,
    pub delivery: Delivery,
    /// Unmapped vendor fields at their original paths.
    pub vendor_extras: JsonObject,
    /// Original values of coerced fields.
    pub vendor_fields_raw: JsonObject,
    pub warnings: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn enum_names_match_serde() {
        for a in Action::ALL {
            assert_eq!(serde_json::to_value(a).unwrap(), Value::String(a.as_str().to_string()));
            assert_eq!(Action::parse(a.as_str()), Some(*a));
        }
        assert_eq!(Category::parse("access"), Some(Category::Access));
        assert_eq!(Category::parse("Access"), None);
    }
}
