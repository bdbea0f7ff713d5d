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
use super::{Direction, Pattern, PatternKind, SignalSettings, TradingLevels};
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
    pub reasons: Vec<String>,
    pub entry_timeframe: Timeframe,
    pub levels: Option<TradingLevels>,
    /// The aligned patterns, shortest timeframe first.
    pub patterns: Vec<Pattern>,
}

impl Signal {
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

    /// Re-evaluates the symbol at `at_ms` from `votes` (timeframes in ascending order).
    pub fn evaluate(
        &mut self,
        symbol: &Symbol,
        at_ms: i64,
        votes: &[TimeframeVote<'_>],
        settings: &SignalSettings,
        ended_kept: usize,
        events: &mut Vec<SignalEvent>,
    ) {
        let winner = winning_direction(votes, settings);
        for direction in [Direction::Bullish, Direction::Bearish] {
            let holds = winner == Some(direction);
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
                    while self.ended.len() > ended_kept {
                        self.ended.pop_front();
                    }
                }
                Some(mut live) => {
                    if !same_patterns(&live, votes, direction) {
                        live = build(
                            symbol,
                            direction,
                            live.created_at_ms,
                            at_ms,
                            votes,
                            settings,
                        );
                        events.push(SignalEvent::Updated(live.clone()));
                    }
                    *slot = Some(live);
                }
                None if holds => {
                    let signal = build(symbol, direction, at_ms, at_ms, votes, settings);
                    events.push(SignalEvent::Emitted(signal.clone()));
                    *slot = Some(signal);
                }
                None => {}
            }
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
fn winning_direction(votes: &[TimeframeVote<'_>], settings: &SignalSettings) -> Option<Direction> {
    let count = |direction| aligned(votes, direction).count();
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

fn aligned<'v, 'a>(
    votes: &'v [TimeframeVote<'a>],
    direction: Direction,
) -> impl Iterator<Item = &'v TimeframeVote<'a>> {
    votes.iter().filter(move |vote| {
        vote.pattern
            .is_some_and(|pattern| pattern.direction == direction)
    })
}

fn same_patterns(signal: &Signal, votes: &[TimeframeVote<'_>], direction: Direction) -> bool {
    let current = aligned(votes, direction).filter_map(|vote| vote.pattern.map(Pattern::key));
    signal.patterns.iter().map(Pattern::key).eq(current)
}

fn build(
    symbol: &Symbol,
    direction: Direction,
    created_at_ms: i64,
    at_ms: i64,
    votes: &[TimeframeVote<'_>],
    settings: &SignalSettings,
) -> Signal {
    let aligned_votes: Vec<&TimeframeVote<'_>> = aligned(votes, direction).collect();
    let patterns: Vec<Pattern> = aligned_votes
        .iter()
        .filter_map(|vote| vote.pattern.cloned())
        .collect();
    let entry = aligned_votes[0];
    let confluence_share = aligned_votes.len() as f64 / votes.len() as f64;
    let mut reasons = vec![alignment_reason(direction, &aligned_votes, votes.len())];
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
        timeframes_with_data: votes.len(),
        aligned_timeframes: aligned_votes.iter().map(|vote| vote.timeframe).collect(),
        confidence,
        reasons,
        entry_timeframe: entry.timeframe,
        levels: patterns.first().and_then(|pattern| pattern.levels),
        patterns,
    }
}

fn alignment_reason(direction: Direction, aligned: &[&TimeframeVote<'_>], of: usize) -> String {
    let names: Vec<String> = aligned
        .iter()
        .filter_map(|vote| {
            let kind = match vote.pattern?.kind {
                PatternKind::FairValueGap => "fair value gap",
                PatternKind::OrderBlock => "order block",
                PatternKind::LiquiditySweep => "liquidity sweep",
            };
            Some(format!("{} {kind}", vote.timeframe))
        })
        .collect();
    let direction = match direction {
        Direction::Bullish => "bullish",
        Direction::Bearish => "bearish",
    };
    format!(
        "{direction} on {} of {of} timeframes: {}",
        aligned.len(),
        names.join(", ")
    )
}

/// The weighted indicator vote for `direction` on the entry timeframe, with a reason for
/// every indicator that agrees.
fn indicator_vote(
    direction: Direction,
    entry: &TimeframeVote<'_>,
    settings: &SignalSettings,
    reasons: &mut Vec<String>,
) -> f64 {
    let values = entry.values;
    let close = entry.candle.close.to_f64();
    let bullish = direction == Direction::Bullish;
    let mut vote = 0.0;
    let mut agree = |weight: f64, holds: bool, reason: String| {
        if holds {
            vote += weight;
            reasons.push(reason);
        }
    };
    let (above, below) = if bullish {
        ("above", "below")
    } else {
        ("below", "above")
    };
    if let Some(sma_20) = values.sma_20 {
        let holds = (close > sma_20) == bullish && close != sma_20;
        agree(
            settings.trend_weight / 2.0,
            holds,
            format!("close {above} SMA20"),
        );
        if let Some(sma_50) = values.sma_50 {
            let holds = (sma_20 > sma_50) == bullish && sma_20 != sma_50;
            agree(
                settings.trend_weight / 2.0,
                holds,
                format!("SMA20 {above} SMA50"),
            );
        }
    }
    if let Some(rsi) = values.rsi_14 {
        let (holds, bound) = if bullish {
            (rsi < settings.rsi_oversold, settings.rsi_oversold)
        } else {
            (rsi > settings.rsi_overbought, settings.rsi_overbought)
        };
        agree(
            settings.rsi_weight,
            holds,
            format!("RSI {rsi:.1} {below} {bound}"),
        );
    }
    if let (Some(macd), Some(signal)) = (values.macd, values.macd_signal) {
        let holds = (macd > signal) == bullish && macd != signal;
        agree(
            settings.macd_weight,
            holds,
            format!("MACD {above} its signal line"),
        );
    }
    if let (Some(upper), Some(lower)) = (values.bb_upper, values.bb_lower) {
        let (holds, band) = if bullish {
            (entry.candle.low.to_f64() <= lower, "lower")
        } else {
            (entry.candle.high.to_f64() >= upper, "upper")
        };
        agree(
            settings.bollinger_weight,
            holds,
            format!("price touched the {band} Bollinger band"),
        );
    }
    match values.volume_ratio {
        Some(ratio) if ratio > settings.volume_ratio_min && vote > 0.0 => {
            reasons.push(format!("volume {ratio:.2}x its 20-candle mean"));
            vote * settings.volume_boost
        }
        _ => vote,
    }
}
