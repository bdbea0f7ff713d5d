#!/usr/bin/env python3
"""Fits config/calibration.json: the probability that a signal reaches target 1 before its
stop, by pattern kind and confidence, from `cryptolens study` on the tune half of
../shared/data/candles (the sets benches/load/tune_signals.py tunes on), then checks it on the
report half (never fitted on what is reported).

    python3 benches/load/calibrate.py target/release/cryptolens

Per kind, a monotone (isotonic, pool-adjacent-violators) fit of hit (1) / stop (0) on the
signal's confidence over its resolved trades, in bins of at least 30 trades; each step keeps
its confidence bound and samples, and its probability is (hits + 1) / (samples + 2). The check prints, per confidence bucket of 0.2 with at least 30 resolved trades on
the report half, the mean calibrated probability against the observed hit rate.
"""
import csv
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tune_signals import DATA, REPORT, ROOT, TUNE  # noqa: E402  the same halves

VERSION = 1
BUCKET_TRADES_MIN = 30
# Trades per step before pooling, so no step rests on a handful.
BIN_TRADES_MIN = 30


def outcomes(binary, series):
    rows = []
    for name, timeframe in series:
        with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as out:
            path = out.name
        subprocess.run([binary, "study", "--file", str(DATA / f"{name}.csv"), "--timeframe", timeframe,
                        "--symbol", name.split("-")[0].replace("_", ""), "--json", "--trials-csv", path],
                       check=True, capture_output=True)
        with open(path) as handle:
            rows += [row for row in csv.DictReader(handle) if row["outcome"] in ("target", "stop")]
        Path(path).unlink()
    return rows


def isotonic(points):
    """Pool adjacent violators over (confidence, hit): first bins of at least
    BIN_TRADES_MIN trades in confidence order (equal confidences never split), then adjacent
    bins pooled while a rate would fall. Blocks of [confidence_max, hits, samples]."""
    bins = []
    for confidence, hit in sorted(points):
        if bins and (bins[-1][2] < BIN_TRADES_MIN or bins[-1][0] == confidence):
            bins[-1] = [confidence, bins[-1][1] + hit, bins[-1][2] + 1]
        else:
            bins.append([confidence, hit, 1])
    if len(bins) > 1 and bins[-1][2] < BIN_TRADES_MIN:
        last = bins.pop()
        bins[-1] = [last[0], bins[-1][1] + last[1], bins[-1][2] + last[2]]
    blocks = []
    for block in bins:
        blocks.append(block)
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] > blocks[-1][1] / blocks[-1][2]:
            top = blocks.pop()
            blocks[-1] = [top[0], blocks[-1][1] + top[1], blocks[-1][2] + top[2]]
    return blocks


def fit(rows):
    by_kind = defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append((float(row["confidence"]), 1 if row["outcome"] == "target" else 0))
    return {kind: [{"confidence_max": round(bound, 6), "probability": round((hits + 1) / (samples + 2), 4),
                    "samples": samples} for bound, hits, samples in isotonic(points)]
            for kind, points in sorted(by_kind.items())}


def probability(table, kind, confidence):
    steps = table.get(kind)
    if not steps:
        return None
    return next((step for step in steps if confidence <= step["confidence_max"]), steps[-1])["probability"]


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/cryptolens"
    table = fit(outcomes(binary, TUNE))
    document = {"version": VERSION, "fitted_on": [name for name, _ in TUNE],
                "method": "isotonic per pattern kind, probability (hits + 1) / (samples + 2)",
                "kinds": table}
    (ROOT / "config" / "calibration.json").write_text(json.dumps(document, indent=1) + "\n")
    buckets = defaultdict(lambda: [0, 0, 0.0])
    for row in outcomes(binary, REPORT):
        predicted = probability(table, row["kind"], float(row["confidence"]))
        if predicted is None:
            continue
        bucket = min(int(float(row["confidence"]) * 5), 4)
        buckets[bucket][0] += 1
        buckets[bucket][1] += row["outcome"] == "target"
        buckets[bucket][2] += predicted
    for bucket, (trades, hits, predicted) in sorted(buckets.items()):
        verdict = "checked" if trades >= BUCKET_TRADES_MIN else "too few"
        print(f"confidence {bucket / 5:.1f}-{(bucket + 1) / 5:.1f}: {trades} trades, observed {100 * hits / trades:.1f}%, "
              f"calibrated {100 * predicted / trades:.1f}%, off by {100 * (hits - predicted) / trades:+.1f} points ({verdict})")


if __name__ == "__main__":
    main()
