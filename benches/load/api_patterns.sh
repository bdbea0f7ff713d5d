#!/usr/bin/env bash
# Load test of GET /api/patterns on loopback with wrk: once with an API key (X-API-Key), once
# without credentials (the server started with auth.anonymous_viewer = true, so the route is
# the same and only authentication differs). Prints wrk's throughput and latency percentiles.
#
#   bash benches/load/api_patterns.sh [duration_s] [connections] [rounds]
#
# The variants alternate for `rounds` rounds (machine noise hits both alike); the summary
# gives each variant's median requests/s and p99, and the key's cost against anonymous.
#
# Needs wrk (apt-get install wrk; installed here if missing) and a release build.
set -euo pipefail
cd "$(dirname "$0")/../.."
duration_s=${1:-15}
connections=${2:-32}
rounds=${3:-3}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --quiet
work=$(mktemp -d)
trap 'kill "$server_pid" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
key="clk_0f1e2d3c4b5a6978_$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
cat >"$work/load.toml" <<TOML
[auth]
anonymous_viewer = true
[rate_limits]
default_per_minute = 4000000000
default_burst = 4000000000
[log]
filter = "warn"
TOML
CRYPTOLENS_ADMIN_PASSWORD="Load-Test-Admin-1" CRYPTOLENS_ADMIN_API_KEY="$key" \
  ./target/release/cryptolens serve --demo --bind 127.0.0.1:0 --data-dir "$work/data" \
  --config "$work/load.toml" >"$work/stdout" 2>"$work/stderr" &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q listening "$work/stdout" 2>/dev/null && break
  sleep 0.2
done
base=$(awk '/listening/ {print $NF}' "$work/stdout")
url="$base/api/patterns?limit=20"
echo "server $base, pid $server_pid; $(curl -s -H "x-api-key: $key" "$url" | head -c 120)..."
curl -sf -H "x-api-key: $key" "$url" -o /dev/null
wrk -t1 -c"$connections" -d2s "$url" >/dev/null # warm-up
for round in $(seq 1 "$rounds"); do
  for variant in api_key anonymous; do
    if [ "$variant" = api_key ]; then header=(-H "X-API-Key: $key"); else header=(); fi
    wrk -t1 -c"$connections" -d"${duration_s}s" --latency "${header[@]}" "$url" >"$work/wrk.txt"
    rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.txt")
    p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
    errors=$(awk '/Non-2xx/ {print $NF}' "$work/wrk.txt")
    echo "round $round  $variant  ${rps} req/s  p99 ${p99}  non-2xx ${errors:-0}"
    echo "$variant $rps $p99" >>"$work/results"
  done
done
# p99 as wrk prints it (us or ms) in ms; the median of each variant.
awk '
  function ms(t) { if (t ~ /us$/) return t / 1000; if (t ~ /ms$/) return t + 0; return t * 1000 }
  { rps[$1] = rps[$1] " " $2; p99[$1] = p99[$1] " " ms($3) }
  function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    k = median(rps["api_key"]); a = median(rps["anonymous"])
    printf "median api_key   %.0f req/s, p99 %.2f ms\n", k, median(p99["api_key"])
    printf "median anonymous %.0f req/s, p99 %.2f ms\n", a, median(p99["anonymous"])
    printf "API-key auth cost: %.1f%% of throughput\n", (a - k) / a * 100
  }' "$work/results"
