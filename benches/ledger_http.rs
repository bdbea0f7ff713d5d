//! Paper trading over HTTP on the real release binary: 64 keep-alive clients, each opening and
//! closing trades (every mutation durable before its answer) on 16, then 256 portfolios
//! (client i trades portfolio i mod N), for a given time each. Prints per case the durable
//! mutations per second, latency p50/p99/max and every non-2xx status, then how long SIGTERM
//! took to end the server.
//!
//!     cargo bench --bench ledger_http -- [SECONDS]     (default 60 per case)

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CLIENTS: usize = 64;
const KEY: &str =
    "clk_a1b2c3d4e5f60718_9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";

fn http() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("X-API-Key", KEY.parse().expect("header"));
    reqwest::Client::builder()
        .default_headers(headers)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

async fn post(http: &reqwest::Client, url: &str, body: Value) -> (u16, Value) {
    match http.post(url).json(&body).send().await {
        Ok(answer) => {
            let status = answer.status().as_u16();
            (status, answer.json().await.unwrap_or(Value::Null))
        }
        Err(_) => (0, Value::Null),
    }
}

/// What one client saw: each mutation's latency and the statuses other than 2xx.
#[derive(Default)]
struct Seen {
    latencies: Vec<Duration>,
    failures: BTreeMap<u16, usize>,
}

async fn client(base: String, portfolio: u64, until: Instant) -> Seen {
    let http = http();
    let mut seen = Seen::default();
    let trades = format!("{base}/api/portfolios/{portfolio}/trades");
    while Instant::now() < until {
        let started = Instant::now();
        let body =
            json!({"symbol": "ETHUSDT", "side": "long", "quantity": "0.01", "price": "2000"});
        let (status, opened) = post(&http, &trades, body).await;
        if status != 201 {
            *seen.failures.entry(status).or_default() += 1;
            continue;
        }
        seen.latencies.push(started.elapsed());
        let trade = &opened["trade"]["id"];
        let started = Instant::now();
        let close = format!("{trades}/{trade}/close");
        let (status, answer) = post(&http, &close, json!({"price": "2000"})).await;
        match status {
            200 => seen.latencies.push(started.elapsed()),
            other => {
                if seen.failures.is_empty() {
                    eprintln!("close answered {other}: {answer}");
                }
                *seen.failures.entry(other).or_default() += 1
            }
        }
    }
    seen
}

/// One closed minute of ETHUSDT at 2000, so trades have a market to open against.
async fn set_market(base: &str) {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    let minute = now_ms / 60_000 * 60_000 - 120_000;
    let candle = json!({"t": minute, "o": "2000", "h": "2000", "l": "2000", "c": "2000", "v": "1"});
    let body = json!({"symbol": "ETHUSDT", "timeframe": "1m", "candles": [candle]});
    let (status, answer) = post(&http(), &format!("{base}/api/candles"), body).await;
    assert_eq!(status, 200, "{answer}");
}

async fn run_case(base: &str, portfolios: usize, seconds: u64) {
    let http = http();
    let mut ids = Vec::new();
    for n in 0..portfolios {
        let body = json!({"name": format!("load {n}"), "initial_balance": "100000000"});
        let (status, created) = post(&http, &format!("{base}/api/portfolios"), body).await;
        assert_eq!(status, 201, "{created}");
        ids.push(created["id"].as_u64().expect("id"));
    }
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|index| tokio::spawn(client(base.to_owned(), ids[index % ids.len()], until)))
        .collect();
    let mut all = Seen::default();
    for task in tasks {
        let seen = task.await.expect("client");
        all.latencies.extend(seen.latencies);
        for (status, count) in seen.failures {
            *all.failures.entry(status).or_default() += count;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.latencies.sort();
    assert!(
        !all.latencies.is_empty(),
        "no mutation succeeded: {:?}",
        all.failures
    );
    let at = |share: f64| {
        let index = ((all.latencies.len() as f64 * share) as usize).min(all.latencies.len() - 1);
        all.latencies[index]
    };
    println!(
        "{portfolios} portfolios x {CLIENTS} clients, {seconds} s: {} durable mutations, {:.0}/s; \
         p50 {:?}, p99 {:?}, max {:?}; non-2xx {:?}",
        all.latencies.len(),
        all.latencies.len() as f64 / elapsed,
        at(0.5),
        at(0.99),
        at(1.0),
        all.failures
    );
}

#[tokio::main]
async fn main() {
    let seconds = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(60);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = Command::new(env!("CARGO_BIN_EXE_cryptolens"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("CRYPTOLENS_LOG__FILTER", "error")
        .env("CRYPTOLENS_ADMIN_PASSWORD", "Load-Ledger-Password-7")
        .env("CRYPTOLENS_ADMIN_API_KEY", KEY)
        .env("CRYPTOLENS_ENGINE__PORTFOLIOS_PER_USER_MAX", "1000")
        .env("CRYPTOLENS_RATE_LIMITS__DEFAULT_PER_MINUTE", "4000000000")
        .env("CRYPTOLENS_RATE_LIMITS__DEFAULT_BURST", "4000000000")
        .env("CRYPTOLENS_RATE_LIMITS__INGEST_PER_MINUTE", "4000000000")
        .env("CRYPTOLENS_RATE_LIMITS__INGEST_BURST", "4000000000")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn cryptolens");
    let pid = server.id().to_string();
    // A failed run (a panic below) must not leave the server behind.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = Command::new("kill").args(["-9", &pid]).status();
        default_hook(info);
    }));
    let mut line = String::new();
    let stdout = server.stdout.take().expect("stdout");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("listening line");
    let base = line.trim().rsplit(' ').next().expect("address").to_owned();
    set_market(&base).await;
    for portfolios in [16, 256] {
        run_case(&base, portfolios, seconds).await;
    }
    let stopping = Instant::now();
    let terminated = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    assert!(terminated.expect("kill").success());
    let status = server.wait().expect("wait");
    println!("SIGTERM to exit: {:?} ({status})", stopping.elapsed());
}
