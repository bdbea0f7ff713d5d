"""Candle ingest throughput over HTTP with ingest.durability = "snapshot" (the default) and
"ack" (each batch on disk before its answer), on the release binary.

    cargo build --release && python3 benches/load/ack_ingest.py target/release/cryptolens [SECONDS]

Per mode: a fresh server, 4 client threads, each posting consecutive 1,000-candle batches of
its own symbols (8 symbols in all) for SECONDS (default 20); prints candles/s acknowledged.
"""
import http.client, json, os, subprocess, sys, tempfile, threading, time

binary = sys.argv[1]
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
key = "clk_a1b2c3d4e5f60718_9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0"
BATCH = 1000
START_MS = 1_600_000_020_000 // 60_000 * 60_000


def body(symbol, first_minute):
    candles = []
    for minute in range(first_minute, first_minute + BATCH):
        price = 100 + minute % 50
        candles.append({"t": START_MS + minute * 60_000, "o": f"{price}.5", "h": f"{price + 2}.25",
                        "l": f"{price - 2}.75", "c": f"{price + 1}.125", "v": "12.5"})
    return json.dumps({"symbol": symbol, "timeframe": "1m", "candles": candles})


def client(port, symbols, until, counts, index):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Content-Type": "application/json", "X-API-Key": key}
    minute, acknowledged = 0, 0
    while time.time() < until:
        for symbol in symbols:
            conn.request("POST", "/api/candles", body(symbol, minute), headers)
            answer = conn.getresponse()
            answer.read()
            assert answer.status == 200, answer.status
            acknowledged += BATCH
        minute += BATCH
    counts[index] = acknowledged


def run(mode):
    data = tempfile.mkdtemp()
    with open(os.path.join(data, "load.toml"), "w") as config:
        config.write(f'[ingest]\ndurability = "{mode}"\n[rate_limits]\ningest_per_minute = 4000000000\n'
                     'ingest_burst = 4000000000\n')
    env = dict(os.environ, CRYPTOLENS_ADMIN_PASSWORD="Load-Ingest-Password-7", CRYPTOLENS_ADMIN_API_KEY=key,
               CRYPTOLENS_LOG__FILTER="error")
    server = subprocess.Popen([binary, "serve", "--bind", "127.0.0.1:0", "--data-dir", data, "--config",
                               os.path.join(data, "load.toml")], stdout=subprocess.PIPE, env=env, text=True)
    port = int(server.stdout.readline().strip().rsplit(":", 1)[1])
    counts = [0] * 4
    started = time.time()
    threads = [threading.Thread(target=client, args=(port, [f"S{i}AUSDT", f"S{i}BUSDT"], started + seconds,
                                                       counts, i)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.time() - started
    server.terminate()
    server.wait()
    print(f'durability = "{mode}": {sum(counts)} candles in {elapsed:.1f} s, {sum(counts) / elapsed:,.0f} candles/s')


for mode in ["snapshot", "ack"]:
    run(mode)
