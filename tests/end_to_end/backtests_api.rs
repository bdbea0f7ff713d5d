//! `/api/backtests` on the real server: a backtest over the candles the server holds gives
//! exactly what `cryptolens backtest` gives on the same candles, runs in the background with
//! its progress, is kept in the store across a restart, refuses bad input by field, and
//! shows each trader only their own.

use crate::backtest_cli::backtest_json;
use crate::support::{add_user, bearer_client, client, fixtures, login, send, ServerProcess};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const RING: &str = "[engine]\nring_capacity = 5000\n";

/// Imports the registry EURUSD hourly candles (5,000) as EURUSD 1h.
pub fn import_eurusd(server: &ServerProcess) {
    crate::support::import_eurusd_file(server, &fixtures().join("data/EURUSD-1h.csv"));
}

/// Polls backtest `id` until it has finished; its last view.
async fn finished(http: &reqwest::Client, server: &ServerProcess, id: &Value) -> Value {
    let started = Instant::now();
    loop {
        let (status, view) = send(
            http,
            "GET",
            &server.url(&format!("/api/backtests/{id}")),
            None,
        )
        .await;
        assert_eq!(status, 200, "{view}");
        if matches!(view["status"].as_str(), Some("done" | "failed")) {
            return view;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "still {view}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn submit(http: &reqwest::Client, server: &ServerProcess, body: Value) -> (u16, Value) {
    send(http, "POST", &server.url("/api/backtests"), Some(&body)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backtest_of_the_servers_candles_equals_the_command_line_and_outlives_a_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let mut server = ServerProcess::start_in(dir.path(), RING);
    import_eurusd(&server);
    let admin = client();
    let (status, queued) = submit(
        &admin,
        &server,
        json!({"symbol": "EURUSD", "commission": "0.002"}),
    )
    .await;
    assert_eq!(status, 202, "{queued}");
    assert!(
        matches!(queued["status"].as_str(), Some("queued" | "running")),
        "{queued}"
    );
    let done = finished(&admin, &server, &queued["id"]).await;
    assert_eq!(done["status"], "done", "{done}");
    // The newest candle is still forming in the server: the run has the 4,999 closed ones,
    // as the command line has with --to at the last candle's open time.
    assert_eq!(done["progress"], json!({"done": 4_999, "total": 4_999}));
    let file = fixtures().join("data/EURUSD-1h.csv");
    let last_open = "1518015600000";
    let cli = backtest_json(&[
        "--file",
        file.to_str().expect("path"),
        "--timeframe",
        "1h",
        "--symbol",
        "EURUSD",
        "--strategy",
        "sma-cross",
        "--commission",
        "0.002",
        "--to",
        last_open,
    ]);
    assert_eq!(done["result"]["final_equity"], cli["final_equity"]);
    assert_eq!(done["result"]["trades"], cli["trades"]);
    assert_eq!(done["figures"]["trade_count"], cli["trade_count"]);

    let (status, signals) = submit(
        &admin,
        &server,
        json!({"symbol": "EURUSD", "strategy": "momentum-market"}),
    )
    .await;
    assert_eq!(status, 202, "{signals}");
    let signals = finished(&admin, &server, &signals["id"]).await;
    assert_eq!(signals["status"], "done", "{signals}");
    assert!(
        signals["result"]["study"]["rows"]
            .as_array()
            .is_some_and(|rows| !rows.is_empty()),
        "{signals}"
    );

    let id = done["id"].clone();
    assert_eq!(server.signal_and_wait("TERM").code(), Some(0));
    server = ServerProcess::start_in(dir.path(), RING);
    let (status, again) = send(
        &admin,
        "GET",
        &server.url(&format!("/api/backtests/{id}")),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(again["result"], done["result"], "kept across the restart");
    let (_, listed) = send(&admin, "GET", &server.url("/api/backtests"), None).await;
    assert_eq!(listed["count"], 2);
    assert_eq!(listed["backtests"][0]["id"], signals["id"], "newest first");
    assert!(
        listed["backtests"][0].get("result").is_none(),
        "the list has figures, not trades"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_name_their_field_and_each_trader_sees_only_their_own() {
    let server = ServerProcess::start(RING);
    import_eurusd(&server);
    let admin = client();
    let cases = [
        (json!({"symbol": "EURUSD", "fast": 0}), 400, Some("fast")),
        (
            json!({"symbol": "EURUSD", "strategy": "martingale"}),
            400,
            Some("strategy"),
        ),
        (json!({"symbol": "EURUSD", "cash": "-1"}), 400, Some("cash")),
        (
            json!({"symbol": "EURUSD", "bar_timeframe": "1m"}),
            400,
            Some("bar_timeframe"),
        ),
        (
            json!({"symbol": "EURUSD", "spec": {"name": "x", "entry": {"min_score": 2}}}),
            400,
            Some("spec"),
        ),
        (
            json!({"symbol": "EURUSD", "spec": {"name": "x", "entry": {"min_scroe": 0.5}}}),
            400,
            Some("spec.entry"),
        ),
        (json!({"symbol": "EURUSD", "speed": 3}), 400, None),
        (json!({"symbol": "DOGEUSDT"}), 404, None),
    ];
    for (body, expected, field) in cases {
        let (status, answer) = submit(&admin, &server, body.clone()).await;
        assert_eq!(status, expected, "{body}: {answer}");
        if let Some(field) = field {
            let named = answer["error"]["field"].as_str().unwrap_or_default();
            assert!(named.starts_with(field), "{body}: {answer}");
        }
    }
    let (_, listed) = send(&admin, "GET", &server.url("/api/backtests"), None).await;
    assert_eq!(listed["count"], 0, "nothing refused was kept");

    add_user(&server.base_url, "tess", "trader", "Tess-Trader-Password-7").await;
    add_user(&server.base_url, "vic", "viewer", "Vic-Viewer-Password-7").await;
    let tess = bearer_client(&login(&server.base_url, "tess", "Tess-Trader-Password-7").await);
    let vic = bearer_client(&login(&server.base_url, "vic", "Vic-Viewer-Password-7").await);
    let (status, _) = submit(&vic, &server, json!({"symbol": "EURUSD"})).await;
    assert_eq!(status, 403, "viewers do not run backtests");
    let (_, mine) = submit(&admin, &server, json!({"symbol": "EURUSD"})).await;
    let (status, theirs) = submit(
        &tess,
        &server,
        json!({"symbol": "EURUSD", "fast": 5, "slow": 30}),
    )
    .await;
    assert_eq!(status, 202, "{theirs}");
    let (status, _) = send(
        &tess,
        "GET",
        &server.url(&format!("/api/backtests/{}", mine["id"])),
        None,
    )
    .await;
    assert_eq!(status, 404, "another's backtest does not exist for her");
    let (_, listed) = send(&tess, "GET", &server.url("/api/backtests"), None).await;
    assert_eq!(listed["count"], 1);
    assert_eq!(listed["backtests"][0]["owner"], "tess");
    let (_, everyone) = send(&admin, "GET", &server.url("/api/backtests"), None).await;
    assert_eq!(everyone["count"], 2, "an admin sees every backtest");
    let (status, _) = send(&admin, "GET", &server.url("/api/backtests/abc"), None).await;
    assert_eq!(status, 400);
}
