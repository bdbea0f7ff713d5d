//! The parts of an order a request names, checked and priced: the side, the entry (market,
//! limit or stop-entry, priced against the symbol's last price with the configured
//! slippage), the size (a quantity, or risk sized by the domain at apply time), and the
//! optional exit rules.

use super::super::error::ApiError;
use super::super::AppState;
use super::input::{price, quantity};
use super::market::marks;
use super::requests::{OpenTrade, TrailingStopBody};
use super::OwnedPortfolio;
use cryptolens_actors::domain::ledger::{
    market_fill_price, Entry, ExitRules, LedgerError, OrderKind, Side, Size, Trailing,
};
use cryptolens_actors::domain::market::Symbol;
use cryptolens_actors::domain::money::{Price, DECIMALS_MAX};
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::Decimal;

pub fn parse_side(text: &str) -> Result<Side, ApiError> {
    match text {
        "long" => Ok(Side::Long),
        "short" => Ok(Side::Short),
        other => Err(ApiError::invalid_field(
            "side",
            format!("long or short, got {other:?}"),
        )),
    }
}

/// What a market order on `symbol` fills at now for a trader who is `buying`.
pub async fn market_price(
    symbol: &Symbol,
    buying: bool,
    state: &AppState,
) -> Result<Price, ApiError> {
    let last = Price::from_market(state.engine.last_price(symbol).await?);
    market_fill_price(last, buying, state.trading.slippage_bps).map_err(ledger_field)
}

/// A manual order's entry: market with no price, else a limit (or, with `"order": "stop"`,
/// a stop-entry) at the price. The body is checked before the market is looked up.
pub async fn manual_entry(
    request: &OpenTrade,
    symbol: &Symbol,
    side: Side,
    state: &AppState,
) -> Result<Entry, ApiError> {
    let given = request
        .price
        .map(|value| price("price", value))
        .transpose()?;
    let resting = resting_kind(request.order.as_deref(), given.is_some())?;
    let market = market_price(symbol, side == Side::Long, state).await?;
    Ok(match (resting, given) {
        (Some(kind), Some(price)) => Entry::Resting {
            kind,
            price,
            market,
        },
        _ => Entry::Market { fill_price: market },
    })
}

/// The kind of resting order `order` names (None: a market order), given whether the
/// request has a price.
fn resting_kind(order: Option<&str>, priced: bool) -> Result<Option<OrderKind>, ApiError> {
    match (order, priced) {
        (None | Some("market"), false) => Ok(None),
        (Some("market"), true) => Err(ApiError::invalid_field(
            "price",
            "a market order takes no price",
        )),
        (None | Some("limit"), true) => Ok(Some(OrderKind::Limit)),
        (Some("stop"), true) => Ok(Some(OrderKind::StopEntry)),
        (Some("limit" | "stop"), false) => Err(ApiError::invalid_field(
            "price",
            "a limit or stop order needs its price",
        )),
        (Some(other), _) => Err(ApiError::invalid_field(
            "order",
            format!("market, limit or stop, got {other:?}"),
        )),
    }
}

/// A signal's or pattern's entry: resting at `entry` (a limit when it is better than the
/// market, else a stop-entry), or at market with `"fill": "market"`.
pub async fn level_entry(
    fill: Option<&str>,
    symbol: &Symbol,
    side: Side,
    entry: Price,
    state: &AppState,
) -> Result<Entry, ApiError> {
    let market = market_price(symbol, side == Side::Long, state).await?;
    match fill {
        Some("market") => Ok(Entry::Market { fill_price: market }),
        None | Some("entry") => {
            let better = match side {
                Side::Long => entry <= market,
                Side::Short => entry >= market,
            };
            let kind = if better {
                OrderKind::Limit
            } else {
                OrderKind::StopEntry
            };
            Ok(Entry::Resting {
                kind,
                price: entry,
                market,
            })
        }
        Some(other) => Err(ApiError::invalid_field(
            "fill",
            format!("entry or market, got {other:?}"),
        )),
    }
}

/// The quantity given, or risk sizing (`risk_percent`, default 1) valued at the latest
/// prices of what the portfolio holds; sizing by risk needs a stop.
pub async fn size(
    owned: &OwnedPortfolio,
    given: Option<Decimal>,
    risk_percent: Option<Decimal>,
    has_stop: bool,
    state: &AppState,
) -> Result<Size, ApiError> {
    if let Some(value) = given {
        if risk_percent.is_some() {
            return Err(ApiError::invalid_field(
                "risk_percent",
                "give a quantity or a risk_percent, not both",
            ));
        }
        return Ok(Size::Quantity(quantity("quantity", value)?));
    }
    if !has_stop {
        return Err(ApiError::invalid_field(
            "quantity",
            "required (or a stop_loss to size by risk_percent)",
        ));
    }
    let portfolio = owned.read().await?;
    let marks = marks(&portfolio, state).await.into_iter().collect();
    Ok(Size::Risk {
        percent: risk_percent.unwrap_or(Decimal::ONE),
        marks,
    })
}

/// The optional trailing stop and break-even rule of `request`.
pub fn exit_rules(
    request: &OpenTrade,
    symbol: &Symbol,
    state: &AppState,
) -> Result<ExitRules, ApiError> {
    let trailing = request
        .trailing_stop
        .as_ref()
        .map(|body| trailing(body, symbol, state))
        .transpose()?;
    Ok(ExitRules {
        trailing,
        break_even_after_target: request.break_even_after_target,
    })
}

fn trailing(
    body: &TrailingStopBody,
    symbol: &Symbol,
    state: &AppState,
) -> Result<Trailing, ApiError> {
    match (body.percent, body.atr_multiple) {
        (Some(percent), None) => {
            if percent <= Decimal::ZERO || percent >= Decimal::ONE_HUNDRED {
                return Err(ApiError::invalid_field(
                    "trailing_stop.percent",
                    "must be in (0, 100)",
                ));
            }
            Ok(Trailing::Percent(percent))
        }
        (None, Some(multiple)) => atr_distance(multiple, symbol, state).map(Trailing::Distance),
        _ => Err(ApiError::invalid_field(
            "trailing_stop",
            "give exactly one of percent or atr_multiple",
        )),
    }
}

/// `multiple` x the latest ATR(14) of the symbol's base timeframe, as a price distance.
fn atr_distance(multiple: Decimal, symbol: &Symbol, state: &AppState) -> Result<Price, ApiError> {
    const FIELD: &str = "trailing_stop.atr_multiple";
    if multiple <= Decimal::ZERO || multiple > Decimal::ONE_HUNDRED {
        return Err(ApiError::invalid_field(FIELD, "must be in (0, 100]"));
    }
    let view = state.engine.analysis_view(symbol)?;
    let atr = view
        .timeframes
        .first()
        .and_then(|base| base.latest.as_ref())
        .and_then(|(_, values)| values.atr_14)
        .and_then(Decimal::from_f64)
        .ok_or_else(|| ApiError::invalid_field(FIELD, "ATR(14) is still warming up"))?;
    let distance = atr
        .checked_mul(multiple)
        .map(|value| value.round_dp(DECIMALS_MAX))
        .filter(|value| *value > Decimal::ZERO)
        .ok_or_else(|| ApiError::invalid_field(FIELD, "gives no distance"))?;
    Price::new_checked(distance).map_err(|error| ApiError::invalid_field(FIELD, error.to_string()))
}

/// A ledger refusal about a field as the field-level error it is.
pub fn ledger_field(error: LedgerError) -> ApiError {
    match error {
        LedgerError::Invalid { field, message } => ApiError::invalid_field(field, message),
        other => ApiError::Portfolio(
            cryptolens_actors::actors::portfolio::PortfolioError::Refused(other),
        ),
    }
}
