//! A trader's own alerts, decided on closed base candles, formed patterns and durable trade
//! changes, as exits are. The rules of one alert; [`super::alert_book`] runs a user's set of
//! them over a batch in order (fed by the exit backlog, never a broadcast that drops events
//! for a slow reader).
//!
//! Rules:
//! - **Price crosses a level**: from below (`above`) when the previous close (the candle's
//!   open for the first candle seen) is under the level and the candle's high reaches it;
//!   from above (`below`) mirrored with the low. A wick through the level counts.
//! - **Percent move within a window**: the close against the lowest (`up`) or highest
//!   (`down`) close of the candles opening within `window_minutes` before it, the window's
//!   first candle contributing its open too; `either` is both. After firing the window
//!   starts again at this candle, so one move fires once.
//! - **A new pattern**: a pattern formed on the symbol of the kind (and, if given, direction
//!   and timeframe).
//! - **A trade event** on a portfolio: a pending order filled (the change that made its
//!   first fill) or a stop hit (the change that closed it at its stop).
//!
//! An alert fires once and goes inactive, or, with `rearm`, stays armed. A candle at or before
//! the last one evaluated is skipped, so a batch handed on twice fires nothing twice.

use super::message::Message;
use crate::domain::analysis::{Direction, Pattern, PatternKind};
use crate::domain::ledger::{ExitReason, Trade, TradeStatus};
use crate::domain::market::{Candle, Price, Symbol, Timeframe};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::VecDeque;

/// Every alert message's subject starts so (signals' subjects start with their symbol), so
/// an alert's delivery ids never meet a signal's.
const ALERT_SUBJECT_PREFIX: &str = "alert-";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrossDirection {
    Above,
    Below,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MoveDirection {
    Up,
    Down,
    Either,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradeAlertEvent {
    Filled,
    StopHit,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertCondition {
    PriceCross {
        symbol: Symbol,
        direction: CrossDirection,
        level: Price,
    },
    PercentMove {
        symbol: Symbol,
        direction: MoveDirection,
        /// As text: the store's codec cannot carry a self-describing decimal.
        #[serde(with = "rust_decimal::serde::str")]
        percent: Decimal,
        window_minutes: u32,
    },
    Pattern {
        symbol: Symbol,
        kind: PatternKind,
        direction: Option<Direction>,
        timeframe: Option<Timeframe>,
    },
    Trade {
        portfolio_id: u64,
        event: TradeAlertEvent,
    },
}

impl AlertCondition {
    /// The symbol whose candles and patterns it watches (a trade alert watches none).
    pub fn symbol(&self) -> Option<&Symbol> {
        match self {
            AlertCondition::PriceCross { symbol, .. }
            | AlertCondition::PercentMove { symbol, .. }
            | AlertCondition::Pattern { symbol, .. } => Some(symbol),
            AlertCondition::Trade { .. } => None,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            AlertCondition::PriceCross { .. } => "price_cross",
            AlertCondition::PercentMove { .. } => "percent_move",
            AlertCondition::Pattern { .. } => "pattern",
            AlertCondition::Trade { .. } => "trade",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub id: u64,
    pub owner: String,
    pub name: String,
    pub condition: AlertCondition,
    pub rearm: bool,
    /// The owner's channels it goes to; empty: every enabled one.
    pub channel_ids: Vec<u64>,
    pub created_at_ms: i64,
    /// False once a one-shot alert fired.
    pub active: bool,
    pub fired_count: u32,
    pub last_fired_at_ms: Option<i64>,
    /// Open time of the last base candle evaluated.
    pub evaluated_through_ms: Option<i64>,
}

/// What an alert remembers between candles, in memory only (a restart starts it afresh).
#[derive(Debug, Clone, Default)]
pub struct AlertWatch {
    last_close: Option<Price>,
    /// (open time, lowest, highest) of each candle in the move window, oldest first.
    window: VecDeque<(i64, Price, Price)>,
}

/// An alert that fired: what to tell the trader, under a subject that names the occasion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firing {
    pub subject: String,
    pub title: String,
    pub text: String,
}

impl Alert {
    /// Evaluates one closed base candle of `symbol` (`base` its timeframe).
    pub fn on_candle(
        &mut self,
        watch: &mut AlertWatch,
        symbol: &Symbol,
        base: Timeframe,
        candle: &Candle,
    ) -> Option<Firing> {
        if !self.active || self.condition.symbol() != Some(symbol) {
            return None;
        }
        if self
            .evaluated_through_ms
            .is_some_and(|through| candle.open_time_ms <= through)
        {
            return None;
        }
        self.evaluated_through_ms = Some(candle.open_time_ms);
        let text = match &self.condition {
            AlertCondition::PriceCross {
                direction, level, ..
            } => crossed(watch, *direction, *level, candle),
            AlertCondition::PercentMove {
                direction,
                percent,
                window_minutes,
                ..
            } => moved(watch, *direction, *percent, *window_minutes, base, candle),
            AlertCondition::Pattern { .. } | AlertCondition::Trade { .. } => None,
        }?;
        let at_ms = candle.open_time_ms.saturating_add(base.duration_ms());
        Some(self.fire(format!("{symbol}-{at_ms}"), text, at_ms))
    }

    /// Evaluates a pattern formed on `symbol`.
    pub fn on_pattern(&mut self, symbol: &Symbol, pattern: &Pattern) -> Option<Firing> {
        let AlertCondition::Pattern {
            symbol: wanted,
            kind,
            direction,
            timeframe,
        } = &self.condition
        else {
            return None;
        };
        let matches = wanted == symbol
            && *kind == pattern.kind
            && direction.is_none_or(|direction| direction == pattern.direction)
            && timeframe.is_none_or(|timeframe| timeframe == pattern.timeframe);
        if !self.active || !matches {
            return None;
        }
        let text = format!(
            "{symbol}: {:?} {:?} formed on {}, zone {} - {}",
            pattern.direction,
            pattern.kind,
            pattern.timeframe,
            pattern.zone.bottom.to_decimal(),
            pattern.zone.top.to_decimal()
        );
        let subject = format!(
            "{symbol}-{}-{}-{:?}",
            pattern.timeframe, pattern.formed_at_ms, pattern.direction
        );
        Some(self.fire(subject, text, pattern.formed_at_ms))
    }

    /// Evaluates a durable change of a trade of portfolio `portfolio_id`.
    pub fn on_trade(&mut self, portfolio_id: u64, trade: &Trade, now_ms: i64) -> Option<Firing> {
        let AlertCondition::Trade {
            portfolio_id: wanted,
            event,
        } = &self.condition
        else {
            return None;
        };
        if !self.active || *wanted != portfolio_id {
            return None;
        }
        let text = match event {
            TradeAlertEvent::Filled => filled(trade),
            TradeAlertEvent::StopHit => stopped(trade),
        }?;
        let subject = format!("p{portfolio_id}-t{}-{event:?}", trade.id);
        Some(self.fire(subject, text, now_ms))
    }

    fn fire(&mut self, occasion: String, text: String, at_ms: i64) -> Firing {
        self.fired_count = self.fired_count.saturating_add(1);
        self.last_fired_at_ms = Some(at_ms);
        self.active = self.rearm;
        Firing {
            subject: format!("{ALERT_SUBJECT_PREFIX}{}-{occasion}", self.id),
            title: format!("Alert: {}", self.name),
            text,
        }
    }
}

fn crossed(
    watch: &mut AlertWatch,
    direction: CrossDirection,
    level: Price,
    candle: &Candle,
) -> Option<String> {
    let reference = watch.last_close.unwrap_or(candle.open);
    watch.last_close = Some(candle.close);
    let level_text = level.to_decimal();
    match direction {
        CrossDirection::Above if reference < level && candle.high >= level => Some(format!(
            "Price crossed above {level_text} (high {}, close {})",
            candle.high.to_decimal(),
            candle.close.to_decimal()
        )),
        CrossDirection::Below if reference > level && candle.low <= level => Some(format!(
            "Price crossed below {level_text} (low {}, close {})",
            candle.low.to_decimal(),
            candle.close.to_decimal()
        )),
        _ => None,
    }
}

fn moved(
    watch: &mut AlertWatch,
    direction: MoveDirection,
    percent: Decimal,
    window_minutes: u32,
    base: Timeframe,
    candle: &Candle,
) -> Option<String> {
    let window_ms = i64::from(window_minutes).saturating_mul(60_000);
    let first_open_ms = candle
        .open_time_ms
        .saturating_add(base.duration_ms())
        .saturating_sub(window_ms);
    while watch
        .window
        .front()
        .is_some_and(|(open_time_ms, _, _)| *open_time_ms < first_open_ms)
    {
        watch.window.pop_front();
    }
    let (opening_low, opening_high) = if watch.window.is_empty() {
        (candle.open.min(candle.close), candle.open.max(candle.close))
    } else {
        (candle.close, candle.close)
    };
    watch
        .window
        .push_back((candle.open_time_ms, opening_low, opening_high));
    let lowest = watch.window.iter().map(|(_, low, _)| *low).min()?;
    let highest = watch.window.iter().map(|(_, _, high)| *high).max()?;
    let close = candle.close.to_decimal();
    let hundred = Decimal::ONE_HUNDRED;
    let up = (close - lowest.to_decimal()) * hundred / lowest.to_decimal();
    let down = (highest.to_decimal() - close) * hundred / highest.to_decimal();
    let (word, moved_pct) = match direction {
        MoveDirection::Up => ("up", up),
        MoveDirection::Down => ("down", down),
        MoveDirection::Either if up >= down => ("up", up),
        MoveDirection::Either => ("down", down),
    };
    if moved_pct < percent {
        return None;
    }
    watch.window.clear();
    watch
        .window
        .push_back((candle.open_time_ms, candle.close, candle.close));
    Some(format!(
        "Price moved {word} {}% within {window_minutes} min, to {close}",
        moved_pct.round_dp(2)
    ))
}

/// Whether a change that left `trade` so can fire a trade alert (a first fill of a pending
/// order, or a stop hit): the portfolio hands only these to the notifier.
pub fn trade_may_alert(trade: &Trade) -> bool {
    filled(trade).is_some() || stopped(trade).is_some()
}

fn filled(trade: &Trade) -> Option<String> {
    let only_fill = match trade.fills.as_slice() {
        [fill] => fill,
        _ => return None,
    };
    let first_fill = trade.pending.is_some() && trade.status == TradeStatus::Open;
    first_fill.then(|| {
        format!(
            "Pending {:?} order on {} filled: {} at {}",
            trade.side,
            trade.symbol,
            only_fill.quantity.get(),
            only_fill.price.get()
        )
    })
}

fn stopped(trade: &Trade) -> Option<String> {
    let stop_hit =
        trade.exit_reason == Some(ExitReason::Stop) && trade.status == TradeStatus::Closed;
    stop_hit.then(|| {
        let stop = trade
            .stop_loss
            .map_or_else(|| "-".to_owned(), |stop| stop.get().to_string());
        format!(
            "{:?} trade {} on {} stopped out at {stop}; realised {}",
            trade.side,
            trade.id,
            trade.symbol,
            trade.realised_pnl.get()
        )
    })
}

impl Firing {
    /// The message `alert`'s firing sends; `dashboard_url` as for signals.
    pub fn message(&self, alert: &Alert, dashboard_url: &str) -> Message {
        let dashboard = dashboard_url.trim_end_matches('/');
        let click_url = match (&alert.condition, alert.condition.symbol()) {
            (AlertCondition::Trade { portfolio_id, .. }, _) => {
                Some(format!("{dashboard}/#/portfolio/{portfolio_id}"))
            }
            (_, Some(symbol)) => Some(format!("{dashboard}/#/symbol/{symbol}")),
            (_, None) => None,
        };
        Message {
            subject: self.subject.clone(),
            // A trader's own alert never holds back a signal by its channel's cooldown.
            symbol: None,
            title: self.title.clone(),
            text: self.text.clone(),
            priority: 4,
            tags: vec!["bell".into()],
            click_url,
            payload_json: json!({
                "alert": {"id": alert.id, "name": alert.name, "kind": alert.condition.kind()},
                "text": self.text,
            })
            .to_string(),
        }
    }
}

#[cfg(test)]
#[path = "alert_tests.rs"]
pub(crate) mod tests;
