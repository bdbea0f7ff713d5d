#!/usr/bin/env python3
"""Tunes [analysis.levels] and then [analysis.signals] reemit_cooldown_minutes with
`cryptolens study` on one half of ../shared/data/candles and reports the chosen settings on
the other half (never tuned on what is reported).

    python3 benches/load/tune_signals.py target/release/cryptolens [fees_bps]

Tune half: ETH_BTC-5m, LTC_BTC-5m, UNITTEST_BTC-30m. Report half: TRX_BTC-5m, XLM_BTC-5m,
XRP_ETH-1m. The score of a rule set is the expectancy in R after fees over every resolved
signal of the tune half (pooled), among rule sets keeping at least 100 resolved signals. The
cooldown is then the shortest of COOLDOWNS that brings the tune half's 5m sets to at most 6
signals per symbol per day while giving up at most EXPECTANCY_GIVEN_R of expectancy after fees
(else the best-scoring one). The
report prints, per half, before (structural levels) and after: resolved signals, hit rate,
edge over random pending orders and over market entries, expectancy before and after fees,
and signals per day.
"""
import itertools
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "candles"
TUNE = [("ETH_BTC-5m", "5m"), ("LTC_BTC-5m", "5m"), ("UNITTEST_BTC-30m", "30m")]
REPORT = [("TRX_BTC-5m", "5m"), ("XLM_BTC-5m", "5m"), ("XRP_ETH-1m", "1m")]
COOLDOWNS = [0, 30, 60, 120, 240, 480]
# Expectancy after fees a cooldown may give up for less churn (the noise of a few hundred
# resolved trades is about 0.1 R).
EXPECTANCY_GIVEN_R = 0.05
GRID = {
    "min_stop_atr": [0.0, 0.5, 1.0, 1.5, 2.0],
    "max_cost_r": [0.0, 0.15, 0.3],
    "min_target_r_after_costs": [0.0, 1.0, 1.5, 2.0],
}


def study(binary, fees_bps, sections, name, timeframe):
    """The study's JSON report on one set; `sections`: {"levels": {...}, "signals": {...}}."""
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as config:
        for section, values in sections.items():
            config.write(f"[analysis.{section}]\n")
            for key, value in values.items():
                config.write(f"{key} = {value}\n")
    output = subprocess.run(
        [binary, "study", "--file", str(DATA / f"{name}.csv"), "--timeframe", timeframe,
         "--symbol", name.split("-")[0].replace("_", ""), "--fees-bps", str(fees_bps),
         "--config", config.name, "--json"],
        check=True, capture_output=True, text=True)
    Path(config.name).unlink()
    return json.loads(output.stdout)


def pooled(reports):
    """The `all` rows of several reports pooled: sums, rates and means over resolved trades."""
    totals = {"resolved": 0, "hits": 0, "r": 0.0, "r_fees": 0.0, "pending_resolved": 0,
              "pending_hits": 0, "market_resolved": 0, "market_hits": 0, "signals": 0, "days": 0.0}
    for report in reports:
        row = report["rows"][0]
        ours, pending, market = row["signals"], row["random_pending"], row["random_entry"]
        totals["resolved"] += ours["resolved"]
        totals["hits"] += ours["hits"]
        totals["r"] += (ours["expectancy_r"] or 0.0) * ours["resolved"]
        totals["r_fees"] += (ours["expectancy_r_after_costs"] or 0.0) * ours["resolved"]
        totals["pending_resolved"] += pending["resolved"]
        totals["pending_hits"] += pending["hits"]
        totals["market_resolved"] += market["resolved"]
        totals["market_hits"] += market["hits"]
        totals["signals"] += report["signals"]
        totals["days"] += report["days"]
    n = max(totals["resolved"], 1)
    return {
        "resolved": totals["resolved"],
        "hit_rate": totals["hits"] / n,
        "edge_pending_pts": 100 * (totals["hits"] / n - totals["pending_hits"] / max(totals["pending_resolved"], 1)),
        "edge_market_pts": 100 * (totals["hits"] / n - totals["market_hits"] / max(totals["market_resolved"], 1)),
        "expectancy_r": totals["r"] / n,
        "expectancy_r_after_fees": totals["r_fees"] / n,
        "signals_per_day": totals["signals"] / max(totals["days"], 1e-9),
    }


def score(binary, fees_bps, sections, series):
    return pooled([study(binary, fees_bps, sections, *one) for one in series])


def tune_levels(binary, fees_bps):
    round_trip = 2 * fees_bps / 10_000
    best = None
    for values in itertools.product(*GRID.values()):
        rules = dict(zip(GRID.keys(), values), round_trip_cost=round_trip)
        result = score(binary, fees_bps, {"levels": rules}, TUNE)
        if result["resolved"] >= 100 and (best is None or result["expectancy_r_after_fees"] > best[1]["expectancy_r_after_fees"]):
            best = (rules, result)
    return best[0]


def tune_cooldown(binary, fees_bps, levels):
    results = [(minutes, score(binary, fees_bps, {"levels": levels, "signals": {"reemit_cooldown_minutes": minutes}}, TUNE))
               for minutes in COOLDOWNS]
    baseline = results[0][1]["expectancy_r_after_fees"]
    for minutes, result in results:
        print("cooldown", minutes, json.dumps({k: round(v, 3) for k, v in result.items()}))
    five_minute = [one for one in TUNE if one[1] == "5m"]
    for minutes, result in results:
        sections = {"levels": levels, "signals": {"reemit_cooldown_minutes": minutes}}
        per_day = score(binary, fees_bps, sections, five_minute)["signals_per_day"]
        if per_day <= 6 and result["expectancy_r_after_fees"] >= baseline - EXPECTANCY_GIVEN_R:
            return minutes
    return max(results, key=lambda item: item[1]["expectancy_r_after_fees"])[0]


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/cryptolens"
    fees_bps = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    structural = {"levels": {"min_stop_atr": 0.0, "round_trip_cost": 0.0, "max_cost_r": 0.0,
                             "min_target_r_after_costs": 0.0},
                  "signals": {"reemit_cooldown_minutes": 0}}
    levels = tune_levels(binary, fees_bps)
    cooldown = tune_cooldown(binary, fees_bps, levels)
    chosen = {"levels": levels, "signals": {"reemit_cooldown_minutes": cooldown}}
    print(json.dumps({"fees_bps": fees_bps, "chosen": chosen}, indent=1))
    for half, series in (("tune", TUNE), ("report", REPORT)):
        for label, sections in (("before", structural), ("after ", chosen)):
            result = score(binary, fees_bps, sections, series)
            print(half, label, json.dumps({k: round(v, 3) for k, v in result.items()}))


if __name__ == "__main__":
    main()
