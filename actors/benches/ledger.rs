//! Durable ledger mutations: 64 concurrent clients, each sending open/close pairs to one
//! portfolio actor (mutations applied in mailbox order, records written to sled and the
//! journal and acknowledged only after the journal's fsync; concurrent mutations share one),
//! on 1, 16 and 256 portfolios (client i trades portfolio i mod N). Prints the
//! acknowledgement latency percentiles of the last run of each. Target: >= 20k durable
//! mutations/s.
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

/// Portfolio `n`'s, each with its own owner (an owner's portfolios are capped).
fn spec(n: usize) -> PortfolioSpec {
    PortfolioSpec {
        id: 0,
        owner: format!("bench{n}"),
        name: "bench".into(),
        quote_currency: "USDT".into(),
        initial_balance: Money::new(Decimal::from(1_000_000_000)),
        fee_rate: FeeRate::new_checked(Decimal::new(1, 3)).expect("a fee rate"),
        limits: RiskLimits::default(),
        created_at_ms: 0,
        money_decimals: Some(8),
    }
}

/// One run: every client's latencies.
fn run_clients(
    runtime: &tokio::runtime::Runtime,
    book: &Arc<PortfolioBook>,
    ids: &[u64],
) -> Vec<Duration> {
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|client| runtime.spawn(trade(Arc::clone(book), ids[client % ids.len()])))
        .collect();
    runtime.block_on(async {
        let mut all = Vec::with_capacity(MUTATIONS);
        for task in tasks {
            all.extend(task.await.expect("client"));
        }
        all
    })
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
    let mut group = c.benchmark_group("ledger");
    group.sample_size(10);
    group.throughput(Throughput::Elements(MUTATIONS as u64));
    for (name, portfolios) in [
        ("durable_mutations_64_clients", 1),
        ("durable_mutations_64_clients_16_portfolios", 16),
        ("durable_mutations_64_clients_256_portfolios", 256),
    ] {
        let ids: Vec<u64> = (0..portfolios)
            .map(|n| {
                runtime
                    .block_on(book.create(spec(portfolios * 1000 + n), None))
                    .expect("create")
                    .spec()
                    .id
            })
            .collect();
        let mut last_latencies = Vec::new();
        group.bench_function(name, |b| {
            b.iter(|| last_latencies = run_clients(&runtime, &book, &ids))
        });
        last_latencies.sort();
        eprintln!(
            "{name}: acknowledgement latency over {} mutations: p50 {:?}, p99 {:?}, max {:?}",
            last_latencies.len(),
            percentile(&last_latencies, 0.50),
            percentile(&last_latencies, 0.99),
            percentile(&last_latencies, 1.0)
        );
    }
    group.finish();
    runtime.block_on(engine.shutdown());
}

criterion_group!(benches, bench_ledger);
criterion_main!(benches);
