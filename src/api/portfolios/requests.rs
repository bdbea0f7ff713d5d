//! Request bodies of the portfolio routes. Unknown fields are refused (no mass assignment);
//! amounts are decimal strings or JSON numbers, read exactly. Quantities, prices and fee
//! rates stay plain decimals here and become the checked value types of `domain::money` in
//! `input.rs`, so a refused amount answers `invalid_input` naming its field, as the ledger's
//! own checks always did, rather than a JSON syntax error.

use cryptolens_actors::domain::money::{
    deserialize_strict, deserialize_strict_list, deserialize_strict_option, Money,
};
use rust_decimal::Decimal;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePortfolio {
    pub name: String,
    pub initial_balance: Money,
    #[serde(default = "default_quote")]
    pub quote_currency: String,
    #[serde(default, deserialize_with = "deserialize_strict_option")]
    pub fee_rate: Option<Decimal>,
    #[serde(default)]
    pub limits: LimitsBody,
}

fn default_quote() -> String {
    "USDT".into()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsBody {
    pub max_position_notional: Option<Money>,
    pub max_open_positions: Option<u32>,
    pub daily_loss_limit: Option<Money>,
}

/// Places an order. With a `price` it is a limit order (`"order": "stop"` makes it a
/// stop-entry order), which fills at once only when the market is already at or better
/// than it, else rests as a pending trade until a candle trades through it or it
/// `expires_at` (ms); with no price it is a market order. With `from_signal` or
/// `from_pattern`, side, entry, stop and targets come from its trading levels and the order
/// rests at the entry until the signal or pattern expires, unless `"fill": "market"`. The
/// quantity, unless given, risks `risk_percent` of equity (default 1).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenTrade {
    pub symbol: Option<String>,
    pub side: Option<String>,
    #[serde(default, deserialize_with = "deserialize_strict_option")]
    pub quantity: Option<Decimal>,
    #[serde(default, deserialize_with = "deserialize_strict_option")]
    pub price: Option<Decimal>,
    /// `market`, `limit` or `stop`.
    pub order: Option<String>,
    pub expires_at: Option<i64>,
    #[serde(default, deserialize_with = "deserialize_strict_option")]
    pub stop_loss: Option<Decimal>,
    #[serde(default, deserialize_with = "deserialize_strict_list")]
    pub take_profits: Vec<Decimal>,
    pub from_signal: Option<String>,
    pub from_pattern: Option<String>,
    /// `market`: take a signal's or pattern's trade now at market, keeping its stop and
    /// targets; `entry` (the default): rest at its entry.
    pub fill: Option<String>,
    #[serde(default, deserialize_with = "deserialize_strict_option")]
    pub risk_percent: Option<Decimal>,
    pub trailing_stop: Option<TrailingStopBody>,
    #[serde(default)]
    pub break_even_after_target: bool,
}

/// One of the two: the stop trails the best price by `percent` of it, or by `atr_multiple`
/// x ATR(14) of the symbol's base timeframe at entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrailingStopBody {
    #[serde(default, deserialize_with = "deserialize_strict_option")]
    pub percent: Option<Decimal>,
    #[serde(default, deserialize_with = "deserialize_strict_option")]
    pub atr_multiple: Option<Decimal>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddToTrade {
    #[serde(deserialize_with = "deserialize_strict")]
    pub quantity: Decimal,
    #[serde(default, deserialize_with = "deserialize_strict_option")]
    pub price: Option<Decimal>,
}

/// Closes `quantity` (everything open when absent) at market; a `price` is a limit the
/// market must meet.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseTrade {
    #[serde(default, deserialize_with = "deserialize_strict_option")]
    pub quantity: Option<Decimal>,
    #[serde(default, deserialize_with = "deserialize_strict_option")]
    pub price: Option<Decimal>,
}

/// `stop_loss: null` clears the stop; an absent field keeps it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmendTrade {
    #[serde(default, deserialize_with = "present")]
    pub stop_loss: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "present_list")]
    pub take_profits: Option<Vec<Decimal>>,
}

fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<Decimal>>, D::Error> {
    deserialize_strict_option(deserializer).map(Some)
}

fn present_list<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<Decimal>>, D::Error> {
    deserialize_strict_list(deserializer).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalBody {
    pub text: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A body that must be empty or `{}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoFields {}
