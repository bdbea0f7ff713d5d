//! Exit rules that move a stop after a candle (applied after the candle's exits, so they act
//! from the next candle on):
//! - a trailing stop by percent: a long's candidate is the candle's high x (1 - p/100), a
//!   short's its low x (1 + p/100); by distance: high - d, low + d;
//! - break-even: once the first target has filled, the candidate is the average entry;
//! - the stop moves to the best candidate only if that is towards the winning side of where
//!   it is (a stop never loosens). Prices round to 8 places against the trader (a long's
//!   stop down, a short's up).

use super::{Side, Trade, Trailing};
use crate::domain::market::Candle;
use crate::domain::money::{Price, DECIMALS_MAX};
use rust_decimal::{Decimal, RoundingStrategy};

/// Where `trade`'s stop moves after `candle`, if anywhere.
pub fn stop_after_candle(trade: &Trade, candle: &Candle) -> Option<Price> {
    if !trade.is_open() || candle.open_time_ms < trade.opened_at_ms {
        return None;
    }
    let long = trade.side == Side::Long;
    let trailing = trade
        .exit_rules
        .trailing
        .and_then(|rule| trailing_candidate(rule, long, candle));
    let break_even = (trade.exit_rules.break_even_after_target && trade.targets_hit >= 1)
        .then(|| trade.average_entry_price())
        .flatten();
    let best = [trailing, break_even]
        .into_iter()
        .flatten()
        .reduce(|a, b| if long { a.max(b) } else { a.min(b) })?;
    let rounding = if long {
        RoundingStrategy::ToNegativeInfinity
    } else {
        RoundingStrategy::ToPositiveInfinity
    };
    let candidate = Price::new_checked(
        best.round_dp_with_strategy(DECIMALS_MAX, rounding)
            .normalize(),
    )
    .ok()?;
    let improves = match trade.stop_loss {
        None => true,
        Some(stop) if long => candidate > stop,
        Some(stop) => candidate < stop,
    };
    (improves && candidate.is_positive()).then_some(candidate)
}

fn trailing_candidate(rule: Trailing, long: bool, candle: &Candle) -> Option<Decimal> {
    let extreme = if long {
        Price::from_market(candle.high).get()
    } else {
        Price::from_market(candle.low).get()
    };
    match rule {
        Trailing::Percent(percent) => {
            let share = percent.checked_div(Decimal::ONE_HUNDRED)?;
            let factor = if long {
                Decimal::ONE - share
            } else {
                Decimal::ONE + share
            };
            extreme.checked_mul(factor)
        }
        Trailing::Distance(distance) => {
            if long {
                extreme.checked_sub(distance.get())
            } else {
                extreme.checked_add(distance.get())
            }
        }
    }
}
