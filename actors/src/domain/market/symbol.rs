//! Trading-pair symbols, normalised to one key per pair.

use crate::domain::DomainError;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

const LENGTH_MIN: usize = 3;
const LENGTH_MAX: usize = 20;
/// Separators traders write between base and quote (`BTC/USDT`, `ETH-BTC`, `ETH_BTC`, `BTC:USDT`).
const SEPARATORS: [char; 4] = ['/', '-', '_', ':'];

/// A validated symbol: upper-case ASCII letters and digits, 3 to 20 characters, separators
/// removed, so `BTC/USDT`, `btc-usdt` and `btcusdt` are one key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Symbol(Arc<str>);

impl Symbol {
    pub fn parse(input: &str) -> Result<Symbol, DomainError> {
        let refuse = |reason| DomainError::InvalidSymbol {
            input: input.to_owned(),
            reason,
        };
        let mut key = String::with_capacity(input.len());
        for ch in input.trim().chars().filter(|ch| !SEPARATORS.contains(ch)) {
            if !ch.is_ascii_alphanumeric() {
                return Err(refuse(
                    "may contain only letters, digits and one of / - _ :",
                ));
            }
            key.push(ch.to_ascii_uppercase());
        }
        if key.len() < LENGTH_MIN {
            return Err(refuse("is shorter than 3 letters and digits"));
        }
        if key.len() > LENGTH_MAX {
            return Err(refuse("is longer than 20 letters and digits"));
        }
        Ok(Symbol(key.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Symbol {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Symbol::parse(&value)
    }
}

impl From<Symbol> for String {
    fn from(symbol: Symbol) -> String {
        symbol.0.to_string()
    }
}

impl std::fmt::Display for Symbol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_and_case_normalise_to_one_key() {
        let keys: Vec<Symbol> = ["BTC/USDT", "btcusdt", "btc-usdt", " BTC_USDT ", "Btc:Usdt"]
            .iter()
            .map(|input| Symbol::parse(input).unwrap())
            .collect();
        assert!(keys.iter().all(|key| key.as_str() == "BTCUSDT"), "{keys:?}");
    }

    #[test]
    fn length_is_counted_after_normalisation() {
        assert!(Symbol::parse("B/T").is_err());
        assert_eq!(Symbol::parse("BTC").unwrap().as_str(), "BTC");
        assert!(Symbol::parse(&"A".repeat(20)).is_ok());
        let err = Symbol::parse(&"A".repeat(21)).unwrap_err();
        assert!(err.to_string().contains("longer than 20"), "{err}");
        let err = Symbol::parse("a/b").unwrap_err();
        assert!(err.to_string().contains("shorter than 3"), "{err}");
    }

    #[test]
    fn refuses_other_characters() {
        for input in ["BTC USDT", "BTC.USDT", "BTCÜSDT", "BTC\0USD", ""] {
            assert!(Symbol::parse(input).is_err(), "{input:?}");
        }
    }
}
