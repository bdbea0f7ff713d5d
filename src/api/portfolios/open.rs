//! What `POST .../trades` opens: a manual trade (side, quantity, price or market), or one at
//! a live signal's or pattern's trading levels, sized by the domain's risk rule
//! (`domain/ledger/sizing.rs`) unless the request gives a quantity.

use super::super::error::ApiError;
use super::super::AppState;
use super::input::{level, levels, parse_symbol, price, quantity, required};
use super::market::{marks, price_or_market};
use super::requests::OpenTrade;
use super::OwnedPortfolio;
use cryptolens_actors::actors::portfolio::PortfolioError;
use cryptolens_actors::domain::analysis::{Direction, SignalStatus, TradingLevels};
use cryptolens_actors::domain::ledger::{LedgerError, Mutation, RiskPercent, Side, TradeSource};
use cryptolens_actors::domain::market::Symbol;
use cryptolens_actors::domain::money::Quantity;
use rust_decimal::Decimal;

/// The open `request` asks for.
pub async fn open_mutation(
    owned: &OwnedPortfolio,
    request: OpenTrade,
    state: &AppState,
) -> Result<Mutation, ApiError> {
    if request.from_signal.is_some() || request.from_pattern.is_some() {
        from_levels(owned, request, state).await
    } else {
        manual_open(request, state).await
    }
}

async fn manual_open(request: OpenTrade, state: &AppState) -> Result<Mutation, ApiError> {
    let symbol = parse_symbol(&required(request.symbol, "symbol")?)?;
    let side = match required(request.side, "side")?.as_str() {
        "long" => Side::Long,
        "short" => Side::Short,
        other => {
            return Err(ApiError::invalid_field(
                "side",
                format!("long or short, got {other:?}"),
            ))
        }
    };
    let quantity = quantity("quantity", required(request.quantity, "quantity")?)?;
    let given = request
        .price
        .map(|value| price("price", value))
        .transpose()?;
    let price = price_or_market(given, &symbol, state).await?;
    Ok(Mutation::Open {
        symbol,
        side,
        quantity,
        price,
        stop_loss: request
            .stop_loss
            .map(|stop| level("stop_loss", stop))
            .transpose()?,
        take_profits: levels("take_profits", request.take_profits)?,
        source: TradeSource::Manual,
    })
}

/// A live signal or pattern an open follows.
struct LevelSource {
    symbol: Symbol,
    direction: Direction,
    levels: Option<TradingLevels>,
    source: TradeSource,
    /// The request field that named it, for errors about it.
    field: &'static str,
}

/// An open at a live signal's or pattern's levels: entry as a paper limit fill, its stop and
/// targets, and the quantity given or sized by risk.
async fn from_levels(
    owned: &OwnedPortfolio,
    request: OpenTrade,
    state: &AppState,
) -> Result<Mutation, ApiError> {
    let found = level_source(&request, state)?;
    let levels = found.levels.ok_or_else(|| {
        ApiError::invalid_field(
            found.field,
            "it has no trading levels yet (ATR(14) is still warming up)",
        )
    })?;
    let quantity = match request.quantity {
        Some(given) => quantity("quantity", given)?,
        None => risk_sized(owned, &levels, request.risk_percent, state).await?,
    };
    Ok(Mutation::Open {
        symbol: found.symbol,
        side: match found.direction {
            Direction::Bullish => Side::Long,
            Direction::Bearish => Side::Short,
        },
        quantity,
        price: levels.entry,
        stop_loss: Some(levels.stop),
        take_profits: levels.targets.to_vec(),
        source: found.source,
    })
}

fn level_source(request: &OpenTrade, state: &AppState) -> Result<LevelSource, ApiError> {
    match (&request.from_signal, &request.from_pattern) {
        (Some(_), Some(_)) => Err(ApiError::invalid_field(
            "from_pattern",
            "give from_signal or from_pattern, not both",
        )),
        (Some(signal_id), None) => live_signal(signal_id, state),
        (None, Some(pattern_id)) => {
            let symbol = parse_symbol(&required(request.symbol.clone(), "symbol")?)?;
            live_pattern(pattern_id, symbol, state)
        }
        (None, None) => Err(ApiError::invalid_field(
            "from_signal",
            "from_signal or from_pattern is required",
        )),
    }
}

fn live_signal(signal_id: &str, state: &AppState) -> Result<LevelSource, ApiError> {
    let signal = state
        .engine
        .analysis_views()
        .iter()
        .flat_map(|view| view.signals.iter().cloned().collect::<Vec<_>>())
        .find(|signal| signal.id() == signal_id && signal.status == SignalStatus::Live)
        .ok_or_else(|| ApiError::NotFound(format!("no live signal {signal_id:?}")))?;
    Ok(LevelSource {
        symbol: signal.symbol.clone(),
        direction: signal.direction,
        levels: signal.levels,
        source: TradeSource::Signal(signal_id.to_owned()),
        field: "from_signal",
    })
}

fn live_pattern(
    pattern_id: &str,
    symbol: Symbol,
    state: &AppState,
) -> Result<LevelSource, ApiError> {
    let view = state.engine.analysis_view(&symbol)?;
    let pattern = view
        .timeframes
        .iter()
        .flat_map(|tf| tf.patterns.iter())
        .find(|pattern| {
            pattern.key().to_string() == pattern_id && pattern.lifecycle.status.is_live()
        })
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("no live pattern {pattern_id:?} on {symbol}")))?;
    Ok(LevelSource {
        symbol,
        direction: pattern.direction,
        levels: pattern.levels,
        source: TradeSource::Pattern(pattern_id.to_owned()),
        field: "from_pattern",
    })
}

/// The quantity risking `risk_percent` (default 1) of the portfolio's equity at `levels`.
async fn risk_sized(
    owned: &OwnedPortfolio,
    levels: &TradingLevels,
    risk_percent: Option<Decimal>,
    state: &AppState,
) -> Result<Quantity, ApiError> {
    let portfolio = owned.read().await?;
    let marks = marks(&portfolio, state).await;
    let now_ms = state.clock.now_ms();
    let sized = RiskPercent::or_default(risk_percent).and_then(|risk| {
        portfolio.risk_sized_quantity(&marks, now_ms, levels.entry, levels.stop, risk)
    });
    sized.map_err(field_error)
}

/// A refused sizing as the field-level error the route answered before sizing moved into
/// the domain (message without the field prefix); other refusals as the ledger's.
fn field_error(error: LedgerError) -> ApiError {
    match error {
        LedgerError::Invalid { field, message } => ApiError::invalid_field(field, message),
        other => ApiError::Portfolio(PortfolioError::Refused(other)),
    }
}
