//! The risk check an open must pass, as a type: [`RiskApproved<Order>`] can only be made by
//! [`Portfolio::approve_open`], and an open changes the ledger only with one in hand, so no
//! open skips the limits.
//!
//! Rules (limits of `None` are no limit), checked before anything changes:
//! - `max_open_positions`: refused when that many trades are open already;
//! - `daily_loss_limit`: refused once the UTC day's realised loss, net of fees, reaches it;
//! - `max_position_notional`: refused when quantity x price exceeds it.

use super::{LedgerError, Portfolio, Side};
use rust_decimal::Decimal;

/// What an open asks for: a side, a quantity and a price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub side: Side,
    pub quantity: Decimal,
    pub price: Decimal,
}

/// `T` passed the risk limits, with the notional and fee the check computed. The field is
/// private: only the risk check in this module constructs one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskApproved<T> {
    approved: T,
    notional: Decimal,
    fee: Decimal,
}

impl<T> RiskApproved<T> {
    pub fn order(&self) -> &T {
        &self.approved
    }

    /// Quantity x price.
    pub fn notional(&self) -> Decimal {
        self.notional
    }

    /// The fee on the notional at the portfolio's fee rate.
    pub fn fee(&self) -> Decimal {
        self.fee
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
        self.check_position_notional(notional)?;
        Ok(RiskApproved {
            approved: order,
            notional,
            fee,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ledger::{test_spec, Mutation, PortfolioSpec, RiskLimits, TradeSource};
    use crate::domain::market::Symbol;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn order(quantity: &str, price: &str) -> Order {
        Order {
            side: Side::Long,
            quantity: dec(quantity),
            price: dec(price),
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
        assert_eq!(approved.notional(), dec("20"));
        assert_eq!(approved.fee(), dec("0.2"));
    }

    #[test]
    fn each_limit_refuses_an_open() {
        let sized = portfolio(RiskLimits {
            max_position_notional: Some(dec("100")),
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
            quantity: dec("1"),
            price: dec("10"),
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
            daily_loss_limit: Some(dec("1")),
            ..RiskLimits::default()
        });
        losing.apply(&open, 0).unwrap();
        let close = Mutation::Close {
            trade_id: 1,
            quantity: None,
            price: dec("9"),
        };
        losing.apply(&close, 1).unwrap();
        assert_eq!(
            limit_of(losing.approve_open(order("1", "10"), 2)),
            "daily_loss_limit"
        );
    }

    #[test]
    fn an_overflowing_notional_is_an_error_value() {
        let result = portfolio(RiskLimits::default()).approve_open(order("2", "0"), 0);
        assert!(result.is_ok(), "amounts are checked by the open, not here");
        let huge = Order {
            quantity: Decimal::MAX,
            ..order("1", "10")
        };
        assert_eq!(
            portfolio(RiskLimits::default()).approve_open(huge, 0),
            Err(LedgerError::Overflow)
        );
    }
}
