//! From a new signal to an order, under a [`StrategySpec`]: whether it is taken (and if
//! not, the first rule it fails, for the decision log) and the order the ledger is asked
//! to place at the next bar's open.

use super::strategy::{OrderType, StrategySpec};
use super::BacktestError;
use crate::domain::analysis::indicators::{IndicatorValues, INDICATOR_NAMES};
use crate::domain::analysis::{Direction, Signal, TradingLevels};
use crate::domain::ledger::{
    market_fill_price, Entry, ExitRules, OrderKind, OrderRequest, Side, Size, TradeSource, Trailing,
};
use crate::domain::money::{Price, Quantity};
use std::collections::BTreeMap;

/// The quantity step of a backtest: exchanges' smallest, 1e-8.
const QUANTITY_STEP: Quantity = Quantity::SMALLEST;

/// Why `signal` is not taken, or None when it is. `values` are the entry timeframe's
/// indicators at the signal's candle.
pub fn refusal(
    spec: &StrategySpec,
    signal: &Signal,
    values: Option<&IndicatorValues>,
) -> Option<String> {
    let entry = &spec.entry;
    let levels = signal.levels.as_ref()?;
    if !entry.directions.is_empty() && !entry.directions.contains(&signal.direction) {
        return Some("direction".into());
    }
    if !entry.timeframes.is_empty() && !entry.timeframes.contains(&signal.entry_timeframe) {
        return Some("entry timeframe".into());
    }
    if !entry.pattern_kinds.is_empty() {
        let kind = signal
            .patterns
            .iter()
            .find(|pattern| pattern.timeframe == signal.entry_timeframe)
            .map(|pattern| pattern.kind);
        if !kind.is_some_and(|kind| entry.pattern_kinds.contains(&kind)) {
            return Some("pattern kind".into());
        }
    }
    if signal.confluence < entry.min_confluence {
        return Some(format!(
            "confluence {} < {}",
            signal.confluence, entry.min_confluence
        ));
    }
    if signal.confidence < entry.min_score {
        return Some(format!(
            "score {:.2} < {}",
            signal.confidence, entry.min_score
        ));
    }
    if levels.risk_reward < entry.min_risk_reward {
        return Some(format!(
            "R:R {} < {}",
            levels.risk_reward, entry.min_risk_reward
        ));
    }
    entry.indicators.iter().find_map(|condition| {
        let value = INDICATOR_NAMES
            .iter()
            .position(|name| *name == condition.name)
            .and_then(|index| values.and_then(|values| values.as_array()[index]));
        let holds = value.is_some_and(|value| {
            condition.above.is_none_or(|above| value > above)
                && condition.below.is_none_or(|below| value < below)
        });
        (!holds).then(|| format!("{} condition", condition.name))
    })
}

/// The order a taken signal asks for; its entry is fixed at the fill (see [`entry_at`]).
pub fn order_for(
    spec: &StrategySpec,
    signal: &Signal,
    levels: &TradingLevels,
    expires_at_ms: i64,
) -> OrderRequest {
    let side = match signal.direction {
        Direction::Bullish => Side::Long,
        Direction::Bearish => Side::Short,
    };
    let entry = match spec.entry.order {
        OrderType::Market => Entry::Market {
            fill_price: levels.entry,
        },
        OrderType::Pending => Entry::Resting {
            kind: OrderKind::Limit,
            price: levels.entry,
            market: levels.entry,
        },
    };
    OrderRequest {
        symbol: signal.symbol.clone(),
        side,
        entry,
        size: Size::Risk {
            percent: spec.sizing.risk_pct,
            marks: BTreeMap::new(),
        },
        stop_loss: Some(levels.stop),
        take_profits: levels.targets[..spec.exits.targets].to_vec(),
        exit_rules: ExitRules {
            trailing: spec.exits.trailing_pct.map(Trailing::Percent),
            break_even_after_target: spec.exits.break_even_after_target,
        },
        expires_at_ms: matches!(spec.entry.order, OrderType::Pending).then_some(expires_at_ms),
        source: TradeSource::Signal(signal.id()),
        quantity_step: QUANTITY_STEP,
    }
}

/// `request`'s entry at a bar opening at `open`: a market order fills there with slippage;
/// a resting one is a limit when its price is at or better than the market, else a
/// stop-entry (it waits for the market to come to it either way). Equity for the risk
/// sizing is marked at `open` too.
pub fn entry_at(
    request: &OrderRequest,
    open: Price,
    slippage_bps: u32,
) -> Result<Entry, BacktestError> {
    let buying = request.side == Side::Long;
    let market = market_fill_price(open, buying, slippage_bps)
        .map_err(|error| BacktestError::setting("costs.slippage_bps", error.to_string()))?;
    Ok(match request.entry {
        Entry::Market { .. } => Entry::Market { fill_price: market },
        Entry::Resting { price, .. } => {
            let better = if buying { price <= open } else { price >= open };
            let kind = if better {
                OrderKind::Limit
            } else {
                OrderKind::StopEntry
            };
            Entry::Resting {
                kind,
                price,
                market,
            }
        }
    })
}

/// `request` with its risk sizing's mark set to `open`.
pub fn marked(mut request: OrderRequest, open: Price) -> OrderRequest {
    if let Size::Risk { marks, .. } = &mut request.size {
        marks.insert(request.symbol.as_str().to_owned(), open);
    }
    request
}
