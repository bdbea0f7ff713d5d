//! Property: random sequences of opens, adds, partial and full closes, refusals and price
//! moves give exactly the cash, positions and P&L of a plain reference model written
//! separately from the rules in the module docs; the conservation invariant holds after
//! every step, and a refused mutation changes nothing.

use super::{Mutation, Portfolio, PortfolioSpec, Side, TradeSource};
use crate::domain::market::Symbol;
use crate::domain::money::{Price, Quantity};
use proptest::prelude::*;
use rust_decimal::Decimal;

/// The reference: a list of positions and a cash number, nothing else.
#[derive(Debug, Clone, PartialEq)]
struct Position {
    long: bool,
    quantity: Decimal,
    cost: Decimal,
    realised: Decimal,
    fees: Decimal,
}

struct Reference {
    cash: Decimal,
    fee_rate: Decimal,
    /// Places every amount is rounded to, half to even; `None` is exact.
    decimals: Option<u32>,
    positions: Vec<Position>,
}

impl Reference {
    fn round(&self, amount: Decimal) -> Decimal {
        round_to(amount, self.decimals)
    }

    fn open(&mut self, long: bool, quantity: Decimal, price: Decimal) -> bool {
        let cost = self.round(quantity * price);
        let fee = self.round(cost * self.fee_rate);
        if quantity <= Decimal::ZERO || price <= Decimal::ZERO || self.cash < cost + fee {
            return false;
        }
        self.cash -= cost + fee;
        self.positions.push(Position {
            long,
            quantity,
            cost,
            realised: Decimal::ZERO,
            fees: fee,
        });
        true
    }

    fn add(&mut self, index: usize, quantity: Decimal, price: Decimal) -> bool {
        let cost = self.round(quantity * price);
        let fee = self.round(cost * self.fee_rate);
        let Some(position) = self.positions.get_mut(index) else {
            return false;
        };
        if position.quantity.is_zero() || quantity <= Decimal::ZERO || self.cash < cost + fee {
            return false;
        }
        self.cash -= cost + fee;
        position.quantity += quantity;
        position.cost += cost;
        position.fees += fee;
        true
    }

    fn close(&mut self, index: usize, quantity: Decimal, price: Decimal) -> bool {
        let places = self.decimals.unwrap_or(12);
        let (fee_rate, decimals) = (self.fee_rate, self.decimals);
        let Some(position) = self.positions.get_mut(index) else {
            return false;
        };
        if position.quantity.is_zero() || quantity <= Decimal::ZERO || quantity > position.quantity
        {
            return false;
        }
        let released = if quantity == position.quantity {
            position.cost
        } else {
            (position.cost * quantity / position.quantity).round_dp(places)
        };
        let value = round_to(quantity * price, decimals);
        let pnl = if position.long {
            value - released
        } else {
            released - value
        };
        let fee = round_to(value * fee_rate, decimals);
        let cash = self.cash + released + pnl - fee;
        if cash < Decimal::ZERO {
            return false;
        }
        self.cash = cash;
        position.quantity -= quantity;
        position.cost -= released;
        position.realised += pnl;
        position.fees += fee;
        true
    }
}

/// Half to even, written here without the ledger's helper.
fn round_to(amount: Decimal, decimals: Option<u32>) -> Decimal {
    match decimals {
        Some(places) => amount
            .round_dp_with_strategy(places, rust_decimal::RoundingStrategy::MidpointNearestEven),
        None => amount,
    }
}

#[derive(Debug, Clone)]
enum Step {
    Open {
        long: bool,
        quantity: i64,
        price_move: i64,
    },
    Add {
        pick: usize,
        quantity: i64,
        price_move: i64,
    },
    Close {
        pick: usize,
        tenths: i64,
        all: bool,
        price_move: i64,
    },
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        (any::<bool>(), -2_i64..400_000_000, -500_i64..500).prop_map(
            |(long, quantity, price_move)| Step::Open {
                long,
                quantity,
                price_move
            }
        ),
        (0_usize..8, -2_i64..200_000_000, -500_i64..500).prop_map(
            |(pick, quantity, price_move)| Step::Add {
                pick,
                quantity,
                price_move
            }
        ),
        (0_usize..8, -1_i64..14, any::<bool>(), -500_i64..500).prop_map(
            |(pick, tenths, all, price_move)| Step::Close {
                pick,
                tenths,
                all,
                price_move
            }
        ),
    ];
    proptest::collection::vec(step, 1..60)
}

/// The ledger's view of a generated step: a quantity that cannot even be a [`Quantity`]
/// (negative) is refused before it reaches the ledger, as the API refuses it.
fn applied(portfolio: &mut Portfolio, mutation: Option<Mutation>, at: usize) -> bool {
    mutation.is_some_and(|mutation| portfolio.apply(&mutation, at as i64).is_ok())
}

fn price_of(value: Decimal) -> Price {
    Price::new_checked(value).unwrap()
}

fn spec() -> PortfolioSpec {
    super::test_spec("10000", Decimal::new(1, 3))
}

/// A portfolio created before rounding existed: exact amounts.
fn exact_spec() -> PortfolioSpec {
    PortfolioSpec {
        money_decimals: None,
        ..spec()
    }
}

proptest! {
    #[test]
    fn the_ledger_matches_a_plain_reference_model_to_the_last_decimal(steps in steps(), exact in any::<bool>()) {
        let spec = if exact { exact_spec() } else { spec() };
        let mut portfolio = Portfolio::create(spec.clone()).unwrap();
        let mut reference = Reference { cash: spec.initial_balance.get(), fee_rate: spec.fee_rate.get(), decimals: spec.money_decimals, positions: Vec::new() };
        let symbol = Symbol::parse("BTCUSDT").unwrap();
        // a price walk in cents around 100.00; quantities in units of 1e-8
        let mut price_cents: i64 = 10_000;
        for (at, step) in steps.into_iter().enumerate() {
            let before = portfolio.clone();
            let mut price = |price_move: i64| {
                price_cents = (price_cents + price_move).max(1);
                Decimal::new(price_cents, 2)
            };
            let (ours, theirs) = match step {
                Step::Open { long, quantity, price_move } => {
                    let (quantity, price) = (Decimal::new(quantity, 8), price(price_move));
                    let side = if long { Side::Long } else { Side::Short };
                    let mutation = Quantity::new_checked(quantity).ok().map(|quantity| Mutation::Open {
                        symbol: symbol.clone(), side, quantity, price: price_of(price), stop_loss: None,
                        take_profits: Vec::<Price>::new(), source: TradeSource::Manual,
                    });
                    (applied(&mut portfolio, mutation, at), reference.open(long, quantity, price))
                }
                Step::Add { pick, quantity, price_move } => {
                    let (quantity, price) = (Decimal::new(quantity, 8), price(price_move));
                    let mutation = Quantity::new_checked(quantity).ok().map(|quantity| Mutation::Add {
                        trade_id: pick as u64 + 1, quantity, price: price_of(price),
                    });
                    (applied(&mut portfolio, mutation, at), reference.add(pick, quantity, price))
                }
                Step::Close { pick, tenths, all, price_move } => {
                    let price = price(price_move);
                    let open = reference.positions.get(pick).map_or(Decimal::ONE, |p| p.quantity);
                    let quantity = (open * Decimal::new(tenths, 1)).round_dp(8);
                    let typed = if all { Some(None) } else { Quantity::new_checked(quantity).ok().map(Some) };
                    let mutation = typed.map(|quantity| Mutation::Close {
                        trade_id: pick as u64 + 1, quantity, price: price_of(price),
                    });
                    let closing = if all { open } else { quantity };
                    (applied(&mut portfolio, mutation, at), reference.close(pick, closing, price))
                }
            };
            prop_assert_eq!(ours, theirs, "accepted by one and not the other");
            if !ours {
                prop_assert_eq!(&portfolio, &before, "a refused mutation changes nothing");
            }
            prop_assert!(portfolio.is_conserved(), "cash = initial + ledger, never negative");
            prop_assert_eq!(portfolio.cash().get(), reference.cash);
            let positions: Vec<Position> = portfolio.trades().map(|trade| Position {
                long: trade.side == Side::Long,
                quantity: trade.quantity.get(),
                cost: trade.cost_basis.get(),
                realised: trade.realised_pnl.get(),
                fees: trade.fees_paid.get(),
            }).collect();
            prop_assert_eq!(positions, reference.positions.clone());
            if !exact {
                let places = portfolio.ledger().iter().map(|entry| entry.amount.get().scale()).max();
                prop_assert!(places.unwrap_or(0) <= 8, "no amount has more than 8 places");
            }
        }
    }
}

#[test]
fn many_small_eight_decimal_quantities_sum_exactly() {
    // Exact arithmetic (legacy portfolios): tiny notionals keep all their places.
    let mut portfolio = Portfolio::create(exact_spec()).unwrap();
    let symbol = Symbol::parse("BTCUSDT").unwrap();
    let open = Mutation::Open {
        symbol,
        side: Side::Long,
        quantity: Quantity::new_checked(Decimal::new(1, 8)).unwrap(),
        price: price_of(Decimal::new(3, 1)),
        stop_loss: None,
        take_profits: Vec::new(),
        source: TradeSource::Manual,
    };
    portfolio.apply(&open, 0).unwrap();
    for at in 1..=10_000 {
        let add = Mutation::Add {
            trade_id: 1,
            quantity: Quantity::new_checked(Decimal::new(1, 8)).unwrap(),
            price: price_of(Decimal::new(3, 1)),
        };
        portfolio.apply(&add, at).unwrap();
    }
    let trade = portfolio.trade(1).unwrap();
    assert_eq!(
        trade.quantity.get(),
        Decimal::new(10_001, 8),
        "10,001 x 0.00000001 exactly"
    );
    assert_eq!(
        trade.cost_basis.get(),
        Decimal::new(30_003, 9),
        "0.3 x 0.00010001"
    );
    // cash = 10000 - 1.001 x 0.000030003 = 9999.999969966997 exactly
    assert_eq!(portfolio.cash().to_string(), "9999.999969966997");
    assert!(portfolio.is_conserved());
}
