//! The edge's limits: `[server.limits]` (timeouts, connection caps, the buffered-body
//! budget, caps on plugin output), `[admin]` (who may use the operator endpoints) and a
//! source's `rate_limit`. Each default is a named constant with its reason; SECURITY.md lists
//! them all.

use super::bounds::Int;
use super::ctx::Ctx;
use super::raw::{RawAdmin, RawLimits, RawRateLimit};
use super::{AdminSpec, Cidr, EdgeLimits, RateLimit};
use std::time::Duration;
use toml::Spanned;

/// A vendor sends its request head at once; ten seconds covers a congested link and still
/// frees a slowloris connection quickly.
const DEFAULT_HEADER_TIMEOUT_MS: i64 = 10_000;
/// An 8 MiB batch needs about 140 KB/s to fit: any LAN or site uplink a terminal sits on.
const DEFAULT_BODY_TIMEOUT_MS: i64 = 60_000;
/// Slower than a 32 kbit/s line after the grace period is an attack, not a vendor.
const DEFAULT_MIN_BODY_BYTES_PER_SEC: i64 = 4_096;
/// Far above what the vendors here open (a FindFace server uses tens); the open-file limit
/// lowers it further at startup.
const DEFAULT_MAX_CONNECTIONS: i64 = 10_000;
/// 16 concurrent senders with keep-alive pools fit many times over; one host cannot hold
/// every connection.
const DEFAULT_MAX_CONNECTIONS_PER_PEER: i64 = 128;
/// 32 of the largest (8 MiB) bodies in memory at once.
const DEFAULT_MAX_BUFFERED_BODY_BYTES: i64 = 256 << 20;
/// A quarter of the budget per peer address: one sender cannot take it all.
const DEFAULT_PEER_SHARE: i64 = 4;
/// What requests being processed may hold at once, besides their bodies: two of the largest
/// (8 MiB) batches at their estimated cost (`ingest::processing`) — as many as there are
/// plugin threads on a small box — or a thousand terminal pushes.
const DEFAULT_MAX_PROCESSING_BYTES: i64 = 256 << 20;
/// FindFace batches and OMNI episode bursts stay in the hundreds.
const DEFAULT_MAX_EVENTS_PER_REQUEST: i64 = 10_000;
/// A normalized event is a few KiB; inline media go to the blob store, not the event.
const DEFAULT_MAX_EVENT_BYTES: i64 = 1 << 20;
/// Vendor replies are small JSON documents or empty.
const DEFAULT_MAX_REPLY_BYTES: i64 = 1 << 20;

pub(super) const LIMITS_HEADER_TIMEOUT_MS: Int = Int {
    label: "limits.header_timeout_ms",
    default: DEFAULT_HEADER_TIMEOUT_MS,
    min: 100,
    max: 3_600_000,
};

pub(super) const LIMITS_BODY_TIMEOUT_MS: Int = Int {
    label: "limits.body_timeout_ms",
    default: DEFAULT_BODY_TIMEOUT_MS,
    min: 100,
    max: 3_600_000,
};

pub(super) const LIMITS_MAX_BUFFERED_BODY_BYTES: Int = Int {
    label: "limits.max_buffered_body_bytes",
    default: DEFAULT_MAX_BUFFERED_BODY_BYTES,
    min: 1 << 10,
    max: i64::MAX,
};

pub(super) const LIMITS_MIN_BODY_BYTES_PER_SEC: Int = Int {
    label: "limits.min_body_bytes_per_sec",
    default: DEFAULT_MIN_BODY_BYTES_PER_SEC,
    min: 0,
    max: i64::MAX,
};

pub(super) const LIMITS_MAX_CONNECTIONS: Int = Int {
    label: "limits.max_connections",
    default: DEFAULT_MAX_CONNECTIONS,
    min: 1,
    max: 1_000_000,
};

pub(super) const LIMITS_MAX_CONNECTIONS_PER_PEER: Int = Int {
    label: "limits.max_connections_per_peer",
    default: DEFAULT_MAX_CONNECTIONS_PER_PEER,
    min: 1,
    max: 1_000_000,
};

pub(super) const LIMITS_MAX_PROCESSING_BYTES: Int = Int {
    label: "limits.max_processing_bytes",
    default: DEFAULT_MAX_PROCESSING_BYTES,
    min: 1 << 20,
    max: 1 << 40,
};

pub(super) const LIMITS_MAX_EVENTS_PER_REQUEST: Int = Int {
    label: "limits.max_events_per_request",
    default: DEFAULT_MAX_EVENTS_PER_REQUEST,
    min: 1,
    max: 10_000_000,
};

pub(super) const LIMITS_MAX_EVENT_BYTES: Int = Int {
    label: "limits.max_event_bytes",
    default: DEFAULT_MAX_EVENT_BYTES,
    min: 1 << 10,
    max: 1 << 30,
};

pub(super) const LIMITS_MAX_REPLY_BYTES: Int = Int {
    label: "limits.max_reply_bytes",
    default: DEFAULT_MAX_REPLY_BYTES,
    min: 0,
    max: 1 << 30,
};

/// Compiles `[server.limits]`.
pub(super) fn limits(cx: &mut Ctx<'_>, raw: Option<&RawLimits>) -> EdgeLimits {
    let ms = |cx: &mut Ctx<'_>, v: Option<&Spanned<i64>>, key: &Int| Duration::from_millis(cx.key(v, key) as u64);
    let max_buffered_body_bytes = cx.key(
        raw.and_then(|r| r.max_buffered_body_bytes.as_ref()),
        &LIMITS_MAX_BUFFERED_BODY_BYTES,
    );
    EdgeLimits {
        header_timeout: ms(
            cx,
            raw.and_then(|r| r.header_timeout_ms.as_ref()),
            &LIMITS_HEADER_TIMEOUT_MS,
        ),
        body_timeout: ms(
            cx,
            raw.and_then(|r| r.body_timeout_ms.as_ref()),
            &LIMITS_BODY_TIMEOUT_MS,
        ),
        min_body_bytes_per_sec: cx.key(
            raw.and_then(|r| r.min_body_bytes_per_sec.as_ref()),
            &LIMITS_MIN_BODY_BYTES_PER_SEC,
        ) as u64,
        max_connections: cx.key(raw.and_then(|r| r.max_connections.as_ref()), &LIMITS_MAX_CONNECTIONS) as usize,
        max_connections_per_peer: cx.key(
            raw.and_then(|r| r.max_connections_per_peer.as_ref()),
            &LIMITS_MAX_CONNECTIONS_PER_PEER,
        ) as usize,
        max_buffered_body_bytes: max_buffered_body_bytes as u64,
        peer_buffered_body_bytes: cx.int(
            raw.and_then(|r| r.peer_buffered_body_bytes.as_ref()),
            "limits.peer_buffered_body_bytes",
            max_buffered_body_bytes / DEFAULT_PEER_SHARE,
            1 << 10,
            max_buffered_body_bytes,
        ) as u64,
        max_processing_bytes: cx.key(
            raw.and_then(|r| r.max_processing_bytes.as_ref()),
            &LIMITS_MAX_PROCESSING_BYTES,
        ) as u64,
        max_events_per_request: cx.key(
            raw.and_then(|r| r.max_events_per_request.as_ref()),
            &LIMITS_MAX_EVENTS_PER_REQUEST,
        ) as usize,
        max_event_bytes: cx.key(raw.and_then(|r| r.max_event_bytes.as_ref()), &LIMITS_MAX_EVENT_BYTES) as usize,
        max_reply_bytes: cx.key(raw.and_then(|r| r.max_reply_bytes.as_ref()), &LIMITS_MAX_REPLY_BYTES) as usize,
    }
}

/// Compiles `[admin]`.
pub(super) fn admin(cx: &mut Ctx<'_>, raw: Option<&Spanned<RawAdmin>>) -> AdminSpec {
    let Some(raw) = raw.map(Spanned::get_ref) else {
        return AdminSpec::default();
    };
    let allow = raw
        .allow
        .iter()
        .filter_map(|a| match a.get_ref().parse::<Cidr>() {
            Ok(c) => Some(c),
            Err(e) => {
                cx.err(format!("`admin.allow`: {e}"), a.span());
                None
            }
        })
        .collect();
    let token_env = raw.token_env.as_ref().and_then(|t| {
        let name = t.get_ref().trim();
        if name.is_empty() || name.contains('=') {
            cx.err("`admin.token_env` must name an environment variable", t.span());
            None
        } else {
            Some(name.to_string())
        }
    });
    let token_file = raw.token_file.as_ref().and_then(|t| {
        let path = t.get_ref().trim();
        if path.is_empty() {
            cx.err("`admin.token_file` must name a file holding the token", t.span());
            None
        } else {
            Some(cx.resolve(path))
        }
    });
    let (listen, listen_chosen) = match &raw.listen {
        None => (AdminSpec::default().listen, false),
        Some(l) if l.get_ref() == "off" => (None, true),
        Some(l) => match l.get_ref().parse() {
            Ok(addr) => (Some(addr), true),
            Err(e) => {
                cx.err(
                    format!("`admin.listen` must be an address like \"127.0.0.1:8081\" or \"off\": {e}"),
                    l.span(),
                );
                (None, true)
            }
        },
    };
    AdminSpec {
        allow,
        token_env,
        token_file,
        listen,
        listen_chosen,
    }
}

/// Compiles a source's `rate_limit`.
pub(super) fn rate_limit(cx: &mut Ctx<'_>, raw: Option<&Spanned<RawRateLimit>>) -> Option<RateLimit> {
    let raw = raw?.get_ref();
    let per_second = *raw.per_second.get_ref();
    if !(per_second.is_finite() && per_second > 0.0 && per_second <= 1e6) {
        cx.err(
            format!("`rate_limit.per_second` must be above 0 and at most 1000000, got {per_second}"),
            raw.per_second.span(),
        );
        return None;
    }
    // A burst of one second's worth (at least one request) unless told otherwise.
    let default_burst = per_second.ceil().max(1.0) as i64;
    let burst = cx.int(raw.burst.as_ref(), "rate_limit.burst", default_burst, 1, 1_000_000) as u32;
    Some(RateLimit { per_second, burst })
}

#[cfg(test)]
mod tests {
    use super::Cidr;

    #[test]
    fn networks_match_their_addresses_and_mapped_ipv4() {
        let net: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(net.contains("10.200.1.2".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.1.1".parse().unwrap()));
        assert!(!net.contains("11.0.0.1".parse().unwrap()));
        let host: Cidr = "192.168.1.5".parse().unwrap();
        assert!(host.contains("192.168.1.5".parse().unwrap()));
        assert!(!host.contains("192.168.1.6".parse().unwrap()));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains("2001:db8:1::1".parse().unwrap()));
        assert!(!v6.contains("10.0.0.1".parse().unwrap()));
        let any: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(any.contains("8.8.8.8".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("example.com".parse::<Cidr>().is_err());
    }
}
