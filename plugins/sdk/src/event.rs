//! Building normalized events: a blank `router.event/v1` record to fill in.

use crate::types::{Action, AuthKind, Category, Delivery, Event, SourceInfo, Transport, TzSource};

/// The schema id every event carries.
pub const SCHEMA: &str = "router.event/v1";

/// An event with every optional part empty, `extras`/`fields-raw` as `{}` and the host-owned
/// fields (`event-uid`, `received-at`, `delivery`) left for the host to fill in.
pub fn blank(vendor: &str, category: Category, action: Action) -> Event {
    Event {
        schema: SCHEMA.to_string(),
        event_uid: String::new(),
        dedup_key: None,
        vendor: vendor.to_string(),
        vendor_product: None,
        vendor_event_id: None,
        vendor_event_type: None,
        category,
        action,
        occurred_at: None,
        occurred_at_raw: None,
        occurred_at_tz_source: TzSource::Missing,
        local_time: None,
        utc_offset_minutes: None,
        received_at: String::new(),
        source: empty_source(),
        subject: None,
        match_: None,
        attributes: None,
        media: Vec::new(),
        location: None,
        access: None,
        alarm: None,
        repository: None,
        delivery: Delivery {
            transport: Transport::HttpPost,
            delivery_id: String::new(),
            batch_index: None,
            batch_size: None,
            auth: AuthKind::None,
            signature_valid: None,
            duplicate_of: None,
            replay_suspected: false,
        },
        extras: "{}".to_string(),
        fields_raw: "{}".to_string(),
        warnings: Vec::new(),
    }
}

/// Stores a vendor score (VENDORS.md §7.2): values within 0..1 become `match.score`; anything
/// else is of an unknown scale, so `score` stays empty, the raw value is kept in `score-raw`
/// and the event says `score_scale_unknown`.
pub fn set_score(event: &mut Event, score: f64) {
    let m = crate::paths::matching(event, true).expect("created on demand");
    if (0.0..=1.0).contains(&score) {
        m.score = Some(score);
    } else {
        m.score_raw = Some(score.to_string());
        event.warnings.push("score_scale_unknown".into());
    }
}

/// A `source-info` with every field absent.
pub fn empty_source() -> SourceInfo {
    SourceInfo {
        org: None,
        site: None,
        tenant: None,
        device_id: None,
        device_name: None,
        camera_id: None,
        camera_name: None,
        camera_group_id: None,
        camera_group_name: None,
        agent_id: None,
        subscription_id: None,
    }
}
