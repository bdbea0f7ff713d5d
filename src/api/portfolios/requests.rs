//! Request bodies of the portfolio routes. Unknown fields are refused (no mass assignment);
//! amounts are decimal strings or JSON numbers, read exactly, into the checked value types
//! of `domain::money` (a negative quantity or a ninth decimal place is refused while the body
//! is read, with the field's path).

use cryptolens_actors::domain::money::{FeeRate, Money, Price, Quantity};
use rust_decimal::Decimal;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreatePortfolio {
    pub name: String,
    pub initial_balance: Money,
    #[serde(default = "default_quote")]
    pub quote_currency: String,
    pub fee_rate: Option<FeeRate>,
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

/// Opens a trade at `price`, or at market (the symbol's latest price) when it is absent.
/// With `from_signal` or `from_pattern`, side, entry, stop and targets come from its trading
/// levels, and the quantity (unless given) risks `risk_percent` of equity (default 1).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenTrade {
    pub symbol: Option<String>,
    pub side: Option<String>,
    pub quantity: Option<Quantity>,
    pub price: Option<Price>,
    pub stop_loss: Option<Price>,
    #[serde(default)]
    pub take_profits: Vec<Price>,
    pub from_signal: Option<String>,
    pub from_pattern: Option<String>,
    pub risk_percent: Option<Decimal>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddToTrade {
    pub quantity: Quantity,
    pub price: Option<Price>,
}

/// Closes `quantity` (everything open when absent) at `price` or at market.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseTrade {
    pub quantity: Option<Quantity>,
    pub price: Option<Price>,
}

/// `stop_loss: null` clears the stop; an absent field keeps it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmendTrade {
    #[serde(default, deserialize_with = "present")]
    pub stop_loss: Option<Option<Price>>,
    pub take_profits: Option<Vec<Price>>,
}

fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<Price>>, D::Error> {
    Option::<Price>::deserialize(deserializer).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalBody {
    pub text: String,
    #[serde(default)]
    pub tags: Vec<String>,
}
