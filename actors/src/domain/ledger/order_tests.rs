//! Orders, sizing caps, exit rules and trade records, through `Portfolio::apply` and
//! `Portfolio::on_candle` as the live path and a backtest use them.

use super::*;
use crate::domain::market::{self, Candle, Symbol, Volume};
use crate::domain::money::test_values::{dec, money, price, quantity};
use crate::domain::money::{Money, Quantity};
use std::collections::BTreeMap;

const MINUTE_MS: i64 = 60_000;

fn btc() -> Symbol {
    Symbol::parse("BTCUSDT").unwrap()
}

fn candle(minute: i64, open: &str, high: &str, low: &str, close: &str) -> Candle {
    let price = |text: &str| market::Price::from_decimal(dec(text)).unwrap();
    Candle {
        open_time_ms: minute * MINUTE_MS,
        open: price(open),
        high: price(high),
        low: price(low),
        close: price(close),
        volume: Volume::ZERO,
    }
}

fn portfolio(balance: &str, limits: RiskLimits) -> Portfolio {
    let spec = PortfolioSpec {
        limits,
        ..test_spec(balance, dec("0.001"))
    };
    Portfolio::create(spec).unwrap()
}

fn order(side: Side, entry: Entry, size: Size) -> OrderRequest {
    OrderRequest {
        symbol: btc(),
        side,
        entry,
        size,
        stop_loss: None,
        take_profits: Vec::new(),
        exit_rules: ExitRules::default(),
        expires_at_ms: None,
        source: TradeSource::Manual,
        quantity_step: quantity("0.00000001"),
    }
}

fn resting(kind: OrderKind, at: &str, market: &str) -> Entry {
    Entry::Resting {
        kind,
        price: price(at),
        market: price(market),
    }
}

fn place(portfolio: &mut Portfolio, request: OrderRequest) -> Result<Outcome, LedgerError> {
    portfolio.apply(&Mutation::Place(Box::new(request)), 0)
}

/// Places a resting order of `quantity` at `at` with the market at `market`.
fn rest(
    held: &mut Portfolio,
    side: Side,
    kind: OrderKind,
    at: &str,
    market: &str,
    quantity: &str,
) -> Result<Outcome, LedgerError> {
    place(held, order(side, resting(kind, at, market), one(quantity)))
}

fn one(text: &str) -> Size {
    Size::Quantity(quantity(text))
}

#[test]
fn a_pending_order_s_held_cash_is_still_equity_on_the_curve() {
    let mut held = portfolio("10000", RiskLimits::default());
    rest(&mut held, Side::Long, OrderKind::Limit, "95", "100", "10").unwrap();
    let curve = super::analytics::equity_curve(&held, &Default::default(), 5 * MINUTE_MS).unwrap();
    assert!(
        curve.iter().all(|point| point.equity == money("10000")),
        "{curve:?}"
    );
    held.on_candle(&btc(), &candle(2, "93", "94", "92", "93"), 3 * MINUTE_MS);
    let curve = super::analytics::equity_curve(&held, &Default::default(), 5 * MINUTE_MS).unwrap();
    // Filled at 93 (cost at cost): only the fill's fee moves equity.
    let last_realised = &curve[curve.len() - 2];
    assert_eq!(last_realised.equity, money("9999.07"), "{curve:?}");
}

#[test]
fn a_resting_limit_reserves_its_cash_and_fills_at_its_price_or_a_better_gap() {
    let mut held = portfolio("10000", RiskLimits::default());
    let placed = rest(&mut held, Side::Long, OrderKind::Limit, "95", "100", "10").unwrap();
    assert_eq!(placed.trade.status, TradeStatus::Pending);
    assert_eq!(placed.entries[0].kind, EntryKind::OrderReserve);
    assert_eq!(held.cash(), money("9049.05"), "950 + 0.95 fee held");
    assert!(held.is_conserved());
    // A candle that only dips to 96 fills nothing; one opening at 93 fills at 93.
    assert!(held
        .on_candle(&btc(), &candle(1, "100", "101", "96", "99"), 2 * MINUTE_MS)
        .fills
        .is_empty());
    let exits = held.on_candle(&btc(), &candle(2, "93", "94", "92", "93"), 3 * MINUTE_MS);
    assert_eq!(exits.fills[0].key, "order-1-120000-fill");
    let trade = held.trade(1).unwrap();
    assert_eq!(trade.status, TradeStatus::Open);
    assert_eq!(trade.fills[0].price, price("93"));
    assert_eq!(
        trade.opened_at_ms,
        3 * MINUTE_MS,
        "filled at the candle's close"
    );
    assert_eq!(held.cash(), money("9069.07"), "10000 - 930.93");
    assert!(held.is_conserved());
}

#[test]
fn a_marketable_limit_fills_at_once_at_the_market_never_at_its_limit() {
    let mut held = portfolio("10000", RiskLimits::default());
    let long = rest(&mut held, Side::Long, OrderKind::Limit, "105", "100", "1").unwrap();
    assert_eq!(
        (long.trade.status, long.trade.fills[0].price),
        (TradeStatus::Open, price("100"))
    );
    let stop = rest(
        &mut held,
        Side::Long,
        OrderKind::StopEntry,
        "95",
        "100",
        "1",
    )
    .unwrap();
    assert_eq!(
        stop.trade.fills[0].price,
        price("100"),
        "a stop-entry already triggered"
    );
    let short = rest(&mut held, Side::Short, OrderKind::Limit, "110", "100", "1").unwrap();
    assert_eq!(short.trade.status, TradeStatus::Pending);
}

#[test]
fn stop_entries_fill_on_the_breakout_at_the_worse_of_price_and_open() {
    let mut held = portfolio("10000", RiskLimits::default());
    rest(
        &mut held,
        Side::Long,
        OrderKind::StopEntry,
        "105",
        "100",
        "1",
    )
    .unwrap();
    rest(
        &mut held,
        Side::Short,
        OrderKind::StopEntry,
        "90",
        "100",
        "1",
    )
    .unwrap();
    held.on_candle(
        &btc(),
        &candle(1, "107", "108", "106", "107"),
        2 * MINUTE_MS,
    );
    held.on_candle(&btc(), &candle(2, "95", "96", "89", "90"), 3 * MINUTE_MS);
    assert_eq!(held.trade(1).unwrap().fills[0].price, price("107"));
    assert_eq!(held.trade(2).unwrap().fills[0].price, price("90"));
}

#[test]
fn a_pending_order_expires_or_is_cancelled_and_its_cash_comes_back() {
    let mut held = portfolio("10000", RiskLimits::default());
    let mut expiring = order(Side::Long, resting(OrderKind::Limit, "90", "100"), one("1"));
    expiring.expires_at_ms = Some(2 * MINUTE_MS);
    place(&mut held, expiring).unwrap();
    rest(&mut held, Side::Long, OrderKind::Limit, "90", "100", "1").unwrap();
    // Minute 2 trades through 90, but opens at the expiry: the first order expires first.
    let exits = held.on_candle(&btc(), &candle(2, "95", "95", "85", "88"), 3 * MINUTE_MS);
    let keys: Vec<&str> = exits.fills.iter().map(|fill| fill.key.as_str()).collect();
    assert_eq!(keys, ["order-1-120000-expire", "order-2-120000-fill"]);
    let expired = held.trade(1).unwrap();
    assert_eq!(
        (expired.status, expired.exit_reason),
        (TradeStatus::Expired, Some(ExitReason::Expired))
    );
    assert_eq!(expired.duration_ms(), Some(3 * MINUTE_MS));
    rest(&mut held, Side::Long, OrderKind::Limit, "80", "100", "1").unwrap();
    let cash = held.cash();
    let cancelled = held.apply(&Mutation::Cancel { trade_id: 3 }, 5).unwrap();
    assert_eq!(cancelled.trade.exit_reason, Some(ExitReason::Cancelled));
    assert_eq!(held.cash(), cash.checked_add(money("80.08")).unwrap());
    assert_eq!(
        held.apply(&Mutation::Cancel { trade_id: 3 }, 6)
            .unwrap_err(),
        LedgerError::NotPending(3)
    );
    assert_eq!(
        held.apply(&Mutation::Cancel { trade_id: 2 }, 6)
            .unwrap_err(),
        LedgerError::NotPending(2)
    );
    assert!(held.is_conserved());
}

#[test]
fn pending_orders_count_against_the_position_limit() {
    let limits = RiskLimits {
        max_open_positions: Some(1),
        ..RiskLimits::default()
    };
    let mut held = portfolio("10000", limits);
    rest(&mut held, Side::Long, OrderKind::Limit, "90", "100", "1").unwrap();
    let refused = place(
        &mut held,
        order(
            Side::Long,
            Entry::Market {
                fill_price: price("100"),
            },
            one("1"),
        ),
    );
    assert!(matches!(
        refused,
        Err(LedgerError::RiskLimit {
            limit: "max_open_positions",
            ..
        })
    ));
}

fn risk(percent: &str) -> Size {
    Size::Risk {
        percent: dec(percent),
        marks: BTreeMap::new(),
    }
}

fn sized(held: &mut Portfolio, size: Size, stop: &str, step: &str) -> Result<Outcome, LedgerError> {
    let mut request = order(
        Side::Long,
        Entry::Market {
            fill_price: price("100"),
        },
        size,
    );
    request.stop_loss = Some(price(stop));
    request.quantity_step = quantity(step);
    place(held, request)
}

#[test]
fn risk_sizing_is_capped_by_the_position_limit_then_the_cash_then_the_step() {
    let limits = RiskLimits {
        max_position_notional: Some(money("550")),
        ..RiskLimits::default()
    };
    let mut capped = portfolio("100000", limits);
    let outcome = sized(&mut capped, risk("1"), "99", "1").unwrap();
    let note = outcome.sizing.unwrap();
    assert_eq!(
        (note.by_risk, note.quantity, note.cap),
        (
            quantity("1000"),
            quantity("5"),
            Some(SizingCap::MaxPositionNotional)
        )
    );
    let mut small = portfolio("1000", RiskLimits::default());
    let note = sized(&mut small, risk("50"), "99.9", "0.001")
        .unwrap()
        .sizing
        .unwrap();
    assert_eq!(
        (note.quantity, note.cap),
        (quantity("9.99"), Some(SizingCap::AvailableCash))
    );
    let mut free = portfolio("100000", RiskLimits::default());
    let note = sized(&mut free, risk("1"), "90", "0.00000001")
        .unwrap()
        .sizing
        .unwrap();
    assert_eq!(
        (note.quantity, note.cap),
        (quantity("100"), None),
        "1000 at risk over 10"
    );
    let mut tiny = portfolio("50", RiskLimits::default());
    assert!(matches!(
        sized(&mut tiny, risk("1"), "99", "1"),
        Err(LedgerError::RiskLimit { .. })
    ));
    assert!(tiny.ledger().is_empty());
    let step = sized(&mut free, one("1.5"), "90", "1").unwrap_err();
    assert_eq!(
        step.field(),
        Some("quantity"),
        "not a whole number of steps"
    );
    let no_stop = place(
        &mut free,
        order(
            Side::Long,
            Entry::Market {
                fill_price: price("100"),
            },
            risk("1"),
        ),
    );
    assert_eq!(no_stop.unwrap_err().field(), Some("stop_loss"));
    assert_eq!(
        sized(&mut free, risk("0"), "90", "1").unwrap_err().field(),
        Some("risk_percent")
    );
}

fn with_rules(held: &mut Portfolio, side: Side, stop: &str, targets: &[&str], rules: ExitRules) {
    let mut request = order(
        side,
        Entry::Market {
            fill_price: price("100"),
        },
        one("2"),
    );
    request.stop_loss = Some(price(stop));
    request.take_profits = targets.iter().map(|t| price(t)).collect();
    request.exit_rules = rules;
    place(held, request).unwrap();
}

#[test]
fn a_trailing_stop_follows_the_best_price_and_never_loosens() {
    let trailing = |rule| ExitRules {
        trailing: Some(rule),
        break_even_after_target: false,
    };
    let mut held = portfolio("100000", RiskLimits::default());
    with_rules(
        &mut held,
        Side::Long,
        "90",
        &[],
        trailing(Trailing::Percent(dec("5"))),
    );
    with_rules(
        &mut held,
        Side::Short,
        "130",
        &[],
        trailing(Trailing::Distance(price("3"))),
    );
    held.on_candle(&btc(), &candle(1, "100", "120", "98", "118"), 2 * MINUTE_MS);
    assert_eq!(
        held.trade(1).unwrap().stop_loss,
        Some(price("114")),
        "120 x 0.95"
    );
    assert_eq!(
        held.trade(2).unwrap().stop_loss,
        Some(price("101")),
        "98 + 3"
    );
    held.on_candle(
        &btc(),
        &candle(2, "118", "119", "115", "116"),
        3 * MINUTE_MS,
    );
    assert_eq!(
        held.trade(1).unwrap().stop_loss,
        Some(price("114")),
        "119 x 0.95 is lower: kept"
    );
    held.on_candle(
        &btc(),
        &candle(3, "116", "116", "100", "100"),
        4 * MINUTE_MS,
    );
    let stopped = held.trade(1).unwrap();
    assert_eq!(
        (stopped.status, stopped.exit_reason),
        (TradeStatus::Closed, Some(ExitReason::Stop))
    );
    assert_eq!(stopped.average_exit_price(), Some(dec("114")));
}

#[test]
fn break_even_moves_the_stop_to_the_entry_after_the_first_target() {
    let rules = ExitRules {
        trailing: None,
        break_even_after_target: true,
    };
    let mut held = portfolio("100000", RiskLimits::default());
    with_rules(&mut held, Side::Long, "90", &["110", "130"], rules);
    held.on_candle(&btc(), &candle(1, "100", "111", "99", "108"), 2 * MINUTE_MS);
    let trade = held.trade(1).unwrap();
    assert_eq!(
        (trade.targets_hit, trade.stop_loss),
        (1, Some(price("100")))
    );
    held.on_candle(&btc(), &candle(2, "105", "105", "99", "100"), 3 * MINUTE_MS);
    let closed = held.trade(1).unwrap();
    let reasons: Vec<Option<ExitReason>> = closed.fills.iter().map(|fill| fill.reason).collect();
    assert_eq!(
        reasons,
        [None, Some(ExitReason::Target(1)), Some(ExitReason::Stop)]
    );
    assert_eq!(
        closed.average_entry_price(),
        Some(dec("100")),
        "kept after the close"
    );
    assert_eq!(
        closed.average_exit_price(),
        Some(dec("105")),
        "(110 + 100) / 2"
    );
    // Net: +10 on one unit, 0 on the other, less fees 0.2 + 0.11 + 0.1; R: over 2 x 10.
    assert_eq!(closed.net_pnl().unwrap(), money("9.59"));
    assert_eq!(closed.r_multiple(), Some(dec("0.4795")));
    assert_eq!(closed.duration_ms(), Some(3 * MINUTE_MS));
    assert_eq!(closed.entered_quantity(), Ok(quantity("2")));
}

#[test]
fn a_manual_close_says_so_and_a_fill_order_on_a_closed_trade_is_refused() {
    let mut held = portfolio("1000", RiskLimits::default());
    place(
        &mut held,
        order(
            Side::Long,
            Entry::Market {
                fill_price: price("100"),
            },
            one("1"),
        ),
    )
    .unwrap();
    let closed = held
        .apply(
            &Mutation::Close {
                trade_id: 1,
                quantity: None,
                price: price("101"),
            },
            9,
        )
        .unwrap();
    assert_eq!(closed.trade.exit_reason, Some(ExitReason::Manual));
    assert_eq!(closed.trade.fills.len(), 2);
    let fill = held.apply(
        &Mutation::FillOrder {
            trade_id: 1,
            price: price("1"),
        },
        10,
    );
    assert_eq!(fill.unwrap_err(), LedgerError::NotPending(1));
    assert_eq!(Quantity::ZERO, closed.trade.quantity);
    assert!(Money::ZERO < closed.trade.realised_pnl);
}
