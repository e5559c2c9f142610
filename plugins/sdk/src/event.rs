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
