//! The fee a portfolio pays per side, as a fraction of notional.

use super::text::decimal_text_serde;
use super::{Money, MoneyError};
use rust_decimal::Decimal;

/// A fraction in `[0, 1)`: 0.001 is 0.1% of notional per side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeeRate(Decimal);

decimal_text_serde!(FeeRate);

impl FeeRate {
    pub const ZERO: FeeRate = FeeRate(Decimal::ZERO);
    /// 0.1% (ten basis points), a common spot taker fee.
    pub const TEN_BASIS_POINTS: FeeRate = FeeRate(Decimal::from_parts(1, 0, 0, false, 3));

    pub fn new_checked(value: Decimal) -> Result<FeeRate, MoneyError> {
        if value < Decimal::ZERO || value >= Decimal::ONE {
            return Err(MoneyError::FeeRateOutOfRange { value });
        }
        Ok(FeeRate(value))
    }

    /// A fee rate read back from the store: the same rule as ever, [0, 1).
    pub(super) fn from_stored(value: Decimal) -> Result<FeeRate, MoneyError> {
        FeeRate::new_checked(value)
    }

    pub const fn get(self) -> Decimal {
        self.0
    }

    /// The fee on `notional`, exact (not rounded).
    pub fn fee_on(self, notional: Money) -> Result<Money, MoneyError> {
        notional
            .get()
            .checked_mul(self.0)
            .map(Money::new)
            .ok_or(MoneyError::Overflow)
    }

    /// What one unit costs with the fee on top: `price x (1 + rate)`, for sizing by cash.
    pub fn gross_up(self, amount: Money) -> Result<Money, MoneyError> {
        let fee = self.fee_on(amount)?;
        amount.checked_add(fee)
    }
}

impl TryFrom<Decimal> for FeeRate {
    type Error = MoneyError;

    fn try_from(value: Decimal) -> Result<FeeRate, MoneyError> {
        FeeRate::new_checked(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_is_a_fraction_below_one() {
        assert!(FeeRate::new_checked(Decimal::ZERO).is_ok());
        assert!(FeeRate::new_checked(Decimal::new(999, 3)).is_ok());
        assert_eq!(
            FeeRate::new_checked(Decimal::ONE),
            Err(MoneyError::FeeRateOutOfRange {
                value: Decimal::ONE
            })
        );
        assert!(FeeRate::new_checked(Decimal::new(-1, 3)).is_err());
        assert_eq!(
            Ok(FeeRate::TEN_BASIS_POINTS),
            FeeRate::new_checked(Decimal::new(1, 3))
        );
    }

    #[test]
    fn the_fee_is_exact_and_overflow_is_an_error_value() {
        let rate = FeeRate::new_checked(Decimal::new(1, 3)).unwrap();
        let fee = rate.fee_on(Money::new(Decimal::new(12345, 2))).unwrap();
        assert_eq!(fee.get(), Decimal::new(12345, 5), "0.1% of 123.45");
        assert_eq!(
            rate.gross_up(Money::new(Decimal::from(100))).unwrap().get(),
            Decimal::new(1001, 1)
        );
        let huge = Money::new(Decimal::MAX);
        let half = FeeRate::new_checked(Decimal::new(5, 1)).unwrap();
        assert_eq!(half.gross_up(huge), Err(MoneyError::Overflow));
        assert_eq!(FeeRate::ZERO.fee_on(huge), Ok(Money::ZERO));
    }
}
