//! Rounding money to the quote currency's precision: one rule, applied where an amount is
//! computed.
//!
//! The rule: a portfolio whose spec has `money_decimals: Some(d)` rounds every ledger amount
//! (the notional an open or add reserves, every fee, the cost a partial close releases, and so
//! the gross P&L and the cash movement built from them) to `d` places, half to even
//! (banker's rounding, `RoundingStrategy::MidpointNearestEven`): `0.125 -> 0.12`,
//! `0.135 -> 0.14`, `-0.125 -> -0.12`. Why half to even: ties round up and down equally
//! often, so rounding does not drift cash in one direction over many trades.
//!
//! Why at the point of computation rather than at display: cash is the initial balance plus
//! the sum of ledger amounts, and a sum of `d`-place amounts is exact, so the conservation
//! invariant keeps holding to the last decimal and no stored amount has more than `d` places.
//!
//! `None` is the exact arithmetic of portfolios created before rounding existed: their stored
//! ledgers replay to the same outcomes, byte for byte. Displays still show at most
//! [`DECIMALS_MAX`] places for them ([`for_display`]).

use super::LedgerError;
use crate::domain::money::{Money, DECIMALS_MAX};
use rust_decimal::RoundingStrategy;

/// The one rounding rule of the ledger.
pub const STRATEGY: RoundingStrategy = RoundingStrategy::MidpointNearestEven;

/// `amount` rounded to `decimals` places by [`STRATEGY`]; unchanged for `None` (exact).
pub fn round_money(amount: Money, decimals: Option<u32>) -> Money {
    match decimals {
        Some(places) => Money::new(amount.get().round_dp_with_strategy(places, STRATEGY)),
        None => amount,
    }
}

/// `amount` as a response shows it: at most `decimals` places, or [`DECIMALS_MAX`] for an
/// exact (legacy) portfolio, by the same rule. An amount with fewer places shows unchanged.
pub fn for_display(amount: Money, decimals: Option<u32>) -> Money {
    let places = decimals.unwrap_or(DECIMALS_MAX);
    Money::new(amount.get().round_dp_with_strategy(places, STRATEGY))
}

/// A spec's precision: `None` (exact) or 0 to [`DECIMALS_MAX`] places, and an initial
/// balance with no more places than that (cash starts from it).
pub fn check_money_decimals(
    decimals: Option<u32>,
    initial_balance: Money,
) -> Result<(), LedgerError> {
    let Some(places) = decimals else {
        return Ok(());
    };
    if places > DECIMALS_MAX {
        return Err(LedgerError::invalid(
            "money_decimals",
            format!("must be 0 to {DECIMALS_MAX}, got {places}"),
        ));
    }
    if initial_balance.get().normalize().scale() > places {
        return Err(LedgerError::invalid(
            "initial_balance",
            format!("at most {places} decimals, the portfolio's precision"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ledger::{test_spec, Mutation, Portfolio, PortfolioSpec, Side, TradeSource};
    use crate::domain::market::Symbol;
    use crate::domain::money::test_values::{dec, money, price, quantity};

    fn rounded(text: &str, places: u32) -> String {
        round_money(money(text), Some(places)).to_string()
    }

    #[test]
    fn ties_round_to_the_even_neighbour() {
        assert_eq!(rounded("0.125", 2), "0.12");
        assert_eq!(rounded("0.135", 2), "0.14");
        assert_eq!(rounded("-0.125", 2), "-0.12");
        assert_eq!(rounded("2.5", 0), "2");
        assert_eq!(rounded("3.5", 0), "4");
        assert_eq!(rounded("0.000000005", 8), "0.00000000");
        assert_eq!(rounded("0.000000015", 8), "0.00000002");
    }

    #[test]
    fn non_ties_round_to_the_nearest() {
        assert_eq!(rounded("0.1251", 2), "0.13");
        assert_eq!(rounded("0.1249", 2), "0.12");
        assert_eq!(rounded("-1.23456789012", 8), "-1.23456789");
        assert_eq!(rounded("7", 8), "7");
    }

    #[test]
    fn exact_portfolios_keep_every_place() {
        let exact = money("1.0000000000000000000000000001");
        assert_eq!(round_money(exact, None), exact);
    }

    #[test]
    fn displays_show_at_most_the_precision_and_fewer_places_unchanged() {
        assert_eq!(
            for_display(money("0.1234567890123"), None).to_string(),
            "0.12345679"
        );
        assert_eq!(for_display(money("10.125"), Some(2)).to_string(), "10.12");
        assert_eq!(for_display(money("10.50"), Some(8)).to_string(), "10.50");
    }

    #[test]
    fn precision_is_zero_to_eight_places() {
        let balance = money("1000.5");
        assert_eq!(check_money_decimals(None, money("0.123456789")), Ok(()));
        assert_eq!(check_money_decimals(Some(1), balance), Ok(()));
        assert_eq!(check_money_decimals(Some(8), balance), Ok(()));
        assert!(matches!(
            check_money_decimals(Some(9), balance),
            Err(LedgerError::Invalid {
                field: "money_decimals",
                ..
            })
        ));
        assert!(matches!(
            check_money_decimals(Some(0), balance),
            Err(LedgerError::Invalid {
                field: "initial_balance",
                ..
            })
        ));
    }

    fn portfolio(decimals: Option<u32>) -> Portfolio {
        let spec = PortfolioSpec {
            money_decimals: decimals,
            ..test_spec("1000", dec("0.001"))
        };
        Portfolio::create(spec).unwrap()
    }

    fn open(amount: &str, at: &str) -> Mutation {
        Mutation::Open {
            symbol: Symbol::parse("BTCUSDT").unwrap(),
            side: Side::Long,
            quantity: quantity(amount),
            price: price(at),
            stop_loss: None,
            take_profits: Vec::new(),
            source: TradeSource::Manual,
        }
    }

    fn close_one_at(at: &str) -> Mutation {
        Mutation::Close {
            trade_id: 1,
            quantity: Some(quantity("1")),
            price: price(at),
        }
    }

    #[test]
    fn a_portfolio_rounds_every_amount_where_it_is_computed() {
        let mut held = portfolio(Some(2));
        // 3 x 10.005 = 30.015 -> 30.02 (tie, to even); fee 0.03002 -> 0.03.
        let opened = held.apply(&open("3", "10.005"), 0).unwrap();
        assert_eq!(opened.trade.cost_basis, money("30.02"));
        assert_eq!(opened.trade.fees_paid, money("0.03"));
        assert_eq!(held.cash(), money("969.95"));
        // Released 30.02 / 3 = 10.00666.. -> 10.01; exit 11.115 -> 11.12 (tie, to even);
        // gross 1.11; fee 0.01112 -> 0.01; cash moves by 10.01 + 1.11 - 0.01 = 11.11.
        let closed = held.apply(&close_one_at("11.115"), 1).unwrap();
        assert_eq!(closed.entries[0].amount, money("11.11"));
        assert_eq!(closed.trade.realised_pnl, money("1.11"));
        assert_eq!(closed.trade.cost_basis, money("20.01"));
        assert_eq!(held.cash(), money("981.06"));
        assert!(held.is_conserved());
    }

    #[test]
    fn an_exact_portfolio_keeps_todays_figures() {
        let mut held = portfolio(None);
        let opened = held.apply(&open("3", "10.005"), 0).unwrap();
        assert_eq!(opened.trade.cost_basis, money("30.015"));
        assert_eq!(opened.trade.fees_paid, money("0.030015"));
        let closed = held.apply(&close_one_at("11.115"), 1).unwrap();
        // Released 30.015 / 3 = 10.005 exactly; gross 1.11; fee 0.011115.
        assert_eq!(closed.entries[0].amount, money("11.103885"));
        assert_eq!(held.cash(), money("981.058870"));
        assert!(held.is_conserved());
    }

    #[test]
    fn a_spec_finer_than_eight_places_is_refused() {
        let spec = PortfolioSpec {
            money_decimals: Some(9),
            ..test_spec("1000", dec("0.001"))
        };
        assert!(matches!(
            Portfolio::create(spec),
            Err(LedgerError::Invalid {
                field: "money_decimals",
                ..
            })
        ));
    }

    #[test]
    fn an_order_beyond_the_notional_bound_is_refused_on_its_quantity() {
        let mut held = portfolio(Some(8));
        let error = held.apply(&open("1000000", "1000000000.5"), 0).unwrap_err();
        assert_eq!(error.field(), Some("quantity"));
        assert!(error.to_string().contains("1000000000000000"), "{error}");
        held.apply(&open("1", "100"), 0).unwrap();
        let add = Mutation::Add {
            trade_id: 1,
            quantity: quantity("1000000000000"),
            price: price("1001"),
        };
        assert_eq!(held.apply(&add, 1).unwrap_err().field(), Some("quantity"));
    }
}
