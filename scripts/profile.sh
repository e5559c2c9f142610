#!/usr/bin/env bash
# Where the router's CPU goes under load, by stage: the release router pinned to core 0,
# wrk on core 1 posting FindFace batches of BATCH events (default 100) to SINK (file|webhook),
# `perf record` of the router for 8 s, self time grouped into pipeline stages.
#
#   bash scripts/profile.sh                # batch 100 → file sink
#   BATCH=10 SINK=webhook bash scripts/profile.sh
#   BIN=/other/target/release/switchyard bash scripts/profile.sh
#   PLUGINS=target/plugins bash scripts/profile.sh   # the component file instead of the built-in
#
# The last table names the hottest guest functions (the router writes a perf map,
# SWITCHYARD_PERFMAP=1). Built-in and target/plugins components are stripped, so they show as
# `wasm[0]::function[N]`; for names, build one with its name section and point PLUGINS at it:
#   CARGO_PROFILE_PLUGIN_STRIP=false cargo xtask plugins --out /tmp/named --only normalize-findface
#   PLUGINS=/tmp/named bash scripts/profile.sh        # warm, as the built-in; REUSE=fresh for page faults
#
# Needs perf (Debian linux-perf; only the cpu-clock software event, so it works in VMs), wrk,
# python3, and `make build plugins` first (the built-in normalizer, as router.toml uses it,
# unless PLUGINS names a folder of components). Used for the per-stage tables in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BATCH=${BATCH:-100}
SINK=${SINK:-file}
BIN=${BIN:-$ROOT/target/release/switchyard}
PLUGINS=${PLUGINS:-}
PORT=${PORT:-18181}
for tool in perf wrk python3 taskset; do
    command -v "$tool" >/dev/null || { echo "profile: $tool is missing" >&2; exit 1; }
done

WORK=$(mktemp -d)
trap 'kill "${ROUTER:-}" "${RECEIVER:-}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

python3 - "$ROOT/tests/fixtures/samples/findface-security4-face-matched.json" "$BATCH" "$WORK/body.json" <<'EOF'
import json, sys
item = json.load(open(sys.argv[1]))
item = item[0] if isinstance(item, list) else item
batch = []
for i in range(int(sys.argv[2])):
    e = dict(item); e["id"] = str(7000000000000000000 + i); batch.append(e)
json.dump(batch, open(sys.argv[3], "w"))
EOF
cat > "$WORK/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("$WORK/body.json", "rb"); wrk.body = f:read("*a"); f:close()
EOF

if [ "$SINK" = webhook ]; then
    # A receiver that answers 204 to everything, on core 1 with wrk.
    taskset -c 1 python3 -c '
import http.server, socketserver
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(204); self.send_header("content-length", "0"); self.end_headers()
    def log_message(self, *a): pass
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(("127.0.0.1", '$((PORT + 1))'), H).serve_forever()' &
    RECEIVER=$!
    SINK_TOML="[sinks.out]
type = \"webhook\"
url = \"http://127.0.0.1:$((PORT + 1))/hook\""
else
    SINK_TOML="[sinks.out]
type = \"file\"
path = \"events.jsonl\""
fi
cat > "$WORK/router.toml" <<EOF
version = 1
[server]
listen = "127.0.0.1:$PORT"
data_dir = "$WORK/data"
dedup_window_secs = 0
min_free_bytes = 0

[plugins.normalize-findface]
$(if [ -n "$PLUGINS" ]; then printf 'path = "%s/normalize-findface.wasm"\nkind = "normalizer"\nreuse = "%s"' "$PLUGINS" "${REUSE:-warm}"; else echo 'builtin = "normalize-findface"'; fi)

[[sources]]
id = "findface"
path = "/ingest/findface"
normalizer = "normalize-findface"
max_body_bytes = 8388608

$SINK_TOML

[[routes]]
sinks = ["out"]
EOF

# SWITCHYARD_PERFMAP: the router writes /tmp/perf-<pid>.map, so perf names guest functions.
SWITCHYARD_PERFMAP=1 RUST_LOG=warn taskset -c 0 "$BIN" run --no-watch --config "$WORK/router.toml" >"$WORK/router.log" 2>&1 &
ROUTER=$!
for _ in $(seq 100); do
    (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    sleep 0.1
done
taskset -c 1 wrk -t1 -c4 -d2s -s "$WORK/post.lua" "http://127.0.0.1:$PORT/ingest/findface" >/dev/null
taskset -c 1 wrk -t1 -c4 -d12s -s "$WORK/post.lua" "http://127.0.0.1:$PORT/ingest/findface" >"$WORK/wrk.txt" &
WRK=$!
sleep 2
perf record -q -F 4000 -e cpu-clock -p "$ROUTER" -o "$WORK/perf.data" -- sleep 8 >/dev/null 2>&1
wait $WRK
# PERF_OUT=file keeps the recording for `perf report -i file`.
[ -n "${PERF_OUT:-}" ] && cp "$WORK/perf.data" "$PERF_OUT"
echo "batch $BATCH → $SINK sink: $(grep Requests/sec "$WORK/wrk.txt" | awk '{printf "%.0f req/s = %.0f events/s", $2, $2 * '"$BATCH"'}')"
perf report -i "$WORK/perf.data" --no-children --sort dso,sym -g none 2>/dev/null | python3 -c '
import re, sys
stages = [
    ("normalize in the guest (JIT-compiled plugin code)", lambda d, s: d.startswith("[JIT]") or d.startswith("perf-")),
    ("WIT lowering/lifting (canonical ABI copies, guest realloc)", lambda d, s: re.search(r"Lift|Lower|linear_lift|linear_lower|typed::|memory_copy|realloc|WasmList|WasmStr", s)),
    ("host event model (WIT ↔ host event, extras check)", lambda d, s: re.search(r"convert::|JsonObject|RawValue|event::", s)),
    ("JSON serialization (sinks, outbox payloads, fingerprints)", lambda d, s: re.search(r"serde_json::ser|format_escaped_str|Serialize|serialize", s)),
    ("JSON parsing on the host", lambda d, s: re.search(r"serde_json::(de|read)|Deserialize|deserialize", s)),
    ("instances (store, instantiate, memory reset)", lambda d, s: re.search(r"instantiate|InstancePre|Store|cow::|MemoryImage|pooling|vm::instance|ResourceTable|WasiCtx", s)),
    ("HTTP (hyper, body read, client)", lambda d, s: re.search(r"hyper|http::|h1::|httparse|body", s)),
    ("outbox (SQLite)", lambda d, s: re.search(r"sqlite|rusqlite", s)),
    ("kernel: file write + fdatasync", lambda d, s: d == "[kernel.kallsyms]" and re.search(r"ext4|jbd2|fdatasync|filemap|generic_perform_write|iomap|blk_|bio", s)),
    ("kernel: network (loopback TCP)", lambda d, s: d == "[kernel.kallsyms]" and re.search(r"tcp|skb|net_|ip_|inet|sock|loopback|__dev|napi|nf_", s)),
    ("kernel: page faults and memory", lambda d, s: d == "[kernel.kallsyms]" and re.search(r"page|pte|pmd|folio|lru|mm_|memcg|zap|fault|madvise|vma", s)),
    ("kernel: other (scheduling, syscalls, timers)", lambda d, s: d == "[kernel.kallsyms]"),
    ("malloc/free/memcpy (libc, all callers)", lambda d, s: re.search(r"malloc|free|memmove|memset|memcpy|_int_|unlink_chunk|realloc|consolidate|tcache", s)),
    ("other host code", lambda d, s: True),
]
totals = {name: 0.0 for name, _ in stages}
guest = []
for line in sys.stdin:
    m = re.match(r"\s*([\d.]+)%\s+(\S+(?: tid \d+)?)\s+\[[.k]\]\s+(.*)", line)
    if not m:
        continue
    pct, dso, sym = float(m.group(1)), m.group(2), m.group(3)
    if dso.startswith("[JIT]") or dso.startswith("perf-"):
        guest.append((pct, sym))
    for name, test in stages:
        if test(dso, sym):
            totals[name] += pct
            break
print("| stage | share of router CPU |")
print("|---|---|")
for name, _ in stages:
    print(f"| {name} | {totals[name]:.1f} % |")
print()
print("| hottest guest functions | share of router CPU |")
print("|---|---|")
for pct, sym in sorted(guest, reverse=True)[:15]:
    print(f"| `{sym[:110]}` | {pct:.1f} % |")
'
