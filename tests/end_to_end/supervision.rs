//! Supervision: one symbol actor that fails (a test-only fault that stops it) is restarted by
//! its supervisor from its intact state (the README's "Supervision" section), its restart
//! count rises, and the other symbols keep ingesting throughout.

use crate::support::{
    actor_view, client, get_json, post_minute, start_in_process, wait_for_actor_field,
};
use cryptolens_actors::actors::Fault;
use cryptolens_actors::domain::market::Symbol;
use serde_json::Value;

/// The restart count of `symbol`'s actor; a missing actor fails the test (it used to read as
/// 0 restarts, so the "healthy symbols never restarted" checks could not fail).
async fn restarts(http: &reqwest::Client, base: &str, symbol: &str) -> u64 {
    let actor = actor_view(http, base, symbol)
        .await
        .unwrap_or_else(|| panic!("{symbol} has no actor"));
    actor["restarts"]
        .as_u64()
        .unwrap_or_else(|| panic!("{symbol}: no restart count in {actor}"))
}

/// Everything a symbol actor serves from memory: candles on three timeframes (closed and
/// forming) and its latest indicators.
async fn held_state(http: &reqwest::Client, base: &str, symbol: &str) -> Vec<Value> {
    let mut state = Vec::new();
    for timeframe in ["1m", "5m", "15m"] {
        let url = format!("{base}/api/candles/{symbol}/{timeframe}?limit=1000");
        state.push(get_json(http, &url).await);
    }
    state.push(get_json(http, &format!("{base}/api/indicators/{symbol}/1m")).await);
    state
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_actor_is_restarted_and_other_symbols_keep_ingesting() {
    let (_dir, server, base) = start_in_process(|_| {}).await;
    let http = client();
    let post = |symbol: &'static str, minute: i64| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            post_minute(&http, &base, symbol, minute)
                .await
                .status()
                .as_u16()
        }
    };
    for symbol in ["AAAUSDT", "CCCUSDT"] {
        assert_eq!(post(symbol, 0).await, 200);
    }
    for minute in 0..40 {
        assert_eq!(post("BBBUSDT", minute).await, 200);
    }
    let before = held_state(&http, &base, "BBBUSDT").await;
    assert_eq!(before[0]["count"], 40, "{}", before[0]);
    assert!(before[1]["count"].as_u64().is_some_and(|count| count >= 8));

    let faulty = Symbol::parse("BBBUSDT").unwrap();
    for round in 1..=3_i64 {
        server
            .engine()
            .inject_fault(&faulty, Fault::Stop)
            .await
            .unwrap();
        for minute in (round * 10)..(round * 10 + 5) {
            assert_eq!(
                post("AAAUSDT", minute).await,
                200,
                "healthy symbols keep ingesting"
            );
            assert_eq!(post("CCCUSDT", minute).await, 200);
        }
        let observed =
            wait_for_actor_field(&http, &base, "BBBUSDT", "restarts", round as u64).await;
        assert_eq!(
            observed, round as u64,
            "each failure is one counted restart"
        );
    }
    assert_eq!(
        held_state(&http, &base, "BBBUSDT").await,
        before,
        "the restarted actor holds exactly the state it had: candles, forming candles, indicators"
    );
    assert_eq!(
        post("BBBUSDT", 40).await,
        200,
        "the restarted actor ingests again"
    );
    let page = get_json(&http, &format!("{base}/api/candles/BBBUSDT/1m?limit=1000")).await;
    assert_eq!(page["count"], 41, "the new candle follows the kept ones");
    assert_eq!(restarts(&http, &base, "AAAUSDT").await, 0);
    assert_eq!(restarts(&http, &base, "CCCUSDT").await, 0);
    let page = get_json(&http, &format!("{base}/api/candles/AAAUSDT/1m?limit=100")).await;
    assert_eq!(page["count"], 16);
    let health = get_json(&http, &format!("{base}/api/health")).await;
    assert_eq!(
        health["status"], "degraded",
        "restarts are reported: {health}"
    );
    assert_eq!(health["actors"]["restarts"], 3);
    assert!(health["last_ingest_age_ms"]
        .as_i64()
        .is_some_and(|age| age >= 0));
    server.shutdown().await;
}
