//! The edge's limits: `[server.limits]` (timeouts, connection caps, the buffered-body
//! budget, caps on plugin output), `[admin]` (who may use the operator endpoints) and a
//! source's `rate_limit`. Each default is a named constant with its reason; SECURITY.md lists
//! them all.

use super::compile::Ctx;
use super::raw::{RawAdmin, RawLimits, RawRateLimit};
use super::spec::{AdminSpec, Cidr, EdgeLimits, RateLimit};
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

/// Compiles `[server.limits]`.
pub(super) fn limits(cx: &mut Ctx<'_>, raw: Option<&RawLimits>) -> EdgeLimits {
    let ms = |cx: &mut Ctx<'_>, v: Option<&Spanned<i64>>, name: &str, default: i64| {
        Duration::from_millis(cx.int(v, name, default, 100, 3_600_000) as u64)
    };
    let max_buffered_body_bytes = cx.int(
        raw.and_then(|r| r.max_buffered_body_bytes.as_ref()),
        "limits.max_buffered_body_bytes",
        DEFAULT_MAX_BUFFERED_BODY_BYTES,
        1 << 10,
        i64::MAX,
    );
    EdgeLimits {
        header_timeout: ms(
            cx,
            raw.and_then(|r| r.header_timeout_ms.as_ref()),
            "limits.header_timeout_ms",
            DEFAULT_HEADER_TIMEOUT_MS,
        ),
        body_timeout: ms(
            cx,
            raw.and_then(|r| r.body_timeout_ms.as_ref()),
            "limits.body_timeout_ms",
            DEFAULT_BODY_TIMEOUT_MS,
        ),
        min_body_bytes_per_sec: cx.int(
            raw.and_then(|r| r.min_body_bytes_per_sec.as_ref()),
            "limits.min_body_bytes_per_sec",
            DEFAULT_MIN_BODY_BYTES_PER_SEC,
            0,
            i64::MAX,
        ) as u64,
        max_connections: cx.int(
            raw.and_then(|r| r.max_connections.as_ref()),
            "limits.max_connections",
            DEFAULT_MAX_CONNECTIONS,
            1,
            1_000_000,
        ) as usize,
        max_connections_per_peer: cx.int(
            raw.and_then(|r| r.max_connections_per_peer.as_ref()),
            "limits.max_connections_per_peer",
            DEFAULT_MAX_CONNECTIONS_PER_PEER,
            1,
            1_000_000,
        ) as usize,
        max_buffered_body_bytes: max_buffered_body_bytes as u64,
        peer_buffered_body_bytes: cx.int(
            raw.and_then(|r| r.peer_buffered_body_bytes.as_ref()),
            "limits.peer_buffered_body_bytes",
            max_buffered_body_bytes / DEFAULT_PEER_SHARE,
            1 << 10,
            max_buffered_body_bytes,
        ) as u64,
        max_processing_bytes: cx.int(
            raw.and_then(|r| r.max_processing_bytes.as_ref()),
            "limits.max_processing_bytes",
            DEFAULT_MAX_PROCESSING_BYTES,
            1 << 20,
            1 << 40,
        ) as u64,
        max_events_per_request: cx.int(
            raw.and_then(|r| r.max_events_per_request.as_ref()),
            "limits.max_events_per_request",
            DEFAULT_MAX_EVENTS_PER_REQUEST,
            1,
            10_000_000,
        ) as usize,
        max_event_bytes: cx.int(
            raw.and_then(|r| r.max_event_bytes.as_ref()),
            "limits.max_event_bytes",
            DEFAULT_MAX_EVENT_BYTES,
            1 << 10,
            1 << 30,
        ) as usize,
        max_reply_bytes: cx.int(
            raw.and_then(|r| r.max_reply_bytes.as_ref()),
            "limits.max_reply_bytes",
            DEFAULT_MAX_REPLY_BYTES,
            0,
            1 << 30,
        ) as usize,
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
