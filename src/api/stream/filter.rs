//! What one stream client asked for: `{"subscribe":{"kinds":[...],"symbols":[...],
//! "timeframes":[...]}}`, each list optional (absent: everything). A new subscription
//! replaces the previous one.

use super::super::error::ApiError;
use super::super::json_body::parse_json;
use cryptolens_actors::domain::market::{Symbol, Timeframe};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The kinds of event the stream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Candle,
    Pattern,
    Signal,
    Trade,
    Health,
}

/// The longest list a subscription may give (symbols are the long one).
const LIST_MAX: usize = 1000;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StreamFilter {
    pub kinds: Option<BTreeSet<EventKind>>,
    pub symbols: Option<BTreeSet<Symbol>>,
    pub timeframes: Option<BTreeSet<Timeframe>>,
}

/// What an event is about, for filtering without reading its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventTopic {
    pub kind: EventKind,
    pub symbol: Option<Symbol>,
    pub timeframe: Option<Timeframe>,
}

impl StreamFilter {
    /// Whether a client with this filter gets an event about `topic`. An event without a
    /// symbol (health) passes any symbol list, and one without a timeframe any timeframe list.
    pub fn admits(&self, topic: &EventTopic) -> bool {
        self.kinds
            .as_ref()
            .is_none_or(|kinds| kinds.contains(&topic.kind))
            && listed(&self.symbols, &topic.symbol)
            && listed(&self.timeframes, &topic.timeframe)
    }
}

/// Whether `item` is in `list`; no list, or no item, passes.
fn listed<T: Ord>(list: &Option<BTreeSet<T>>, item: &Option<T>) -> bool {
    match (list, item) {
        (Some(list), Some(item)) => list.contains(item),
        _ => true,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientMessage {
    subscribe: Subscription,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Subscription {
    kinds: Option<Vec<EventKind>>,
    symbols: Option<Vec<String>>,
    timeframes: Option<Vec<String>>,
}

/// The filter a client message asks for, or what is wrong with it (naming the field).
pub fn parse_subscription(message: &[u8]) -> Result<StreamFilter, ApiError> {
    let ClientMessage { subscribe } = parse_json(message, "stream message")?;
    Ok(StreamFilter {
        kinds: subscribe
            .kinds
            .map(|kinds| bounded("subscribe.kinds", kinds))
            .transpose()?,
        symbols: parse_list("subscribe.symbols", subscribe.symbols, |text| {
            Symbol::parse(text).map_err(|error| error.to_string())
        })?,
        timeframes: parse_list("subscribe.timeframes", subscribe.timeframes, |text| {
            text.parse::<Timeframe>()
                .map_err(|_| format!("unknown timeframe {text:?}"))
        })?,
    })
}

fn bounded<T: Ord>(field: &str, items: Vec<T>) -> Result<BTreeSet<T>, ApiError> {
    if items.len() > LIST_MAX {
        return Err(ApiError::invalid_field(
            field,
            format!("at most {LIST_MAX} entries"),
        ));
    }
    Ok(items.into_iter().collect())
}

fn parse_list<T: Ord>(
    field: &str,
    items: Option<Vec<String>>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<BTreeSet<T>>, ApiError> {
    let Some(items) = items else {
        return Ok(None);
    };
    let parsed = items
        .iter()
        .map(|text| parse(text).map_err(|why| ApiError::invalid_field(field, why)))
        .collect::<Result<Vec<T>, ApiError>>()?;
    bounded(field, parsed).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(kind: EventKind, symbol: Option<&str>, timeframe: Option<Timeframe>) -> EventTopic {
        EventTopic {
            kind,
            symbol: symbol.map(|s| Symbol::parse(s).unwrap()),
            timeframe,
        }
    }

    #[test]
    fn a_filter_admits_what_its_lists_name_and_absent_lists_admit_all() {
        let filter = parse_subscription(
            br#"{"subscribe":{"kinds":["candle","health"],"symbols":["BTCUSDT"],"timeframes":["5m"]}}"#,
        )
        .unwrap();
        let btc_5m = topic(EventKind::Candle, Some("BTCUSDT"), Some(Timeframe::M5));
        assert!(filter.admits(&btc_5m));
        assert!(!filter.admits(&topic(
            EventKind::Candle,
            Some("ETHUSDT"),
            Some(Timeframe::M5)
        )));
        assert!(!filter.admits(&topic(
            EventKind::Candle,
            Some("BTCUSDT"),
            Some(Timeframe::M1)
        )));
        assert!(!filter.admits(&topic(EventKind::Signal, Some("BTCUSDT"), None)));
        assert!(filter.admits(&topic(EventKind::Health, None, None)));
        let everything = parse_subscription(br#"{"subscribe":{}}"#).unwrap();
        assert_eq!(everything, StreamFilter::default());
        assert!(everything.admits(&btc_5m));
    }

    #[test]
    fn a_bad_subscription_names_its_field() {
        let field = |body: &[u8]| {
            parse_subscription(body).unwrap_err().to_json()["error"]["field"]
                .as_str()
                .map(str::to_owned)
        };
        assert_eq!(
            field(br#"{"subscribe":{"symbols":["btc usdt"]}}"#).as_deref(),
            Some("subscribe.symbols")
        );
        assert_eq!(
            field(br#"{"subscribe":{"timeframes":["7m"]}}"#).as_deref(),
            Some("subscribe.timeframes")
        );
        assert!(parse_subscription(br#"{"subscribe":{"kinds":["gossip"]}}"#).is_err());
        assert!(parse_subscription(br#"{"subscribe":{},"extra":1}"#).is_err());
        assert!(parse_subscription(b"not json").is_err());
        let many = format!(
            r#"{{"subscribe":{{"symbols":[{}]}}}}"#,
            vec!["\"BTCUSDT\""; 1001].join(",")
        );
        assert_eq!(field(many.as_bytes()).as_deref(), Some("subscribe.symbols"));
    }
}
