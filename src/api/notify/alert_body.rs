//! What a client sends to set an alert, checked field by field into the domain's
//! [`AlertCondition`]. One flat body for every kind: the fields a kind needs are required, the
//! others refused, so a typo never leaves an alert that silently watches something else.

use super::super::error::ApiError;
use cryptolens_actors::domain::analysis::{Direction, PatternKind};
use cryptolens_actors::domain::market::{Price, Symbol, Timeframe};
use cryptolens_actors::domain::notify::{
    AlertCondition, CrossDirection, MoveDirection, TradeAlertEvent,
};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// A move alert's window: at most a week.
const WINDOW_MINUTES_MAX: u32 = 7 * 24 * 60;
const CHANNELS_MAX: usize = 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAlertBody {
    pub name: String,
    /// `price_cross`, `percent_move`, `pattern` or `trade`.
    pub kind: String,
    #[serde(default)]
    pub symbol: Option<Symbol>,
    /// `above`/`below` (price_cross), `up`/`down`/`either` (percent_move), `bullish`/
    /// `bearish` (pattern, optional).
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub level: Option<Decimal>,
    #[serde(default)]
    pub percent: Option<Decimal>,
    #[serde(default)]
    pub window_minutes: Option<u32>,
    #[serde(default)]
    pub pattern_kind: Option<PatternKind>,
    #[serde(default)]
    pub timeframe: Option<Timeframe>,
    #[serde(default)]
    pub portfolio_id: Option<u64>,
    /// `filled` or `stop_hit` (trade).
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub rearm: bool,
    /// The caller's channels it goes to; empty: every enabled one.
    #[serde(default)]
    pub channel_ids: Vec<u64>,
}

fn required<T>(value: Option<T>, field: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::invalid_field(field, "required for this kind of alert"))
}

/// `text` as one of the words of `T` (its serde names), else a field error listing them.
fn word<T: DeserializeOwned>(text: &str, field: &str, words: &str) -> Result<T, ApiError> {
    serde_json::from_value(serde_json::Value::String(text.to_owned()))
        .map_err(|_| ApiError::invalid_field(field, format!("one of {words}")))
}

impl CreateAlertBody {
    /// The fields set that `kind` does not read (each would be ignored: refused instead).
    fn stray_fields(&self, wanted: &[&str]) -> Option<&'static str> {
        let set = [
            ("symbol", self.symbol.is_some()),
            ("direction", self.direction.is_some()),
            ("level", self.level.is_some()),
            ("percent", self.percent.is_some()),
            ("window_minutes", self.window_minutes.is_some()),
            ("pattern_kind", self.pattern_kind.is_some()),
            ("timeframe", self.timeframe.is_some()),
            ("portfolio_id", self.portfolio_id.is_some()),
            ("event", self.event.is_some()),
        ];
        set.into_iter()
            .find(|(field, present)| *present && !wanted.contains(field))
            .map(|(field, _)| field)
    }

    pub fn checked_condition(&self) -> Result<AlertCondition, ApiError> {
        if self.channel_ids.len() > CHANNELS_MAX {
            return Err(ApiError::invalid_field(
                "channel_ids",
                format!("at most {CHANNELS_MAX} channels"),
            ));
        }
        let (condition, wanted): (AlertCondition, &[&str]) = match self.kind.as_str() {
            "price_cross" => (self.price_cross()?, &["symbol", "direction", "level"]),
            "percent_move" => (
                self.percent_move()?,
                &["symbol", "direction", "percent", "window_minutes"],
            ),
            "pattern" => (
                self.pattern()?,
                &["symbol", "direction", "pattern_kind", "timeframe"],
            ),
            "trade" => (self.trade()?, &["portfolio_id", "event"]),
            _ => {
                return Err(ApiError::invalid_field(
                    "kind",
                    "one of price_cross, percent_move, pattern, trade",
                ))
            }
        };
        match self.stray_fields(wanted) {
            Some(field) => Err(ApiError::invalid_field(
                field,
                format!("not read by a {} alert", self.kind),
            )),
            None => Ok(condition),
        }
    }

    fn price_cross(&self) -> Result<AlertCondition, ApiError> {
        let symbol = required(self.symbol.clone(), "symbol")?;
        let direction: CrossDirection = word(
            required(self.direction.as_deref(), "direction")?,
            "direction",
            "above, below",
        )?;
        let level = required(self.level, "level")?;
        let level = Price::from_decimal(level)
            .ok()
            .filter(|_| level > Decimal::ZERO)
            .ok_or_else(|| ApiError::out_of_range("level", "a positive price"))?;
        Ok(AlertCondition::PriceCross {
            symbol,
            direction,
            level,
        })
    }

    fn percent_move(&self) -> Result<AlertCondition, ApiError> {
        let symbol = required(self.symbol.clone(), "symbol")?;
        let direction: MoveDirection = word(
            required(self.direction.as_deref(), "direction")?,
            "direction",
            "up, down, either",
        )?;
        let percent = required(self.percent, "percent")?;
        if percent <= Decimal::ZERO || percent > Decimal::ONE_HUNDRED {
            return Err(ApiError::out_of_range("percent", "above 0 and at most 100"));
        }
        let window_minutes = required(self.window_minutes, "window_minutes")?;
        if !(1..=WINDOW_MINUTES_MAX).contains(&window_minutes) {
            return Err(ApiError::out_of_range(
                "window_minutes",
                format!("1 to {WINDOW_MINUTES_MAX} (a week)"),
            ));
        }
        Ok(AlertCondition::PercentMove {
            symbol,
            direction,
            percent,
            window_minutes,
        })
    }

    fn pattern(&self) -> Result<AlertCondition, ApiError> {
        let direction: Option<Direction> = self
            .direction
            .as_deref()
            .map(|text| word(text, "direction", "bullish, bearish"))
            .transpose()?;
        Ok(AlertCondition::Pattern {
            symbol: required(self.symbol.clone(), "symbol")?,
            kind: required(self.pattern_kind, "pattern_kind")?,
            direction,
            timeframe: self.timeframe,
        })
    }

    fn trade(&self) -> Result<AlertCondition, ApiError> {
        let event: TradeAlertEvent = word(
            required(self.event.as_deref(), "event")?,
            "event",
            "filled, stop_hit",
        )?;
        Ok(AlertCondition::Trade {
            portfolio_id: required(self.portfolio_id, "portfolio_id")?,
            event,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: serde_json::Value) -> CreateAlertBody {
        serde_json::from_value(json).unwrap()
    }

    fn refused_field(json: serde_json::Value) -> String {
        let error = body(json).checked_condition().unwrap_err();
        error.to_json()["error"]["field"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn each_kind_reads_its_fields() {
        let cross = body(serde_json::json!({"name": "n", "kind": "price_cross",
            "symbol": "BTCUSDT", "direction": "above", "level": "100000.5"}));
        assert!(matches!(
            cross.checked_condition().unwrap(),
            AlertCondition::PriceCross { direction: CrossDirection::Above, level, .. }
                if level.to_decimal() == "100000.5".parse::<Decimal>().unwrap()
        ));
        let moved = body(serde_json::json!({"name": "n", "kind": "percent_move",
            "symbol": "BTCUSDT", "direction": "either", "percent": "2.5", "window_minutes": 60}));
        assert!(matches!(
            moved.checked_condition().unwrap(),
            AlertCondition::PercentMove {
                direction: MoveDirection::Either,
                window_minutes: 60,
                ..
            }
        ));
        let pattern = body(serde_json::json!({"name": "n", "kind": "pattern",
            "symbol": "BTCUSDT", "pattern_kind": "fair_value_gap", "timeframe": "1h"}));
        assert!(matches!(
            pattern.checked_condition().unwrap(),
            AlertCondition::Pattern {
                kind: PatternKind::FairValueGap,
                direction: None,
                timeframe: Some(Timeframe::H1),
                ..
            }
        ));
        let trade = body(serde_json::json!({"name": "n", "kind": "trade",
            "portfolio_id": 4, "event": "stop_hit"}));
        assert!(matches!(
            trade.checked_condition().unwrap(),
            AlertCondition::Trade {
                portfolio_id: 4,
                event: TradeAlertEvent::StopHit
            }
        ));
    }

    #[test]
    fn a_missing_wrong_or_stray_field_is_named() {
        let base = |extra: serde_json::Value| {
            let mut json = serde_json::json!({"name": "n", "kind": "price_cross",
                "symbol": "BTCUSDT", "direction": "above", "level": "100"});
            for (key, value) in extra.as_object().unwrap() {
                json[key] = value.clone();
            }
            json
        };
        assert_eq!(
            refused_field(base(serde_json::json!({"kind": "soon"}))),
            "kind"
        );
        assert_eq!(
            refused_field(base(serde_json::json!({"direction": "up"}))),
            "direction"
        );
        assert_eq!(
            refused_field(base(serde_json::json!({"level": "-1"}))),
            "level"
        );
        assert_eq!(
            refused_field(base(serde_json::json!({"level": "0"}))),
            "level"
        );
        assert_eq!(
            refused_field(base(serde_json::json!({"percent": "3"}))),
            "percent"
        );
        assert_eq!(
            refused_field(
                serde_json::json!({"name": "n", "kind": "price_cross", "symbol": "BTCUSDT", "level": "1"})
            ),
            "direction"
        );
        assert_eq!(
            refused_field(
                serde_json::json!({"name": "n", "kind": "percent_move", "symbol": "BTCUSDT",
                "direction": "up", "percent": "3", "window_minutes": 0})
            ),
            "window_minutes"
        );
        assert_eq!(
            refused_field(
                serde_json::json!({"name": "n", "kind": "percent_move", "symbol": "BTCUSDT",
                "direction": "up", "percent": "101", "window_minutes": 5})
            ),
            "percent"
        );
        assert_eq!(
            refused_field(
                serde_json::json!({"name": "n", "kind": "trade", "portfolio_id": 1, "event": "closed"})
            ),
            "event"
        );
        assert_eq!(
            refused_field(serde_json::json!({"name": "n", "kind": "pattern", "symbol": "BTCUSDT"})),
            "pattern_kind"
        );
        let many: Vec<u64> = (1..=21).collect();
        assert_eq!(
            refused_field(base(serde_json::json!({"channel_ids": many}))),
            "channel_ids"
        );
    }
}
