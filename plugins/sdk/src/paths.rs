//! Every normalized field a plugin setting may name by its dotted schema name
//! (`subject.person_id`, `match.score`…), with typed accessors, so normalize-json can fill
//! them and redact can clear them through one table.

use crate::types::{
    Access, Alarm, Attributes, DecidedBy, Decision, Event, Liveness, Location, MatchInfo, PersonType, Repository,
    SourceInfo, Subject, SubjectKind,
};

/// Accessor of an optional string field: `create` makes its parent part when absent;
/// without it the accessor returns `None` rather than adding an empty part.
pub type StrSlot = fn(&mut Event, bool) -> Option<&mut Option<String>>;
/// Accessor of an optional number field.
pub type NumSlot = fn(&mut Event, bool) -> Option<&mut Option<f64>>;
/// Accessor of an optional boolean field.
pub type BoolSlot = fn(&mut Event, bool) -> Option<&mut Option<bool>>;

/// How a named field is stored.
#[derive(Clone, Copy)]
pub enum Kind {
    /// An optional string field.
    Str(StrSlot),
    /// An optional number field.
    Num(NumSlot),
    /// An optional boolean field.
    Bool(BoolSlot),
    /// `category` (an enum).
    Category,
    /// `action` (an enum).
    Action,
    /// `occurred_at` with its raw value and tz source.
    OccurredAt,
    /// `access.decision` (an enum).
    Decision,
}

/// One addressable normalized field.
#[derive(Clone, Copy)]
pub struct Field {
    /// Its dotted schema name, e.g. `subject.person_id`.
    pub name: &'static str,
    /// How it is stored.
    pub kind: Kind,
}

/// The `subject` part, created empty when absent.
pub fn subject(e: &mut Event, create: bool) -> Option<&mut Subject> {
    if !create {
        return e.subject.as_mut();
    }
    Some(e.subject.get_or_insert_with(|| Subject {
        kind: SubjectKind::Unknown,
        person_id: None,
        external_id: None,
        display_name: None,
        first_name: None,
        last_name: None,
        employee_number: None,
        card_number: None,
        id_document_number: None,
        person_type: PersonType::Unknown,
        person_type_raw: None,
        groups: Vec::new(),
    }))
}

/// The `matching` part, created empty when absent.
pub fn matching(e: &mut Event, create: bool) -> Option<&mut MatchInfo> {
    if !create {
        return e.match_.as_mut();
    }
    Some(e.match_.get_or_insert_with(|| MatchInfo {
        matched: None,
        score: None,
        score_raw: None,
        candidates: Vec::new(),
        liveness: Liveness::Unknown,
        liveness_score: None,
        quality: None,
        track_id: None,
        track_start: None,
        track_end: None,
    }))
}

/// The `attributes` part, created empty when absent.
pub fn attributes(e: &mut Event, create: bool) -> Option<&mut Attributes> {
    if !create {
        return e.attributes.as_mut();
    }
    Some(e.attributes.get_or_insert(Attributes {
        age: None,
        gender: None,
        emotion: None,
        glasses: None,
        beard: None,
        mask: None,
        body_temperature_c: None,
        temperature_elevated: None,
        sentiment: None,
        vehicle: None,
    }))
}

/// The `location` part, created empty when absent.
pub fn location(e: &mut Event, create: bool) -> Option<&mut Location> {
    if !create {
        return e.location.as_mut();
    }
    Some(e.location.get_or_insert(Location {
        lat: None,
        lon: None,
        accuracy_m: None,
        altitude_m: None,
    }))
}

/// The `alarm` part, created empty when absent.
pub fn alarm(e: &mut Event, create: bool) -> Option<&mut Alarm> {
    if !create {
        return e.alarm.as_mut();
    }
    Some(e.alarm.get_or_insert(Alarm {
        code: None,
        code_name: None,
        state: None,
        trace_id: None,
        description: None,
    }))
}

/// The `repository` part, created empty when absent.
pub fn repository(e: &mut Event, create: bool) -> Option<&mut Repository> {
    if !create {
        return e.repository.as_mut();
    }
    Some(e.repository.get_or_insert_with(|| Repository {
        entity_ref: None,
        entity_type: None,
        trigger: None,
        identifiers: Vec::new(),
    }))
}

/// The `access` part, created empty when absent.
pub fn access(e: &mut Event, create: bool) -> Option<&mut Access> {
    if !create {
        return e.access.as_mut();
    }
    Some(e.access.get_or_insert(Access {
        decision: Decision::Unknown,
        decided_by: DecidedBy::Unknown,
        verify_mode_raw: None,
        entry_mode: None,
        entry_mode_raw: None,
        abnormal: None,
        abnormal_raw: None,
        custom_tip: None,
        method: None,
    }))
}

macro_rules! fields {
    ($( $name:literal => $kind:ident $( ( $($path:tt)* ) )? ),* $(,)?) => {
        const FIELDS: &[Field] = &[ $( Field { name: $name, kind: fields!(@kind $kind $( ($($path)*) )?) } ),* ];
    };
    (@kind Str ($get:ident . $field:ident)) => { Kind::Str(|e, create| $get(e, create).map(|p| &mut p.$field)) };
    (@kind Str (. $field:ident)) => { Kind::Str(|e, _| Some(&mut e.$field)) };
    (@kind Num ($get:ident . $field:ident)) => { Kind::Num(|e, create| $get(e, create).map(|p| &mut p.$field)) };
    (@kind Bool ($get:ident . $field:ident)) => { Kind::Bool(|e, create| $get(e, create).map(|p| &mut p.$field)) };
    (@kind $other:ident) => { Kind::$other };
}

/// The `source` part, created empty when absent.
pub fn source(e: &mut Event, _create: bool) -> Option<&mut SourceInfo> {
    Some(&mut e.source)
}

fields! {
    "vendor_event_id" => Str(.vendor_event_id),
    "vendor_event_type" => Str(.vendor_event_type),
    "vendor_product" => Str(.vendor_product),
    "dedup_key" => Str(.dedup_key),
    "local_time" => Str(.local_time),
    "category" => Category,
    "action" => Action,
    "occurred_at" => OccurredAt,
    "source.org" => Str(source.org),
    "source.site" => Str(source.site),
    "source.tenant" => Str(source.tenant),
    "source.device_id" => Str(source.device_id),
    "source.device_name" => Str(source.device_name),
    "source.camera_id" => Str(source.camera_id),
    "source.camera_name" => Str(source.camera_name),
    "source.camera_group_id" => Str(source.camera_group_id),
    "source.camera_group_name" => Str(source.camera_group_name),
    "source.agent_id" => Str(source.agent_id),
    "source.subscription_id" => Str(source.subscription_id),
    "subject.person_id" => Str(subject.person_id),
    "subject.external_id" => Str(subject.external_id),
    "subject.display_name" => Str(subject.display_name),
    "subject.first_name" => Str(subject.first_name),
    "subject.last_name" => Str(subject.last_name),
    "subject.employee_number" => Str(subject.employee_number),
    "subject.card_number" => Str(subject.card_number),
    "subject.id_document_number" => Str(subject.id_document_number),
    "subject.person_type_raw" => Str(subject.person_type_raw),
    "match.matched" => Bool(matching.matched),
    "match.score" => Num(matching.score),
    "match.liveness_score" => Num(matching.liveness_score),
    "match.quality" => Num(matching.quality),
    "match.track_id" => Str(matching.track_id),
    "attributes.age" => Num(attributes.age),
    "attributes.emotion" => Str(attributes.emotion),
    "attributes.glasses" => Str(attributes.glasses),
    "attributes.beard" => Str(attributes.beard),
    "attributes.body_temperature_c" => Num(attributes.body_temperature_c),
    "attributes.temperature_elevated" => Bool(attributes.temperature_elevated),
    "attributes.sentiment" => Str(attributes.sentiment),
    "location.lat" => Num(location.lat),
    "location.lon" => Num(location.lon),
    "location.accuracy_m" => Num(location.accuracy_m),
    "location.altitude_m" => Num(location.altitude_m),
    "access.decision" => Decision,
    "access.entry_mode" => Str(access.entry_mode),
    "access.custom_tip" => Str(access.custom_tip),
    "alarm.code" => Str(alarm.code),
    "alarm.trace_id" => Str(alarm.trace_id),
    "alarm.description" => Str(alarm.description),
    "repository.entity_ref" => Str(repository.entity_ref),
    "repository.entity_type" => Str(repository.entity_type),
    "repository.trigger" => Str(repository.trigger),
}

/// Every addressable field name, for error messages and docs.
pub fn names() -> impl Iterator<Item = &'static str> {
    FIELDS.iter().map(|t| t.name)
}

/// Every addressable field.
pub fn all() -> &'static [Field] {
    FIELDS
}

/// The field with this dotted schema name.
pub fn lookup(name: &str) -> Option<Field> {
    FIELDS.iter().copied().find(|t| t.name == name)
}
