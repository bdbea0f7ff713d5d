//! A quote price, as the ledger and the trading levels use it.

use super::text::decimal_text_serde;
use super::{check_places_and_magnitude, MoneyError, PRICE_MAX};
use crate::domain::market;
use rust_decimal::Decimal;

/// A price in the quote currency: at most [`super::DECIMALS_MAX`] places and
/// `|price| <= PRICE_MAX`. Signed (see the module docs); the trade's own rules say where it
/// must be positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Price(Decimal);

decimal_text_serde!(Price);

impl Price {
    pub const ZERO: Price = Price(Decimal::ZERO);

    pub fn new_checked(value: Decimal) -> Result<Price, MoneyError> {
        check_places_and_magnitude(value, PRICE_MAX)?;
        Ok(Price(value))
    }

    /// A price read back from the store: any decimal (see `text.rs`).
    pub(super) fn from_stored(value: Decimal) -> Result<Price, MoneyError> {
        Ok(Price(value))
    }

    pub const fn get(self) -> Decimal {
        self.0
    }

    /// Every candle price is a valid price: 8 places and at most `PRICE_MAX_UNITS` (1e10).
    pub fn from_market(price: market::Price) -> Price {
        let value = price.to_decimal();
        debug_assert!(
            Price::new_checked(value).is_ok(),
            "Invariant: a candle price fits a money price"
        );
        Price(value)
    }

    /// The candle's fixed-point price; refused beyond its narrower range.
    pub fn to_market(self) -> Result<market::Price, MoneyError> {
        market::Price::from_decimal(self.0).map_err(|_| MoneyError::OutOfRange {
            value: self.0,
            max: Decimal::from(market::PRICE_MAX_UNITS),
        })
    }

    pub fn checked_add(self, other: Price) -> Result<Price, MoneyError> {
        let sum = self.0.checked_add(other.0).ok_or(MoneyError::Overflow)?;
        Price::new_checked(sum)
    }

    pub fn checked_sub(self, other: Price) -> Result<Price, MoneyError> {
        let difference = self.0.checked_sub(other.0).ok_or(MoneyError::Overflow)?;
        Price::new_checked(difference)
    }

    /// The range is symmetric, so the magnitude of a price is a price.
    pub fn abs(self) -> Price {
        Price(self.0.abs())
    }

    pub fn is_positive(self) -> bool {
        self.0 > Decimal::ZERO
    }
}

impl TryFrom<Decimal> for Price {
    type Error = MoneyError;

    fn try_from(value: Decimal) -> Result<Price, MoneyError> {
        Price::new_checked(value)
    }
}

impl From<market::Price> for Price {
    fn from(price: market::Price) -> Price {
        Price::from_market(price)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dec(text: &str) -> Decimal {
        text.parse().unwrap()
    }

    #[test]
    fn the_constructor_checks_places_and_range_and_allows_a_sign() {
        assert_eq!(
            Price::new_checked(dec("100.5")).unwrap().get(),
            dec("100.5")
        );
        assert_eq!(
            Price::new_checked(dec("-3")).unwrap().to_string(),
            "-3",
            "a computed level may fall below zero"
        );
        assert!(matches!(
            Price::new_checked(dec("0.123456789")),
            Err(MoneyError::TooManyDecimals { .. })
        ));
        assert!(matches!(
            Price::new_checked(PRICE_MAX + Decimal::ONE),
            Err(MoneyError::OutOfRange { .. })
        ));
        assert!(Price::new_checked(-PRICE_MAX).is_ok());
        assert_eq!(
            Price::new_checked(dec("1.50")).unwrap().to_string(),
            "1.50",
            "the scale is kept, as the decimal's"
        );
    }

    #[test]
    fn arithmetic_out_of_range_is_an_error_value() {
        let max = Price::new_checked(PRICE_MAX).unwrap();
        assert!(matches!(
            max.checked_add(Price::new_checked(Decimal::ONE).unwrap()),
            Err(MoneyError::OutOfRange { .. })
        ));
        let low = Price::new_checked(dec("95")).unwrap();
        let high = Price::new_checked(dec("100")).unwrap();
        assert_eq!(low.checked_sub(high).unwrap().abs().get(), dec("5"));
        assert_eq!(low.checked_add(high).unwrap().get(), dec("195"));
        assert!(high.is_positive() && !Price::ZERO.is_positive());
        assert_eq!(Decimal::from(high), dec("100"));
    }

    #[test]
    fn converts_to_and_from_the_candle_price() {
        let candle = market::Price::from_decimal(dec("65000.12345678")).unwrap();
        let price = Price::from(candle);
        assert_eq!(price.get(), dec("65000.12345678"));
        assert_eq!(price.to_market().unwrap(), candle);
        let beyond = Price::new_checked(dec("100000000000")).unwrap();
        assert!(matches!(
            beyond.to_market(),
            Err(MoneyError::OutOfRange { .. })
        ));
    }

    proptest! {
        #[test]
        fn every_candle_price_round_trips(raw in -1_000_000_000_000_000_000_i64..1_000_000_000_000_000_000) {
            let candle = market::Price::from_raw(raw);
            prop_assert_eq!(Price::from_market(candle).to_market(), Ok(candle));
        }

        #[test]
        fn accepted_exactly_when_within_places_and_range(mantissa in any::<i64>(), scale in 0_u32..12) {
            let value = Decimal::new(mantissa, scale);
            let fits = value.normalize().scale() <= 8 && value.abs() <= PRICE_MAX;
            prop_assert_eq!(Price::new_checked(value).is_ok(), fits);
        }
    }
}
