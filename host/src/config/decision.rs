//! Door decisions in router.toml: a source's `decider` and `decision` table, and a decider's
//! `roster`. Each default is a named constant with its reason.

use super::bounds::Int;
use super::ctx::Ctx;
use super::raw::{RawDecision, RawRoster, RawSource};
use super::{DecisionSpec, Fallback, RosterSpec};
use crate::event::DecidedBy;
use crate::plugin::PluginKind;
use std::collections::BTreeMap;
use std::time::Duration;
use toml::Spanned;

/// A person at a door notices a pause past half a second; 300 ms leaves the rest for the
/// terminal's network round trip.
const DEFAULT_DEADLINE_MS: i64 = 300;
/// NoahFace asks for an answer within 10 s; no terminal waits longer.
const MAX_DEADLINE_MS: i64 = 10_000;
/// The roster column most directories key people by.
pub(super) const DEFAULT_ROSTER_KEY: &str = "person_id";
/// Terminals show about ten characters; the cap only stops a runaway value.
pub(super) const MAX_TIP_BYTES: usize = 256;

pub(super) const DECISION_DEADLINE_MS: Int = Int {
    label: "decision.deadline_ms",
    default: DEFAULT_DEADLINE_MS,
    min: 1,
    max: MAX_DEADLINE_MS,
};

/// Compiles a plugin's `roster`: deciders only (nothing else can read it).
pub(super) fn roster(cx: &mut Ctx<'_>, raw: Option<&Spanned<RawRoster>>, kind: PluginKind) -> Option<RosterSpec> {
    let raw = raw?;
    if kind != PluginKind::Decider {
        cx.err(
            format!(
                "`roster` is read through `site.roster-lookup`, which only decider plugins import; this is a {}",
                kind.as_str()
            ),
            raw.span(),
        );
        return None;
    }
    let r = raw.get_ref();
    if r.path.get_ref().trim().is_empty() {
        cx.err("`roster.path` must name a .csv or .json file", r.path.span());
    }
    let key = match &r.key {
        Some(k) if k.get_ref().trim().is_empty() => {
            cx.err("`roster.key` must name the column holding each entry's key", k.span());
            DEFAULT_ROSTER_KEY.to_string()
        }
        Some(k) => k.get_ref().clone(),
        None => DEFAULT_ROSTER_KEY.to_string(),
    };
    Some(RosterSpec {
        path: cx.resolve(r.path.get_ref()),
        key,
    })
}

/// Compiles a source's `decider` and `decision`.
pub(super) fn decision(cx: &mut Ctx<'_>, s: &RawSource, kinds: &BTreeMap<&str, PluginKind>) -> Option<DecisionSpec> {
    let Some(decider) = &s.decider else {
        if let Some(d) = &s.decision {
            cx.err(
                "`decision` needs `decider = \"<plugin id>\"`: the plugin that makes the decisions",
                d.span(),
            );
        }
        return None;
    };
    if s.websocket.is_some() {
        cx.err(
            "a decider answers a terminal waiting on its HTTP request; a websocket feed gets no reply",
            decider.span(),
        );
    }
    if DecidedBy::is_reserved(decider.get_ref()) {
        cx.err(
            format!(
                "a decider cannot be called `{}`: events record the decider's id in `access.decided_by`, \
                 where that word means something else",
                decider.get_ref()
            ),
            decider.span(),
        );
    }
    let decider = super::ctx::plugin_ref(cx, kinds, decider, PluginKind::Decider, "decider");
    let empty = RawDecision {
        deadline_ms: None,
        fallback: None,
        tip_on_fallback: None,
        time_zone: None,
    };
    let raw = s.decision.as_ref().map_or(&empty, |d| d.get_ref());
    let deadline_ms = cx.key(raw.deadline_ms.as_ref(), &DECISION_DEADLINE_MS);
    let tip_on_fallback = raw.tip_on_fallback.as_ref().map(|t| {
        if t.get_ref().len() > MAX_TIP_BYTES || t.get_ref().chars().any(char::is_control) {
            cx.err(
                format!("`decision.tip_on_fallback` must be at most {MAX_TIP_BYTES} bytes without control characters"),
                t.span(),
            );
        }
        t.get_ref().clone()
    });
    let time_zone = match &raw.time_zone {
        None => "UTC".to_string(),
        Some(tz) => {
            if let Err(e) = jiff::tz::TimeZone::get(tz.get_ref()) {
                cx.err(
                    format!(
                        "`decision.time_zone` `{}` is not an IANA time zone (like \"Europe/Berlin\" or \"UTC\"): {e}",
                        tz.get_ref()
                    ),
                    tz.span(),
                );
            }
            tz.get_ref().clone()
        }
    };
    Some(DecisionSpec {
        decider,
        deadline: Duration::from_millis(deadline_ms as u64),
        fallback: raw.fallback.unwrap_or(Fallback::Deny),
        tip_on_fallback,
        time_zone,
    })
}
