//! The risk check an open or an add must pass, as a type: [`RiskApproved<Order>`] and
//! [`RiskApproved<Addition>`] can only be made by [`Portfolio::approve_open`] and
//! [`Portfolio::approve_add`], and opens and adds change the ledger only with one in hand,
//! so none skips the limits.
//!
//! Rules (limits of `None` are no limit), checked before anything changes:
//! - `max_open_positions` (opens): refused when that many trades are open already;
//! - `daily_loss_limit`: refused once the UTC day's realised loss, net of fees, reaches it;
//! - `max_position_notional`: refused when the position's cost (an open's quantity x price,
//!   an add's on top of what the trade holds) exceeds it.

use super::{LedgerError, Portfolio, Side, Trade};
use crate::domain::money::{Money, MoneyError, Price, Quantity};

/// What an open asks for: a side, a quantity and a price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub side: Side,
    pub quantity: Quantity,
    pub price: Price,
}

impl Order {
    /// One R: |entry - stop| x quantity.
    pub fn risk_to(self, stop: Price) -> Result<Money, MoneyError> {
        let distance = self.price.checked_sub(stop)?.abs();
        self.quantity.checked_mul(distance)
    }
}

/// What an add to an open trade asks for: a quantity at a price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addition {
    pub quantity: Quantity,
    pub price: Price,
}

/// `T` passed the risk limits, with the amounts the check computed. The fields are private:
/// only the risk checks in this module construct one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskApproved<T> {
    approved: T,
    notional: Money,
    fee: Money,
    position_cost: Money,
}

impl<T> RiskApproved<T> {
    pub fn order(&self) -> &T {
        &self.approved
    }

    /// Quantity x price.
    pub fn notional(&self) -> Money {
        self.notional
    }

    /// The fee on the notional at the portfolio's fee rate.
    pub fn fee(&self) -> Money {
        self.fee
    }

    /// What the position costs once this is applied (the notional for an open).
    pub fn position_cost(&self) -> Money {
        self.position_cost
    }
}

impl Portfolio {
    /// Checks `order` against the portfolio's risk limits at `at_ms`.
    pub fn approve_open(
        &self,
        order: Order,
        at_ms: i64,
    ) -> Result<RiskApproved<Order>, LedgerError> {
        if let Some(max) = self.spec().limits.max_open_positions {
            let open_positions = self.open_positions;
            if open_positions >= max as usize {
                return Err(LedgerError::RiskLimit {
                    limit: "max_open_positions",
                    message: format!("{open_positions} positions are open, the limit is {max}"),
                });
            }
        }
        self.check_daily_loss(at_ms)?;
        let (notional, fee) = self.notional_and_fee(order.quantity, order.price)?;
        Portfolio::check_notional_bound(notional)?;
        self.check_position_notional(notional)?;
        Ok(RiskApproved {
            approved: order,
            notional,
            fee,
            position_cost: notional,
        })
    }

    /// Checks `addition` to `trade` against the portfolio's risk limits at `at_ms`.
    pub fn approve_add(
        &self,
        trade: &Trade,
        addition: Addition,
        at_ms: i64,
    ) -> Result<RiskApproved<Addition>, LedgerError> {
        self.check_daily_loss(at_ms)?;
        let (notional, fee) = self.notional_and_fee(addition.quantity, addition.price)?;
        Portfolio::check_notional_bound(notional)?;
        let position_cost = trade.cost_basis.checked_add(notional)?;
        self.check_position_notional(position_cost)?;
        Ok(RiskApproved {
            approved: addition,
            notional,
            fee,
            position_cost,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ledger::{test_spec, Mutation, PortfolioSpec, RiskLimits, TradeSource};
    use crate::domain::market::Symbol;

    use crate::domain::money::test_values::{dec, money, price, quantity};

    fn order(quantity: &str, price: &str) -> Order {
        Order {
            side: Side::Long,
            quantity: self::quantity(quantity),
            price: self::price(price),
        }
    }

    fn portfolio(limits: RiskLimits) -> Portfolio {
        let spec = PortfolioSpec {
            limits,
            ..test_spec("1000", dec("0.01"))
        };
        Portfolio::create(spec).unwrap()
    }

    fn limit_of(result: Result<RiskApproved<Order>, LedgerError>) -> &'static str {
        match result {
            Err(LedgerError::RiskLimit { limit, .. }) => limit,
            other => panic!("expected a risk limit, got {other:?}"),
        }
    }

    #[test]
    fn an_approved_order_carries_its_notional_and_fee() {
        let approved = portfolio(RiskLimits::default())
            .approve_open(order("2", "10"), 0)
            .unwrap();
        assert_eq!(approved.order(), &order("2", "10"));
        assert_eq!(approved.notional(), money("20"));
        assert_eq!(approved.fee(), money("0.2"));
    }

    #[test]
    fn each_limit_refuses_an_open() {
        let sized = portfolio(RiskLimits {
            max_position_notional: Some(money("100")),
            ..RiskLimits::default()
        });
        assert!(sized.approve_open(order("10", "10"), 0).is_ok());
        assert_eq!(
            limit_of(sized.approve_open(order("10.1", "10"), 0)),
            "max_position_notional"
        );

        let mut full = portfolio(RiskLimits {
            max_open_positions: Some(1),
            ..RiskLimits::default()
        });
        let open = Mutation::Open {
            symbol: Symbol::parse("BTCUSDT").unwrap(),
            side: Side::Long,
            quantity: quantity("1"),
            price: price("10"),
            stop_loss: None,
            take_profits: Vec::new(),
            source: TradeSource::Manual,
        };
        full.apply(&open, 0).unwrap();
        assert_eq!(
            limit_of(full.approve_open(order("1", "10"), 0)),
            "max_open_positions"
        );

        let mut losing = portfolio(RiskLimits {
            daily_loss_limit: Some(money("1")),
            ..RiskLimits::default()
        });
        losing.apply(&open, 0).unwrap();
        let close = Mutation::Close {
            trade_id: 1,
            quantity: None,
            price: price("9"),
        };
        losing.apply(&close, 1).unwrap();
        assert_eq!(
            limit_of(losing.approve_open(order("1", "10"), 2)),
            "daily_loss_limit"
        );
    }

    #[test]
    fn an_add_is_limited_by_the_cost_of_the_whole_position() {
        let mut sized = portfolio(RiskLimits {
            max_position_notional: Some(money("100")),
            ..RiskLimits::default()
        });
        let open = Mutation::Open {
            symbol: Symbol::parse("BTCUSDT").unwrap(),
            side: Side::Long,
            quantity: quantity("6"),
            price: price("10"),
            stop_loss: None,
            take_profits: Vec::new(),
            source: TradeSource::Manual,
        };
        let trade = sized.apply(&open, 0).unwrap().trade;
        let addition = |amount: &str| Addition {
            quantity: quantity(amount),
            price: price("10"),
        };
        let approved = sized.approve_add(&trade, addition("4"), 0).unwrap();
        assert_eq!(approved.order(), &addition("4"));
        assert_eq!(
            (
                approved.notional(),
                approved.fee(),
                approved.position_cost()
            ),
            (money("40"), money("0.4"), money("100"))
        );
        match sized.approve_add(&trade, addition("4.1"), 0) {
            Err(LedgerError::RiskLimit { limit, .. }) => assert_eq!(limit, "max_position_notional"),
            other => panic!("expected the notional limit, got {other:?}"),
        }
        let mut losing = portfolio(RiskLimits {
            daily_loss_limit: Some(money("1")),
            ..RiskLimits::default()
        });
        let trade = losing.apply(&open, 0).unwrap().trade;
        let close_half = Mutation::Close {
            trade_id: 1,
            quantity: Some(quantity("3")),
            price: price("9"),
        };
        let trade_after = losing.apply(&close_half, 1).unwrap().trade;
        assert_ne!(trade, trade_after);
        assert!(matches!(
            losing.approve_add(&trade_after, addition("1"), 2),
            Err(LedgerError::RiskLimit {
                limit: "daily_loss_limit",
                ..
            })
        ));
    }

    #[test]
    fn an_overflowing_notional_is_an_error_value() {
        let result = portfolio(RiskLimits::default()).approve_open(order("2", "0"), 0);
        assert!(result.is_ok(), "amounts are checked by the open, not here");
        let huge = Order {
            price: Price::new_checked(crate::domain::money::PRICE_MAX).unwrap(),
            quantity: Quantity::new_checked(crate::domain::money::QUANTITY_MAX).unwrap(),
            ..order("1", "10")
        };
        // Within the value types' bounds, but past the notional bound every order keeps.
        assert!(matches!(
            portfolio(RiskLimits::default()).approve_open(huge, 0),
            Err(LedgerError::OutOfRange {
                field: "quantity",
                ..
            })
        ));
    }
}
