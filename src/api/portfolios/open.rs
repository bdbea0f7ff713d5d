//! What `POST .../trades` places: a manual order (market, limit or stop-entry), or one at a
//! live signal's or pattern's trading levels, resting at its entry until the signal or
//! pattern expires (or at market with `"fill": "market"`). Sizing, caps and fills are the
//! domain's (`domain/ledger`), applied when the portfolio actor applies the order.

use super::super::error::ApiError;
use super::super::AppState;
use super::input::{level, levels, parse_symbol, required};
use super::order_terms::{exit_rules, level_entry, manual_entry, parse_side, size};
use super::requests::OpenTrade;
use super::OwnedPortfolio;
use cryptolens_actors::domain::analysis::{
    default_expiry_ms, Direction, SignalStatus, TradingLevels,
};
use cryptolens_actors::domain::ledger::{Entry, Mutation, OrderRequest, Side, TradeSource};
use cryptolens_actors::domain::market::Symbol;

/// The order `request` asks for.
pub async fn open_mutation(
    owned: &OwnedPortfolio,
    request: OpenTrade,
    state: &AppState,
) -> Result<Mutation, ApiError> {
    let order = if request.from_signal.is_some() || request.from_pattern.is_some() {
        from_levels(owned, request, state).await?
    } else {
        manual_order(owned, request, state).await?
    };
    Ok(Mutation::Place(Box::new(order)))
}

async fn manual_order(
    owned: &OwnedPortfolio,
    request: OpenTrade,
    state: &AppState,
) -> Result<OrderRequest, ApiError> {
    if request.fill.is_some() {
        return Err(ApiError::invalid_field(
            "fill",
            "only for a trade from_signal or from_pattern",
        ));
    }
    let symbol = parse_symbol(&required(request.symbol.clone(), "symbol")?)?;
    let side = parse_side(&required(request.side.clone(), "side")?)?;
    let stop_loss = request
        .stop_loss
        .map(|stop| level("stop_loss", stop))
        .transpose()?;
    let take_profits = levels("take_profits", request.take_profits.clone())?;
    // Everything the body says is checked before anything is looked up.
    let size = size(
        owned,
        request.quantity,
        request.risk_percent,
        stop_loss.is_some(),
        state,
    )
    .await?;
    let entry = manual_entry(&request, &symbol, side, state).await?;
    let expires_at_ms = expiry(&request, &entry, state)?;
    Ok(OrderRequest {
        exit_rules: exit_rules(&request, &symbol, state)?,
        quantity_step: state
            .trading
            .quantity_step(&symbol, exchange_step(state, &symbol)),
        take_profits,
        symbol,
        side,
        entry,
        size,
        stop_loss,
        expires_at_ms,
        source: TradeSource::Manual,
    })
}

/// `expires_at` of a resting order, in the future.
fn expiry(request: &OpenTrade, entry: &Entry, state: &AppState) -> Result<Option<i64>, ApiError> {
    let Some(at_ms) = request.expires_at else {
        return Ok(None);
    };
    if matches!(entry, Entry::Market { .. }) {
        return Err(ApiError::invalid_field(
            "expires_at",
            "a market order fills at once and does not expire",
        ));
    }
    if at_ms <= state.clock.now_ms() {
        return Err(ApiError::invalid_field(
            "expires_at",
            "must be in the future",
        ));
    }
    Ok(Some(at_ms))
}

/// A live signal or pattern an order follows.
struct LevelSource {
    symbol: Symbol,
    direction: Direction,
    levels: Option<TradingLevels>,
    source: TradeSource,
    /// When it stops being tradable: a resting order at its entry expires then.
    expires_at_ms: i64,
    /// The request field that named it, for errors about it.
    field: &'static str,
}

/// An order at a live signal's or pattern's levels: resting at its entry (or at market),
/// its stop and targets, the quantity given or sized by risk.
async fn from_levels(
    owned: &OwnedPortfolio,
    request: OpenTrade,
    state: &AppState,
) -> Result<OrderRequest, ApiError> {
    let found = level_source(&request, state)?;
    let levels = found.levels.ok_or_else(|| {
        ApiError::invalid_field(
            found.field,
            "it has no trading levels yet (ATR(14) is still warming up)",
        )
    })?;
    let side = match found.direction {
        Direction::Bullish => Side::Long,
        Direction::Bearish => Side::Short,
    };
    let entry = level_entry(
        request.fill.as_deref(),
        &found.symbol,
        side,
        levels.entry,
        state,
    )
    .await?;
    let expires_at_ms = match entry {
        Entry::Market { .. } => None,
        Entry::Resting { .. } => Some(found.expires_at_ms),
    };
    Ok(OrderRequest {
        size: size(owned, request.quantity, request.risk_percent, true, state).await?,
        exit_rules: exit_rules(&request, &found.symbol, state)?,
        quantity_step: state
            .trading
            .quantity_step(&found.symbol, exchange_step(state, &found.symbol)),
        symbol: found.symbol,
        side,
        entry,
        stop_loss: Some(levels.stop),
        take_profits: levels.targets.to_vec(),
        expires_at_ms,
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
    // A signal lives while its patterns do: it expires with the first of them.
    let expires_at_ms = signal
        .patterns
        .iter()
        .map(|pattern| pattern.formed_at_ms + default_expiry_ms(pattern.timeframe))
        .min()
        .unwrap_or(signal.created_at_ms + default_expiry_ms(signal.entry_timeframe));
    Ok(LevelSource {
        symbol: signal.symbol.clone(),
        direction: signal.direction,
        levels: signal.levels,
        source: TradeSource::Signal(signal_id.to_owned()),
        expires_at_ms,
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
        expires_at_ms: pattern.formed_at_ms + default_expiry_ms(pattern.timeframe),
        field: "from_pattern",
    })
}

/// The lot step of `symbol` on the exchange it is followed from, once its instrument is known.
fn exchange_step(state: &AppState, symbol: &Symbol) -> Option<rust_decimal::Decimal> {
    state
        .feed
        .instrument(symbol)
        .map(|instrument| instrument.step_size)
}
