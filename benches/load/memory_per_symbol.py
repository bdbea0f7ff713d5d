"""RSS per symbol of the release server after ingesting SYMBOLS symbols, each 10,001 one-minute
candles spaced a day apart (so every one of the 8 timeframes closes a candle per candle and
every ring fills to 1,000), in batches of BATCH candles.

    cargo build --release && python3 benches/load/memory_per_symbol.py target/release/cryptolens SYMBOLS BATCH [CANDLES]

The figure is (RSS after - RSS before ingest) / SYMBOLS, read from /proc/PID/status. The
server is then restarted on the same data directory and the same figure printed once it has
restored every symbol from the store (what the symbols hold, whatever way they were fed).
"""
import http.client, json, os, subprocess, sys, tempfile, time

binary, symbols, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
# Optional 4th argument: candles per symbol (at least 1,001 fill every ring).
CANDLES = int(sys.argv[4]) if len(sys.argv) > 4 else (10_001 if batch > 1 else 1_001)
data = tempfile.mkdtemp()
env = dict(os.environ, CRYPTOLENS_ADMIN_PASSWORD="Measure-Memory-7x",
           CRYPTOLENS_ADMIN_API_KEY="clk_a1b2c3d4e5f60718_9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0",
           CRYPTOLENS_RATE_LIMITS__DEFAULT_PER_MINUTE="4000000000",
           CRYPTOLENS_RATE_LIMITS__DEFAULT_BURST="4000000000",
           CRYPTOLENS_RATE_LIMITS__INGEST_PER_MINUTE="4000000000",
           CRYPTOLENS_RATE_LIMITS__INGEST_BURST="4000000000",
           CRYPTOLENS_LOG__FILTER="error")
def start_server():
    process = subprocess.Popen([binary, "serve", "--bind", "127.0.0.1:0", "--data-dir", data],
                               stdout=subprocess.PIPE, env=env, text=True)
    return process, int(process.stdout.readline().strip().rsplit(":", 1)[1])

server, port = start_server()

def rss_kib():
    with open(f"/proc/{server.pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))

conn = http.client.HTTPConnection("127.0.0.1", port)
headers = {"Content-Type": "application/json", "X-API-Key": env["CRYPTOLENS_ADMIN_API_KEY"]}
time.sleep(1)
baseline = rss_kib()
day = 86_400_000
for s in range(symbols):
    symbol = f"M{s:04d}USDT"
    for start in range(0, CANDLES, batch):
        candles = []
        for i in range(start, min(start + batch, CANDLES)):
            price = 100 + (i * 7919 + s) % 50
            candles.append({"t": i * day, "o": str(price), "h": str(price + 2),
                            "l": str(price - 2), "c": str(price + 1), "v": "10"})
        conn.request("POST", "/api/candles", json.dumps(
            {"symbol": symbol, "timeframe": "1m", "candles": candles}), headers)
        answer = conn.getresponse(); body = answer.read()
        assert answer.status == 200, body
time.sleep(2)
after = rss_kib()
# Optional 5th argument: rounds of live trading after the bulk load, one new candle per
# symbol per snapshot interval, as a server that goes on streaming after a backfill.
live_rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 0
for round_index in range(live_rounds):
    conn = http.client.HTTPConnection("127.0.0.1", port)  # idle connections are closed
    for s in range(symbols):
        i = CANDLES + round_index
        price = 100 + (i * 7919 + s) % 50
        conn.request("POST", "/api/candles", json.dumps({"symbol": f"M{s:04d}USDT", "timeframe": "1m",
            "candles": [{"t": i * day, "o": str(price), "h": str(price + 2), "l": str(price - 2),
                         "c": str(price + 1), "v": "10"}]}), headers)
        answer = conn.getresponse(); body = answer.read()
        assert answer.status == 200, body
    time.sleep(5)
if live_rounds:
    live = rss_kib()
    print(f"after {live_rounds} live rounds: {live/1024:.1f} MiB, {(live-baseline)/symbols/1024:.3f} MiB per symbol")
print(f"symbols={symbols} batch={batch} candles/symbol={CANDLES}: baseline {baseline/1024:.1f} MiB, "
      f"after {after/1024:.1f} MiB, {(after-baseline)/symbols/1024:.3f} MiB per symbol")
server.terminate(); server.wait()
server, port = start_server()
conn = http.client.HTTPConnection("127.0.0.1", port)
while True:
    conn.request("GET", "/api/health/ready"); answer = conn.getresponse(); answer.read()
    if answer.status == 200:
        break
    time.sleep(0.2)
time.sleep(2)
restored = rss_kib()
print(f"after restart: {restored/1024:.1f} MiB, {(restored-baseline)/symbols/1024:.3f} MiB per symbol")
server.terminate(); server.wait()
