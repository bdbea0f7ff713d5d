//! An amount of the quote currency: cash, costs, fees, P&L.

use super::text::decimal_text_serde;
use super::{MoneyError, Quantity};
use rust_decimal::Decimal;

/// Signed, any scale: a fee on an 8-place notional has more places than either factor, and a
/// partial close releases a cost rounded to 12. Only arithmetic can fail, as an error value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(Decimal);

decimal_text_serde!(Money);

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    pub const fn new(value: Decimal) -> Money {
        Money(value)
    }

    pub(super) fn from_stored(value: Decimal) -> Result<Money, MoneyError> {
        Ok(Money(value))
    }

    pub const fn get(self) -> Decimal {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    pub fn is_negative(self) -> bool {
        self.0 < Decimal::ZERO
    }

    pub fn is_positive(self) -> bool {
        self.0 > Decimal::ZERO
    }

    pub fn abs(self) -> Money {
        Money(self.0.abs())
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.0
            .checked_add(other.0)
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.0
            .checked_sub(other.0)
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }

    /// The sum of `amounts`, or the first overflow.
    pub fn checked_sum(amounts: impl IntoIterator<Item = Money>) -> Result<Money, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Money::ZERO, |total, amount| total.checked_add(amount))
    }

    /// `self x part / whole`, rounded to `decimals` places (midpoint to even): the share of a
    /// cost that `part` of a `whole` position carries.
    pub fn proportion(
        self,
        part: Quantity,
        whole: Quantity,
        decimals: u32,
    ) -> Result<Money, MoneyError> {
        self.0
            .checked_mul(part.get())
            .and_then(|product| product.checked_div(whole.get()))
            .map(|share| Money(share.round_dp(decimals)))
            .ok_or(MoneyError::Overflow)
    }

    /// What one unit cost: `self / quantity` (28 significant digits); an error for 0.
    pub fn per_unit(self, quantity: Quantity) -> Result<Decimal, MoneyError> {
        self.0
            .checked_div(quantity.get())
            .ok_or(MoneyError::Overflow)
    }

    /// `self / other` as a plain ratio (profit factor, R multiple); an error for 0.
    pub fn ratio_to(self, other: Money) -> Result<Decimal, MoneyError> {
        self.0.checked_div(other.0).ok_or(MoneyError::Overflow)
    }

    /// `self x factor`, for ratios applied to money (a risk share of equity).
    pub fn checked_scale(self, factor: Decimal) -> Result<Money, MoneyError> {
        self.0
            .checked_mul(factor)
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }

    /// `self / divisor` (an average over a count); an error for 0.
    pub fn checked_div_by(self, divisor: Decimal) -> Result<Money, MoneyError> {
        self.0
            .checked_div(divisor)
            .map(Money)
            .ok_or(MoneyError::Overflow)
    }
}

impl std::ops::Neg for Money {
    type Output = Money;

    /// Never overflows: `Decimal`'s range is symmetric.
    fn neg(self) -> Money {
        Money(-self.0)
    }
}

impl From<Decimal> for Money {
    fn from(value: Decimal) -> Money {
        Money(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn money(text: &str) -> Money {
        Money::new(text.parse().unwrap())
    }

    fn quantity(text: &str) -> Quantity {
        Quantity::new_checked(text.parse().unwrap()).unwrap()
    }

    #[test]
    fn signs_and_magnitudes() {
        assert!(money("-1").is_negative() && !money("-1").is_positive());
        assert!(money("0.1").is_positive() && Money::ZERO.is_zero());
        assert_eq!(-money("2.5"), money("-2.5"));
        assert_eq!(money("-2.5").abs(), money("2.5"));
        assert_eq!(Money::default(), Money::ZERO);
        assert_eq!(Money::from(Decimal::TEN).get(), Decimal::TEN);
        assert_eq!(money("0.000000000001").to_string(), "0.000000000001");
    }

    #[test]
    fn overflow_and_division_by_zero_are_error_values() {
        let max = Money::new(Decimal::MAX);
        assert_eq!(max.checked_add(money("1")), Err(MoneyError::Overflow));
        assert_eq!((-max).checked_sub(money("1")), Err(MoneyError::Overflow));
        assert_eq!(Money::checked_sum([max, max]), Err(MoneyError::Overflow));
        assert_eq!(
            money("1").per_unit(Quantity::ZERO),
            Err(MoneyError::Overflow)
        );
        assert_eq!(money("1").ratio_to(Money::ZERO), Err(MoneyError::Overflow));
        assert_eq!(
            money("1").checked_div_by(Decimal::ZERO),
            Err(MoneyError::Overflow)
        );
        assert_eq!(max.checked_scale(Decimal::TWO), Err(MoneyError::Overflow));
        assert_eq!(
            max.proportion(quantity("2"), quantity("1"), 12),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn exact_arithmetic() {
        assert_eq!(money("0.1").checked_add(money("0.2")), Ok(money("0.3")));
        assert_eq!(money("1").checked_sub(money("1.5")), Ok(money("-0.5")));
        assert_eq!(
            Money::checked_sum([money("1"), money("2"), money("-0.5")]),
            Ok(money("2.5"))
        );
        assert_eq!(
            money("100").proportion(quantity("1"), quantity("3"), 12),
            Ok(money("33.333333333333"))
        );
        assert_eq!(money("52").per_unit(quantity("4")), Ok(Decimal::from(13)));
        assert_eq!(money("20").ratio_to(money("-5")), Ok(Decimal::from(-4)));
        assert_eq!(money("15").checked_div_by(Decimal::TWO), Ok(money("7.5")));
        assert_eq!(
            money("1000").checked_scale(Decimal::new(1, 2)),
            Ok(money("10"))
        );
    }

    proptest! {
        #[test]
        fn add_then_sub_gives_back_the_amount(a in any::<i64>(), b in any::<i64>(), scale in 0_u32..16) {
            let (x, y) = (Money::new(Decimal::new(a, scale)), Money::new(Decimal::new(b, scale)));
            prop_assert_eq!(x.checked_add(y).and_then(|sum| sum.checked_sub(y)), Ok(x));
        }
    }
}
