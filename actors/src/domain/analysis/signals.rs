//! Signals: per symbol, the latest unresolved pattern of each timeframe votes its direction.
//! The majority direction wins; confluence is the number of timeframes that agree. A signal
//! is emitted at `confluence_min` aligned timeframes or more (optionally with 4h or 1d among
//! them), and stays live, one per symbol and direction, until the condition no longer holds
//! (expired) or the opposite direction takes over (flipped). When the aligned patterns
//! change while it is live, it is updated in place.
//!
//! Confidence in 0..1 = `confluence_weight` x aligned / timeframes with data, plus an
//! indicator vote on the entry timeframe (the shortest aligned one, whose pattern gives the
//! levels): trend (close vs SMA20, SMA20 vs SMA50, half each), RSI beyond 30/70, MACD vs its
//! signal line, a Bollinger band touch, each with its weight; a volume ratio above the
//! threshold multiplies the vote by `volume_boost`.

use super::indicators::IndicatorValues;
use super::reasons::{describe_alignment, SignalReason};
use super::{Direction, Pattern, SignalSettings, TradingLevels};
use crate::domain::market::{Candle, Symbol, Timeframe};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignalStatus {
    Live,
    Expired,
    Flipped,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub symbol: Symbol,
    pub direction: Direction,
    pub status: SignalStatus,
    /// Close time of the candle whose close produced it.
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub ended_at_ms: Option<i64>,
    pub confluence: usize,
    /// Timeframes with at least one closed candle: the confluence's denominator.
    pub timeframes_with_data: usize,
    pub aligned_timeframes: Vec<Timeframe>,
    pub confidence: f64,
    /// The indicators that agree; see [`Signal::reason_texts`] for the words.
    pub reasons: Vec<SignalReason>,
    pub entry_timeframe: Timeframe,
    pub levels: Option<TradingLevels>,
    /// The aligned patterns, shortest timeframe first.
    pub patterns: Vec<Pattern>,
}

impl Signal {
    /// Human-readable reasons: the alignment first, then each agreeing indicator.
    pub fn reason_texts(&self) -> Vec<String> {
        let alignment =
            describe_alignment(self.direction, &self.patterns, self.timeframes_with_data);
        std::iter::once(alignment)
            .chain(
                self.reasons
                    .iter()
                    .map(|reason| reason.describe(self.direction)),
            )
            .collect()
    }

    /// The id the API prints, e.g. `BTCUSDT-bullish-1700000000000`.
    pub fn id(&self) -> String {
        let direction = match self.direction {
            Direction::Bullish => "bullish",
            Direction::Bearish => "bearish",
        };
        format!("{}-{direction}-{}", self.symbol, self.created_at_ms)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SignalEvent {
    Emitted(Signal),
    Updated(Signal),
    Ended(Signal),
}

/// What one timeframe contributes to the evaluation.
#[derive(Debug, Clone, Copy)]
pub struct TimeframeVote<'a> {
    pub timeframe: Timeframe,
    /// Its latest unresolved pattern, if any.
    pub pattern: Option<&'a Pattern>,
    pub candle: &'a Candle,
    pub values: &'a IndicatorValues,
}

/// How many ended signals are kept, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalHistory {
    pub kept: usize,
    pub max_age_ms: i64,
}

/// One symbol's live signals and its recently ended ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SignalBook {
    bullish: Option<Signal>,
    bearish: Option<Signal>,
    ended: VecDeque<Signal>,
}

impl SignalBook {
    pub fn live(&self) -> impl Iterator<Item = &Signal> {
        self.bullish.iter().chain(self.bearish.iter())
    }

    /// Ended signals, oldest first.
    pub fn ended(&self) -> impl DoubleEndedIterator<Item = &Signal> {
        self.ended.iter()
    }

    /// Re-evaluates the symbol at `at_ms` from `votes` (timeframes in ascending order). The
    /// votes come as a cloneable iterator so this runs on every candle without allocating.
    pub fn evaluate<'a>(
        &mut self,
        symbol: &Symbol,
        at_ms: i64,
        votes: impl Iterator<Item = TimeframeVote<'a>> + Clone,
        settings: &SignalSettings,
        history: &SignalHistory,
        events: &mut Vec<SignalEvent>,
    ) {
        let winner = winning_direction(votes.clone(), settings);
        for direction in [Direction::Bullish, Direction::Bearish] {
            let holds = winner == Some(direction);
            let cooling = self.cooling_down(direction, at_ms, settings);
            let slot = self.slot(direction);
            match slot.take() {
                Some(mut live) if !holds => {
                    live.status = if winner.is_some() {
                        SignalStatus::Flipped
                    } else {
                        SignalStatus::Expired
                    };
                    live.ended_at_ms = Some(at_ms);
                    live.updated_at_ms = at_ms;
                    events.push(SignalEvent::Ended(live.clone()));
                    self.ended.push_back(live);
                    self.forget_old(at_ms, history);
                }
                Some(mut live) => {
                    if !same_patterns(&live, votes.clone(), direction) {
                        let created_at_ms = live.created_at_ms;
                        let votes = votes.clone();
                        live = build(symbol, direction, created_at_ms, at_ms, votes, settings);
                        events.push(SignalEvent::Updated(live.clone()));
                    }
                    *slot = Some(live);
                }
                None if holds && !cooling => {
                    let signal = build(symbol, direction, at_ms, at_ms, votes.clone(), settings);
                    events.push(SignalEvent::Emitted(signal.clone()));
                    *slot = Some(signal);
                }
                None => {}
            }
        }
    }

    /// Whether a signal of `direction` ended less than the cooldown before `at_ms`.
    fn cooling_down(&self, direction: Direction, at_ms: i64, settings: &SignalSettings) -> bool {
        let cooldown_ms = i64::try_from(settings.reemit_cooldown_minutes)
            .unwrap_or(i64::MAX)
            .saturating_mul(60_000);
        cooldown_ms > 0
            && self
                .ended
                .iter()
                .rev()
                .find(|signal| signal.direction == direction)
                .and_then(|signal| signal.ended_at_ms)
                .is_some_and(|ended_at_ms| at_ms < ended_at_ms.saturating_add(cooldown_ms))
    }

    /// Retention of ended signals, by count and by age (they are in ending order).
    fn forget_old(&mut self, now_ms: i64, history: &SignalHistory) {
        let oldest_kept_ms = now_ms.saturating_sub(history.max_age_ms);
        while self.ended.len() > history.kept
            || self
                .ended
                .front()
                .is_some_and(|signal| signal.ended_at_ms.unwrap_or(i64::MIN) < oldest_kept_ms)
        {
            self.ended.pop_front();
        }
    }

    fn slot(&mut self, direction: Direction) -> &mut Option<Signal> {
        match direction {
            Direction::Bullish => &mut self.bullish,
            Direction::Bearish => &mut self.bearish,
        }
    }
}

/// The direction that has the majority and meets the confluence rules, if any.
fn winning_direction<'a>(
    votes: impl Iterator<Item = TimeframeVote<'a>> + Clone,
    settings: &SignalSettings,
) -> Option<Direction> {
    let count = |direction| aligned(votes.clone(), direction).count();
    let (bullish, bearish) = (count(Direction::Bullish), count(Direction::Bearish));
    let (direction, confluence) = match bullish.cmp(&bearish) {
        std::cmp::Ordering::Greater => (Direction::Bullish, bullish),
        std::cmp::Ordering::Less => (Direction::Bearish, bearish),
        std::cmp::Ordering::Equal => return None,
    };
    let higher_aligned = aligned(votes, direction)
        .any(|vote| matches!(vote.timeframe, Timeframe::H4 | Timeframe::D1));
    let enough = confluence >= settings.confluence_min
        && (!settings.require_higher_timeframe || higher_aligned);
    enough.then_some(direction)
}

fn aligned<'a>(
    votes: impl Iterator<Item = TimeframeVote<'a>> + Clone,
    direction: Direction,
) -> impl Iterator<Item = TimeframeVote<'a>> + Clone {
    votes.filter(move |vote| {
        vote.pattern
            .is_some_and(|pattern| pattern.direction == direction)
    })
}

fn same_patterns<'a>(
    signal: &Signal,
    votes: impl Iterator<Item = TimeframeVote<'a>> + Clone,
    direction: Direction,
) -> bool {
    let current = aligned(votes, direction).filter_map(|vote| vote.pattern.map(Pattern::key));
    signal.patterns.iter().map(Pattern::key).eq(current)
}

fn build<'a>(
    symbol: &Symbol,
    direction: Direction,
    created_at_ms: i64,
    at_ms: i64,
    votes: impl Iterator<Item = TimeframeVote<'a>> + Clone,
    settings: &SignalSettings,
) -> Signal {
    let with_data = votes.clone().count();
    let aligned_votes: Vec<TimeframeVote<'a>> = aligned(votes, direction).collect();
    let patterns: Vec<Pattern> = aligned_votes
        .iter()
        .filter_map(|vote| vote.pattern.cloned())
        .collect();
    let entry = &aligned_votes[0];
    let confluence_share = aligned_votes.len() as f64 / with_data as f64;
    let mut reasons = Vec::new();
    let vote = indicator_vote(direction, entry, settings, &mut reasons);
    let confidence = (settings.confluence_weight * confluence_share + vote).clamp(0.0, 1.0);
    Signal {
        symbol: symbol.clone(),
        direction,
        status: SignalStatus::Live,
        created_at_ms,
        updated_at_ms: at_ms,
        ended_at_ms: None,
        confluence: aligned_votes.len(),
        timeframes_with_data: with_data,
        aligned_timeframes: aligned_votes.iter().map(|vote| vote.timeframe).collect(),
        confidence,
        reasons,
        entry_timeframe: entry.timeframe,
        levels: patterns.first().and_then(|pattern| pattern.levels),
        patterns,
    }
}

/// The weighted indicator vote for `direction` on the entry timeframe, with a reason for
/// every indicator that agrees.
fn indicator_vote(
    direction: Direction,
    entry: &TimeframeVote<'_>,
    settings: &SignalSettings,
    reasons: &mut Vec<SignalReason>,
) -> f64 {
    let values = entry.values;
    let close = entry.candle.close.to_f64();
    let bullish = direction == Direction::Bullish;
    // Strictly beyond, on the signal's side.
    let beyond = |a: f64, b: f64| if bullish { a > b } else { a < b };
    let mut vote = 0.0;
    let mut agree = |weight: f64, holds: bool, reason: SignalReason| {
        if holds {
            vote += weight;
            reasons.push(reason);
        }
    };
    if let Some(sma_20) = values.sma_20 {
        let half = settings.trend_weight / 2.0;
        agree(half, beyond(close, sma_20), SignalReason::CloseBeyondSma20);
        if let Some(sma_50) = values.sma_50 {
            agree(half, beyond(sma_20, sma_50), SignalReason::Sma20BeyondSma50);
        }
    }
    if let Some(rsi) = values.rsi_14 {
        let bound = if bullish {
            settings.rsi_oversold
        } else {
            settings.rsi_overbought
        };
        agree(
            settings.rsi_weight,
            beyond(bound, rsi),
            SignalReason::RsiBeyond { rsi, bound },
        );
    }
    if let (Some(macd), Some(signal)) = (values.macd, values.macd_signal) {
        agree(
            settings.macd_weight,
            beyond(macd, signal),
            SignalReason::MacdBeyondSignal,
        );
    }
    if let (Some(upper), Some(lower)) = (values.bb_upper, values.bb_lower) {
        let touched = if bullish {
            entry.candle.low.to_f64() <= lower
        } else {
            entry.candle.high.to_f64() >= upper
        };
        agree(
            settings.bollinger_weight,
            touched,
            SignalReason::BollingerBandTouched,
        );
    }
    match values.volume_ratio {
        Some(ratio) if ratio > settings.volume_ratio_min && vote > 0.0 => {
            reasons.push(SignalReason::VolumeAboveMean { ratio });
            vote * settings.volume_boost
        }
        _ => vote,
    }
}
