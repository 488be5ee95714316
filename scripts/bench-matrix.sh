#!/usr/bin/env bash
# Reproduces the figures of BENCHMARKS.md: builds the release binary, starts the provider in each
# configuration, drives complete logins with `esignet bench`, and prints one JSON line per run
# (plus the human-readable reports on stderr). Needs PostgreSQL and Redis on 127.0.0.1 for the
# scale-out rows (as .ci/run starts them).
#
#   scripts/bench-matrix.sh [quick | no-criterion]
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || true
cargo build --release -p esignet >&2
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/esignet"
WORK="$(mktemp -d)"
TOKEN="bench-admin-token-0123456789abcdefghijkl"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
MOCK_PORT=$(free_port)
METRICS_PORT=$(free_port)
LOGINS=${LOGINS:-3000}
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

wait_ready() {
  for _ in $(seq 1 400); do
    curl -fsS "http://127.0.0.1:$1$2" >/dev/null 2>&1 && return 0
    sleep 0.025
  done
  echo "service on port $1 did not start" >&2; return 1
}

# start_provider <name> [extra env...]: starts the provider, sets PID.
start_provider() {
  local name=$1; shift
  mkdir -p "$WORK/$name"
  env ESIGNET_DATA__DIR="$WORK/$name" ESIGNET_SERVER__BIND="127.0.0.1:$PORT" \
      ESIGNET_SERVER__PUBLIC_URL="http://127.0.0.1:$PORT" ESIGNET_ADMIN__STATIC_TOKEN="$TOKEN" \
      ESIGNET_TELEMETRY__METRICS_BIND="127.0.0.1:$METRICS_PORT" \
      ESIGNET_LOG=warn "$@" "$BIN" serve 2>"$WORK/$name.log" &
  PID=$!
  wait_ready "$PORT" /v1/esignet/actuator/health
}

stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# bench <label> [bench args...]
bench() {
  local label=$1; shift
  echo "== $label" >&2
  "$BIN" bench --url "http://127.0.0.1:$PORT" --admin-token "$TOKEN" --server-pid "$PID" \
    --metrics-url "http://127.0.0.1:$METRICS_PORT/metrics" \
    --watch redis=redis-server --watch postgres=postgres \
    --json "$WORK/out.json" "$@" >&2 || true
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["label"]=sys.argv[2]; print(json.dumps(d))' "$WORK/out.json" "$label"
}

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

# The machine's own signing speed, beside the figures it explains.
for alg in rsa2048 ecdsap256; do
  openssl speed -seconds 3 "$alg" 2>/dev/null | tail -1 | \
    python3 -c 'import json,sys; f=sys.stdin.read().split(); print(json.dumps({"label":"openssl speed","line":" ".join(f)}))'
done

# Start-to-ready with keys already present, and idle RSS.
start_provider ready
stop "$PID"
for i in 1 2 3; do
  start=$(date +%s%N)
  env ESIGNET_DATA__DIR="$WORK/ready" ESIGNET_SERVER__BIND="127.0.0.1:$PORT" ESIGNET_SERVER__PUBLIC_URL="http://127.0.0.1:$PORT" \
      ESIGNET_LOG=warn "$BIN" serve 2>>"$WORK/ready.log" &
  PID=$!
  wait_ready "$PORT" /v1/esignet/actuator/health
  end=$(date +%s%N)
  sleep 1
  echo "{\"label\":\"ready\",\"run\":$i,\"start_to_ready_ms\":$(( (end - start) / 1000000 )),\"idle_rss_kb\":$(rss_kb $PID)}"
  stop "$PID"
done

# Embedded default, built-in mock identity system.
start_provider embedded
for c in 1 16 64 256; do bench "embedded plain c=$c" --concurrency "$c" --logins "$LOGINS"; done
bench "embedded plain ES256 client c=64" --concurrency 64 --logins "$LOGINS" --client-alg ES256
for c in 16 64; do bench "embedded par+dpop+jwe c=$c" --concurrency "$c" --logins "$LOGINS" --flow fapi --jwe; done
stop "$PID"

[ "${1:-}" = quick ] && exit 0

# A slow national ID backend: the mock identity service with 0 s and 1 s delay, over HTTP.
for delay in 0 1000; do
  mkdir -p "$WORK/mock-$delay"
  "$BIN" mock-identity --bind "127.0.0.1:$MOCK_PORT" --data-dir "$WORK/mock-$delay" --response-delay-ms "$delay" 2>"$WORK/mock.log" &
  MOCK=$!
  wait_ready "$MOCK_PORT" /v1/mock-identity-system/actuator/health
  remote=(ESIGNET_AUTHENTICATOR__KIND=mock-identity-http
    ESIGNET_AUTHENTICATOR__URL="http://127.0.0.1:$MOCK_PORT/v1/mock-identity-system")
  if [ "$delay" = 0 ]; then
    start_provider "remote-$delay" "${remote[@]}"
    bench "remote identity 0 s c=64" --concurrency 64 --logins "$LOGINS"
  else
    # Memory against logins in flight, a fresh provider per row (peak RSS is since start): each
    # login waits about 3 s (three identity-system calls of 1 s), so a run holds `c` logins in
    # flight throughout. Beyond 1,024 requests in flight the provider sheds load by default;
    # the bound is raised here so that the 2,000 row measures memory, not shedding.
    for c in 250 500 1000 2000; do
      start_provider "remote-$delay-$c" "${remote[@]}" ESIGNET_SERVER__MAX_IN_FLIGHT_REQUESTS=4096
      bench "remote identity 1 s, $c logins in flight" --concurrency "$c" --logins $((c * 3)) --duration 120
      stop "$PID"
    done
  fi
  stop "$PID"; stop "$MOCK"
done

# PostgreSQL + Redis.
SCHEMA="bench_$(date +%s)"
start_provider scaled ESIGNET_STORE__KIND=postgres ESIGNET_STORE__POSTGRES_URL="${ESIGNET_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}" \
  ESIGNET_STORE__POSTGRES_SCHEMA="$SCHEMA" ESIGNET_CACHE__KIND=redis ESIGNET_CACHE__REDIS_URL="${ESIGNET_TEST_REDIS_URL:-redis://127.0.0.1:6379}" \
  ESIGNET_CACHE__REDIS_PREFIX="$SCHEMA"
for c in 16 64; do bench "postgres+redis plain c=$c" --concurrency "$c" --logins "$LOGINS"; done
bench "postgres+redis par+dpop+jwe c=64" --concurrency 64 --logins "$LOGINS" --flow fapi --jwe
stop "$PID"
psql "${ESIGNET_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true

# The micro-benchmarks (criterion), in the same run: signing and the hot paths without HTTP.
[ "${1:-}" = no-criterion ] && exit 0
cargo bench -p esignet-jose --bench sign -- --noplot 2>&1 | grep -E "^[a-zA-Z].*|time:" >&2 || true
cargo bench -p esignet-core --bench hot_paths -- --noplot 2>&1 | grep -E "^[a-zA-Z].*|time:" >&2 || true
