//! What the portfolio actor writes to the ledger tree, one record per mutation. The log is
//! the truth: on start a portfolio is rebuilt by replaying its mutations, and each replayed
//! outcome must match its record.
//!
//! Records of today keep the mutation and a check of its outcome (its digest and the cash
//! after), not the outcome itself: a trade's snapshot grows with its fills, and storing it
//! with every journal note made storage grow with the square of the notes. They also keep the
//! request's identity (its idempotency key and a fingerprint of the request), and a refusal
//! answered under a key is recorded too, so the key answers the same after a restart. Records
//! of the first format (`Created`, `Applied`) still decode and replay: see `legacy.rs`.

mod legacy;

pub use legacy::{OutcomeV1, PortfolioSpecV1};

use super::strategy::StrategyChange;
use crate::domain::ledger::{Mutation, Outcome, PortfolioSpec};
use crate::domain::money::Money;
use crate::store::{digest, EnvelopeError};
use serde::{Deserialize, Serialize};

/// Variants are named by position in the stored bytes: new ones go at the end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LedgerRecord {
    /// Sequence 0 of a portfolio created under the first format.
    Created { spec: PortfolioSpecV1 },
    /// An accepted mutation, first format: the whole outcome.
    Applied {
        at_ms: i64,
        idempotency_key: Option<String>,
        mutation: Mutation,
        /// Boxed: a trade snapshot is far larger than a creation record.
        outcome: Box<OutcomeV1>,
    },
    /// Sequence 0 of every portfolio created since, with the creating request's identity
    /// when it carried an idempotency key.
    Opened {
        spec: PortfolioSpec,
        request: Option<RequestId>,
    },
    /// An accepted mutation.
    Mutated {
        at_ms: i64,
        request: Option<RequestId>,
        mutation: Mutation,
        check: OutcomeCheck,
    },
    /// A mutation the ledger refused, sent under an idempotency key: replay applies it again,
    /// expects the refusal again, and keeps it as the key's answer.
    Refused {
        at_ms: i64,
        request: RequestId,
        mutation: Mutation,
    },
    /// A change to the portfolio's live strategy, or one of its decisions.
    Strategy { at_ms: i64, change: StrategyChange },
}

/// Which request a mutation answered: its `Idempotency-Key`, and a fingerprint of what was
/// asked (route and body), so a key reused for another request is told apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RequestId {
    pub key: String,
    pub fingerprint: String,
}

/// What replay checks a recomputed outcome against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutcomeCheck {
    pub digest: u32,
    pub cash_after: Money,
}

impl OutcomeCheck {
    pub fn of(outcome: &Outcome, cash_after: Money) -> Result<OutcomeCheck, EnvelopeError> {
        Ok(OutcomeCheck {
            digest: digest(outcome)?,
            cash_after,
        })
    }
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

    /// The first format's records of a creation, then an open, an amend, a journal entry and
    /// a partial close, each with the outcome the ledger gives today projected onto the
    /// shape stored then.
    fn first_format_records() -> Vec<LedgerRecord> {
        let spec = PortfolioSpecV1 {
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
        let mut portfolio = Portfolio::create(spec.clone().upgraded()).unwrap();
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
            let journal = portfolio.journal_of(outcome.trade.id);
            records.push(LedgerRecord::Applied {
                at_ms: at_ms as i64,
                idempotency_key: Some(format!("key-{at_ms}")),
                mutation,
                outcome: Box::new(OutcomeV1::projected(&outcome, journal)),
            });
        }
        records
    }

    /// Records of today: a creation, an accepted risk-sized order with its check, a
    /// refusal.
    fn current_records() -> Vec<LedgerRecord> {
        let spec = crate::domain::ledger::test_spec("1000", dec("0.001"));
        let mut portfolio = Portfolio::create(spec.clone()).unwrap();
        let order = Mutation::Place(Box::new(crate::domain::ledger::OrderRequest {
            symbol: Symbol::parse("BTCUSDT").unwrap(),
            side: Side::Long,
            entry: crate::domain::ledger::Entry::Resting {
                kind: crate::domain::ledger::OrderKind::Limit,
                price: price("90"),
                market: price("100"),
            },
            size: crate::domain::ledger::Size::Risk {
                percent: dec("1.5"),
                marks: [("BTCUSDT".to_owned(), price("100"))].into_iter().collect(),
            },
            stop_loss: Some(price("85")),
            take_profits: vec![price("120")],
            exit_rules: crate::domain::ledger::ExitRules {
                trailing: Some(crate::domain::ledger::Trailing::Percent(dec("2.5"))),
                break_even_after_target: true,
            },
            expires_at_ms: Some(60_000),
            source: TradeSource::Signal("BTCUSDT-bull-1".into()),
            quantity_step: quantity("0.001"),
        }));
        let outcome = portfolio.apply(&order, 5).unwrap();
        let request = RequestId {
            key: "key-1".into(),
            fingerprint: "f".repeat(64),
        };
        vec![
            LedgerRecord::Opened {
                spec,
                request: Some(request.clone()),
            },
            LedgerRecord::Mutated {
                at_ms: 5,
                request: Some(request.clone()),
                mutation: order.clone(),
                check: OutcomeCheck::of(&outcome, portfolio.cash()).unwrap(),
            },
            LedgerRecord::Refused {
                at_ms: 6,
                request,
                mutation: Mutation::Cancel { trade_id: 9 },
            },
        ]
    }

    /// Every record shape survives the store's envelope (bincode cannot read every serde
    /// shape; the envelope's round-trip check would refuse such a record at write time).
    #[test]
    fn every_record_shape_round_trips_through_the_envelope() {
        for record in first_format_records().into_iter().chain(current_records()) {
            let back: LedgerRecord = decode(&encode(&record).unwrap()).unwrap();
            assert_eq!(back, record);
        }
    }

    /// What the store held for `first_format_records()` before the ledger used the
    /// `domain::money` types (written by commit 32c35cd, when every amount was a Decimal
    /// with `#[serde(with = "rust_decimal::serde::str")]`), hex-encoded.
    const RECORDS_BEFORE_MONEY_TYPES: [&str; 5] = [
        "434c4e530100be7863122a0000000007056c6f63616c046d61696e04555344540731303030302e3505302e30303101043530303001030002",
        "434c4e530100b9df5d47d6000000010001056b65792d30000742544355534454010a302e3132333435363738053130302e35010331313001023930020d31682d302d6676672d62656172010742544355534454010a302e313233343536373801300c31322e3430373430363339300e302e3031323430373430363339300130010331313001023930010b312e313732383339343130000000020d31682d302d6676672d6265617200010100102d31322e3431393831333739363339300c31322e3430373430363339300731303030302e3511393938382e30383031383632303336313000",
        "434c4e530100d7bfc0a767000000010201056b65792d31040100010100010742544355534454010a302e313233343536373801300c31322e3430373430363339300e302e30313234303734303633393001300000010b312e313732383339343130000000020d31682d302d6676672d626561720000",
        "434c4e53010045be02fc8a000000010401056b65792d3205010d666164656420746865206761700103667667010742544355534454010a302e313233343536373801300c31322e3430373430363339300e302e30313234303734303633393001300000010b312e313732383339343130000000020d31682d302d6676672d62656172010d6661646564207468652067617001036676670400",
        "434c4e530100d5fc880ab9000000010601056b65792d3302010103302e31023935010742544355534454010a302e303233343536373803302e310b322e3335373430363339300e302e30323139303734303633393004302e35350000010b312e313732383339343130000001020d31682d302d6676672d62656172010d666164656420746865206761700103667667040101010731302e35393035062d31302e303511393938382e30383031383632303336313011393939382e36373036383632303336313006",
    ];

    fn from_hex(hex: &str) -> Vec<u8> {
        (0..hex.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&hex[at..at + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn ledgers_stored_before_the_money_types_decode_to_the_same_records_byte_for_byte() {
        let records = first_format_records();
        assert_eq!(records.len(), RECORDS_BEFORE_MONEY_TYPES.len());
        for (record, hex) in records.iter().zip(RECORDS_BEFORE_MONEY_TYPES) {
            let stored = from_hex(hex);
            let read: LedgerRecord = decode(&stored).unwrap();
            assert_eq!(&read, record);
            assert_eq!(
                encode(record).unwrap(),
                stored,
                "the same bytes are written"
            );
        }
    }
}
