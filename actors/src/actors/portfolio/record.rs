//! What the portfolio actor writes to the ledger tree, one record per accepted mutation.
//! The log is the truth: on start a portfolio is rebuilt by replaying its mutations, and each
//! replayed outcome must equal the stored one.

use crate::domain::ledger::{Mutation, Outcome, PortfolioSpec};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LedgerRecord {
    /// Sequence 0 of every portfolio.
    Created { spec: PortfolioSpec },
    Applied {
        at_ms: i64,
        idempotency_key: Option<String>,
        mutation: Mutation,
        /// Boxed: a trade snapshot is far larger than a creation record.
        outcome: Box<Outcome>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ledger::{Portfolio, RiskLimits, Side, TradeSource};
    use crate::domain::market::Symbol;
    use crate::domain::money::{FeeRate, Money, Price, Quantity};
    use rust_decimal::Decimal;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn price(text: &str) -> Price {
        Price::new_checked(dec(text)).unwrap()
    }

    fn quantity(text: &str) -> Quantity {
        Quantity::new_checked(dec(text)).unwrap()
    }
    use crate::store::{decode, encode};

    /// Every record shape survives the store's envelope (bincode cannot read every serde
    /// shape; the envelope's round-trip check would refuse such a record at write time).
    #[test]
    fn every_record_shape_round_trips_through_the_envelope() {
        let spec = PortfolioSpec {
            id: 7,
            owner: "local".into(),
            name: "main".into(),
            quote_currency: "USDT".into(),
            initial_balance: Money::new(dec("10000.5")),
            fee_rate: FeeRate::new_checked(dec("0.001")).unwrap(),
            limits: RiskLimits {
                max_position_notional: Some(Money::new(dec("5000"))),
                max_open_positions: Some(3),
                daily_loss_limit: None,
            },
            created_at_ms: 1,
        };
        let mut portfolio = Portfolio::create(spec.clone()).unwrap();
        let mut records = vec![LedgerRecord::Created { spec }];
        let mutations = [
            Mutation::Open {
                symbol: Symbol::parse("BTCUSDT").unwrap(),
                side: Side::Short,
                quantity: quantity("0.12345678"),
                price: price("100.5"),
                stop_loss: Some(price("110")),
                take_profits: vec![price("90")],
                source: TradeSource::Pattern("1h-0-fvg-bear".into()),
            },
            Mutation::Amend {
                trade_id: 1,
                stop_loss: None,
                clear_stop_loss: true,
                take_profits: Some(vec![]),
            },
            Mutation::Journal {
                trade_id: 1,
                text: "faded the gap".into(),
                tags: vec!["fvg".into()],
            },
            Mutation::Close {
                trade_id: 1,
                quantity: Some(quantity("0.1")),
                price: price("95"),
            },
        ];
        for (at_ms, mutation) in mutations.into_iter().enumerate() {
            let outcome = portfolio.apply(&mutation, at_ms as i64).unwrap();
            records.push(LedgerRecord::Applied {
                at_ms: at_ms as i64,
                idempotency_key: Some(format!("key-{at_ms}")),
                mutation,
                outcome: Box::new(outcome),
            });
        }
        for record in records {
            let back: LedgerRecord = decode(&encode(&record).unwrap()).unwrap();
            assert_eq!(back, record);
        }
    }
}
