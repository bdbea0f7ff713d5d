//! Durable ledger mutations: 64 concurrent clients, each sending open/close pairs to one
//! portfolio actor (mutations applied in mailbox order, records written to sled and
//! acknowledged only after a flush; concurrent mutations share flushes). Prints the
//! acknowledgement latency percentiles of the last run. Target: >= 20k durable mutations/s.
//!
//!     cargo bench -p cryptolens-actors --bench ledger

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use cryptolens_actors::actors::portfolio::PortfolioBook;
use cryptolens_actors::actors::{Engine, EngineSettings};
use cryptolens_actors::domain::analysis::AnalysisSettings;
use cryptolens_actors::domain::ledger::{Mutation, PortfolioSpec, RiskLimits, Side, TradeSource};
use cryptolens_actors::domain::market::Symbol;
use cryptolens_actors::domain::money::{FeeRate, Money, Price, Quantity};
use cryptolens_actors::store::Store;
use rust_decimal::Decimal;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENTS: usize = 64;
const PAIRS_PER_CLIENT: usize = 160;
const MUTATIONS: usize = CLIENTS * PAIRS_PER_CLIENT * 2;

async fn trade(book: Arc<PortfolioBook>, id: u64) -> Vec<Duration> {
    let symbol = Symbol::parse("BTCUSDT").expect("symbol");
    let entry = Price::new_checked(Decimal::from(100)).expect("a price");
    let exit = Price::new_checked(Decimal::from(101)).expect("a price");
    let mut latencies = Vec::with_capacity(PAIRS_PER_CLIENT * 2);
    for _ in 0..PAIRS_PER_CLIENT {
        let open = Mutation::Open {
            symbol: symbol.clone(),
            side: Side::Long,
            quantity: Quantity::new_checked(Decimal::ONE).expect("a quantity"),
            price: entry,
            stop_loss: None,
            take_profits: Vec::new(),
            source: TradeSource::Manual,
        };
        let started = Instant::now();
        let opened = book.mutate(id, open, None, 0).await.expect("open");
        latencies.push(started.elapsed());
        let close = Mutation::Close {
            trade_id: opened.trade.id,
            quantity: None,
            price: exit,
        };
        let started = Instant::now();
        book.mutate(id, close, None, 0).await.expect("close");
        latencies.push(started.elapsed());
    }
    latencies
}

fn percentile(sorted: &[Duration], share: f64) -> Duration {
    sorted[((sorted.len() as f64 * share) as usize).min(sorted.len() - 1)]
}

fn bench_ledger(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(Store::open(&dir.path().join("store")).expect("store"));
    let settings = EngineSettings {
        shards: 2,
        ..EngineSettings::default()
    };
    let engine = Engine::start_restoring(settings, AnalysisSettings::default()).expect("engine");
    engine.restore_from(store).expect("restore");
    let book = engine.portfolios().expect("portfolios");
    let spec = PortfolioSpec {
        id: 0,
        owner: "bench".into(),
        name: "bench".into(),
        quote_currency: "USDT".into(),
        initial_balance: Money::new(Decimal::from(1_000_000_000)),
        fee_rate: FeeRate::new_checked(Decimal::new(1, 3)).expect("a fee rate"),
        limits: RiskLimits::default(),
        created_at_ms: 0,
        money_decimals: Some(8),
    };
    let id = runtime
        .block_on(book.create(spec, None))
        .expect("create")
        .spec()
        .id;
    let mut last_latencies = Vec::new();
    let mut group = c.benchmark_group("ledger");
    group.sample_size(10);
    group.throughput(Throughput::Elements(MUTATIONS as u64));
    group.bench_function("durable_mutations_64_clients", |b| {
        b.iter(|| {
            let tasks: Vec<_> = (0..CLIENTS)
                .map(|_| runtime.spawn(trade(Arc::clone(&book), id)))
                .collect();
            last_latencies = runtime.block_on(async {
                let mut all = Vec::with_capacity(MUTATIONS);
                for task in tasks {
                    all.extend(task.await.expect("client"));
                }
                all
            });
        })
    });
    group.finish();
    last_latencies.sort();
    eprintln!(
        "acknowledgement latency over {} mutations: p50 {:?}, p99 {:?}, max {:?}",
        last_latencies.len(),
        percentile(&last_latencies, 0.50),
        percentile(&last_latencies, 0.99),
        percentile(&last_latencies, 1.0)
    );
    runtime.block_on(engine.shutdown());
}

criterion_group!(benches, bench_ledger);
criterion_main!(benches);
