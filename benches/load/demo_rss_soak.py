"""RSS of `serve --demo` over a long run under the demo feed and a steady API load: does the
server's memory level off, or keep growing?

    cargo build --release && python3 benches/load/demo_rss_soak.py target/release/cryptolens [MINUTES]

Load (one client, ~20 requests/s): the reads a dashboard makes (symbols, matrix, signals,
patterns, candles, indicators, health) and every 10 s a paper trade opened and closed on a
portfolio. RSS is read from /proc/PID/status each 30 s; the summary compares the RSS at 5
minutes with the RSS at the end (MINUTES, default 30).
"""
import http.client, json, os, subprocess, sys, tempfile, time

binary = sys.argv[1]
minutes = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0
key = "clk_a1b2c3d4e5f60718_9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0"
env = dict(os.environ, CRYPTOLENS_ADMIN_PASSWORD="Measure-Memory-7x", CRYPTOLENS_ADMIN_API_KEY=key,
           CRYPTOLENS_LOG__FILTER="error")
data = tempfile.mkdtemp()
server = subprocess.Popen([binary, "serve", "--demo", "--bind", "127.0.0.1:0", "--data-dir", data],
                          stdout=subprocess.PIPE, env=env, text=True)
port = int(server.stdout.readline().strip().rsplit(":", 1)[1])
headers = {"Content-Type": "application/json", "X-API-Key": key}
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)


def call(method, path, body=None):
    conn.request(method, path, None if body is None else json.dumps(body), headers)
    answer = conn.getresponse()
    return answer.status, answer.read()


def rss_mib():
    with open(f"/proc/{server.pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


while call("GET", "/api/health/ready")[0] != 200:
    time.sleep(0.5)
status, body = call("POST", "/api/portfolios", {"name": "soak", "initial_balance": "100000"})
assert status == 201, body
portfolio = json.loads(body)["id"]
reads = ["/api/symbols", "/api/matrix", "/api/signals", "/api/patterns?limit=20",
         "/api/candles/BTCUSDT/1m?limit=200", "/api/indicators/ETHUSDT/5m", "/api/health"]
start = time.time()
samples, next_sample, next_trade, index, failures = [], start, start, 0, 0
while time.time() - start < minutes * 60:
    now = time.time()
    if now >= next_sample:
        samples.append(((now - start) / 60, rss_mib()))
        print(f"{samples[-1][0]:6.1f} min  RSS {samples[-1][1]:7.1f} MiB", flush=True)
        next_sample += 30
    if now >= next_trade:
        status, body = call("POST", f"/api/portfolios/{portfolio}/trades",
                            {"symbol": "BTCUSDT", "side": "long", "quantity": "0.01"})
        if status == 201:
            trade = json.loads(body)["trade"]["id"]
            status, _ = call("POST", f"/api/portfolios/{portfolio}/trades/{trade}/close", {})
        failures += status >= 300
        next_trade += 10
    status, _ = call("GET", reads[index % len(reads)])
    failures += status != 200
    index += 1
    time.sleep(0.05)
samples.append(((time.time() - start) / 60, rss_mib()))
at_five = min(samples, key=lambda sample: abs(sample[0] - 5))[1]
end = samples[-1][1]
print(f"requests {index}, failed {failures}; RSS at 5 min {at_five:.1f} MiB, at {samples[-1][0]:.0f} min "
      f"{end:.1f} MiB: {end / at_five:.3f}x")
server.terminate()
server.wait()
