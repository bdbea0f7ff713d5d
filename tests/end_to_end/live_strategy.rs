//! A strategy attached to a paper portfolio trades it on the candles the server receives,
//! with the backtest's own rules: the registry EURUSD hourly candles, sent to the real server
//! in two imports with a restart between them, give the portfolio exactly the trades
//! `cryptolens backtest` gives on the same candles (entries, exits, sides, quantities, P&L).
//! Also: pausing, the decision log, detaching, and bad input refused by field.

use crate::backtest_cli::backtest_json;
use crate::support::{client, fixtures, get_json, send, ServerProcess};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

const RING: &str = "[engine]\nring_capacity = 5000\n";
const STRATEGY: &str = "config/strategies/momentum-market.toml";

/// `rows` of the EURUSD fixture (header kept) written to `path`; the open time of the last.
fn part(rows: &[&str], header: &str, path: &Path) -> i64 {
    let text = std::iter::once(header)
        .chain(rows.iter().copied())
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(path, text + "\n").expect("write part");
    open_time(rows[rows.len() - 1])
}

fn open_time(row: &str) -> i64 {
    row.split(',')
        .next()
        .and_then(|t| t.parse().ok())
        .expect("time")
}

fn import(server: &ServerProcess, file: &Path) {
    crate::support::import_eurusd_file(server, file);
}

/// Waits until the exit feed has handed every closed EURUSD candle, up to the one opening at
/// `last_closed_open_ms`, to the portfolios (the newest candle is still forming).
async fn drained(server: &ServerProcess, last_closed_open_ms: i64) {
    let started = Instant::now();
    loop {
        let actors = get_json(&client(), &server.url("/api/actors")).await;
        let eurusd = actors["actors"]
            .as_array()
            .and_then(|all| all.iter().find(|a| a["symbol"] == "EURUSD"))
            .cloned()
            .unwrap_or(Value::Null);
        if eurusd["exit_last_handed_open_time_ms"] == json!(last_closed_open_ms)
            && eurusd["exit_backlog_candles"] == json!(0)
        {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{eurusd}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A closed trade as the backtest reports it, from the portfolio's own record of it.
fn as_backtest_trade(trade: &Value) -> Value {
    let fills = trade["fills"].as_array().expect("fills");
    let entry = fills
        .iter()
        .find(|fill| fill["kind"] != "exit")
        .expect("an entry fill");
    let number = |value: &Value| -> rust_decimal::Decimal {
        value
            .as_str()
            .and_then(|t| t.parse().ok())
            .expect("decimal")
    };
    let pnl = number(&trade["realised_pnl"]) - number(&trade["fees_paid"]);
    json!({
        "entry_time": entry["at_ms"],
        "exit_time": trade["closed_at"],
        "side": trade["side"],
        "quantity": trade["closed_quantity"],
        "pnl": pnl.normalize().to_string(),
    })
}

fn cli_trade(trade: &Value) -> Value {
    let pnl: rust_decimal::Decimal = trade["pnl"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .expect("pnl");
    json!({
        "entry_time": trade["entry_time"],
        "exit_time": trade["exit_time"],
        "side": trade["side"],
        "quantity": trade["quantity"],
        "pnl": pnl.normalize().to_string(),
    })
}

/// A portfolio with momentum-market's costs and cap (`[costs] fee_rate`, `[sizing]
/// max_open_positions`): live, the portfolio's own fee and limits apply.
async fn create_portfolio(server: &ServerProcess) -> u64 {
    let body = json!({
        "name": "live momentum",
        "initial_balance": "10000",
        "fee_rate": "0.001",
        "limits": {"max_open_positions": 1},
    });
    let (status, created) = send(
        &client(),
        "POST",
        &server.url("/api/portfolios"),
        Some(&body),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_u64().expect("id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_strategy_makes_the_backtests_trades_on_the_same_candles_across_a_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let source = fixtures().join("data/EURUSD-1h.csv");
    let text = std::fs::read_to_string(&source).expect("fixture");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let rows: Vec<&str> = lines.filter(|line| !line.trim().is_empty()).collect();
    let (first, second) = (dir.path().join("first.csv"), dir.path().join("second.csv"));
    let first_last_ms = part(&rows[..1], header, &first);
    let half_last_ms = part(&rows[..2_500], header, &second);
    let admin = client();

    let mut server = ServerProcess::start_in(&dir.path().join("data"), RING);
    import(&server, &first);
    assert_eq!(first_last_ms, open_time(rows[0]));
    let portfolio = create_portfolio(&server).await;
    let strategy_url = server.url(&format!("/api/portfolios/{portfolio}/strategy"));
    let attach = json!({"strategy": "momentum-market", "symbols": ["EURUSD"]});
    let (status, attached) = send(&admin, "POST", &strategy_url, Some(&attach)).await;
    assert_eq!(status, 200, "{attached}");
    assert_eq!(attached["spec"]["name"], "momentum-market");
    assert_eq!(attached["spec"]["costs"]["fee_rate"], "0.001");
    assert_eq!(attached["spec"]["sizing"]["max_open_positions"], 1);
    assert_eq!(attached["paused"], false);

    import(&server, &second);
    drained(&server, open_time(rows[2_498])).await;
    let before_restart = get_json(&admin, &strategy_url).await["strategy"].clone();
    assert_eq!(server.signal_and_wait("TERM").code(), Some(0));
    server = ServerProcess::start_in(&dir.path().join("data"), RING);
    let strategy_url = server.url(&format!("/api/portfolios/{portfolio}/strategy"));
    let after_restart = get_json(&admin, &strategy_url).await["strategy"].clone();
    assert_eq!(
        after_restart, before_restart,
        "the strategy is rebuilt from the ledger"
    );
    let all = dir.path().join("all.csv");
    let last_ms = part(&rows, header, &all);
    assert!(last_ms > half_last_ms);
    import(&server, &all);
    drained(&server, open_time(rows[rows.len() - 2])).await;

    let cli = backtest_json(&[
        "--file",
        source.to_str().expect("path"),
        "--timeframe",
        "1h",
        "--symbol",
        "EURUSD",
        "--strategy",
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(STRATEGY)
            .to_str()
            .expect("path"),
        "--to",
        &last_ms.to_string(),
    ]);
    let expected: Vec<Value> = cli["trades"]
        .as_array()
        .expect("trades")
        .iter()
        .map(cli_trade)
        .collect();
    assert!(
        expected.len() > 20,
        "a strategy that trades: {}",
        expected.len()
    );
    let trades = get_json(
        &admin,
        &server.url(&format!("/api/portfolios/{portfolio}/trades")),
    )
    .await;
    let mut live: Vec<Value> = trades["trades"]
        .as_array()
        .expect("trades")
        .iter()
        .filter(|trade| trade["status"] == "closed")
        .map(as_backtest_trade)
        .collect();
    live.sort_by_key(|trade| trade["entry_time"].as_i64());
    for (index, (live, backtest)) in live.iter().zip(&expected).enumerate() {
        assert_eq!(live, backtest, "trade {index}");
    }
    assert_eq!(
        live.len(),
        expected.len(),
        "closed trades: {:?}",
        expected.last()
    );
    let open_live = trades["trades"]
        .as_array()
        .expect("trades")
        .iter()
        .filter(|trade| trade["status"] == "open" || trade["status"] == "partially_closed")
        .count();
    assert_eq!(
        json!(open_live),
        cli["open_trades"],
        "still open at the end"
    );

    let view = get_json(&admin, &strategy_url).await["strategy"].clone();
    let decisions = view["decisions"].as_array().expect("decisions");
    assert!(
        decisions
            .iter()
            .any(|d| d["action"] == "long" || d["action"] == "short"),
        "{view}"
    );
    assert!(
        decisions.iter().any(|d| d["action"] == "refused"
            && d["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("EURUSD-") && r.contains(": "))),
        "an entry the ledger refused says which signal and why: {view}"
    );
    assert!(
        decisions.iter().any(|d| d["action"] == "time_stop"),
        "time stops are logged"
    );
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_strategy_pauses_detaches_and_refuses_bad_input_by_field() {
    let dir = tempfile::tempdir().expect("dir");
    let server = ServerProcess::start_in(dir.path(), RING);
    let first = dir.path().join("first.csv");
    let text = std::fs::read_to_string(fixtures().join("data/EURUSD-1h.csv")).expect("fixture");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let rows: Vec<&str> = lines.take(3).collect();
    part(&rows, header, &first);
    import(&server, &first);
    let admin = client();
    let portfolio = create_portfolio(&server).await;
    let url = server.url(&format!("/api/portfolios/{portfolio}/strategy"));

    let (status, none) = send(&admin, "GET", &url, None).await;
    assert_eq!((status, none), (200, json!({"strategy": null})));
    for (body, field) in [
        (
            json!({"strategy": "nope", "symbols": ["EURUSD"]}),
            "strategy",
        ),
        (
            json!({"strategy": "momentum-market", "symbols": []}),
            "symbols",
        ),
        (
            json!({"strategy": "momentum-market", "symbols": ["BTCUSDT"]}),
            "symbols",
        ),
        (
            json!({"strategy": "momentum-market", "symbols": ["EURUSD", "EURUSD"]}),
            "symbols",
        ),
        (
            json!({"spec": {"name": "x", "exits": {"targets": 7}}, "symbols": ["EURUSD"]}),
            "spec",
        ),
        (json!({"symbols": ["EURUSD"]}), "strategy"),
        (
            json!({"strategy": "momentum-market", "symbols": ["EURUSD"], "extra": 1}),
            "extra",
        ),
    ] {
        let (status, refused) = send(&admin, "POST", &url, Some(&body)).await;
        assert_eq!(status, 400, "{body}: {refused}");
        assert_eq!(refused["error"]["field"], field, "{body}: {refused}");
    }
    let (status, _) = send(&admin, "PATCH", &url, Some(&json!({"paused": true}))).await;
    assert_eq!(status, 404, "nothing to pause yet");

    let spec = json!({"name": "mine", "entry": {"min_confluence": 4}, "exits": {"targets": 2}});
    let (status, attached) = send(
        &admin,
        "POST",
        &url,
        Some(&json!({"spec": spec, "symbols": ["EURUSD"]})),
    )
    .await;
    assert_eq!(status, 200, "{attached}");
    assert_eq!(attached["spec"]["entry"]["min_confluence"], 4);
    let (status, paused) = send(&admin, "PATCH", &url, Some(&json!({"paused": true}))).await;
    assert_eq!(status, 200, "{paused}");
    assert_eq!(paused["paused"], true);
    assert_eq!(paused["decisions"][0]["action"], "pause");
    let (_, resumed) = send(&admin, "PATCH", &url, Some(&json!({"paused": false}))).await;
    assert_eq!(resumed["paused"], false);
    assert_eq!(resumed["decisions"][0]["action"], "resume");
    let (status, detached) = send(&admin, "DELETE", &url, None).await;
    assert_eq!((status, detached), (200, json!({"detached": true})));
    let (status, none) = send(&admin, "GET", &url, None).await;
    assert_eq!((status, none), (200, json!({"strategy": null})));
    drop(server);
}
