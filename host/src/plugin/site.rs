//! The `router:plugin/site` interface: what a decider knows about the site it decides for —
//! the operator's roster (read-only, from memory: a lookup never touches the disk) and the
//! wall-clock time in the site's zone (the source's `decision.time_zone`, set per call).

use super::bindings::wit_site::{Host, LocalTime};
use super::state::PluginState;

/// The local time at `now` in `zone`, as the WIT record.
pub(crate) fn local_time(now: jiff::Timestamp, zone: &jiff::tz::TimeZone) -> LocalTime {
    let zoned = now.to_zoned(zone.clone());
    let offset = zone.to_offset(now);
    LocalTime {
        date: zoned.date().to_string(),
        weekday: zoned.weekday().to_monday_one_offset() as u8,
        minute_of_day: (zoned.hour() as u16) * 60 + zoned.minute() as u16,
        second: zoned.second() as u8,
        utc_offset_minutes: offset.seconds() / 60,
        time_zone: zone.iana_name().unwrap_or("UTC").to_string(),
    }
}

impl Host for PluginState {
    fn local_now(&mut self) -> LocalTime {
        local_time(jiff::Timestamp::now(), &self.time_zone)
    }

    fn roster_lookup(&mut self, key: String) -> Option<String> {
        self.identity.roster.as_ref()?.get(&key).map(str::to_string)
    }

    fn roster_size(&mut self) -> u32 {
        self.identity
            .roster
            .as_ref()
            .map_or(0, |r| u32::try_from(r.len()).unwrap_or(u32::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_follows_the_zone_and_its_daylight_saving() {
        let berlin = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        // A Monday in winter (UTC+1) and a Sunday in summer (UTC+2).
        let winter: jiff::Timestamp = "2026-11-30T06:30:15Z".parse().unwrap();
        let t = local_time(winter, &berlin);
        assert_eq!(
            (
                t.date.as_str(),
                t.weekday,
                t.minute_of_day,
                t.second,
                t.utc_offset_minutes
            ),
            ("2026-11-30", 1, 7 * 60 + 30, 15, 60)
        );
        assert_eq!(t.time_zone, "Europe/Berlin");
        let summer: jiff::Timestamp = "2026-07-05T22:10:00Z".parse().unwrap();
        let t = local_time(summer, &berlin);
        assert_eq!(
            (t.date.as_str(), t.weekday, t.minute_of_day, t.utc_offset_minutes),
            ("2026-07-06", 1, 10, 120)
        );
        let utc = local_time(summer, &jiff::tz::TimeZone::UTC);
        assert_eq!((utc.weekday, utc.time_zone.as_str()), (7, "UTC"));
    }
}
