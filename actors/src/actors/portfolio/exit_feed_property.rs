//! The lossless exit feed against a plain reference (issue 13: exits were silently skipped
//! when the trigger task lagged). Random walks of candles for one or two symbols go through
//! the real engine, exit feed and portfolio actors with random lag: a market-event broadcast
//! of capacity 1 with a subscriber that never reads (so it overflows), random ingest batch
//! sizes and symbol interleaving, and portfolio actors held busy for random spans. Afterwards
//! every portfolio must equal the same opening portfolio with `Portfolio::on_candle` applied
//! to every closed base candle in order.

use crate::actors::portfolio::run_candle_feed;
use crate::actors::{Engine, EngineSettings};
use crate::domain::analysis::AnalysisSettings;
use crate::domain::ledger::{Mutation, Portfolio, PortfolioSpec, RiskLimits, Side, TradeSource};
use crate::domain::market::{Candle, Symbol, Timeframe, Volume};
use crate::domain::money::test_values::money;
use crate::domain::money::{FeeRate, Price, Quantity};
use crate::store::Store;
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::sync::Arc;
use std::time::Duration;

const MINUTE_MS: i64 = 60_000;

/// A small deterministic generator: the case is its seed, so a failure replays exactly.
struct Walk(u64);

impl Walk {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in `low..=high`.
    fn between(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % (high - low + 1) as u64) as i64
    }
}

fn market_price(value: i64) -> crate::domain::market::Price {
    crate::domain::market::Price::from_decimal(Decimal::from(value)).unwrap()
}

/// `count` one-minute candles from minute 1 on, a random walk of whole prices around 100.
fn random_candles(walk: &mut Walk, count: usize) -> Vec<Candle> {
    let mut close = 100;
    (1..=count as i64)
        .map(|minute| {
            let open = if walk.between(0, 9) == 0 {
                (close + walk.between(-15, 15)).max(5) // a gap
            } else {
                close
            };
            close = (open + walk.between(-4, 4)).max(5);
            let high = open.max(close) + walk.between(0, 4);
            let low = (open.min(close) - walk.between(0, 4)).max(1);
            Candle {
                open_time_ms: minute * MINUTE_MS,
                open: market_price(open),
                high: market_price(high),
                low: market_price(low),
                close: market_price(close),
                volume: Volume::ZERO,
            }
        })
        .collect()
}

fn price(value: i64) -> Price {
    Price::new_checked(Decimal::from(value)).unwrap()
}

/// A trade at 100 with a stop 1..=20 away and 0..=3 targets beyond the entry.
fn random_trade(walk: &mut Walk, symbol: &Symbol) -> Mutation {
    let side = if walk.between(0, 1) == 0 {
        Side::Long
    } else {
        Side::Short
    };
    let toward_loss = if side == Side::Long { -1 } else { 1 };
    let stop = price(100 + toward_loss * walk.between(1, 20));
    let mut distance = 0;
    let take_profits = (0..walk.between(0, 3))
        .map(|_| {
            distance += walk.between(1, 8);
            price(100 - toward_loss * distance)
        })
        .collect();
    Mutation::Open {
        symbol: symbol.clone(),
        side,
        quantity: Quantity::new_checked(Decimal::from(walk.between(1, 6))).unwrap(),
        price: price(100),
        stop_loss: Some(stop),
        take_profits,
        source: TradeSource::Manual,
    }
}

fn spec() -> PortfolioSpec {
    PortfolioSpec {
        id: 0,
        owner: "property".into(),
        name: "exits".into(),
        quote_currency: "USDT".into(),
        initial_balance: money("100000"),
        fee_rate: FeeRate::new_checked(Decimal::new(1, 3)).unwrap(),
        limits: RiskLimits::default(),
        created_at_ms: 0,
        money_decimals: Some(8),
    }
}

/// The reference: every closed base candle of every symbol, in order, through the domain.
fn reference(mut portfolio: Portfolio, streams: &[(Symbol, Vec<Candle>)]) -> Portfolio {
    for (symbol, candles) in streams {
        // The newest candle of each symbol is still forming: it has not closed.
        for candle in &candles[..candles.len() - 1] {
            portfolio.on_candle(symbol, candle, candle.open_time_ms + MINUTE_MS);
        }
    }
    portfolio
}

/// With one symbol the ledgers are equal entry for entry. With two, the live feed interleaves
/// the symbols as they were ingested while the reference takes them one after the other, so
/// only the running cash columns may differ: every trade, every entry's amount and time per
/// trade, and the final cash must be equal (cash is ample, so no exit depends on the order).
fn assert_same_exits(live: &Portfolio, reference: &Portfolio, symbols: usize, seed: u64) {
    let id = live.spec().id;
    if symbols == 1 {
        assert_eq!(live, reference, "portfolio {id}, seed {seed}");
        return;
    }
    let trades = |portfolio: &Portfolio| portfolio.trades().cloned().collect::<Vec<_>>();
    assert_eq!(
        trades(live),
        trades(reference),
        "portfolio {id}, seed {seed}"
    );
    assert_eq!(live.cash(), reference.cash(), "portfolio {id}, seed {seed}");
    let by_trade = |portfolio: &Portfolio| {
        let mut entries: Vec<_> = portfolio
            .ledger()
            .iter()
            .map(|entry| (entry.trade_id, entry.kind, entry.amount, entry.at_ms))
            .collect();
        entries.sort_by_key(|(trade_id, _, _, at_ms)| (*trade_id, *at_ms));
        entries
    };
    assert_eq!(
        by_trade(live),
        by_trade(reference),
        "portfolio {id}, seed {seed}"
    );
    assert!(live.is_conserved(), "portfolio {id}, seed {seed}");
}

/// Waits until every symbol's feed has handed on its last closed candle (at most 20 s).
async fn feed_caught_up(engine: &Engine, streams: &[(Symbol, Vec<Candle>)]) -> bool {
    for _ in 0..2_000 {
        let health = engine.actor_health();
        let caught_up = streams.iter().all(|(symbol, candles)| {
            let last_closed_ms = candles[candles.len() - 2].open_time_ms;
            health.iter().any(|view| {
                view.symbol == *symbol
                    && view.exit_backlog_candles == 0
                    && view.exit_last_handed_open_time_ms == Some(last_closed_ms)
            })
        });
        if caught_up {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

/// Posts the streams in random batches, interleaving symbols at random and holding random
/// portfolios busy for random spans meanwhile.
async fn ingest_with_lag(
    engine: &Engine,
    walk: &mut Walk,
    streams: &[(Symbol, Vec<Candle>)],
    portfolio_ids: &[u64],
) {
    let book = engine.portfolios().unwrap();
    let mut sent = vec![0; streams.len()];
    while sent
        .iter()
        .zip(streams)
        .any(|(done, (_, all))| *done < all.len())
    {
        let which = walk.between(0, streams.len() as i64 - 1) as usize;
        let (symbol, candles) = &streams[which];
        let size = walk.between(1, 60) as usize;
        let batch: Vec<Candle> = candles
            .iter()
            .skip(sent[which])
            .take(size)
            .copied()
            .collect();
        sent[which] += batch.len();
        if !batch.is_empty() {
            engine.ingest(symbol, Timeframe::M1, batch).await.unwrap();
        }
        if walk.between(0, 3) == 0 {
            let id = portfolio_ids[walk.between(0, portfolio_ids.len() as i64 - 1) as usize];
            let (release, stalled) = tokio::sync::oneshot::channel();
            book.stall(id, stalled).unwrap();
            let span_ms = walk.between(0, 25) as u64;
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(span_ms)).await;
                let _ = release.send(());
            });
        }
        if walk.between(0, 4) == 0 {
            tokio::time::sleep(Duration::from_millis(walk.between(0, 5) as u64)).await;
        }
    }
}

fn run_case(seed: u64, symbols: usize, portfolios: usize, candles_per_symbol: usize) {
    let mut walk = Walk(seed | 1);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("store")).unwrap());
    let settings = EngineSettings {
        shards: 2,
        event_capacity: 1,
        ..EngineSettings::default()
    };
    let engine = Engine::start_restoring(settings, AnalysisSettings::default()).unwrap();
    engine.restore_from(store).unwrap();
    let streams: Vec<(Symbol, Vec<Candle>)> = ["BTCUSDT", "ETHUSDT"][..symbols]
        .iter()
        .map(|name| {
            (
                Symbol::parse(name).unwrap(),
                random_candles(&mut walk, candles_per_symbol),
            )
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // Subscribed and never read: the broadcast overflows; the feed must not care.
        let _deaf = engine.subscribe();
        let feed = tokio::spawn(run_candle_feed(engine.clone()));
        let book = engine.portfolios().unwrap();
        let mut opened = Vec::new();
        for _ in 0..portfolios {
            let id = book.create(spec(), None).await.unwrap().spec().id;
            for _ in 0..walk.between(1, 3) {
                let (symbol, _) = &streams[walk.between(0, symbols as i64 - 1) as usize];
                let trade = random_trade(&mut walk, symbol);
                book.mutate(id, trade, None, 0).await.unwrap();
            }
            opened.push((id, book.portfolio(id).await.unwrap()));
        }
        let ids: Vec<u64> = opened.iter().map(|(id, _)| *id).collect();
        ingest_with_lag(&engine, &mut walk, &streams, &ids).await;
        assert!(
            feed_caught_up(&engine, &streams).await,
            "the feed never caught up"
        );
        for (id, before) in opened {
            let live = book.portfolio(id).await.unwrap();
            assert_same_exits(&live, &reference(before, &streams), symbols, seed);
        }
        engine.shutdown().await;
        feed.await.unwrap();
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, .. ProptestConfig::default() })]

    #[test]
    fn the_live_feed_under_lag_fills_exactly_what_a_plain_reference_fills(
        seed in any::<u64>(),
        symbols in 1usize..=2,
        portfolios in 1usize..=4,
        candles_per_symbol in 100usize..=300,
    ) {
        run_case(seed, symbols, portfolios, candles_per_symbol);
    }
}
