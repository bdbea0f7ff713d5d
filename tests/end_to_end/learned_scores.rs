//! `[learned_scores]` on the real server: once the refresh has run, every live signal
//! carries its kind's past (hit rate, sample size, the Laplace score and the sentence), and
//! the figures are exactly the outcome study `cryptolens backtest` reports over the same
//! candles, pooled per pattern kind, entry timeframe and direction. Off by default: no
//! history at all.

use crate::backtest_cli::backtest_json;
use crate::backtests_api::import_eurusd;
use crate::support::{client, fixtures, get_json, ServerProcess};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

type Group = (String, String, String);

/// (hits, resolved) per group of the command line's study over the server's closed candles.
fn cli_groups() -> BTreeMap<Group, (u64, u64)> {
    let strategy = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("config/strategies/momentum-market.toml");
    let file = fixtures().join("data/EURUSD-1h.csv");
    let document = backtest_json(&[
        "--file",
        file.to_str().expect("path"),
        "--timeframe",
        "1h",
        "--symbol",
        "EURUSD",
        "--strategy",
        strategy.to_str().expect("path"),
        "--to",
        "1518015600000",
    ]);
    let mut groups = BTreeMap::new();
    for row in document["study"]["rows"].as_array().expect("rows") {
        let group = (
            row["pattern_kind"].as_str().expect("kind").to_owned(),
            row["timeframe"].as_str().expect("tf").to_owned(),
            row["direction"].as_str().expect("direction").to_owned(),
        );
        let counts: &mut (u64, u64) = groups.entry(group).or_default();
        let hits = row["target_first"].as_u64().expect("hits");
        counts.0 += hits;
        counts.1 += hits + row["stop_first"].as_u64().expect("stops");
    }
    groups
}

fn group_of(signal: &Value) -> Group {
    let entry = signal["entry_timeframe"].as_str().expect("tf");
    let patterns = signal["patterns"].as_array().expect("patterns");
    let pattern = patterns
        .iter()
        .find(|p| p["timeframe"] == entry)
        .unwrap_or(&patterns[0]);
    (
        pattern["kind"].as_str().expect("kind").to_owned(),
        entry.to_owned(),
        signal["direction"].as_str().expect("direction").to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_signals_show_their_kinds_past_exactly_as_the_outcome_study_counts_it() {
    // momentum-market's expiry_bars is the default 12, as learned_scores.expiry_bars.
    let server = ServerProcess::start("[engine]\nring_capacity = 5000\n[learned_scores]\nenabled = true\nrefresh_interval_ms = 300\n");
    import_eurusd(&server);
    let expected = cli_groups();
    let started = Instant::now();
    let signals = loop {
        let page = get_json(&client(), &server.url("/api/signals?symbol=EURUSD")).await;
        let signals = page["signals"].as_array().cloned().unwrap_or_default();
        // A refresh after the import saw every candle once the samples match.
        let settled = !signals.is_empty()
            && signals.iter().all(|signal| {
                let want = expected
                    .get(&group_of(signal))
                    .filter(|(_, resolved)| *resolved > 0);
                match want {
                    Some((_, resolved)) => signal["history"]["samples"].as_u64() == Some(*resolved),
                    None => signal.get("history").is_none(),
                }
            });
        if settled {
            break signals;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "history never matched: {signals:#?} vs {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut with_history = 0;
    for signal in &signals {
        let Some((hits, resolved)) = expected
            .get(&group_of(signal))
            .filter(|(_, resolved)| *resolved > 0)
        else {
            continue;
        };
        with_history += 1;
        let history = &signal["history"];
        let rate = *hits as f64 / *resolved as f64;
        assert!(
            (history["hit_rate"].as_f64().expect("rate") - rate).abs() < 1e-12,
            "{history}"
        );
        let laplace = (*hits as f64 + 1.0) / (*resolved as f64 + 2.0);
        assert!(
            (history["learned_score"].as_f64().expect("score") - laplace).abs() < 1e-12,
            "{history}"
        );
        assert_eq!(
            history["text"],
            format!(
                "TP1 before stop in {:.0}% of {resolved} past cases",
                rate * 100.0
            )
        );
    }
    assert!(
        with_history > 0,
        "some live signal has a past: {signals:#?}"
    );
}

#[tokio::test]
async fn off_by_default_no_signal_claims_a_past() {
    let server = ServerProcess::start("[engine]\nring_capacity = 5000\n");
    import_eurusd(&server);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let page = get_json(&client(), &server.url("/api/signals?symbol=EURUSD")).await;
    let signals = page["signals"].as_array().expect("signals");
    assert!(!signals.is_empty());
    assert!(signals.iter().all(|signal| signal.get("history").is_none()));
}
