//! The exit path through the actor: a candle handed to the book is evaluated by every
//! portfolio actor, each exit logged under its key, a candle seen again applies nothing, and
//! a restored book remembers the keys.

use super::PortfolioBounds;
use super::{ExitEvaluation, PortfolioBook};
use crate::domain::ledger::{Mutation, PortfolioSpec, RiskLimits, Side, TradeSource, TradeStatus};
use crate::domain::market::{Candle, Symbol, Timeframe, Volume};
use crate::domain::money::test_values::{money, price, quantity};
use crate::domain::money::{FeeRate, Price};
use crate::store::Store;
use rust_decimal::Decimal;
use std::sync::Arc;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(5);

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn candle(open_time_ms: i64, high: &str, low: &str) -> Candle {
    let price = |text: &str| crate::domain::market::Price::from_decimal(dec(text)).unwrap();
    Candle {
        open_time_ms,
        open: price("100"),
        high: price(high),
        low: price(low),
        close: price("100"),
        volume: Volume::ZERO,
    }
}

fn spec() -> PortfolioSpec {
    PortfolioSpec {
        id: 0,
        owner: "trader".into(),
        name: "exits".into(),
        quote_currency: "USDT".into(),
        initial_balance: money("10000"),
        fee_rate: FeeRate::ZERO,
        limits: RiskLimits::default(),
        created_at_ms: 0,
        money_decimals: Some(8),
    }
}

fn targets(levels: &[&str]) -> Vec<Price> {
    levels.iter().map(|level| price(level)).collect()
}

/// Hands one M1 candle to every portfolio; answers the exits applied.
async fn applied(book: &PortfolioBook, symbol: &Symbol, candle: &Candle) -> usize {
    let evaluation = book
        .evaluate_exits(symbol, Timeframe::M1, std::slice::from_ref(candle), &[])
        .await;
    evaluation.applied
}

async fn restore(store: &Arc<Store>) -> PortfolioBook {
    let shards = vec![actix_rt::Arbiter::current()];
    let (book, problems) = PortfolioBook::restore(
        Arc::clone(store),
        shards,
        TIMEOUT,
        PortfolioBounds::default(),
    )
    .unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    book
}

/// Puts target 105 back, so only its exit key tells that the candle took it already.
fn restore_target() -> Mutation {
    Mutation::Amend {
        trade_id: 1,
        stop_loss: None,
        clear_stop_loss: false,
        take_profits: Some(targets(&["105", "110"])),
    }
}

#[test]
fn exits_are_logged_once_per_key_and_the_keys_survive_a_restore() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("store")).unwrap());
    let btc = Symbol::parse("BTCUSDT").unwrap();
    actix_rt::System::new().block_on(async move {
        let book = restore(&store).await;
        let id = book.create(spec(), None).await.unwrap().spec().id;
        let open = Mutation::Open {
            symbol: btc.clone(),
            side: Side::Long,
            quantity: quantity("2"),
            price: price("100"),
            stop_loss: Some(price("95")),
            take_profits: targets(&["105", "110"]),
            source: TradeSource::Manual,
        };
        book.mutate(id, open, None, 0).await.unwrap();
        let first = candle(60_000, "106", "99");
        assert_eq!(applied(&book, &btc, &first).await, 1);
        let other = Symbol::parse("ETHUSDT").unwrap();
        assert_eq!(applied(&book, &other, &first).await, 0);
        book.mutate(id, restore_target(), None, 1).await.unwrap();
        assert_eq!(applied(&book, &btc, &first).await, 0);
        let held = book.portfolio(id).await.unwrap();
        assert_eq!(
            held.trade(1).map(|trade| trade.quantity),
            Some(quantity("1"))
        );
        assert_eq!(book.mutations(), 3, "open, exit, amend");

        let restored = restore(&store).await;
        assert_eq!(restored.portfolio(id).await.unwrap(), held);
        assert_eq!(applied(&restored, &btc, &first).await, 0);
        let stop = candle(180_000, "101", "94");
        assert_eq!(applied(&restored, &btc, &stop).await, 1);
        let closed = restored.portfolio(id).await.unwrap();
        assert_eq!(
            closed.trade(1).map(|trade| trade.status),
            Some(TradeStatus::Closed)
        );
        assert!(closed.is_conserved());
    });
}

fn open(symbol: &Symbol, side: Side, quantity_text: &str, stop: &str) -> Mutation {
    Mutation::Open {
        symbol: symbol.clone(),
        side,
        quantity: quantity(quantity_text),
        price: price("100"),
        stop_loss: Some(price(stop)),
        take_profits: Vec::new(),
        source: TradeSource::Manual,
    }
}

/// A candle opening at `open` and trading between `low` and `high`, closing at `low`.
fn gapped_candle(open_time_ms: i64, open: &str, high: &str, low: &str) -> Candle {
    let price = |text: &str| crate::domain::market::Price::from_decimal(dec(text)).unwrap();
    Candle {
        open: price(open),
        close: price(low),
        ..candle(open_time_ms, high, low)
    }
}

#[test]
fn a_batch_handed_on_twice_is_evaluated_once_per_portfolio() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("store")).unwrap());
    let btc = Symbol::parse("BTCUSDT").unwrap();
    actix_rt::System::new().block_on(async move {
        let book = restore(&store).await;
        let trading = book.create(spec(), None).await.unwrap().spec().id;
        let idle = book.create(spec(), None).await.unwrap().spec().id;
        book.mutate(trading, open(&btc, Side::Long, "1", "95"), None, 0)
            .await
            .unwrap();
        let batch = [
            candle(60_000, "101", "99"),
            candle(120_000, "101", "94"),
            candle(180_000, "101", "90"),
        ];
        let first = book.evaluate_exits(&btc, Timeframe::M1, &batch, &[]).await;
        assert_eq!(
            first,
            ExitEvaluation {
                evaluated: 3,
                applied: 1,
                refused: 0
            },
            "the idle portfolio evaluates nothing"
        );
        let again = book.evaluate_exits(&btc, Timeframe::M1, &batch, &[]).await;
        assert_eq!(
            again,
            ExitEvaluation::default(),
            "the cursor skips them all"
        );
        let overlapping = [batch[2], candle(240_000, "101", "99")];
        let next = book
            .evaluate_exits(&btc, Timeframe::M1, &overlapping, &[])
            .await;
        assert_eq!(next.applied, 0, "only the new candle, and nothing is open");
        let closed = book.portfolio(trading).await.unwrap();
        let trade = closed.trade(1).unwrap();
        assert_eq!(trade.status, TradeStatus::Closed);
        assert_eq!(
            closed.ledger().last().map(|entry| entry.at_ms),
            Some(180_000),
            "the stop filled at the close time of the candle that crossed it"
        );
        assert!(book
            .portfolio(idle)
            .await
            .unwrap()
            .trades()
            .next()
            .is_none());
        assert_eq!(book.exit_stats().candles_evaluated, 8);
        assert_eq!(book.exit_stats().evaluation_errors, 0);
    });
}

#[test]
fn a_refused_exit_is_counted_and_the_other_portfolios_still_exit() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("store")).unwrap());
    let btc = Symbol::parse("BTCUSDT").unwrap();
    actix_rt::System::new().block_on(async move {
        let book = restore(&store).await;
        let rigged = book.create(spec(), None).await.unwrap().spec().id;
        let honest = book.create(spec(), None).await.unwrap().spec().id;
        let all_in = open(&btc, Side::Short, "90", "105");
        book.mutate(rigged, all_in, None, 0).await.unwrap();
        book.mutate(honest, open(&btc, Side::Short, "1", "105"), None, 0)
            .await
            .unwrap();
        // Opens at 10x: the 90 short would cost 90,000 to close, far beyond its cash.
        let spike = [gapped_candle(60_000, "1000", "1000", "1000")];
        let evaluation = book.evaluate_exits(&btc, Timeframe::M1, &spike, &[]).await;
        assert_eq!((evaluation.applied, evaluation.refused), (1, 1));
        assert_eq!(book.exit_stats().refusals, 1);
        let still_open = book.portfolio(rigged).await.unwrap();
        assert!(still_open.trade(1).is_some_and(|trade| trade.is_open()));
        let filled = book.portfolio(honest).await.unwrap();
        assert_eq!(
            filled.trade(1).map(|trade| trade.status),
            Some(TradeStatus::Closed)
        );
    });
}

#[test]
fn a_portfolio_that_does_not_answer_is_counted_and_the_others_still_exit() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("store")).unwrap());
    let btc = Symbol::parse("BTCUSDT").unwrap();
    actix_rt::System::new().block_on(async move {
        let shards = vec![actix_rt::Arbiter::current()];
        let short_timeout = Duration::from_millis(100);
        let (book, _) = PortfolioBook::restore(
            Arc::clone(&store),
            shards,
            short_timeout,
            PortfolioBounds::default(),
        )
        .unwrap();
        let stuck = book.create(spec(), None).await.unwrap().spec().id;
        let answering = book.create(spec(), None).await.unwrap().spec().id;
        for id in [stuck, answering] {
            book.mutate(id, open(&btc, Side::Long, "1", "95"), None, 0)
                .await
                .unwrap();
        }
        let (release, stalled) = tokio::sync::oneshot::channel();
        book.stall(stuck, stalled).unwrap();
        let crossing = [candle(60_000, "101", "94")];
        let evaluation = book
            .evaluate_exits(&btc, Timeframe::M1, &crossing, &[])
            .await;
        assert_eq!(evaluation.applied, 1, "the answering portfolio exits");
        assert_eq!(book.exit_stats().evaluation_errors, 1);
        let _ = release.send(());
        let closed = book.portfolio(answering).await.unwrap();
        assert_eq!(
            closed.trade(1).map(|trade| trade.status),
            Some(TradeStatus::Closed)
        );
    });
}
