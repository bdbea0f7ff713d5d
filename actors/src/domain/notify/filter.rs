//! Which signals a channel wants. Every list left empty admits all; every minimum left at
//! its default admits all. Quiet hours are wall-clock times in the channel's IANA time zone
//! (so they follow daylight saving), and may wrap midnight (22:00 to 07:00). A signal that
//! falls in them is not sent later: a stale signal is worse than none.
//! The per-symbol cooldown needs memory of what was sent, so the notifier applies it with
//! [`ChannelFilter::cooldown_ms`].

use crate::domain::analysis::{Direction, PatternKind, Signal};
use crate::domain::market::{Symbol, Timeframe};
use chrono::{TimeZone, Timelike};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuietHours {
    /// Minutes after local midnight, 0..1440.
    pub from_minute: u16,
    pub to_minute: u16,
    /// An IANA name, e.g. `Europe/Berlin`.
    pub time_zone: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QuietHoursError {
    #[error("not a time of day (HH:MM, 00:00 to 23:59)")]
    Time,
    #[error("not an IANA time zone name such as Europe/Berlin")]
    TimeZone,
}

impl QuietHours {
    pub fn new(
        from_minute: u16,
        to_minute: u16,
        time_zone: &str,
    ) -> Result<QuietHours, QuietHoursError> {
        if from_minute >= 1440 || to_minute >= 1440 {
            return Err(QuietHoursError::Time);
        }
        time_zone
            .parse::<chrono_tz::Tz>()
            .map_err(|_| QuietHoursError::TimeZone)?;
        Ok(QuietHours {
            from_minute,
            to_minute,
            time_zone: time_zone.into(),
        })
    }

    /// `HH:MM` as minutes after midnight.
    pub fn parse_time(text: &str) -> Result<u16, QuietHoursError> {
        let (hours, minutes) = text.split_once(':').ok_or(QuietHoursError::Time)?;
        let digits = |part: &str| part.len() == 2 && part.bytes().all(|byte| byte.is_ascii_digit());
        if !digits(hours) || !digits(minutes) {
            return Err(QuietHoursError::Time);
        }
        let hours: u16 = hours.parse().map_err(|_| QuietHoursError::Time)?;
        let minutes: u16 = minutes.parse().map_err(|_| QuietHoursError::Time)?;
        if hours > 23 || minutes > 59 {
            return Err(QuietHoursError::Time);
        }
        Ok(hours * 60 + minutes)
    }

    pub fn format_time(minute: u16) -> String {
        format!("{:02}:{:02}", minute / 60, minute % 60)
    }

    /// Whether `at_ms` falls within the quiet hours, from `from` (included) to `to`
    /// (excluded). Equal ends mean no quiet hours.
    pub fn contains(&self, at_ms: i64) -> bool {
        let Ok(zone) = self.time_zone.parse::<chrono_tz::Tz>() else {
            return false;
        };
        let Some(local) = zone.timestamp_millis_opt(at_ms).single() else {
            return false;
        };
        let minute = (local.hour() * 60 + local.minute()) as u16;
        if self.from_minute <= self.to_minute {
            (self.from_minute..self.to_minute).contains(&minute)
        } else {
            minute >= self.from_minute || minute < self.to_minute
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelFilter {
    pub symbols: Vec<Symbol>,
    pub directions: Vec<Direction>,
    /// Entry timeframes.
    pub timeframes: Vec<Timeframe>,
    pub kinds: Vec<PatternKind>,
    pub min_confluence: usize,
    /// The signal's confidence, 0 to 1.
    pub min_score: f64,
    /// The levels' reward over risk; a signal without levels has none and is refused.
    pub min_risk_reward: Option<Decimal>,
    pub quiet_hours: Option<QuietHours>,
    /// After a signal of a symbol goes out, that symbol's next ones wait this long.
    pub cooldown_minutes: u32,
}

/// Why a channel does not want a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterMiss {
    Symbol,
    Direction,
    Timeframe,
    Kind,
    Confluence,
    Score,
    RiskReward,
    QuietHours,
}

impl ChannelFilter {
    /// The first rule `signal` fails at `now_ms`, or None if the channel wants it.
    pub fn miss(&self, signal: &Signal, now_ms: i64) -> Option<FilterMiss> {
        let listed = |empty: bool, found: bool| empty || found;
        if !listed(
            self.symbols.is_empty(),
            self.symbols.contains(&signal.symbol),
        ) {
            return Some(FilterMiss::Symbol);
        }
        if !listed(
            self.directions.is_empty(),
            self.directions.contains(&signal.direction),
        ) {
            return Some(FilterMiss::Direction);
        }
        if !listed(
            self.timeframes.is_empty(),
            self.timeframes.contains(&signal.entry_timeframe),
        ) {
            return Some(FilterMiss::Timeframe);
        }
        let kind_listed = signal
            .patterns
            .iter()
            .any(|pattern| self.kinds.contains(&pattern.kind));
        if !listed(self.kinds.is_empty(), kind_listed) {
            return Some(FilterMiss::Kind);
        }
        self.threshold_miss(signal, now_ms)
    }

    fn threshold_miss(&self, signal: &Signal, now_ms: i64) -> Option<FilterMiss> {
        if signal.confluence < self.min_confluence {
            return Some(FilterMiss::Confluence);
        }
        if signal.confidence < self.min_score {
            return Some(FilterMiss::Score);
        }
        if let Some(minimum) = self.min_risk_reward {
            let risk_reward = signal.levels.as_ref().map(|levels| levels.risk_reward);
            if risk_reward.is_none_or(|risk_reward| risk_reward < minimum) {
                return Some(FilterMiss::RiskReward);
            }
        }
        if self
            .quiet_hours
            .as_ref()
            .is_some_and(|quiet| quiet.contains(now_ms))
        {
            return Some(FilterMiss::QuietHours);
        }
        None
    }

    pub fn cooldown_ms(&self) -> i64 {
        i64::from(self.cooldown_minutes) * 60_000
    }
}

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
