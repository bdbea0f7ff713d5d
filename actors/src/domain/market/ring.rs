//! A bounded, time-ordered buffer of closed candles.

use super::candle::Candle;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Keeps the newest `capacity` candles in open-time order; the oldest falls out when full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CandleRing {
    candles: VecDeque<Candle>,
    capacity: usize,
}

impl CandleRing {
    pub fn with_capacity(capacity: usize) -> CandleRing {
        assert!(
            capacity > 0,
            "a ring buffer needs room for at least one candle"
        );
        CandleRing {
            candles: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    pub fn push(&mut self, candle: Candle) {
        debug_assert!(
            self.last()
                .is_none_or(|last| last.open_time_ms < candle.open_time_ms),
            "Invariant: ring buffers only grow forward in time"
        );
        if self.candles.len() == self.capacity {
            self.candles.pop_front();
        }
        self.candles.push_back(candle);
    }

    pub fn last(&self) -> Option<&Candle> {
        self.candles.back()
    }

    /// The candle that opened at `open_time_ms`, if it is still held.
    pub fn find(&self, open_time_ms: i64) -> Option<&Candle> {
        self.candles
            .binary_search_by_key(&open_time_ms, |candle| candle.open_time_ms)
            .ok()
            .and_then(|index| self.candles.get(index))
    }

    /// The newest `limit` candles, oldest first.
    pub fn tail(&self, limit: usize) -> impl Iterator<Item = &Candle> {
        self.candles
            .iter()
            .skip(self.candles.len().saturating_sub(limit))
    }

    pub fn len(&self) -> usize {
        self.candles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.candles.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Every candle held, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Candle> {
        self.candles.iter()
    }

    /// Replaces the content with `candles` (strictly ascending open times), keeping the
    /// newest `capacity`; answers how many older ones did not fit.
    pub(crate) fn replace_sorted(&mut self, candles: Vec<Candle>) -> u64 {
        debug_assert!(
            candles
                .windows(2)
                .all(|pair| pair[0].open_time_ms < pair[1].open_time_ms),
            "Invariant: ring buffers hold ascending open times"
        );
        let excess = candles.len().saturating_sub(self.capacity);
        self.candles = candles.into_iter().skip(excess).collect();
        excess as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::market::{Price, Volume};

    fn candle(open_time_ms: i64) -> Candle {
        let price = Price::from_raw(100);
        Candle {
            open_time_ms,
            open: price,
            high: price,
            low: price,
            close: price,
            volume: Volume::ZERO,
        }
    }

    #[test]
    fn drops_the_oldest_when_full() {
        let mut ring = CandleRing::with_capacity(3);
        for minute in 0..5 {
            ring.push(candle(minute * 60_000));
        }
        let times: Vec<i64> = ring.tail(10).map(|candle| candle.open_time_ms).collect();
        assert_eq!(times, [120_000, 180_000, 240_000]);
        assert_eq!(ring.len(), 3);
        assert!(ring.find(60_000).is_none());
        assert_eq!(ring.find(180_000).map(|c| c.open_time_ms), Some(180_000));
    }

    #[test]
    fn tail_returns_the_newest_oldest_first() {
        let mut ring = CandleRing::with_capacity(10);
        for minute in 0..4 {
            ring.push(candle(minute * 60_000));
        }
        let times: Vec<i64> = ring.tail(2).map(|candle| candle.open_time_ms).collect();
        assert_eq!(times, [120_000, 180_000]);
    }
}
