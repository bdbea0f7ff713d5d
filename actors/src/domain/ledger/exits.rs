//! Stop-loss and take-profit triggers on a closed candle, as paper fills.
//!
//! Rules (written down because paper fills need them):
//! - only candles opening at or after the trade's opening count (what a candle did before
//!   the trade existed cannot fill it);
//! - a long's stop triggers when the candle's low reaches it; a short's when its high does;
//! - a target triggers when the high (long) or low (short) reaches it;
//! - fills are at the level, except when the candle opens already beyond it (a gap through
//!   the level): then the fill is at the open, worse than the stop or better than the target;
//! - when one candle reaches both the stop and a target, the stop is assumed first (the order
//!   inside a candle is unknown, so the cautious reading wins);
//! - with n targets left, reaching the nearest closes 1/n of the open quantity (rounded down to
//!   8 decimals; the last target closes the rest) and removes that target.

use super::{ExitReason, Mutation, Side, Trade};
use crate::domain::market::Candle;
use crate::domain::money::{Price, Quantity};

/// The exit `candle` triggers on `trade`, if any.
pub fn exit_on_candle(trade: &Trade, candle: &Candle) -> Option<Mutation> {
    if !trade.is_open() || candle.open_time_ms < trade.opened_at_ms {
        return None;
    }
    let (open, high, low) = (
        Price::from_market(candle.open),
        Price::from_market(candle.high),
        Price::from_market(candle.low),
    );
    let long = trade.side == Side::Long;
    if let Some(stop) = trade.stop_loss {
        let hit = if long { low <= stop } else { high >= stop };
        if hit {
            let gapped = if long { open < stop } else { open > stop };
            return Some(Mutation::Exit {
                trade_id: trade.id,
                price: if gapped { open } else { stop },
                reason: ExitReason::Stop,
            });
        }
    }
    let nearest = trade
        .take_profits
        .iter()
        .copied()
        .reduce(|a, b| if long == (a < b) { a } else { b })?;
    let hit = if long {
        high >= nearest
    } else {
        low <= nearest
    };
    if !hit {
        return None;
    }
    let gapped = if long { open > nearest } else { open < nearest };
    Some(Mutation::TakeProfit {
        trade_id: trade.id,
        target: nearest,
        price: if gapped { open } else { nearest },
    })
}

/// The quantity one target closes: an equal share of what is open over the targets left.
pub fn target_share(trade: &Trade) -> Quantity {
    let share = trade.quantity.share_of(trade.take_profits.len());
    if share.is_zero() {
        trade.quantity
    } else {
        share
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ledger::{test_spec, Portfolio, TradeSource};
    use crate::domain::market::{self, Symbol, Volume};
    use rust_decimal::Decimal;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    fn price(text: &str) -> Price {
        Price::new_checked(dec(text)).unwrap()
    }

    fn candle(open: &str, high: &str, low: &str, close: &str) -> Candle {
        let price = |text: &str| market::Price::from_decimal(dec(text)).unwrap();
        Candle {
            open_time_ms: 60_000,
            open: price(open),
            high: price(high),
            low: price(low),
            close: price(close),
            volume: Volume::ZERO,
        }
    }

    fn long_trade(targets: &[&str]) -> (Portfolio, Trade) {
        let mut portfolio = Portfolio::create(test_spec("10000", Decimal::ZERO)).unwrap();
        let open = Mutation::Open {
            symbol: Symbol::parse("BTCUSDT").unwrap(),
            side: Side::Long,
            quantity: Quantity::new_checked(dec("3")).unwrap(),
            price: price("100"),
            stop_loss: Some(price("95")),
            take_profits: targets.iter().map(|t| price(t)).collect(),
            source: TradeSource::Manual,
        };
        let trade = portfolio.apply(&open, 0).unwrap().trade;
        (portfolio, trade)
    }

    #[test]
    fn a_stop_fills_at_its_level_or_at_a_gapped_open() {
        let (_, trade) = long_trade(&["110"]);
        let at_level = exit_on_candle(&trade, &candle("99", "99", "94", "96"));
        assert_eq!(
            at_level,
            Some(Mutation::Exit {
                trade_id: 1,
                price: price("95"),
                reason: ExitReason::Stop,
            })
        );
        let gapped = exit_on_candle(&trade, &candle("93", "94", "92", "93"));
        assert_eq!(
            gapped,
            Some(Mutation::Exit {
                trade_id: 1,
                price: price("93"),
                reason: ExitReason::Stop,
            })
        );
        assert_eq!(
            exit_on_candle(&trade, &candle("99", "109", "96", "100")),
            None
        );
    }

    #[test]
    fn the_stop_wins_when_a_candle_reaches_both() {
        let (_, trade) = long_trade(&["110"]);
        let both = exit_on_candle(&trade, &candle("100", "111", "94", "100"));
        assert!(matches!(both, Some(Mutation::Exit { price, .. }) if price == self::price("95")));
    }

    #[test]
    fn targets_close_equal_shares_nearest_first() {
        let (mut portfolio, trade) = long_trade(&["120", "110", "130"]);
        let exit = exit_on_candle(&trade, &candle("100", "112", "99", "111")).unwrap();
        assert_eq!(
            exit,
            Mutation::TakeProfit {
                trade_id: 1,
                target: price("110"),
                price: price("110")
            }
        );
        let after = portfolio.apply(&exit, 60_000).unwrap().trade;
        assert_eq!(after.quantity.get(), dec("2"), "a third of 3 closed");
        assert_eq!(after.take_profits, [price("120"), price("130")]);
        let gapped = exit_on_candle(&after, &candle("125", "126", "124", "125")).unwrap();
        assert_eq!(
            gapped,
            Mutation::TakeProfit {
                trade_id: 1,
                target: price("120"),
                price: price("125")
            }
        );
    }
}
