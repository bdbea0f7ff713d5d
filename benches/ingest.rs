//! End-to-end ingest of 500 symbols, each sent 2,000 one-minute candles in batches of 1,000:
//!
//! - `through_actors`: `Engine::ingest` (registry routing, bounded mailboxes, symbol actors on
//!   2 arbiters, aggregation to every timeframe, reply), candles already checked;
//! - `over_http`: the real server in-process, `POST /api/candles` over loopback with 8
//!   requests in flight; bodies are serialised up front, but the client's HTTP work shares the
//!   machine's 2 cores with the server (JSON parsing, exact decimals, validation, actors);
//! - `over_http_..._100_dead_channels`: the same with 100 webhook channels taking every
//!   signal, all to a receiver that never answers (issue 18: within 5% of without).
//!
//!     cargo bench --bench ingest

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use cryptolens_actors::actors::{Engine, EngineSettings};
use cryptolens_actors::domain::analysis::AnalysisSettings;
use cryptolens_actors::domain::market::{Candle, Price, Symbol, Timeframe, Volume};
use std::time::{Duration, Instant};

const SYMBOLS: usize = 500;
const CANDLES_PER_SYMBOL: usize = 2_000;
const BATCH: usize = 1_000;

fn candles(seed: usize) -> Vec<Candle> {
    (0..CANDLES_PER_SYMBOL)
        .map(|minute| {
            let base = 1_000_000 + ((minute * 7919 + seed * 104_729) % 100_000) as i64;
            Candle {
                open_time_ms: minute as i64 * Timeframe::M1.duration_ms(),
                open: Price::from_raw(base),
                high: Price::from_raw(base + 500),
                low: Price::from_raw(base - 500),
                close: Price::from_raw(base + 100),
                volume: Volume::from_raw(123_456_789),
            }
        })
        .collect()
}

async fn ingest_all(engine: &Engine, work: &[(Symbol, Vec<Candle>)]) {
    let tasks = work.iter().map(|(symbol, candles)| async move {
        for batch in candles.chunks(BATCH) {
            loop {
                match engine.ingest(symbol, Timeframe::M1, batch.to_vec()).await {
                    Ok(_) => break,
                    Err(cryptolens_actors::actors::EngineError::MailboxFull { .. }) => {
                        tokio::task::yield_now().await
                    }
                    Err(error) => panic!("ingest failed: {error}"),
                }
            }
        }
    });
    futures_util::future::join_all(tasks).await;
}

/// 500 symbols, each with its candles.
fn workload() -> Vec<(Symbol, Vec<Candle>)> {
    (0..SYMBOLS)
        .map(|index| {
            (
                Symbol::parse(&format!("SYM{index:03}USDT")).expect("symbol"),
                candles(index),
            )
        })
        .collect()
}

fn bench_ingest(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let work = workload();
    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    group.throughput(Throughput::Elements((SYMBOLS * CANDLES_PER_SYMBOL) as u64));
    group.bench_function("500_symbols_through_actors_2_shards", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let settings = EngineSettings {
                    shards: 2,
                    ..EngineSettings::default()
                };
                let engine = Engine::start(settings, AnalysisSettings::default()).expect("engine");
                let started = Instant::now();
                runtime.block_on(ingest_all(&engine, &work));
                total += started.elapsed();
                runtime.block_on(engine.shutdown());
            }
            total
        })
    });
    group.finish();
}

/// One JSON body per batch, prices as decimal strings as an exchange feed sends them.
fn http_bodies(work: &[(Symbol, Vec<Candle>)]) -> Vec<Vec<u8>> {
    work.iter()
        .flat_map(|(symbol, candles)| {
            candles.chunks(BATCH).map(move |batch| {
                let candles: Vec<serde_json::Value> = batch
                    .iter()
                    .map(|candle| {
                        serde_json::json!({"t": candle.open_time_ms, "o": candle.open.to_string(), "h": candle.high.to_string(),
                            "l": candle.low.to_string(), "c": candle.close.to_string(), "v": candle.volume.to_string()})
                    })
                    .collect();
                let body = serde_json::json!({"symbol": symbol.as_str(), "timeframe": "1m", "candles": candles});
                serde_json::to_vec(&body).unwrap_or_default()
            })
        })
        .collect()
}

/// The admin key registered at the bench server's first start.
const BENCH_KEY: &str =
    "clk_00112233445566ff_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// Posts every body with `in_flight` requests at a time; batches of one symbol stay in order
/// because each symbol's bodies are consecutive and one worker takes a symbol's whole run.
async fn post_all(http: &reqwest::Client, url: &str, bodies: &[Vec<u8>], in_flight: usize) {
    let per_symbol = CANDLES_PER_SYMBOL / BATCH;
    let runs: Vec<&[Vec<u8>]> = bodies.chunks(per_symbol).collect();
    let workers = runs
        .chunks(runs.len().div_ceil(in_flight))
        .map(|share| async move {
            for run in share {
                for body in *run {
                    let response = http
                        .post(url)
                        .header("content-type", "application/json")
                        .header("x-api-key", BENCH_KEY)
                        .body(body.clone())
                        .send()
                        .await;
                    let status = response
                        .map(|response| response.status().as_u16())
                        .unwrap_or(0);
                    assert_eq!(status, 200, "ingest over HTTP failed");
                }
            }
        });
    futures_util::future::join_all(workers).await;
}

/// A receiver that accepts connections and never answers: every delivery to it times out.
async fn black_hole() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    address
}

/// `channels` webhook channels, all to one black hole, with no filter: every signal of every
/// symbol is accepted for each of them.
async fn attach_dead_channels(http: &reqwest::Client, base: &str, channels: usize) {
    if channels == 0 {
        return;
    }
    let dead = black_hole().await;
    for index in 0..channels {
        let body = serde_json::json!({"name": format!("dead {index}"), "kind": "webhook", "url": format!("http://{dead}/hook")});
        let status = http
            .post(format!("{base}/api/notify/channels"))
            .header("x-api-key", BENCH_KEY)
            .json(&body)
            .send()
            .await
            .map(|response| response.status().as_u16())
            .unwrap_or(0);
        assert_eq!(status, 201, "adding a channel failed");
    }
}

fn bench_settings(data_dir: &std::path::Path) -> cryptolens::config::Settings {
    let flags = cryptolens::config::FlagOverrides {
        bind: Some("127.0.0.1:0".parse().expect("addr")),
        data_dir: Some(data_dir.to_owned()),
    };
    let mut settings = cryptolens::config::Settings::load(None, &flags).expect("settings");
    settings.engine.shards = 2;
    settings.rate_limits.ingest_burst = u32::MAX;
    settings.rate_limits.ingest_per_minute = u32::MAX;
    settings.rate_limits.default_burst = u32::MAX;
    settings.rate_limits.default_per_minute = u32::MAX;
    settings.notify.allow_private_destinations = true;
    settings.notify.channels_per_user_max = 1_000;
    // The synthetic candles are from 1970: let their signals count as new.
    settings.notify.max_signal_age_ms = i64::MAX;
    settings
}

/// One run: a fresh server, `channels` dead channels, then every body posted; the ingest
/// time, and the notifications the run accepted into the outbox.
fn http_ingest_run(
    runtime: &tokio::runtime::Runtime,
    http: &reqwest::Client,
    bodies: &[Vec<u8>],
    channels: usize,
) -> (Duration, f64) {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let settings = bench_settings(data_dir.path());
    let options = cryptolens::server::StartOptions {
        admin_password: Some("Bench-Admin-Password-1".into()),
        admin_api_key: Some(BENCH_KEY.into()),
        ..cryptolens::server::StartOptions::from_env()
    };
    let server = runtime
        .block_on(cryptolens::server::Server::start(&settings, options))
        .expect("server");
    let base = format!("http://{}", server.local_addr());
    runtime.block_on(attach_dead_channels(http, &base, channels));
    let started = Instant::now();
    runtime.block_on(post_all(http, &format!("{base}/api/candles"), bodies, 8));
    let elapsed = started.elapsed();
    let accepted = runtime.block_on(notifications_accepted(http, &base));
    runtime.block_on(server.shutdown());
    (elapsed, accepted)
}

async fn notifications_accepted(http: &reqwest::Client, base: &str) -> f64 {
    let text = match http
        .get(format!("{base}/metrics"))
        .header("x-api-key", BENCH_KEY)
        .send()
        .await
    {
        Ok(response) => response.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    text.lines()
        .find_map(|line| line.strip_prefix("cryptolens_notify_total{outcome=\"accepted\"} "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0.0)
}

fn bench_http_ingest(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let bodies = http_bodies(&workload());
    let http = reqwest::Client::new();
    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    group.throughput(Throughput::Elements((SYMBOLS * CANDLES_PER_SYMBOL) as u64));
    for (name, channels) in [
        ("500_symbols_over_http_2_cores", 0),
        ("500_symbols_over_http_2_cores_100_dead_channels", 100),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let (elapsed, accepted) = http_ingest_run(&runtime, &http, &bodies, channels);
                    total += elapsed;
                    if channels > 0 {
                        eprintln!(
                            "  {accepted} notifications accepted for {channels} dead channels"
                        );
                    }
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_ingest, bench_http_ingest);
criterion_main!(benches);
