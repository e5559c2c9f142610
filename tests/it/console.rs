//! The operator console: the admin API over real HTTP, and the page in a real browser
//! (headless Chromium through playwright-core, see `router_tests::browser`) against a running
//! router with live traffic. `SCREENSHOTS=1` (`make screenshots`) saves the views into
//! docs/screenshots while the browser tests run.

use router_tests::browser::browser;
use router_tests::config::Config;
use router_tests::{Answer, MockSink, TestRouter, get, post_json, samples_dir, send};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::time::Duration;

fn console_addr(url: &str) -> SocketAddr {
    url.trim_start_matches("http://").parse().expect("console address")
}

/// A JSON source at /in and a SenseNebula source (inline face images) into a file sink.
fn traffic() -> Config {
    traffic_with(Config::new(), &[])
}

/// [`traffic`] on top of `config`, with extra lines for the SenseNebula source.
fn traffic_with(config: Config, terminal: &[&str]) -> Config {
    let mut lines = vec!["methods = [\"GET\", \"POST\"]"];
    lines.extend_from_slice(terminal);
    config
        .json_source("in", "/in")
        .plugin("normalize-sensenebula", "normalize-sensenebula", "normalizer", &[])
        .source("sensenebula", "/ingest/sensenebula", "normalize-sensenebula", &lines)
        .file_sink("events", "events.jsonl")
}

/// The SenseNebula stranger push with a real picture in place of the sample's stub.
fn face_push() -> Vec<u8> {
    use base64::Engine;
    let sample = std::fs::read(samples_dir().join("nebulapass-v13-stranger-push-synthetic.json")).expect("sample");
    let mut push: Value = serde_json::from_slice(&sample).expect("sample JSON");
    push["data"]["rgb_image"] = base64::engine::general_purpose::STANDARD
        .encode(router_tests::portrait_png())
        .into();
    serde_json::to_vec(&push).expect("JSON")
}

async fn api(console: SocketAddr, path: &str) -> Answer {
    get(console, &format!("/admin/api/v1{path}")).await.expect("api answer")
}

async fn api_post(console: SocketAddr, path: &str, body: Value, headers: &[(&str, &str)]) -> Answer {
    let url = format!("/admin/api/v1{path}");
    send(console, "POST", &url, headers, body.to_string().into_bytes())
        .await
        .expect("api answer")
}

async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn the_admin_api_answers_what_the_console_shows() {
    let router = TestRouter::start(&traffic().route(&["events"]).to_string()).await;
    let console = console_addr(&router.console().await);
    assert_ne!(
        console.port(),
        router.addr.port(),
        "the console has a listener of its own"
    );

    // The page and its assets are embedded, with a strict content security policy.
    let page = get(console, "/ui").await.expect("page");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("switchyard console"));
    let csp = page.headers.get("content-security-policy").expect("csp");
    assert!(csp.to_str().unwrap().contains("script-src 'self'"), "{csp:?}");
    for asset in ["/ui/app.js", "/ui/app.css"] {
        assert_eq!(get(console, asset).await.expect("asset").status, 200, "{asset}");
    }

    // Events: the list, one event in full with its raw request and plugin timings.
    let answer = post_json(router.addr, "/in", r#"{"id":"a-1","device":"gate-7"}"#).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        post_json(router.addr, "/ingest/sensenebula", face_push()).await.status,
        200
    );
    let list = api(console, "/events").await.json();
    let rows = list["events"].as_array().expect("events");
    assert_eq!(rows.len(), 2, "{list}");
    let ours = rows.iter().find(|r| r["device_id"] == "gate-7").expect("our event");
    assert_eq!(ours["source"], "in");
    let filtered = api(console, "/events?device=gate-7").await.json();
    assert_eq!(filtered["events"].as_array().unwrap().len(), 1, "{filtered}");
    let uid = ours["event_uid"].as_str().unwrap();
    let detail = api(console, &format!("/events/{uid}")).await.json();
    assert_eq!(detail["event"]["event_uid"], uid);
    assert!(
        detail["request"]["body"].as_str().unwrap().contains("gate-7"),
        "{detail}"
    );
    assert_eq!(detail["timings"][0]["plugin"], "normalize-json", "{detail}");
    let face = rows.iter().find(|r| r["source"] == "sensenebula").expect("face event");
    let blob = face["image"].as_str().expect("an inline image is kept as a blob");
    let image = api(console, &format!("/blobs/{blob}")).await;
    assert_eq!(image.status, 200);
    assert_eq!(image.headers["content-type"], "image/png");
    assert_eq!(image.body.as_ref(), router_tests::portrait_png().as_slice());
    assert_eq!(api(console, "/blobs/../../etc/passwd").await.status, 404);
    assert_eq!(api(console, &format!("/blobs/{}", "0".repeat(64))).await.status, 404);

    // Flow: every node, with counts.
    let flow = api(console, "/flow").await.json();
    let node = |id: &str| {
        flow["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == id)
            .cloned()
    };
    assert_eq!(node("source:in").expect("source node")["stats"]["ok"], 1, "{flow}");
    assert!(node("plugin:normalize-json").is_some());
    assert_eq!(node("sink:events").expect("sink node")["stats"]["ok"], 2, "{flow}");
    assert!(
        flow["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["from"] == "source:in" && e["to"] == "plugin:normalize-json")
    );

    // Plugins, with calls and versions; sinks.
    let plugins = api(console, "/plugins").await.json();
    let json_plugin = plugins["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "normalize-json")
        .unwrap()
        .clone();
    assert!(json_plugin["calls"]["ok"].as_u64().unwrap() >= 1, "{plugins}");
    assert_eq!(json_plugin["sha256"].as_str().unwrap().len(), 64);
    let sinks = api(console, "/sinks").await.json();
    assert_eq!(sinks["sinks"][0]["id"], "events");

    // Quarantine: a broken request is listed, shown raw, and refused on replay while it
    // still fails.
    let broken = post_json(router.addr, "/in", "{not json").await;
    assert_eq!(broken.status, 400, "{}", broken.text());
    let quarantine = api(console, "/quarantine").await.json();
    let entry = &quarantine["entries"][0];
    assert_eq!(entry["source"], "in", "{quarantine}");
    let id = entry["delivery_id"].as_str().unwrap();
    let raw = api(console, &format!("/quarantine/{id}")).await.json();
    assert_eq!(raw["body"], "{not json");
    let still = api_post(console, &format!("/quarantine/{id}/replay"), json!({}), &[]).await;
    assert_eq!(still.status, 422, "{}", still.text());
    assert!(still.text().contains("still failing"), "{}", still.text());
    assert_eq!(api(console, "/quarantine/../../x").await.status, 404);

    // Config and reloads: the running text; a broken edit is rejected with its line.
    let config = api(console, "/config").await.json();
    assert!(config["text"].as_str().unwrap().contains("[[sources]]"));
    let text = format!("{}\nbogus = 1\n", traffic().route(&["events"]));
    let line = text.lines().count();
    router.write_config(&text);
    let reload = api_post(console, "/reload", json!({}), &[]).await;
    assert_eq!(reload.status, 409, "{}", reload.text());
    let reloads = api(console, "/reloads").await.json();
    let last = &reloads["reloads"][0];
    assert_eq!(last["outcome"], "rejected", "{reloads}");
    assert_eq!(last["line"], line, "{reloads}");
    assert!(
        last["diff"].as_array().unwrap().iter().any(|l| l == "+bogus = 1"),
        "{reloads}"
    );

    // Bad requests are named.
    let unknown = api(console, "/nope").await;
    assert_eq!(unknown.status, 404);
    assert!(
        unknown.text().contains("GET /admin/api/v1 lists them"),
        "{}",
        unknown.text()
    );
    assert_eq!(api(console, "/events?limit=x").await.status, 400);
    let purge = api_post(console, "/dead-letters/purge", json!({ "all": true }), &[]).await;
    assert_eq!(purge.status, 400);
    assert!(purge.text().contains("confirm"), "{}", purge.text());
    assert_eq!(api(console, "/jobs/99").await.status, 404);
    router.stop().await;
}

#[tokio::test]
async fn changes_from_another_origin_or_a_rebound_name_are_refused() {
    let router = TestRouter::start(&traffic().route(&["events"]).to_string()).await;
    let console = console_addr(&router.console().await);
    let evil = api_post(
        console,
        "/reload",
        json!({}),
        &[("origin", "https://evil.example"), ("host", &console.to_string())],
    )
    .await;
    assert_eq!(evil.status, 403, "{}", evil.text());
    assert!(evil.text().contains("another origin"), "{}", evil.text());
    let cross = api_post(console, "/reload", json!({}), &[("sec-fetch-site", "cross-site")]).await;
    assert_eq!(cross.status, 403);
    // DNS rebinding: a page on evil.example resolved to 127.0.0.1 sends its own name.
    let rebound = send(
        console,
        "GET",
        "/admin/api/v1/status",
        &[("host", "evil.example:8081"), ("sec-fetch-site", "same-origin")],
        Vec::<u8>::new(),
    )
    .await
    .expect("answer");
    assert_eq!(rebound.status, 403, "{}", rebound.text());
    // Same origin (the console's own page) and tools without an Origin go through.
    let own = format!("http://{console}");
    let ok = api_post(
        console,
        "/reload",
        json!({}),
        &[("origin", &own), ("host", &console.to_string())],
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    router.stop().await;
}

#[tokio::test]
async fn live_events_stream_to_a_reader() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let router = TestRouter::start(&traffic().route(&["events"]).to_string()).await;
    let console = console_addr(&router.console().await);
    let mut stream = tokio::net::TcpStream::connect(console).await.expect("connect");
    stream
        .write_all(b"GET /admin/api/v1/events/stream?device=gate-9 HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .await
        .expect("write");
    let mut seen = String::new();
    let mut buf = [0u8; 8192];
    // The head and the opening comment.
    while !seen.contains("switchyard live events") {
        let n = stream.read(&mut buf).await.expect("read");
        assert!(n > 0, "stream closed: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(seen.contains("text/event-stream"), "{seen}");
    post_json(router.addr, "/in", r#"{"id":"x","device":"elsewhere"}"#).await;
    post_json(router.addr, "/in", r#"{"id":"y","device":"gate-9"}"#).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while !seen.contains("\"gate-9\"") {
        let n = tokio::time::timeout_at(deadline, stream.read(&mut buf))
            .await
            .expect("the event arrives within 2 s")
            .expect("read");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(seen.contains("event: event"), "{seen}");
    assert!(
        !seen.contains("elsewhere"),
        "the filter let another device through: {seen}"
    );
    router.stop().await;
}

#[tokio::test]
async fn browser_live_events_appear_within_a_second_and_open_to_their_details() {
    let tools = browser();
    let router = TestRouter::start(&traffic().route(&["events"]).to_string()).await;
    let push = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(push.path(), face_push()).expect("write push");
    let out = tools
        .run(
            "live",
            &[
                ("CONSOLE", router.console().await),
                ("INGEST", format!("http://{}", router.addr)),
                ("IMAGE_SAMPLE", push.path().display().to_string()),
                ("IMAGE_PATH", "/ingest/sensenebula".to_string()),
            ],
        )
        .await;
    eprintln!("{out}");
    router.stop().await;
}

#[tokio::test]
async fn browser_a_dead_letter_replays_once_its_sink_is_fixed() {
    let tools = browser();
    let mock = MockSink::failing(usize::MAX, 400).await;
    let config = Config::new()
        .json_source("in", "/in")
        .webhook("hook", &mock.url(), &["max_attempts = 1"])
        .route(&["hook"])
        .to_string();
    let router = TestRouter::start(&config).await;
    let console = console_addr(&router.console().await);
    assert_eq!(
        post_json(router.addr, "/in", r#"{"id":"dl-1","device":"d"}"#)
            .await
            .status,
        200
    );
    let mut dead_id = String::new();
    wait_for("the dead letter", async || {
        let letters = api(console, "/dead-letters").await.json();
        dead_id = letters["dead_letters"][0]["webhook_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        letters["total"] == 1
    })
    .await;
    mock.heal();
    tools
        .run(
            "dlq",
            &[
                ("CONSOLE", router.console().await),
                ("INGEST", format!("http://{}", router.addr)),
            ],
        )
        .await;
    let delivered = mock.wait_for(1).await;
    assert_eq!(
        delivered[0].headers["webhook-id"],
        dead_id.as_str(),
        "the same webhook-id"
    );
    router.stop().await;
}

#[tokio::test]
async fn browser_a_broken_config_shows_as_rejected_with_its_line() {
    let tools = browser();
    let good = traffic().route(&["events"]).to_string();
    let router = TestRouter::start(&good).await;
    let broken = format!("{good}\n[sinks.events]\ntype = \"file\"\npath = \"again.jsonl\"\n");
    router.write_config(&broken);
    // The `[sinks.events]` table defined twice: the error names its second header.
    let line = broken.lines().position(|l| l == "path = \"again.jsonl\"").unwrap() - 1;
    tools
        .run(
            "reload",
            &[
                ("CONSOLE", router.console().await),
                ("INGEST", format!("http://{}", router.addr)),
                ("EXPECT_LINE", line.to_string()),
            ],
        )
        .await;
    router.stop().await;
}

/// An address of this machine that is not loopback (to reach the console as a remote peer).
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

/// The page is served only to a peer that could use it: a remote peer with no way in (not in
/// `allow`, no token to log in with) gets 403 for `/ui` too; in `allow`, the page.
#[tokio::test]
async fn the_page_is_served_only_to_peers_that_could_use_it() {
    let Some(ip) = non_loopback_ip() else {
        eprintln!("skipped: this machine has no non-loopback address to act as a remote peer");
        return;
    };
    for (allow, expected) in [("", 403), (&*format!("allow = [\"{ip}/32\"]"), 200)] {
        let mut config = Config::new()
            .json_source("in", "/in")
            .file_sink("events", "events.jsonl")
            .route(&["events"])
            .admin(&format!("listen = \"{ip}:0\""));
        if !allow.is_empty() {
            config = config.admin(allow);
        }
        let router = TestRouter::start(&config.to_string()).await;
        let console: SocketAddr = router
            .console()
            .await
            .trim_start_matches("http://")
            .parse()
            .expect("console address");
        let page = get(console, "/ui").await.expect("answer");
        assert_eq!(page.status, expected, "{allow:?}: {}", page.text());
        router.stop().await;
    }
}

#[tokio::test]
async fn browser_the_token_gate_refuses_a_wrong_token() {
    let Some(ip) = non_loopback_ip() else {
        eprintln!("skipped: this machine has no non-loopback address to act as a remote peer");
        return;
    };
    let tools = browser();
    let dir = tempfile::tempdir().expect("tempdir");
    let token_file = dir.path().join("admin-token");
    std::fs::write(&token_file, "c0nsole-t0ken\n").expect("token file");
    let config = traffic()
        .route(&["events"])
        .admin(&format!("listen = \"{ip}:0\""))
        .admin(&format!("token_file = {:?}", token_file.display().to_string()))
        .to_string();
    let router = TestRouter::start(&config).await;
    let url = router.console().await;
    assert!(url.contains(&ip.to_string()), "{url}");
    tools
        .run(
            "login",
            &[
                ("CONSOLE", url),
                ("INGEST", format!("http://{}", router.addr)),
                ("TOKEN", "c0nsole-t0ken".to_string()),
            ],
        )
        .await;
    router.stop().await;
}

#[tokio::test]
async fn browser_every_view_renders_against_live_traffic() {
    let tools = browser();
    let mock = MockSink::start().await;
    // The terminal's door decisions come from the roster decider, for the Decisions view.
    let decider = Config::new().plugin(
        "door-policy",
        "decide-roster",
        "decider",
        &[
            r#"roster = { path = "{dir}/roster.csv" }"#,
            r#"settings = { min_score = 0.8, rules = [{ name = "staff", groups = ["staff"], tip = "Welcome {name}" }] }"#,
        ],
    );
    let config = traffic_with(
        decider,
        &[
            r#"decider = "door-policy""#,
            "decision = { deadline_ms = 300, fallback = \"deny\" }",
        ],
    )
    .webhook("hook", &mock.url(), &[])
    .route(&["events", "hook"])
    .to_string();
    let roster = "person_id,name,groups,status\n5,Wang Wu,staff,active\n";
    let router = TestRouter::start_with(&config, &[("roster.csv", roster)]).await;
    let recognized = std::fs::read(samples_dir().join("nebulapass-v13-recognition-push.json")).expect("sample");
    assert_eq!(
        post_json(router.addr, "/ingest/sensenebula", recognized).await.status,
        200
    );
    for i in 0..20 {
        let body = format!(r#"{{"id":"v-{i}","device":"lobby-{}"}}"#, i % 3);
        post_json(router.addr, "/in", body).await;
    }
    post_json(router.addr, "/ingest/sensenebula", face_push()).await;
    assert_eq!(post_json(router.addr, "/in", "{broken").await.status, 400);
    mock.wait_for(22).await;
    tools
        .run(
            "views",
            &[
                ("CONSOLE", router.console().await),
                ("INGEST", format!("http://{}", router.addr)),
            ],
        )
        .await;
    router.stop().await;
}
