//! The console's listener under a flood from one peer, against the real binary: 300
//! connections that never finish their request head, then 300 open event streams, each from
//! one loopback address. The operator, on another address, must still be answered: the
//! console applies the edge's rules (a cap per address, the slowest connection closed to make
//! room) to its own, smaller listener.

use router_tests::attack::{connect_from, raise_own_fd_limit, request_from};
use router_tests::process::metric;
use router_tests::process::{free_port, spawn_router, write_config_with};
use std::net::Ipv4Addr;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// `n` requests of the operator (`GET /admin/status` on the console, one connection each):
/// how many were answered 200.
async fn operator(console: u16, n: usize) -> usize {
    let mut answered = 0;
    for _ in 0..n {
        let (status, _) = request_from(
            Ipv4Addr::new(127, 0, 0, 1),
            console,
            "GET",
            "/admin/status",
            "",
            b"",
            Duration::from_secs(5),
        )
        .await;
        answered += usize::from(status == 200);
    }
    answered
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_peer_cannot_lock_the_operator_out_of_the_console() {
    raise_own_fd_limit();
    let dir = tempfile::tempdir().expect("tmp");
    let (port, console) = (free_port(), free_port());
    write_config_with(
        dir.path(),
        port,
        "",
        router_tests::process::FILE_SINK,
        &format!("listen = \"127.0.0.1:{console}\""),
    );
    let config = dir.path().join("router.toml");
    let router = router_tests::process::Running(
        tokio::task::spawn_blocking(move || spawn_router(&config))
            .await
            .expect("spawn"),
    );

    // Heads that never end.
    let mut held = Vec::new();
    for _ in 0..300 {
        if let Ok(mut s) = connect_from(Ipv4Addr::new(127, 0, 0, 2), console).await
            && s.write_all(b"GET /admin/status HTTP/1.1\r\nhost: x\r\n").await.is_ok()
        {
            held.push(s);
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let during_heads = operator(console, 20).await;
    drop(held);

    // Event streams that stay open (a loopback peer is admitted, so they are served).
    let mut streams = Vec::new();
    for _ in 0..300 {
        if let Ok(mut s) = connect_from(Ipv4Addr::new(127, 0, 0, 3), console).await
            && s.write_all(b"GET /admin/api/v1/events/stream HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
                .await
                .is_ok()
        {
            streams.push(s);
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let during_streams = operator(console, 20).await;
    let refused = metric(
        console,
        "switchyard_admin_connections_refused_total{reason=\"peer_limit\"}",
    );
    eprintln!(
        "console flood: operator answered {during_heads}/20 during the heads, {during_streams}/20 during the streams; {refused} connections refused for the peer cap"
    );
    assert_eq!(
        during_heads, 20,
        "the operator is answered while one peer floods incomplete heads"
    );
    assert_eq!(
        during_streams, 20,
        "the operator is answered while one peer holds event streams"
    );
    assert!(refused > 0, "the flooding peer met its cap");
    drop(streams);
    drop(router);
}
