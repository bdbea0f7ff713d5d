//! The trades the study follows: each signal's own, and its random counterparts.

use super::stats::Resolution;
use crate::domain::analysis::{AnalysisEvents, AnalysisSettings, SignalEvent};
use crate::domain::backtest::outcome::{step, Followed, Step, StudyKey};
use crate::domain::backtest::Series;
use crate::domain::market::{Candle, ClosedCandle};
use crate::domain::scanner::SymbolScanner;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::prelude::ToPrimitive;
use std::sync::Arc;

/// A signal taken at creation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trial {
    pub followed: Followed,
    pub confidence: f64,
    /// The first base candle after the signal's close.
    pub first_index: usize,
    /// The last close before the signal's trade, and how long its entry may rest.
    pub close_at_signal: f64,
    pub window_ms: i64,
}

pub struct Collected {
    /// Closed base candles, in time order.
    pub candles: Vec<Candle>,
    pub trials: Vec<Trial>,
    pub span_ms: i64,
}

/// The series through the whole analysis, candle by candle, keeping its closed base candles
/// and a trial for every new signal with levels.
pub fn collect(series: Series, analysis: Arc<AnalysisSettings>, expiry_bars: u32) -> Collected {
    let base = series.timeframe;
    let mut scanner = SymbolScanner::new(series.symbol.clone(), base, 1, analysis);
    let (mut closed, mut events) = (Vec::new(), AnalysisEvents::default());
    let mut collected = Collected {
        candles: Vec::with_capacity(series.bars.len()),
        trials: Vec::new(),
        span_ms: 0,
    };
    let mut absorb = |closed: &mut Vec<ClosedCandle>, events: &mut AnalysisEvents| {
        let candles = &mut collected.candles;
        candles.extend(
            closed
                .iter()
                .filter(|c| c.timeframe == base)
                .map(|c| c.candle),
        );
        for event in &events.signals {
            if let SignalEvent::Emitted(signal) = event {
                let close = candles.last().map_or(f64::NAN, |c| c.close.to_f64());
                if let Some(trial) = trial(signal, candles.len(), close, expiry_bars) {
                    collected.trials.push(trial);
                }
            }
        }
        closed.clear();
        events.clear();
    };
    for bar in series.bars {
        scanner.on_candle(*bar, &mut closed, &mut events);
        absorb(&mut closed, &mut events);
    }
    let _ = scanner.finish(&mut closed, &mut events);
    absorb(&mut closed, &mut events);
    if let (Some(first), Some(last)) = (series.bars.first(), series.bars.last()) {
        collected.span_ms = last.open_time_ms + base.duration_ms() - first.open_time_ms;
    }
    collected
}

fn trial(
    signal: &crate::domain::analysis::Signal,
    first_index: usize,
    close_at_signal: f64,
    expiry_bars: u32,
) -> Option<Trial> {
    let levels = signal.levels.as_ref()?;
    let key = StudyKey::of(signal)?;
    let price = |value: rust_decimal::Decimal| value.to_f64().unwrap_or(f64::NAN);
    let window_ms = i64::from(expiry_bars) * signal.entry_timeframe.duration_ms();
    let levels = (
        price(levels.entry.get()),
        price(levels.stop.get()),
        price(levels.targets[0].get()),
    );
    let long = key.direction == crate::domain::analysis::Direction::Bullish;
    let expires_at_ms = signal.created_at_ms.saturating_add(window_ms);
    Some(Trial {
        followed: Followed::new(key, long, levels, expires_at_ms, false),
        confidence: signal.confidence,
        first_index,
        close_at_signal,
        window_ms,
    })
}

/// `followed` over `candles` until it ends.
pub fn resolve(mut followed: Followed, candles: &[Candle]) -> Resolution {
    for candle in candles {
        if let Step::Done(outcome) = step(&mut followed, candle) {
            return Resolution::Ended(outcome);
        }
    }
    Resolution::Unresolved
}

pub fn generator(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

type Resolved = Vec<(Followed, Resolution)>;

/// `draws` random market entries and `draws` random pending orders like `trial`, each at a
/// random closed candle from `from_index` (the first signal's) on, resolved on the candles
/// after it.
pub fn baselines(
    trial: &Trial,
    candles: &[Candle],
    (from_index, draws): (usize, u32),
    rng: &mut ChaCha8Rng,
) -> (Resolved, Resolved) {
    let ours = trial.followed;
    let (stop_share, target_share) = (
        (ours.entry - ours.stop).abs() / ours.entry,
        (ours.target - ours.entry).abs() / ours.entry,
    );
    let entry_offset = (ours.entry - trial.close_at_signal) / trial.close_at_signal;
    let (mut market, mut pending) = (Vec::new(), Vec::new());
    let last = candles.len().saturating_sub(1);
    let usable = stop_share.is_finite() && target_share.is_finite() && entry_offset.is_finite();
    if !usable || from_index >= last {
        return (market, pending);
    }
    for _ in 0..draws {
        let at = rng.random_range(from_index..last);
        let close = candles[at].close.to_f64();
        let after = &candles[at + 1..];
        let around = |entry: f64| {
            let sign = if ours.long { 1.0 } else { -1.0 };
            (
                entry,
                entry * (1.0 - sign * stop_share),
                entry * (1.0 + sign * target_share),
            )
        };
        let entered = Followed::new(ours.key, ours.long, around(close), i64::MAX, true);
        market.push((entered, resolve(entered, after)));
        let expires_at_ms = after.first().map_or(i64::MAX, |next| {
            next.open_time_ms.saturating_add(trial.window_ms)
        });
        let resting = Followed::new(
            ours.key,
            ours.long,
            around(close * (1.0 + entry_offset)),
            expires_at_ms,
            false,
        );
        pending.push((resting, resolve(resting, after)));
    }
    (market, pending)
}
