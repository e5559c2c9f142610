//! Hostile senders and plugins, in process: a plugin that frames its own reply, a sender that
//! hangs up mid-request, a source's rate limit (fair per sender), caps on plugin output, slow,
//! oversized and ask-first bodies. (Attacks that need the real binary — a lowered fd limit, its
//! RSS, a filling disk, the console's listener — are in `host/tests/hostile*.rs`.)

use router_tests::{Config, TestRouter, get, post_json, send, wat_guest};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The value of a counter line in /metrics (0 when absent).
async fn metric(router: &TestRouter, line_prefix: &str) -> u64 {
    let text = get(router.addr, "/metrics").await.expect("metrics").text();
    router_tests::metric_value(&text, line_prefix)
}

/// Reads one HTTP/1.1 response with a content-length body from a raw stream: (status, body).
async fn read_response(stream: &mut tokio::net::TcpStream) -> (u16, String) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let head_end = buf.windows(4).position(|w| w == b"\r\n\r\n");
        if let Some(end) = head_end {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().expect("length"))
                .expect("the router frames every answer with content-length");
            if buf.len() >= end + 4 + length {
                let status = head[9..12].parse().expect("status");
                let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + length]).into_owned();
                buf.drain(..end + 4 + length);
                assert!(buf.is_empty(), "bytes left over after the answer: {buf:?}");
                return (status, body);
            }
        }
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .expect("answer in time")
            .expect("read");
        assert!(n > 0, "connection closed mid-answer");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A normalizer that sets `content-length` itself is refused as an invalid result: the sender
/// gets a well-framed 500 on the same keep-alive connection, twice in a row, the request is
/// quarantined with the reason, and the plugin's error is counted.
#[tokio::test]
async fn a_plugin_cannot_frame_the_reply() {
    let guests = tempfile::tempdir().expect("tmp");
    let framer = wat_guest("hostile_reply_framing", "normalizer", guests.path());
    let config = Config::new()
        .plugin_at("framer", &framer, "normalizer", &[])
        .source("door", "/door", "framer", &[])
        .file_sink("events", "events.jsonl")
        .route(&["events"])
        .to_string();
    let router = TestRouter::start(&config).await;
    let mut stream = tokio::net::TcpStream::connect(router.addr).await.expect("connect");
    for _ in 0..2 {
        stream
            .write_all(b"POST /door HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}")
            .await
            .expect("write");
        let (status, body) = read_response(&mut stream).await;
        assert_eq!(status, 500, "{body}");
        assert!(body.contains("\"quarantined\":true"), "{body}");
    }
    let kept = router.quarantined();
    assert_eq!(kept.len(), 2);
    assert!(
        kept[0]
            .reason
            .contains("reply header `content-length` is the host's to set"),
        "{}",
        kept[0].reason
    );
    assert_eq!(
        metric(
            &router,
            "switchyard_plugin_errors_total{plugin=\"framer\",kind=\"invalid_result\"}"
        )
        .await,
        2
    );
    router.stop().await;
}

/// A sender that hangs up while its request is being processed: the request still runs to
/// the end, its event is written, and the request and event are counted.
#[tokio::test]
async fn a_request_whose_sender_hung_up_is_still_finished_and_counted() {
    let guests = tempfile::tempdir().expect("tmp");
    let slow = wat_guest("hostile_slow_keep", "filter", guests.path());
    let config = Config::new()
        .plugin_at("slow", &slow, "filter", &["timeout_ms = 30000"])
        .json_source("in", "/in")
        .source("slow-in", "/slow", "normalize-json", &["filters = [\"slow\"]"])
        .file_sink("events", "events.jsonl")
        .route(&["events"])
        .to_string();
    let router = TestRouter::start(&config).await;
    let body = br#"{"id": "gone-1", "device": "d1"}"#;
    let mut stream = tokio::net::TcpStream::connect(router.addr).await.expect("connect");
    let head = format!(
        "POST /slow HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.expect("write");
    stream.write_all(body).await.expect("write");
    tokio::time::sleep(Duration::from_millis(30)).await;
    drop(stream);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while metric(&router, "switchyard_requests_total{source=\"slow-in\",status=\"200\"}").await == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the request was never counted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(metric(&router, "switchyard_events_total").await, 1);
    let events = router.jsonl("events.jsonl");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["vendor_event_id"], "gone-1");
    router.stop().await;
}

/// `rate_limit = { per_second, burst }`: the burst passes, the next request gets 429 with
/// Retry-After and is not kept (the sender retries); other sources are not affected.
#[tokio::test]
async fn a_source_over_its_rate_limit_gets_429() {
    let config = Config::new()
        .json_source("other", "/other")
        .source(
            "limited",
            "/limited",
            "normalize-json",
            &["rate_limit = { per_second = 0.2, burst = 2 }"],
        )
        .file_sink("events", "events.jsonl")
        .route(&["events"])
        .to_string();
    let router = TestRouter::start(&config).await;
    for i in 0..2 {
        let a = post_json(router.addr, "/limited", format!(r#"{{"id": "r{i}"}}"#)).await;
        assert_eq!(a.status, 200, "{}", a.text());
    }
    let refused = post_json(router.addr, "/limited", r#"{"id": "r2"}"#).await;
    assert_eq!(refused.status, 429, "{}", refused.text());
    assert!(refused.json()["error"].as_str().unwrap().contains("rate limit"));
    let retry: u64 = refused.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=5).contains(&retry), "{retry}");
    assert_eq!(post_json(router.addr, "/other", r#"{"id": "o"}"#).await.status, 200);
    assert!(router.quarantined().is_empty());
    router.stop().await;
}

/// More events than `max_events_per_request` from a batch that big: the input is too big for
/// the router's limits (422, not a fault of the plugin), nothing is written, the request is
/// quarantined whole and counted as `over_limit`.
#[tokio::test]
async fn more_events_than_the_cap_is_refused_as_over_the_limit() {
    let config = Config::new()
        .server("limits = { max_events_per_request = 5 }")
        .plugin("findface", "normalize-findface", "normalizer", &[])
        .source("ff", "/ff", "findface", &[])
        .file_sink("events", "events.jsonl")
        .route(&["events"])
        .to_string();
    let router = TestRouter::start(&config).await;
    let small = post_json(router.addr, "/ff", router_tests::load::findface_batch(5)).await;
    assert_eq!(small.status, 200, "{}", small.text());
    let big = post_json(router.addr, "/ff", router_tests::load::findface_batch(6)).await;
    assert_eq!(big.status, 422, "{}", big.text());
    let kept = router.quarantined();
    assert_eq!(kept.len(), 1);
    assert!(kept[0].reason.contains("max_events_per_request"), "{}", kept[0].reason);
    assert_eq!(router.jsonl("events.jsonl").len(), 5);
    assert_eq!(
        metric(
            &router,
            "switchyard_plugin_errors_total{plugin=\"findface\",kind=\"over_limit\"}"
        )
        .await,
        1
    );
    router.stop().await;
}

/// A connection from `from` (any 127.0.0.x) to the router.
async fn connect_from(from: [u8; 4], to: std::net::SocketAddr) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind((std::net::Ipv4Addr::from(from), 0).into()).expect("bind");
    socket.connect(to).await.expect("connect")
}

/// One JSON POST from `from`: the status.
async fn post_from(from: [u8; 4], router: &TestRouter, path: &str, body: &str) -> u16 {
    let mut s = connect_from(from, router.addr).await;
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(head.as_bytes()).await.expect("write");
    read_response(&mut s).await.0
}

/// A source's `rate_limit` is each sender's allowance: one sender far over it is refused
/// alone, and another sender of the same source keeps being answered.
#[tokio::test]
async fn one_sender_over_the_rate_limit_does_not_starve_the_others() {
    let config = Config::new()
        .source(
            "limited",
            "/limited",
            "normalize-json",
            &["rate_limit = { per_second = 1, burst = 3 }"],
        )
        .json_source("other", "/other")
        .file_sink("events", "events.jsonl")
        .route(&["events"])
        .to_string();
    let router = TestRouter::start(&config).await;
    let mut flood = Vec::new();
    for i in 0..30 {
        flood.push(post_from([127, 0, 3, 2], &router, "/limited", &format!(r#"{{"id": "f{i}"}}"#)).await);
    }
    let passed = flood.iter().filter(|s| **s == 200).count();
    assert!(
        (3..=5).contains(&passed),
        "its burst, and what refilled meanwhile: {flood:?}"
    );
    let mut legit = Vec::new();
    for i in 0..3 {
        legit.push(post_from([127, 0, 3, 3], &router, "/limited", &format!(r#"{{"id": "l{i}"}}"#)).await);
    }
    assert_eq!(legit, [200, 200, 200], "the other sender keeps its own allowance");
    router.stop().await;
}

/// `Expect: 100-continue` with a Content-Length over the source's cap: `413` at once, never
/// `100 Continue`, and nothing read or kept (the sender still holds its body).
#[tokio::test]
async fn an_oversize_body_that_asks_first_is_refused_before_it_is_sent() {
    let config = Config::new()
        .json_source("in", "/in")
        .file_sink("events", "events.jsonl")
        .route(&["events"])
        .to_string();
    let router = TestRouter::start(&config).await;
    let mut s = tokio::net::TcpStream::connect(router.addr).await.expect("connect");
    s.write_all(b"POST /in HTTP/1.1\r\nhost: x\r\ncontent-length: 50000000\r\nexpect: 100-continue\r\n\r\n")
        .await
        .expect("write");
    let (status, body) = read_response(&mut s).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("exceeds"), "{body}");
    assert!(router.quarantined().is_empty());
    router.stop().await;
}

/// A body that trickles is cut off with 408 once it falls behind the pace, kept (truncated) in
/// the quarantine, while other senders are answered as usual.
#[tokio::test]
async fn a_trickling_body_gets_408_and_is_kept() {
    let config = Config::new()
        .server("limits = { body_timeout_ms = 1500 }")
        .json_source("in", "/in")
        .file_sink("events", "events.jsonl")
        .route(&["events"])
        .to_string();
    let router = TestRouter::start(&config).await;
    let mut slow = tokio::net::TcpStream::connect(router.addr).await.expect("connect");
    slow.write_all(b"POST /in HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{\"id\":")
        .await
        .expect("write");
    let trickle = tokio::spawn(async move {
        let started = std::time::Instant::now();
        for _ in 0..40 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if slow.write_all(b" ").await.is_err() {
                break;
            }
        }
        (read_response(&mut slow).await, started.elapsed())
    });
    for i in 0..5 {
        let a = post_json(router.addr, "/in", format!(r#"{{"id": "ok{i}"}}"#)).await;
        assert_eq!(a.status, 200);
    }
    let ((status, body), took) = trickle.await.expect("trickler");
    assert_eq!(status, 408, "{body}");
    assert!(body.contains("too slowly"), "{body}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    let kept = router.quarantined();
    assert_eq!(kept.len(), 1);
    assert!(kept[0].truncated);
    router.stop().await;
}

/// A body larger than the budget's room from one address is refused before it is read (429
/// from the peer's share), with Retry-After; a small body still passes.
#[tokio::test]
async fn bodies_beyond_the_budget_are_refused_before_reading() {
    let config = Config::new()
        .server("limits = { max_buffered_body_bytes = 4194304, peer_buffered_body_bytes = 1048576 }")
        .source("in", "/in", "normalize-json", &["max_body_bytes = 8388608"])
        .plugin(
            "normalize-json",
            "normalize-json",
            "normalizer",
            &[router_tests::config::JSON_SETTINGS],
        )
        .file_sink("events", "events.jsonl")
        .route(&["events"])
        .to_string();
    let router = TestRouter::start(&config).await;
    let big = vec![b' '; 2 << 20];
    let refused = send(router.addr, "POST", "/in", &[], big).await.expect("answer");
    assert_eq!(refused.status, 429, "{}", refused.text());
    assert_eq!(refused.headers["retry-after"], "1");
    assert!(refused.text().contains("request bodies"), "{}", refused.text());
    assert_eq!(post_json(router.addr, "/in", r#"{"id": "small"}"#).await.status, 200);
    assert!(metric(&router, "switchyard_body_budget_refused_total{scope=\"peer\"}").await >= 1);
    router.stop().await;
}

/// A connection that stalls in its request head, or idles after an answer, is closed after
/// `header_timeout_ms` (the header-read timeout doubles as the keep-alive idle timeout).
#[tokio::test]
async fn stalled_heads_and_idle_connections_are_closed() {
    let config = Config::new()
        .server("limits = { header_timeout_ms = 300 }")
        .json_source("in", "/in")
        .file_sink("events", "events.jsonl")
        .route(&["events"])
        .to_string();
    let router = TestRouter::start(&config).await;
    let closed_within = |mut s: tokio::net::TcpStream| async move {
        let started = std::time::Instant::now();
        let mut buf = [0u8; 256];
        loop {
            match tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await {
                Ok(Ok(0) | Err(_)) => return started.elapsed(),
                Ok(Ok(_)) => continue,
                Err(_) => panic!("connection still open after 5 s"),
            }
        }
    };
    let mut stalled = tokio::net::TcpStream::connect(router.addr).await.expect("connect");
    stalled
        .write_all(b"POST /in HTTP/1.1\r\nhost: x\r\n")
        .await
        .expect("write");
    let took = closed_within(stalled).await;
    assert!(took >= Duration::from_millis(250), "{took:?}");

    let mut idle = tokio::net::TcpStream::connect(router.addr).await.expect("connect");
    idle.write_all(b"POST /in HTTP/1.1\r\nhost: x\r\ncontent-length: 11\r\n\r\n{\"id\":\"i\"}\n")
        .await
        .expect("write");
    assert_eq!(read_response(&mut idle).await.0, 200);
    let took = closed_within(idle).await;
    assert!(took >= Duration::from_millis(250), "{took:?}");
    router.stop().await;
}

/// This machine's address on its default route, if it has one that is not loopback.
fn non_loopback_ip() -> Option<std::net::IpAddr> {
    // Connecting a UDP socket sends nothing; it only picks the route and its source address.
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket
        .connect("192.0.2.1:9")
        .or_else(|_| socket.connect("8.8.8.8:53"))
        .ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

/// `/metrics` and `/admin/*` from a peer that is not loopback: refused (403) unless its
/// address is in `[admin] allow`, or it bears the token of `[admin] token_env` (401 without
/// it); `/healthz` answers anyone.
#[tokio::test]
async fn admin_endpoints_follow_the_access_rule_for_remote_peers() {
    let Some(ip) = non_loopback_ip() else {
        eprintln!("skipped: this machine has no non-loopback address to act as a remote peer");
        return;
    };
    let bind = std::net::SocketAddr::new(ip, 0).to_string();
    let base = Config::new()
        .json_source("in", "/in")
        .file_sink("events", "events.jsonl")
        .route(&["events"])
        .to_string();

    let closed = TestRouter::start_on(&base, &bind).await;
    for path in ["/metrics", "/admin/status"] {
        let a = get(closed.addr, path).await.expect("answer");
        assert_eq!(a.status, 403, "{path}: {}", a.text());
        assert!(a.text().contains("[admin] allow"), "{}", a.text());
    }
    assert_eq!(get(closed.addr, "/healthz").await.expect("answer").status, 200);
    closed.stop().await;

    let listed = TestRouter::start_on(&format!("{base}\n[admin]\nallow = [\"{ip}/32\"]\n"), &bind).await;
    assert_eq!(get(listed.addr, "/metrics").await.expect("answer").status, 200);
    listed.stop().await;

    // SAFETY: no other test reads or writes this variable.
    unsafe { std::env::set_var("SWITCHYARD_TEST_ADMIN_TOKEN", "t0ken") };
    let token = TestRouter::start_on(
        &format!("{base}\n[admin]\ntoken_env = \"SWITCHYARD_TEST_ADMIN_TOKEN\"\n"),
        &bind,
    )
    .await;
    let without = get(token.addr, "/metrics").await.expect("answer");
    assert_eq!(without.status, 401, "{}", without.text());
    assert!(without.headers.contains_key("www-authenticate"));
    let wrong = send(
        token.addr,
        "GET",
        "/metrics",
        &[("authorization", "Bearer nope")],
        Vec::new(),
    )
    .await
    .expect("answer");
    assert_eq!(wrong.status, 401);
    let right = send(
        token.addr,
        "GET",
        "/metrics",
        &[("authorization", "Bearer t0ken")],
        Vec::new(),
    )
    .await
    .expect("answer");
    assert_eq!(right.status, 200);
    assert!(right.text().contains("switchyard_requests_total"));
    token.stop().await;
}
