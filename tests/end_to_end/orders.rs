//! Paper orders on the real binary: market fills with slippage, limit and stop-entry orders
//! resting as pending trades (cash reserved, listed, cancellable, expiring) that fill only
//! when a later candle trades through their price, at the open when it gaps; sizing caps;
//! amounts out of bounds refused by field; CSV export.

use crate::portfolios::{assert_conserved, create_portfolio, decimal, post};
use crate::support::{batch, client, get_json, ServerProcess};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::time::Duration;

const MINUTE_MS: i64 = 60_000;

/// One-minute candles of `symbol` counted from a fixed minute, so tests can name their
/// times (expiries, fill times) in advance.
struct Minutes {
    first_ms: i64,
}

impl Minutes {
    /// Starting at the next wall-clock minute: newer than orders placed now.
    fn from_now() -> Minutes {
        let next = chrono::Utc::now().timestamp_millis() / MINUTE_MS + 1;
        Minutes {
            first_ms: next * MINUTE_MS,
        }
    }

    fn at_ms(&self, minute: i64) -> i64 {
        self.first_ms + minute * MINUTE_MS
    }

    async fn post(
        &self,
        http: &reqwest::Client,
        base: &str,
        symbol: &str,
        candles: &[(i64, [&str; 4])],
    ) {
        let bodies = candles
            .iter()
            .map(|(minute, [o, h, l, c])| {
                json!({"t": self.at_ms(*minute), "o": o, "h": h, "l": l, "c": c, "v": "1"})
            })
            .collect();
        let (status, answer) = post(
            http,
            &format!("{base}/api/candles"),
            None,
            batch(symbol, "1m", bodies),
        )
        .await;
        assert_eq!(status, 200, "{answer}");
    }
}

/// A server started with `config`, a client, its base URL, and the minutes of a TESTUSD
/// market whose first candle is flat at `price`.
async fn market_at(config: &str, price: &str) -> (ServerProcess, reqwest::Client, String, Minutes) {
    let server = ServerProcess::start(config);
    let (http, base) = (client(), server.base_url.clone());
    let minutes = Minutes::from_now();
    minutes
        .post(
            &http,
            &base,
            "TESTUSD",
            &[(0, [price, price, price, price])],
        )
        .await;
    (server, http, base, minutes)
}

async fn trade(http: &reqwest::Client, base: &str, portfolio: u64, trade: u64) -> Value {
    let trades: Value = get_json(http, &format!("{base}/api/portfolios/{portfolio}/trades")).await;
    trades["trades"]
        .as_array()
        .expect("trades")
        .iter()
        .find(|t| t["id"] == trade)
        .cloned()
        .unwrap_or(Value::Null)
}

/// Waits until trade `id` is in `status` (exits and fills are applied by the candle feed,
/// asynchronously to ingest).
async fn wait_status(
    http: &reqwest::Client,
    base: &str,
    portfolio: u64,
    id: u64,
    status: &str,
) -> Value {
    let mut last = Value::Null;
    for _ in 0..200 {
        last = trade(http, base, portfolio, id).await;
        if last["status"] == status {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("trade {id} never became {status}: {last}");
}

fn cash(ledger: &Value) -> Decimal {
    decimal(&ledger["cash"])
}

#[tokio::test]
async fn a_limit_order_rests_with_its_cash_reserved_and_fills_only_when_traded_through() {
    let (_server, http, base, minutes) = market_at("", "100").await;
    let id = create_portfolio(&http, &base, "10000").await;
    let trades = format!("{base}/api/portfolios/{id}/trades");
    let body = json!({"symbol": "TESTUSD", "side": "long", "quantity": "10", "price": "95", "stop_loss": "90"});
    let (status, placed) = post(&http, &trades, None, body).await;
    assert_eq!(status, 201, "{placed}");
    assert_eq!(placed["trade"]["status"], "pending");
    assert_eq!(placed["trade"]["fills"], json!([]));
    let reserved = decimal(&placed["trade"]["order"]["reserved"]);
    assert_eq!(
        reserved,
        Decimal::new(95_095, 2),
        "10 x 95 plus the 0.1% fee"
    );
    let ledger = assert_conserved(&http, &base, id).await;
    assert_eq!(cash(&ledger), Decimal::from(10_000) - reserved);
    assert_eq!(ledger["entries"][0]["kind"], "order_reserve");
    // Minute 1 dips to 96 only: no fill.  Minute 2 opens at 99 and trades down to 94: fills
    // at the limit, 95. Each candle is evaluated once the next one closes it.
    minutes
        .post(
            &http,
            &base,
            "TESTUSD",
            &[
                (1, ["100", "101", "96", "99"]),
                (2, ["99", "99", "94", "97"]),
                (3, ["97", "97", "97", "97"]),
            ],
        )
        .await;
    let filled = wait_status(&http, &base, id, 1, "open").await;
    assert_eq!(filled["fills"][0]["price"], "95", "{filled}");
    assert_eq!(
        filled["fills"][0]["at_ms"],
        minutes.at_ms(3),
        "filled at the close of minute 2"
    );
    assert_eq!(filled["average_entry_price"], "95");
    let ledger = assert_conserved(&http, &base, id).await;
    let kinds: Vec<&str> = ledger["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["order_reserve", "order_release", "reserve"]);
    assert_eq!(
        cash(&ledger),
        Decimal::from(10_000) - reserved,
        "the fill cost what was reserved"
    );
}

#[tokio::test]
async fn orders_fill_at_the_open_of_a_gap_and_stop_entries_wait_for_a_breakout() {
    let (_server, http, base, minutes) = market_at("", "100").await;
    let id = create_portfolio(&http, &base, "100000").await;
    let trades = format!("{base}/api/portfolios/{id}/trades");
    let order = |side: &str, price: &str, kind: &str| json!({"symbol": "TESTUSD", "side": side, "quantity": "1", "price": price, "order": kind});
    for body in [
        order("long", "95", "limit"),
        order("long", "105", "stop"),
        order("short", "110", "limit"),
        order("short", "90", "stop"),
    ] {
        let (status, placed) = post(&http, &trades, None, body).await;
        assert_eq!(
            (status, placed["trade"]["status"].as_str()),
            (201, Some("pending")),
            "{placed}"
        );
    }
    // A limit the market already meets fills at once, at the market, not at the limit.
    let (status, marketable) = post(&http, &trades, None, order("long", "101", "limit")).await;
    assert_eq!(status, 201, "{marketable}");
    assert_eq!(marketable["trade"]["status"], "open");
    assert_eq!(marketable["trade"]["fills"][0]["price"], "100");
    // Minute 1 gaps down to 93: the long limit at 95 fills at the better open. Minute 2 gaps
    // up to 107: the long stop-entry at 105 fills at the worse open. Minute 3 trades from
    // 111 down to 89: the short limit fills at 110, the short stop-entry at 90.
    minutes
        .post(
            &http,
            &base,
            "TESTUSD",
            &[
                (1, ["93", "94", "92", "94"]),
                (2, ["107", "108", "106", "107"]),
                (3, ["107", "111", "89", "100"]),
                (4, ["100", "100", "100", "100"]),
            ],
        )
        .await;
    for (trade_id, price) in [(1, "93"), (2, "107"), (3, "110"), (4, "90")] {
        let filled = wait_status(&http, &base, id, trade_id, "open").await;
        assert_eq!(filled["fills"][0]["price"], price, "{filled}");
    }
    assert_conserved(&http, &base, id).await;
}

#[tokio::test]
async fn a_pending_order_is_cancelled_or_expires_and_its_cash_comes_back() {
    let (_server, http, base, minutes) = market_at("", "100").await;
    let id = create_portfolio(&http, &base, "10000").await;
    let trades = format!("{base}/api/portfolios/{id}/trades");
    let body = json!({"symbol": "TESTUSD", "side": "long", "quantity": "10", "price": "90"});
    assert_eq!(post(&http, &trades, None, body.clone()).await.0, 201);
    let (status, cancelled) = post(&http, &format!("{trades}/1/cancel"), None, json!({})).await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["trade"]["status"], "cancelled");
    assert_eq!(cancelled["trade"]["exit_reason"], "cancelled");
    assert_eq!(
        cash(&assert_conserved(&http, &base, id).await),
        Decimal::from(10_000)
    );
    let (status, again) = post(&http, &format!("{trades}/1/cancel"), None, json!({})).await;
    assert_eq!(
        (status, again["error"]["field"].as_str()),
        (409, Some("trade_id")),
        "{again}"
    );

    let expiring = json!({"symbol": "TESTUSD", "side": "long", "quantity": "10", "price": "90",
                          "expires_at": minutes.at_ms(2)});
    let (status, placed) = post(&http, &trades, None, expiring).await;
    assert_eq!(status, 201, "{placed}");
    // Minute 1 stays above 90; minute 2 opens at the expiry: the order expires unfilled,
    // even though minute 2 trades through 90.
    minutes
        .post(
            &http,
            &base,
            "TESTUSD",
            &[
                (1, ["100", "100", "95", "99"]),
                (2, ["99", "99", "80", "85"]),
                (3, ["85", "85", "85", "85"]),
            ],
        )
        .await;
    let expired = wait_status(&http, &base, id, 2, "expired").await;
    assert_eq!(expired["exit_reason"], "expired");
    assert_eq!(expired["fills"], json!([]));
    assert_eq!(
        cash(&assert_conserved(&http, &base, id).await),
        Decimal::from(10_000)
    );
    let past = json!({"symbol": "TESTUSD", "side": "long", "quantity": "1", "price": "90", "expires_at": 1});
    let (status, refused) = post(&http, &trades, None, past).await;
    assert_eq!(
        (status, refused["error"]["field"].as_str()),
        (400, Some("expires_at"))
    );
}

#[tokio::test]
async fn market_orders_pay_the_configured_slippage() {
    let (_server, http, base, _minutes) = market_at("[trading]\nslippage_bps = 10\n", "100").await;
    let id = create_portfolio(&http, &base, "10000").await;
    let trades = format!("{base}/api/portfolios/{id}/trades");
    let (status, long) = post(
        &http,
        &trades,
        None,
        json!({"symbol": "TESTUSD", "side": "long", "quantity": "1"}),
    )
    .await;
    assert_eq!(status, 201, "{long}");
    assert_eq!(
        long["trade"]["fills"][0]["price"], "100.1",
        "a buy pays 10 bps more"
    );
    let (status, short) = post(
        &http,
        &trades,
        None,
        json!({"symbol": "TESTUSD", "side": "short", "quantity": "1"}),
    )
    .await;
    assert_eq!(status, 201, "{short}");
    assert_eq!(
        short["trade"]["fills"][0]["price"], "99.9",
        "a sale gets 10 bps less"
    );
    let (status, closed) = post(&http, &format!("{trades}/1/close"), None, json!({})).await;
    assert_eq!(status, 200, "{closed}");
    let exit = closed["trade"]["fills"]
        .as_array()
        .expect("fills")
        .last()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (exit["price"].as_str(), exit["reason"].as_str()),
        (Some("99.9"), Some("manual"))
    );
    // A close's price is a limit the market must meet: buying back at 99 is not on offer.
    let (status, refused) = post(
        &http,
        &format!("{trades}/2/close"),
        None,
        json!({"price": "99"}),
    )
    .await;
    assert_eq!(
        (status, refused["error"]["field"].as_str()),
        (400, Some("price")),
        "{refused}"
    );
    assert_conserved(&http, &base, id).await;
}

/// Places after the decimal point of a decimal string.
fn places(value: &Value) -> usize {
    value
        .as_str()
        .and_then(|text| text.split_once('.'))
        .map_or(0, |(_, fraction)| fraction.len())
}

#[tokio::test]
async fn money_shows_at_most_eight_places_rounded_half_to_even() {
    let (_server, http, base, _minutes) = market_at("[trading]\nslippage_bps = 7\n", "100.1").await;
    let id = create_portfolio(&http, &base, "10000").await;
    let trades = format!("{base}/api/portfolios/{id}/trades");
    // 0.33333333 at 100.17007 with a 0.1% fee: exact figures would carry 16 places.
    let body = json!({"symbol": "TESTUSD", "side": "long", "quantity": "0.33333333"});
    let (status, opened) = post(&http, &trades, None, body).await;
    assert_eq!(status, 201, "{opened}");
    assert_eq!(
        post(
            &http,
            &format!("{trades}/1/close"),
            None,
            json!({"quantity": "0.11111111"})
        )
        .await
        .0,
        200
    );
    let ledger = assert_conserved(&http, &base, id).await;
    for entry in ledger["entries"].as_array().expect("entries") {
        for field in ["amount", "cash_before", "cash_after"] {
            assert!(places(&entry[field]) <= 8, "{field}: {entry}");
        }
    }
    let listed: Value = get_json(&http, &trades).await;
    let trade = &listed["trades"][0];
    for field in ["cost_basis", "fees_paid", "realised_pnl", "unrealised_pnl"] {
        assert!(places(&trade[field]) <= 8, "{field}: {trade}");
    }
    let stats: Value = get_json(&http, &format!("{base}/api/portfolios/{id}/stats")).await;
    for field in ["cash", "equity", "realised_pnl", "unrealised_pnl", "fees"] {
        assert!(places(&stats[field]) <= 8, "{field}: {stats}");
    }
}

#[tokio::test]
async fn risk_sizing_is_capped_and_says_which_cap_applied() {
    let (_server, http, base, _minutes) =
        market_at("[trading.quantity_steps]\nTESTUSD = \"1\"\n", "100").await;
    let portfolios = format!("{base}/api/portfolios");
    let (status, capped) = post(
        &http,
        &portfolios,
        None,
        json!({"name": "capped", "initial_balance": "100000",
        "limits": {"max_position_notional": "550"}}),
    )
    .await;
    assert_eq!(status, 201, "{capped}");
    let trades = format!("{portfolios}/{}/trades", capped["id"]);
    // 1% of 100000 over a 1.00 stop distance is 1000 units; 550 of notional buys 5 at 100.
    let body = json!({"symbol": "TESTUSD", "side": "long", "stop_loss": "99"});
    let (status, placed) = post(&http, &trades, None, body).await;
    assert_eq!(status, 201, "{placed}");
    assert_eq!(placed["trade"]["quantity"], "5");
    assert_eq!(placed["sizing"]["by_risk"], "1000");
    assert_eq!(placed["sizing"]["cap"], "max_position_notional");

    let small = create_portfolio(&http, &base, "1000").await;
    let trades = format!("{portfolios}/{small}/trades");
    let body =
        json!({"symbol": "TESTUSD", "side": "long", "stop_loss": "99.9", "risk_percent": "50"});
    let (status, placed) = post(&http, &trades, None, body).await;
    assert_eq!(status, 201, "{placed}");
    assert_eq!(placed["sizing"]["cap"], "available_cash", "{placed}");
    assert_eq!(
        placed["trade"]["quantity"], "9",
        "1000 buys 9 at 100 with the fee; the step is 1"
    );

    let tiny = create_portfolio(&http, &base, "50").await;
    let trades = format!("{portfolios}/{tiny}/trades");
    let body = json!({"symbol": "TESTUSD", "side": "long", "stop_loss": "99"});
    let (status, refused) = post(&http, &trades, None, body).await;
    assert_eq!(
        (status, refused["error"]["field"].as_str()),
        (422, Some("quantity")),
        "{refused}"
    );
    assert_eq!(assert_conserved(&http, &base, tiny).await["count"], 0);
}

#[tokio::test]
async fn amounts_out_of_bounds_are_refused_by_field_and_reads_never_fail() {
    let (_server, http, base, minutes) = market_at("", "100").await;
    let id = create_portfolio(&http, &base, "1000000000").await;
    let trades = format!("{base}/api/portfolios/{id}/trades");
    for (change, field) in [
        (json!({"price": "1000000000001"}), "price"),
        (json!({"quantity": "1000000000001"}), "quantity"),
        (
            json!({"stop_loss": "1000000000001", "side": "short"}),
            "stop_loss",
        ),
        (json!({"take_profits": ["1000000000001"]}), "take_profits"),
        (
            json!({"quantity": "999999999999", "price": "5000", "side": "short"}),
            "quantity",
        ),
    ] {
        let mut body = json!({"symbol": "TESTUSD", "side": "long", "quantity": "1", "price": "99"});
        for (key, value) in change.as_object().expect("object") {
            body[key] = value.clone();
        }
        let (status, answer) = post(&http, &trades, None, body.clone()).await;
        assert_eq!(status, 422, "{body} -> {answer}");
        assert_eq!(
            answer["error"]["code"], "out_of_range",
            "{body} -> {answer}"
        );
        assert_eq!(
            answer["error"]["field"].as_str(),
            Some(field),
            "{body} -> {answer}"
        );
    }
    // The largest short the bounds allow, then the market goes to the largest price.
    let body = json!({"symbol": "TESTUSD", "side": "short", "quantity": "9000000"});
    assert_eq!(post(&http, &trades, None, body).await.0, 201);
    minutes
        .post(
            &http,
            &base,
            "TESTUSD",
            &[(1, ["9000000000", "9000000000", "9000000000", "9000000000"])],
        )
        .await;
    for view in ["", "/stats", "/equity", "/trades", "/ledger"] {
        let response = http
            .get(format!("{base}/api/portfolios/{id}{view}"))
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status().as_u16(), 200, "{view}");
    }
}

#[tokio::test]
async fn trades_and_the_ledger_export_as_csv() {
    let (_server, http, base, _minutes) = market_at("", "100").await;
    let id = create_portfolio(&http, &base, "10000").await;
    let trades = format!("{base}/api/portfolios/{id}/trades");
    let body = json!({"symbol": "TESTUSD", "side": "long", "quantity": "2", "stop_loss": "95"});
    assert_eq!(post(&http, &trades, None, body).await.0, 201);
    assert_eq!(
        post(&http, &format!("{trades}/1/close"), None, json!({}))
            .await
            .0,
        200
    );
    let response = http
        .get(format!("{base}/api/portfolios/{id}/trades.csv"))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap_or("")
        .starts_with("text/csv"));
    let text = response.text().await.expect("body");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().expect("headers").clone();
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("rows");
    assert_eq!(rows.len(), 1, "{text}");
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .map(|at| rows[0][at].to_owned())
    };
    assert_eq!(column("average_entry_price").as_deref(), Some("100"));
    assert_eq!(column("average_exit_price").as_deref(), Some("100"));
    assert_eq!(column("exit_reason").as_deref(), Some("manual"));
    assert_eq!(column("status").as_deref(), Some("closed"));
    let ledger = http
        .get(format!("{base}/api/portfolios/{id}/ledger.csv"))
        .send()
        .await
        .expect("GET");
    let text = ledger.text().await.expect("body");
    assert_eq!(text.lines().count(), 3, "a header and two entries: {text}");
}

#[tokio::test]
async fn a_trailing_stop_follows_the_high_and_break_even_follows_the_first_target() {
    let (_server, http, base, minutes) = market_at("", "100").await;
    let id = create_portfolio(&http, &base, "100000").await;
    let trades = format!("{base}/api/portfolios/{id}/trades");
    let trailing = json!({"symbol": "TESTUSD", "side": "long", "quantity": "1", "stop_loss": "90",
                          "trailing_stop": {"percent": "5"}});
    assert_eq!(post(&http, &trades, None, trailing).await.0, 201);
    let even = json!({"symbol": "TESTUSD", "side": "long", "quantity": "2", "stop_loss": "90",
                      "take_profits": ["110", "130"], "break_even_after_target": true});
    assert_eq!(post(&http, &trades, None, even).await.0, 201);
    // Minute 1 reaches 120: the trailing stop moves to 114, and the first target (110) of
    // trade 2 fills, moving its stop to its entry, 100. Minute 2 falls to 99: trade 1 stops
    // at 114, trade 2 at break-even.
    minutes
        .post(
            &http,
            &base,
            "TESTUSD",
            &[
                (1, ["100", "120", "100", "118"]),
                (2, ["116", "116", "99", "100"]),
                (3, ["100", "100", "100", "100"]),
            ],
        )
        .await;
    let trailed = wait_status(&http, &base, id, 1, "closed").await;
    let exit = trailed["fills"]
        .as_array()
        .and_then(|f| f.last().cloned())
        .unwrap_or_default();
    assert_eq!(
        (exit["price"].as_str(), exit["reason"].as_str()),
        (Some("114"), Some("stop")),
        "{trailed}"
    );
    assert_eq!(trailed["exit_reason"], "stop");
    let even = wait_status(&http, &base, id, 2, "closed").await;
    let reasons: Vec<(&str, &str)> = even["fills"]
        .as_array()
        .expect("fills")
        .iter()
        .filter_map(|fill| Some((fill["reason"].as_str()?, fill["price"].as_str()?)))
        .collect();
    assert_eq!(reasons, [("target_1", "110"), ("stop", "100")], "{even}");
    assert_conserved(&http, &base, id).await;
}
