//! A traded quantity of the base asset.

use super::text::decimal_text_serde;
use super::{check_places_and_magnitude, Money, MoneyError, Price, DECIMALS_MAX, QUANTITY_MAX};
use rust_decimal::{Decimal, RoundingStrategy};

/// At most [`DECIMALS_MAX`] places and `0 <= quantity <= QUANTITY_MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(Decimal);

decimal_text_serde!(Quantity);

impl Quantity {
    pub const ZERO: Quantity = Quantity(Decimal::ZERO);
    /// 1e-8: the finest step any exchange quotes.
    pub const SMALLEST: Quantity = Quantity(Decimal::from_parts(1, 0, 0, false, 8));

    pub fn new_checked(value: Decimal) -> Result<Quantity, MoneyError> {
        if value < Decimal::ZERO {
            return Err(MoneyError::Negative { value });
        }
        check_places_and_magnitude(value, QUANTITY_MAX)?;
        Ok(Quantity(value))
    }

    /// A quantity read back from the store: never negative, any size and scale (`text.rs`).
    pub(super) fn from_stored(value: Decimal) -> Result<Quantity, MoneyError> {
        if value < Decimal::ZERO {
            return Err(MoneyError::Negative { value });
        }
        Ok(Quantity(value))
    }

    pub const fn get(self) -> Decimal {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    pub fn checked_add(self, other: Quantity) -> Result<Quantity, MoneyError> {
        let sum = self.0.checked_add(other.0).ok_or(MoneyError::Overflow)?;
        Quantity::new_checked(sum)
    }

    /// Refused with [`MoneyError::Negative`] when `other` is larger.
    pub fn checked_sub(self, other: Quantity) -> Result<Quantity, MoneyError> {
        let difference = self.0.checked_sub(other.0).ok_or(MoneyError::Overflow)?;
        Quantity::new_checked(difference)
    }

    /// The notional: quantity x price, exact.
    pub fn checked_mul(self, price: Price) -> Result<Money, MoneyError> {
        self.0
            .checked_mul(price.get())
            .map(Money::new)
            .ok_or(MoneyError::Overflow)
    }

    /// One of `parts` equal shares, rounded down to [`DECIMALS_MAX`] places (so the shares
    /// never add up to more than the whole); the whole for `parts` of 0 or 1.
    pub fn share_of(self, parts: usize) -> Quantity {
        if parts <= 1 {
            return self;
        }
        let share = (self.0 / Decimal::from(parts))
            .round_dp_with_strategy(DECIMALS_MAX, RoundingStrategy::ToZero);
        debug_assert!(
            share <= self.0,
            "Invariant: a share is no more than the whole"
        );
        Quantity(share)
    }
}

impl TryFrom<Decimal> for Quantity {
    type Error = MoneyError;

    fn try_from(value: Decimal) -> Result<Quantity, MoneyError> {
        Quantity::new_checked(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn quantity(text: &str) -> Quantity {
        Quantity::new_checked(text.parse().unwrap()).unwrap()
    }

    #[test]
    fn the_constructor_refuses_negatives_extra_places_and_huge_values() {
        assert_eq!(quantity("0.12345678").get(), Decimal::new(12_345_678, 8));
        assert!(quantity("0").is_zero(), "a closed trade holds nothing");
        assert_eq!(
            Quantity::new_checked(Decimal::NEGATIVE_ONE),
            Err(MoneyError::Negative {
                value: Decimal::NEGATIVE_ONE
            })
        );
        assert!(matches!(
            Quantity::new_checked(Decimal::new(1, 9)),
            Err(MoneyError::TooManyDecimals { .. })
        ));
        assert!(matches!(
            Quantity::new_checked(QUANTITY_MAX + Decimal::ONE),
            Err(MoneyError::OutOfRange { .. })
        ));
    }

    #[test]
    fn arithmetic_stays_in_range_or_says_why_not() {
        assert_eq!(
            quantity("1.5").checked_add(quantity("0.5")),
            Ok(quantity("2"))
        );
        assert_eq!(
            quantity("2").checked_sub(quantity("0.5")),
            Ok(quantity("1.5"))
        );
        assert!(matches!(
            quantity("1").checked_sub(quantity("2")),
            Err(MoneyError::Negative { .. })
        ));
        let max = Quantity::new_checked(QUANTITY_MAX).unwrap();
        assert!(matches!(
            max.checked_add(quantity("1")),
            Err(MoneyError::OutOfRange { .. })
        ));
        let price = Price::new_checked(super::super::PRICE_MAX).unwrap();
        // Within the bounds every notional fits (the bounds were chosen so).
        let at_bounds = max.checked_mul(price).unwrap();
        assert_eq!(at_bounds.get(), QUANTITY_MAX * super::super::PRICE_MAX);
        let notional = quantity("0.5").checked_mul(Price::new_checked(Decimal::from(101)).unwrap());
        assert_eq!(notional, Ok(Money::new(Decimal::new(505, 1))));
    }

    #[test]
    fn shares_round_down_to_eight_places() {
        assert_eq!(quantity("3").share_of(3), quantity("1"));
        assert_eq!(quantity("1").share_of(3), quantity("0.33333333"));
        assert_eq!(quantity("1").share_of(1), quantity("1"));
        assert_eq!(quantity("1").share_of(0), quantity("1"));
        assert!(quantity("0.00000001").share_of(2).is_zero());
    }

    proptest! {
        #[test]
        fn a_share_times_the_parts_never_exceeds_the_whole(units in 0_i64..i64::MAX, parts in 1_usize..50) {
            let whole = Quantity::new_checked(Decimal::new(units, 8)).unwrap();
            let share = whole.share_of(parts);
            prop_assert!(share.get() * Decimal::from(parts) <= whole.get());
        }

        #[test]
        fn sums_and_differences_are_exact(a in 0_i64..i64::MAX / 2, b in 0_i64..i64::MAX / 2) {
            let (x, y) = (Decimal::new(a, 8), Decimal::new(b, 8));
            let (qx, qy) = (Quantity::new_checked(x).unwrap(), Quantity::new_checked(y).unwrap());
            prop_assert_eq!(qx.checked_add(qy).map(Quantity::get), Ok(x + y));
            prop_assert_eq!(qx.checked_sub(qy).is_ok(), x >= y);
        }
    }
}
