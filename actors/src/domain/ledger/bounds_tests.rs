//! Property: random portfolios at the extremes the bounds allow (prices from 1e-8 to 1e12,
//! quantities up to 1e12, shorts deep under water, marks up to the largest price) never make
//! a mutation or a read panic, and every read answers Ok.

use super::analytics::{equity_curve, stats, unrealised};
use super::{Mutation, Portfolio, PortfolioSpec, Side, TradeSource};
use crate::domain::market::Symbol;
use crate::domain::money::{FeeRate, Money, Price, Quantity, PRICE_MAX, QUANTITY_MAX};
use proptest::prelude::*;
use rust_decimal::Decimal;
use std::collections::HashMap;

const SYMBOLS: [&str; 3] = ["BTCUSDT", "ETHUSDT", "SOLUSDT"];

/// A positive amount from 1e-8 to `max`, spread over every order of magnitude.
fn amount(max: Decimal) -> impl Strategy<Value = Decimal> {
    prop_oneof![
        Just(Decimal::new(1, 8)),
        Just(max),
        (1_i64..1_000_000_000, 0_u32..=8, 0_u32..=12).prop_map(move |(mantissa, scale, shift)| {
            let value = Decimal::new(mantissa, scale) * Decimal::from(10_i64.pow(shift / 3));
            value.min(max).round_dp(8).max(Decimal::new(1, 8))
        }),
    ]
}

#[derive(Debug, Clone)]
struct Step {
    symbol: usize,
    long: bool,
    quantity: Decimal,
    price: Decimal,
    with_stop: bool,
    close_at: Option<Decimal>,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = (
        0..SYMBOLS.len(),
        any::<bool>(),
        amount(QUANTITY_MAX),
        amount(PRICE_MAX),
        any::<bool>(),
        proptest::option::of(amount(PRICE_MAX)),
    )
        .prop_map(
            |(symbol, long, quantity, price, with_stop, close_at)| Step {
                symbol,
                long,
                quantity,
                price,
                with_stop,
                close_at,
            },
        );
    proptest::collection::vec(step, 1..25)
}

fn open_of(step: &Step) -> Option<Mutation> {
    let price = Price::new_checked(step.price).ok()?;
    let stop = (step.price / Decimal::TWO).round_dp(8);
    let stop = if step.long { stop } else { step.price + stop };
    let stop_loss = Price::new_checked(stop)
        .ok()
        .filter(|stop| step.with_stop && stop.is_positive() && stop.get() != step.price);
    Some(Mutation::Open {
        symbol: Symbol::parse(SYMBOLS[step.symbol]).ok()?,
        side: if step.long { Side::Long } else { Side::Short },
        quantity: Quantity::new_checked(step.quantity).ok()?,
        price,
        stop_loss,
        take_profits: Vec::new(),
        source: TradeSource::Manual,
    })
}

fn spec(exact: bool, fee: Decimal) -> PortfolioSpec {
    PortfolioSpec {
        money_decimals: if exact { None } else { Some(8) },
        fee_rate: FeeRate::new_checked(fee).unwrap(),
        ..super::test_spec("1000000000", Decimal::ZERO)
    }
}

proptest! {
    #[test]
    fn every_read_of_a_portfolio_within_the_bounds_answers(
        steps in steps(),
        marks in proptest::collection::vec(amount(PRICE_MAX), SYMBOLS.len()),
        exact in any::<bool>(),
        fee in prop_oneof![Just(Decimal::ZERO), Just(Decimal::new(1, 3)), Just(Decimal::new(99, 2))],
    ) {
        let mut portfolio = Portfolio::create(spec(exact, fee)).unwrap();
        for (at, step) in steps.iter().enumerate() {
            let Some(open) = open_of(step) else { continue };
            let Ok(outcome) = portfolio.apply(&open, at as i64) else { continue };
            if let Some(close_at) = step.close_at.and_then(|price| Price::new_checked(price).ok()) {
                let half = outcome.trade.quantity.share_of(2);
                let quantity = (!half.is_zero()).then_some(half);
                let close = Mutation::Close { trade_id: outcome.trade.id, quantity, price: close_at };
                let _ = portfolio.apply(&close, at as i64);
            }
        }
        prop_assert!(portfolio.is_conserved());
        let marks: HashMap<String, Price> = SYMBOLS
            .iter()
            .zip(&marks)
            .map(|(symbol, mark)| (symbol.to_string(), Price::new_checked(*mark).unwrap()))
            .collect();
        let read = stats(&portfolio, &marks, 1_000);
        prop_assert!(read.is_ok(), "stats: {:?}", read.err());
        prop_assert!(equity_curve(&portfolio, &marks, 1_000).is_ok());
        for trade in portfolio.trades().filter(|trade| trade.is_open()) {
            let mark = marks[trade.symbol.as_str()];
            prop_assert!(unrealised(trade, mark).is_ok());
        }
        let largest = Money::new(Decimal::from(10_u128.pow(24)));
        prop_assert!(read.unwrap().fees <= largest.checked_add(largest).unwrap());
    }
}

#[test]
fn a_profit_factor_too_large_for_a_decimal_shows_as_none_and_the_read_answers() {
    let mut portfolio = Portfolio::create(spec(false, Decimal::ZERO)).unwrap();
    let trade = |quantity: &str, price: &str| Step {
        symbol: 0,
        long: true,
        quantity: quantity.parse().unwrap(),
        price: price.parse().unwrap(),
        with_stop: false,
        close_at: None,
    };
    let close = |trade_id: u64, price: &str| Mutation::Close {
        trade_id,
        quantity: None,
        price: Price::new_checked(price.parse().unwrap()).unwrap(),
    };
    // A loss of 1e-8, then a win of about 1e24: their ratio, 1e32, exceeds a Decimal.
    portfolio
        .apply(&open_of(&trade("1", "1")).unwrap(), 0)
        .unwrap();
    portfolio.apply(&close(1, "0.99999999"), 1).unwrap();
    let huge = trade("999999999999", "0.001");
    portfolio.apply(&open_of(&huge).unwrap(), 2).unwrap();
    portfolio.apply(&close(2, "1000000000000"), 3).unwrap();
    let read = stats(&portfolio, &HashMap::new(), 4).unwrap();
    assert_eq!(read.profit_factor, None);
    assert_eq!(read.closed_trades, 2);
    assert!(read.realised_pnl.get() > Decimal::from(10_u128.pow(23)));
}
