//! Part `attacks`: legitimate requests during each attack of SECURITY.md. The release router
//! runs on core 0 under an open-file limit of 1 024 (a service manager's default); this
//! process, on core 1, sends FindFace batch-1 requests at a fixed 50 requests/s, each on a new
//! connection from 127.0.0.1 like a terminal, while attackers on other loopback addresses run
//! (a) slowloris, (b) trickling bodies, (c) a flood of 8 MiB bodies. Reported per attack: the
//! legitimate latency p50/p99/max, how many were answered 200, and the router's peak RSS.

use crate::process::RouterProcess;
use bytes::Bytes;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpSocket, TcpStream};

/// Seconds of legitimate traffic per attack.
const SECS: u64 = 8;
/// Legitimate requests per second.
const RATE: u64 = 50;

#[derive(Debug, Clone, Copy)]
enum Attack {
    None,
    Slowloris,
    SlowBodies,
    BigBodies,
}

impl Attack {
    fn describe(self) -> &'static str {
        match self {
            Attack::None => "no attack (baseline)",
            Attack::Slowloris => {
                "slowloris: 3 000 half-sent request heads from 20 addresses, re-opened as they are closed"
            }
            Attack::SlowBodies => "300 bodies trickling at 10 bytes/s from 20 addresses",
            Attack::BigBodies => "150 connections from 10 addresses each sending 7 MB of an 8 MiB body, then stalling",
        }
    }
}

/// The result rows of this part.
pub(crate) fn run(
    binary: &Path,
    scratch: &Path,
    config: &str,
    runtime: &tokio::runtime::Runtime,
) -> Vec<(String, String)> {
    raise_own_fd_limit();
    let mut rows = Vec::new();
    for attack in [Attack::None, Attack::Slowloris, Attack::SlowBodies, Attack::BigBodies] {
        let router = RouterProcess::start_limited(binary, scratch, config, 1024);
        let (latencies, ok, total) = runtime.block_on(under(attack, router.addr));
        let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
        let line = format!(
            "p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms; {ok}/{total} answered 200; router peak RSS {} MB",
            at(0.5),
            at(0.99),
            latencies[latencies.len() - 1],
            router.peak_rss_kb() / 1024
        );
        println!("attacks, {}: {line}", attack.describe());
        rows.push((
            format!(
                "attacks: legitimate batch-1 requests at {RATE}/s (new connection each) during {}, fd limit 1024",
                attack.describe()
            ),
            line,
        ));
    }
    rows
}

fn raise_own_fd_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    limit.current = limit.maximum;
    let _ = setrlimit(Resource::Nofile, limit);
}

async fn connect_from(from: Ipv4Addr, addr: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(from), 0))?;
    tokio::time::timeout(Duration::from_secs(2), socket.connect(addr))
        .await
        .map_err(|_| std::io::Error::other("connect timed out"))?
}

/// Runs the attack while the legitimate sender measures: (sorted latencies in ms, 200s, sent).
async fn under(attack: Attack, addr: SocketAddr) -> (Vec<f64>, usize, usize) {
    let body = Bytes::from(router_tests::load::findface_batch(1));
    // Warm-up, not measured: the first requests instantiate the plugin's first pool slots.
    for _ in 0..50 {
        router_tests::post_json(addr, "/ingest/findface", body.clone()).await;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let attackers = start(attack, addr, stop.clone());
    // The attack in full swing before measuring.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / RATE));
    let mut sent = Vec::new();
    for _ in 0..SECS * RATE {
        tick.tick().await;
        let body = body.clone();
        sent.push(tokio::spawn(async move {
            let started = Instant::now();
            let answer = tokio::time::timeout(
                Duration::from_secs(10),
                router_tests::send(addr, "POST", "/ingest/findface", &[], body),
            )
            .await;
            let ok = matches!(answer, Ok(Ok(ref a)) if a.status == 200);
            (started.elapsed().as_secs_f64() * 1000.0, ok)
        }));
    }
    let mut latencies = Vec::new();
    let mut ok = 0;
    for s in sent {
        let (ms, answered) = s.await.expect("request");
        latencies.push(ms);
        ok += usize::from(answered);
    }
    stop.store(true, Ordering::Relaxed);
    for a in attackers {
        let _ = a.await;
    }
    latencies.sort_by(f64::total_cmp);
    let total = latencies.len();
    (latencies, ok, total)
}

fn start(attack: Attack, addr: SocketAddr, stop: Arc<AtomicBool>) -> Vec<tokio::task::JoinHandle<()>> {
    let from = |i: usize, spread: usize| Ipv4Addr::new(127, 0, 0, 2 + (i % spread) as u8);
    match attack {
        Attack::None => Vec::new(),
        Attack::Slowloris => vec![tokio::spawn(async move {
            let mut held = std::collections::VecDeque::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                if let Ok(mut s) = connect_from(from(n, 20), addr).await
                    && s.write_all(b"POST /ingest/findface HTTP/1.1\r\nhost: x\r\n")
                        .await
                        .is_ok()
                {
                    held.push_back(s);
                }
                n += 1;
                if held.len() > 3000 {
                    held.pop_front();
                }
                if n.is_multiple_of(32) {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        })],
        Attack::SlowBodies => (0..300)
            .map(|i| {
                let stop = stop.clone();
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        let Ok(mut s) = connect_from(from(i, 20), addr).await else {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            continue;
                        };
                        let head = "POST /ingest/findface HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n[";
                        let mut alive = s.write_all(head.as_bytes()).await.is_ok();
                        while alive && !stop.load(Ordering::Relaxed) {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            alive = s.write_all(b" ").await.is_ok();
                        }
                    }
                })
            })
            .collect(),
        Attack::BigBodies => {
            let chunk = Arc::new(vec![b' '; 64 << 10]);
            (0..150)
                .map(|i| {
                    let (stop, chunk) = (stop.clone(), chunk.clone());
                    tokio::spawn(async move {
                        while !stop.load(Ordering::Relaxed) {
                            let Ok(mut s) = connect_from(from(i, 10), addr).await else {
                                tokio::time::sleep(Duration::from_millis(100)).await;
                                continue;
                            };
                            let head = format!(
                                "POST /ingest/findface HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n",
                                8 << 20
                            );
                            let mut sent = 0;
                            let mut alive = s.write_all(head.as_bytes()).await.is_ok();
                            while alive && sent < 7_000_000 && !stop.load(Ordering::Relaxed) {
                                match tokio::time::timeout(Duration::from_secs(1), s.write_all(&chunk)).await {
                                    Ok(Ok(())) => sent += chunk.len(),
                                    Ok(Err(_)) => alive = false,
                                    Err(_) => {}
                                }
                            }
                            while alive && !stop.load(Ordering::Relaxed) {
                                tokio::time::sleep(Duration::from_millis(100)).await;
                                alive = s.write_all(b" ").await.is_ok();
                            }
                        }
                    })
                })
                .collect()
        }
    }
}
