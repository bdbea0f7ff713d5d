//! The signal outcome study: every new signal followed on the base candles after it, as a
//! trader would have traded it once at creation with the levels it had then.
//!
//! Rules: the entry rests at the levels' entry price until `expiry_bars` bars of the
//! signal's entry timeframe have passed (then the signal is `expired`); a candle trading
//! through it fills it. From the fill on, the first candle reaching the stop or target 1
//! resolves it; a candle reaching both counts as the stop, and on the candle that fills the
//! entry only the stop is checked (the order inside one candle is unknown: the study assumes
//! the worst). It records how many base candles the resolution took and the maximum adverse
//! excursion, in R (the entry-to-stop distance). Rows group signals by pattern kind,
//! timeframe, direction and confluence.

use crate::domain::analysis::{Direction, PatternKind, Signal};
use crate::domain::market::{Candle, Timeframe};
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Signals followed at once; more are counted as `not_followed`, so memory stays bounded.
pub const FOLLOWED_MAX: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StudyKey {
    pub pattern_kind: PatternKind,
    pub timeframe: Timeframe,
    pub direction: Direction,
    pub confluence: usize,
}

impl StudyKey {
    /// The signal's group: the kind of its pattern on its entry timeframe (else its first).
    pub fn of(signal: &Signal) -> Option<StudyKey> {
        let pattern = signal
            .patterns
            .iter()
            .find(|pattern| pattern.timeframe == signal.entry_timeframe)
            .or(signal.patterns.first())?;
        Some(StudyKey {
            pattern_kind: pattern.kind,
            timeframe: signal.entry_timeframe,
            direction: signal.direction,
            confluence: signal.confluence,
        })
    }
}

/// One trade followed by the study's rules (also the random baselines' trades, see
/// `domain/study`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Followed {
    pub(crate) key: StudyKey,
    pub(crate) long: bool,
    pub(crate) entry: f64,
    pub(crate) stop: f64,
    pub(crate) target: f64,
    pub(crate) expires_at_ms: i64,
    pub(crate) filled: bool,
    pub(crate) candles: u32,
    pub(crate) worst_r: f64,
}

impl Followed {
    /// A trade entering at `entry`: resting until `expires_at_ms`, or already in (`filled`,
    /// a market entry at the last close) and then followed from the next candle.
    pub(crate) fn new(
        key: StudyKey,
        long: bool,
        (entry, stop, target): (f64, f64, f64),
        expires_at_ms: i64,
        filled: bool,
    ) -> Followed {
        Followed {
            key,
            long,
            entry,
            stop,
            target,
            expires_at_ms,
            filled,
            candles: 0,
            worst_r: 0.0,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Tally {
    signals: u64,
    expired: u64,
    target_first: u64,
    stop_first: u64,
    candles_to_resolution: Vec<u32>,
    worst_r_sum: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeRow {
    #[serde(flatten)]
    pub key: StudyKey,
    pub signals: u64,
    pub expired: u64,
    pub target_first: u64,
    pub stop_first: u64,
    /// Filled but neither reached by the end of the data.
    pub unresolved: u64,
    /// target_first / (target_first + stop_first).
    pub hit_rate: Option<f64>,
    pub median_candles: Option<u32>,
    /// Mean maximum adverse excursion of resolved trades, in R.
    pub mean_mae_r: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OutcomeTable {
    pub rows: Vec<OutcomeRow>,
    pub not_followed: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeStudy {
    expiry_bars: u32,
    followed: Vec<Followed>,
    tallies: BTreeMap<StudyKey, Tally>,
    not_followed: u64,
}

impl OutcomeStudy {
    pub fn new(expiry_bars: u32) -> OutcomeStudy {
        OutcomeStudy {
            expiry_bars,
            followed: Vec::new(),
            tallies: BTreeMap::new(),
            not_followed: 0,
        }
    }

    /// Starts following a new signal (one with levels; others have nothing to trade).
    pub fn on_signal(&mut self, signal: &Signal) {
        let Some(levels) = signal.levels.as_ref() else {
            return;
        };
        let Some(key) = StudyKey::of(signal) else {
            return;
        };
        self.tallies.entry(key).or_default().signals += 1;
        if self.followed.len() >= FOLLOWED_MAX {
            self.not_followed += 1;
            return;
        }
        let price = |value: rust_decimal::Decimal| value.to_f64().unwrap_or(f64::NAN);
        let window_ms = i64::from(self.expiry_bars) * signal.entry_timeframe.duration_ms();
        self.followed.push(Followed::new(
            key,
            signal.direction == Direction::Bullish,
            (
                price(levels.entry.get()),
                price(levels.stop.get()),
                price(levels.targets[0].get()),
            ),
            signal.created_at_ms.saturating_add(window_ms),
            false,
        ));
    }

    /// One base candle after the signals seen so far.
    pub fn on_base_candle(&mut self, candle: &Candle) {
        let tallies = &mut self.tallies;
        self.followed
            .retain_mut(|followed| match step(followed, candle) {
                Step::Open => true,
                Step::Done(outcome) => {
                    tallies
                        .entry(followed.key)
                        .or_default()
                        .record(outcome, followed);
                    false
                }
            });
    }

    pub fn finish(self) -> OutcomeTable {
        let mut unresolved: BTreeMap<StudyKey, u64> = BTreeMap::new();
        for followed in self.followed.iter().filter(|followed| followed.filled) {
            *unresolved.entry(followed.key).or_default() += 1;
        }
        let rows = self
            .tallies
            .into_iter()
            .map(|(key, tally)| tally.row(key, unresolved.get(&key).copied().unwrap_or(0)))
            .collect();
        OutcomeTable {
            rows,
            not_followed: self.not_followed,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Expired,
    Target,
    Stop,
}

pub(crate) enum Step {
    Open,
    Done(Outcome),
}

/// `followed` through one more candle.
pub(crate) fn step(followed: &mut Followed, candle: &Candle) -> Step {
    let (high, low) = (candle.high.to_f64(), candle.low.to_f64());
    let (adverse, favourable) = if followed.long {
        (low, high)
    } else {
        (high, low)
    };
    let reached = |level: f64, price: f64, below: bool| {
        if below {
            price <= level
        } else {
            price >= level
        }
    };
    if !followed.filled {
        if candle.open_time_ms >= followed.expires_at_ms {
            return Step::Done(Outcome::Expired);
        }
        if !reached(followed.entry, adverse, followed.long) {
            return Step::Open;
        }
        followed.filled = true;
    } else {
        followed.candles += 1;
    }
    let risk = (followed.entry - followed.stop).abs();
    let excursion = if followed.long {
        followed.entry - low
    } else {
        high - followed.entry
    };
    if risk > 0.0 {
        followed.worst_r = followed.worst_r.max(excursion.max(0.0) / risk);
    }
    if reached(followed.stop, adverse, followed.long) {
        return Step::Done(Outcome::Stop);
    }
    if followed.candles > 0 && reached(followed.target, favourable, !followed.long) {
        return Step::Done(Outcome::Target);
    }
    Step::Open
}

impl Tally {
    fn record(&mut self, outcome: Outcome, followed: &Followed) {
        match outcome {
            Outcome::Expired => self.expired += 1,
            Outcome::Target => self.target_first += 1,
            Outcome::Stop => self.stop_first += 1,
        }
        if outcome != Outcome::Expired {
            self.candles_to_resolution.push(followed.candles);
            self.worst_r_sum += followed.worst_r;
        }
    }

    fn row(mut self, key: StudyKey, unresolved: u64) -> OutcomeRow {
        let resolved = self.target_first + self.stop_first;
        self.candles_to_resolution.sort_unstable();
        OutcomeRow {
            key,
            signals: self.signals,
            expired: self.expired,
            target_first: self.target_first,
            stop_first: self.stop_first,
            unresolved,
            hit_rate: (resolved > 0).then(|| self.target_first as f64 / resolved as f64),
            median_candles: self
                .candles_to_resolution
                .get(self.candles_to_resolution.len() / 2)
                .copied(),
            mean_mae_r: (resolved > 0).then(|| self.worst_r_sum / resolved as f64),
        }
    }
}
