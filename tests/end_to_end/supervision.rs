//! One symbol actor that fails (a test-only fault) is restarted by its supervisor, its
//! restart count rises, and the other symbols keep ingesting throughout.

use crate::support::{batch, candle_json, client, in_process_settings, MINUTE_MS};
use cryptolens::server::Server;
use cryptolens_actors::actors::Fault;
use cryptolens_actors::domain::market::Symbol;
use serde_json::Value;
use std::time::Duration;

async fn restarts(http: &reqwest::Client, base: &str, symbol: &str) -> u64 {
    let actors: Value = http
        .get(format!("{base}/api/actors"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actors = actors["actors"].as_array().unwrap();
    actors
        .iter()
        .find(|actor| actor["symbol"] == symbol)
        .map_or(0, |actor| actor["restarts"].as_u64().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_actor_is_restarted_and_other_symbols_keep_ingesting() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&in_process_settings(dir.path()), false)
        .await
        .unwrap();
    let base = format!("http://{}", server.local_addr());
    let http = client();
    let post = |symbol: &'static str, minute: i64| {
        let http = http.clone();
        let url = format!("{base}/api/candles");
        async move {
            let body = batch(symbol, "1m", vec![candle_json(minute * MINUTE_MS, minute)]);
            http.post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    for symbol in ["AAAUSDT", "BBBUSDT", "CCCUSDT"] {
        assert_eq!(post(symbol, 0).await, 200);
    }

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
        let mut observed = 0;
        for _ in 0..100 {
            observed = restarts(&http, &base, "BBBUSDT").await;
            if observed == round as u64 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            observed, round as u64,
            "each failure is one counted restart"
        );
    }
    assert_eq!(
        post("BBBUSDT", 1).await,
        200,
        "the restarted actor ingests again"
    );
    assert_eq!(restarts(&http, &base, "AAAUSDT").await, 0);
    assert_eq!(restarts(&http, &base, "CCCUSDT").await, 0);
    let page: Value = http
        .get(format!("{base}/api/candles/AAAUSDT/1m?limit=100"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["count"], 16);
    let page: Value = http
        .get(format!("{base}/api/candles/BBBUSDT/1m"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["count"], 2, "the restarted actor kept its candles");
    server.shutdown().await;
}
