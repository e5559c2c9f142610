//! Part `cluster`: acknowledged and delivered events/s through 1, 2 and 3 release routers in
//! cluster mode sharing one nats-server (JetStream, file storage), against one router on its
//! embedded outbox. FindFace batch 10 → normalize-findface → webhook POST per event to the
//! counting receiver; wrk with six connections in all, split evenly over the routers (one wrk
//! per router, as a round-robin balancer would).
//!
//! This machine has two cores: the routers share core 0, nats-server, wrk and the receiver
//! share core 1. The runs therefore measure what cluster mode costs per event and that the
//! shared queue keeps up — not scale-out, which needs a core (or a box) per router; the
//! capacity model in BENCHMARKS.md turns these numbers into a cluster estimate.

use crate::process::{RouterProcess, free_port};
use crate::receiver::CountingReceiver;
use crate::wrk::parse_wrk;
use router_tests::load::findface_batch;
use router_tests::workspace;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SECS: u64 = 10;
const CONNECTIONS: usize = 6;
const BATCH: usize = 10;

/// nats-server with JetStream on core 1, killed on drop.
struct NatsProcess {
    child: Child,
    port: u16,
    _store: tempfile::TempDir,
}

impl NatsProcess {
    fn start(scratch: &Path) -> NatsProcess {
        let out = Command::new("bash")
            .arg(workspace().join("scripts/nats-server.sh"))
            .output()
            .expect("scripts/nats-server.sh");
        let exe = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let store = tempfile::tempdir_in(scratch).expect("store");
        let port = free_port().port();
        let child = Command::new("taskset")
            .args([
                "-c",
                "1",
                &exe,
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-sd",
            ])
            .arg(store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        NatsProcess {
            child,
            port,
            _store: store,
        }
    }
}

impl Drop for NatsProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Run {
    acked: f64,
    delivered: f64,
    drain_secs: f64,
    p99_ms: f64,
}

fn run(binary: &Path, scratch: &Path, routers: usize, cluster: bool, runtime: &tokio::runtime::Runtime) -> Run {
    let receiver = runtime.block_on(CountingReceiver::start());
    let nats = cluster.then(|| NatsProcess::start(scratch));
    let processes: Vec<RouterProcess> = (0..routers)
        .map(|i| {
            let mut config = super::config(super::Sink::Webhook, &receiver.url());
            config.push_str("\n[admin]\nlisten = \"off\"\n");
            if let Some(nats) = &nats {
                config.push_str(&format!(
                    "\n[cluster]\nnats_url = \"nats://127.0.0.1:{}\"\nnode = \"bench-{i}\"\n",
                    nats.port
                ));
            }
            RouterProcess::start(binary, scratch, &config)
        })
        .collect();
    let lua = crate::wrk::post_script(scratch, "cluster-batch", &findface_batch(BATCH));
    let wrk = |secs: u64| {
        let per_router = CONNECTIONS / routers;
        let children: Vec<_> = processes
            .iter()
            .map(|p| {
                Command::new("taskset")
                    .args([
                        "-c",
                        "1",
                        "wrk",
                        "-t1",
                        &format!("-c{per_router}"),
                        &format!("-d{secs}s"),
                        "--latency",
                        "-s",
                    ])
                    .arg(&lua)
                    .arg(format!("http://{}/ingest/findface", p.addr))
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("wrk")
            })
            .collect();
        children
            .into_iter()
            .map(|c| String::from_utf8_lossy(&c.wait_with_output().expect("wrk").stdout).into_owned())
            .collect::<Vec<_>>()
    };
    let _ = wrk(2); // warm-up
    let before = receiver.count();
    let started = Instant::now();
    let reports = wrk(SECS);
    let wall = started.elapsed().as_secs_f64();
    let delivered_in_window = receiver.count() - before;
    let mut requests = 0u64;
    let mut p99: f64 = 0.0;
    for report in &reports {
        let w = parse_wrk(report);
        assert_eq!(w.non_2xx, 0, "a router refused requests under load:\n{report}");
        requests += w.requests as u64;
        p99 = p99.max(w.p99_ms);
    }
    let acked = requests * BATCH as u64;
    let drain = Instant::now();
    while receiver.count() - before < acked && drain.elapsed() < Duration::from_secs(300) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        receiver.count() - before >= acked,
        "not every acknowledged event was delivered"
    );
    let result = Run {
        acked: acked as f64 / wall,
        delivered: delivered_in_window as f64 / wall,
        drain_secs: drain.elapsed().as_secs_f64(),
        p99_ms: p99,
    };
    drop(processes);
    drop(nats);
    runtime.block_on(receiver.stop());
    result
}

/// Messages per ceiling run, and their size (a normalized FindFace event as JSON is ~1.4 KB).
const CEILING_MESSAGES: usize = 50_000;
const CEILING_BYTES: usize = 1_400;
/// Publishes awaiting their ack at once, and acks in flight: what many routers add up to.
const CEILING_WINDOW: usize = 256;

/// What one nats-server on one core sustains for the routers' pattern, with no router in
/// the way: (stored messages/s, each publish awaiting JetStream's ack; delivered and
/// double-acked messages/s through one durable pull consumer).
async fn jetstream_ceiling(port: u16) -> (f64, f64) {
    use async_nats::jetstream::{self, consumer::pull, stream};
    use futures_util::StreamExt;
    let client = async_nats::connect(format!("nats://127.0.0.1:{port}"))
        .await
        .expect("connect");
    let js = jetstream::new(client);
    let stream = js
        .create_stream(stream::Config {
            name: "CEILING".into(),
            subjects: vec!["ceiling.>".into()],
            retention: stream::RetentionPolicy::WorkQueue,
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .expect("stream");
    let payload = bytes::Bytes::from(vec![b'x'; CEILING_BYTES]);
    let started = Instant::now();
    let mut pending = std::collections::VecDeque::new();
    for i in 0..CEILING_MESSAGES {
        let message = jetstream::message::PublishMessage::build()
            .payload(payload.clone())
            .message_id(format!("m{i}"));
        pending.push_back(js.send_publish("ceiling.hook", message).await.expect("publish"));
        if pending.len() >= CEILING_WINDOW {
            pending.pop_front().expect("ack").await.expect("stored");
        }
    }
    for ack in pending {
        ack.await.expect("stored");
    }
    let stored = CEILING_MESSAGES as f64 / started.elapsed().as_secs_f64();
    let consumer: async_nats::jetstream::consumer::PullConsumer = stream
        .create_consumer(pull::Config {
            durable_name: Some("deliver-hook".into()),
            ack_policy: async_nats::jetstream::consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await
        .expect("consumer");
    let mut messages = consumer
        .stream()
        .max_messages_per_batch(CEILING_WINDOW)
        .messages()
        .await
        .expect("messages");
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(CEILING_WINDOW));
    let started = Instant::now();
    for _ in 0..CEILING_MESSAGES {
        let message = messages.next().await.expect("message").expect("message");
        let permit = slots.clone().acquire_owned().await.expect("slot");
        tokio::spawn(async move {
            message.double_ack().await.expect("ack");
            drop(permit);
        });
    }
    let _ = slots.acquire_many(CEILING_WINDOW as u32).await;
    let delivered = CEILING_MESSAGES as f64 / started.elapsed().as_secs_f64();
    (stored, delivered)
}

/// The rows for BENCHMARKS.md.
pub(crate) fn run_all(binary: &Path, scratch: &Path, runtime: &tokio::runtime::Runtime) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    let nats = NatsProcess::start(scratch);
    let (stored, delivered) = runtime.block_on(jetstream_ceiling(nats.port));
    drop(nats);
    println!("JetStream alone: {stored:.0} stored/s, {delivered:.0} delivered+acked/s");
    rows.push((
        format!(
            "cluster: JetStream alone (nats-server on one core, file storage, work-queue stream), {CEILING_BYTES}-byte messages, {CEILING_WINDOW} in flight"
        ),
        format!("{stored:.0} messages/s stored (publish awaiting its ack), {delivered:.0} messages/s pulled and double-acked through one durable consumer"),
    ));
    let runs = [(1, false), (1, true), (2, true), (3, true)];
    for (routers, cluster) in runs {
        let r = run(binary, scratch, routers, cluster, runtime);
        let what = if cluster {
            format!("{routers} router(s) in cluster mode, one nats-server (JetStream, file storage)")
        } else {
            "1 router, embedded outbox (for comparison)".to_string()
        };
        println!(
            "{what}: {:.0} acked/s, {:.0} delivered/s, drain {:.1} s, p99 {:.1} ms",
            r.acked, r.delivered, r.drain_secs, r.p99_ms
        );
        rows.push((
            format!("cluster: FindFace batch {BATCH} → webhook per event, {what}, wrk -c{CONNECTIONS} in all"),
            format!(
                "{:.0} events/s acked, {:.0} delivered in the same {SECS} s, backlog drained {:.1} s later; p99 {:.1} ms",
                r.acked, r.delivered, r.drain_secs, r.p99_ms
            ),
        ));
    }
    rows
}
