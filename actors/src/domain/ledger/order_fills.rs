//! What a closed candle does to a pending order (rules in `orders.rs` and the README):
//! - only candles opening at or after the order was placed count;
//! - a candle opening at or after `expires_at_ms` expires it, before any fill;
//! - a limit long fills when the low reaches its price, at the price or at the open when the
//!   candle opened below it (a gap fills at the better price); a limit short mirrored with
//!   the high;
//! - a stop-entry long fills when the high reaches its price, at the price or at the open
//!   when the candle opened above it (a gap fills at the worse price); a short mirrored.

use super::{Mutation, OrderKind, Side, Trade};
use crate::domain::market::Candle;
use crate::domain::money::Price;

/// The expiry or fill `candle` causes on pending `trade`, if any.
pub fn order_on_candle(trade: &Trade, candle: &Candle) -> Option<Mutation> {
    let order = trade.pending.as_ref().filter(|_| trade.is_pending())?;
    if candle.open_time_ms < order.placed_at_ms {
        return None;
    }
    if order
        .expires_at_ms
        .is_some_and(|expiry| candle.open_time_ms >= expiry)
    {
        return Some(Mutation::Expire { trade_id: trade.id });
    }
    let (open, high, low) = (
        Price::from_market(candle.open),
        Price::from_market(candle.high),
        Price::from_market(candle.low),
    );
    let price = order.price;
    let fill = match (order.kind, trade.side) {
        (OrderKind::Limit, Side::Long) => (low <= price).then(|| open.min(price)),
        (OrderKind::Limit, Side::Short) => (high >= price).then(|| open.max(price)),
        (OrderKind::StopEntry, Side::Long) => (high >= price).then(|| open.max(price)),
        (OrderKind::StopEntry, Side::Short) => (low <= price).then(|| open.min(price)),
    }?;
    Some(Mutation::FillOrder {
        trade_id: trade.id,
        price: fill,
    })
}

/// The idempotency key of an order's expiry or fill on the candle opening at
/// `candle_open_ms`.
pub fn order_key(trade_id: u64, candle_open_ms: i64, mutation: &Mutation) -> String {
    let what = match mutation {
        Mutation::Expire { .. } => "expire",
        _ => "fill",
    };
    format!("order-{trade_id}-{candle_open_ms}-{what}")
}
