"""sma-cross beside backtesting.py on one 250,000-bar series, same machine, medians.

The series is ../shared/data/candles/UNITTEST_BTC-1m.csv repeated forward by whole days to
250,000 one-minute bars, exactly as the criterion bench `backtest/sma_cross` builds it
(actors/benches/support/real_candles.rs). Measured:

- backtesting.py 0.6.5: `Backtest(data, SmaCross, cash=1e6, commission=0.001).run()` alone
  (data already a DataFrame), median of 3;
- `cryptolens backtest ... --strategy sma-cross --json`, the whole process (CSV parsing,
  the run, the JSON), median of 5 (release build; pass its path as the first argument);
- the criterion median of `backtest/sma_cross` (data loaded), read from
  target/criterion if the bench has run (`cargo bench -p cryptolens-actors --bench backtest`).

Both engines must agree on the trades: the script checks the trade count and final equity.

    python3 benches/load/backtest_speed.py target/release/cryptolens [target-dir]
"""
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd
from backtesting import Backtest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "fixtures"))
from generate_backtest_golden import SmaCross  # noqa: E402  the one SmaCross both scripts run
SOURCE = ROOT.parent / "shared" / "data" / "candles" / "UNITTEST_BTC-1m.csv"
BARS = 250_000
DAY_MS = 86_400_000


def series(path: Path) -> Path:
    base = pd.read_csv(SOURCE, dtype=str)
    stamps = base.timestamp.astype("int64")
    span = ((stamps.iloc[-1] - stamps.iloc[0]) // DAY_MS + 1) * DAY_MS
    with path.open("w") as out:
        out.write("timestamp,open,high,low,close,volume\n")
        rows = base.values.tolist()
        for index in range(BARS):
            row = rows[index % len(rows)]
            stamp = int(row[0]) + span * (index // len(rows))
            out.write(f"{stamp},{row[1]},{row[2]},{row[3]},{row[4]},{row[5]}\n")
    return path


def backtesting_py(csv: Path) -> tuple[float, int, float]:
    frame = pd.read_csv(csv)
    frame.index = pd.to_datetime(frame.timestamp, unit="ms")
    frame = frame.rename(columns=str.capitalize)[["Open", "High", "Low", "Close", "Volume"]]
    runs, stats = [], None
    for _ in range(3):
        bt = Backtest(frame, SmaCross, cash=1_000_000, commission=0.001)
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stats = bt.run()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), int(stats["# Trades"]), float(stats["Equity Final [$]"])


def cryptolens(binary: str, csv: Path) -> tuple[float, int, float]:
    args = [binary, "backtest", "--file", str(csv), "--timeframe", "1m", "--strategy", "sma-cross",
            "--cash", "1000000", "--commission", "0.001", "--json"]
    runs, document = [], None
    for _ in range(5):
        started = time.perf_counter()
        output = subprocess.run(args, check=True, capture_output=True)
        runs.append(time.perf_counter() - started)
        document = json.loads(output.stdout)
    return statistics.median(runs), int(document["trade_count"]), float(document["final_equity"])


def criterion_median_s(target: Path) -> float | None:
    estimates = target / "criterion" / "backtest" / "sma_cross" / "new" / "estimates.json"
    if not estimates.exists():
        return None
    return json.loads(estimates.read_text())["median"]["point_estimate"] / 1e9


def main() -> None:
    binary = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "target" / "release" / "cryptolens")
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "target"
    with tempfile.TemporaryDirectory() as tmp:
        csv = series(Path(tmp) / "series.csv")
        peer_s, peer_trades, peer_equity = backtesting_py(csv)
        ours_s, ours_trades, ours_equity = cryptolens(binary, csv)
    bench_s = criterion_median_s(target)
    print(f"bars: {BARS}")
    print(f"backtesting.py run(): {peer_s:.3f} s = {BARS / peer_s:,.0f} bars/s ({peer_trades} trades, final {peer_equity:.6f})")
    print(f"cryptolens backtest (whole process): {ours_s:.3f} s = {BARS / ours_s:,.0f} bars/s ({ours_trades} trades, final {ours_equity:.6f})")
    print(f"whole process vs backtesting.py run(): {peer_s / ours_s:.1f}x")
    if bench_s:
        print(f"criterion backtest/sma_cross: {bench_s * 1e3:.1f} ms = {BARS / bench_s:,.0f} bars/s, {peer_s / bench_s:.0f}x backtesting.py")
    same = peer_trades == ours_trades and abs(ours_equity / peer_equity - 1) < 1e-6
    print("same trades and final equity" if same else "DIFFERENT RESULTS")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
