//! The price a market order fills at: the last price moved against the trader by the
//! configured slippage, in basis points. Buying pays more, selling gets less, and the
//! rounding to 8 places never favours the trader (up for a buy, down for a sale).

use super::LedgerError;
use crate::domain::money::{Price, DECIMALS_MAX};
use rust_decimal::{Decimal, RoundingStrategy};

const BASIS_POINTS_PER_UNIT: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);
/// Slippage at or above 100% would give a sale no price at all.
pub const SLIPPAGE_BPS_MAX: u32 = 1_000;

/// `last` with `slippage_bps` against a trader who is `buying` (else selling).
pub fn market_fill_price(
    last: Price,
    buying: bool,
    slippage_bps: u32,
) -> Result<Price, LedgerError> {
    if slippage_bps > SLIPPAGE_BPS_MAX {
        return Err(LedgerError::invalid(
            "slippage_bps",
            format!("at most {SLIPPAGE_BPS_MAX} basis points"),
        ));
    }
    let slip = Decimal::from(slippage_bps) / BASIS_POINTS_PER_UNIT;
    let (factor, rounding) = if buying {
        (Decimal::ONE + slip, RoundingStrategy::AwayFromZero)
    } else {
        (Decimal::ONE - slip, RoundingStrategy::ToZero)
    };
    let moved = last
        .get()
        .checked_mul(factor)
        .ok_or_else(|| LedgerError::invalid("price", "the market price overflows"))?
        .round_dp_with_strategy(DECIMALS_MAX, rounding)
        .normalize();
    Price::new_checked(moved).map_err(|error| LedgerError::invalid("price", error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::test_values::{dec, price};

    #[test]
    fn buying_pays_more_and_selling_gets_less() {
        let last = price("100");
        assert_eq!(market_fill_price(last, true, 5).unwrap(), price("100.05"));
        assert_eq!(market_fill_price(last, false, 5).unwrap(), price("99.95"));
        assert_eq!(market_fill_price(last, true, 0).unwrap(), last);
    }

    #[test]
    fn rounding_never_favours_the_trader() {
        let last = price("0.00000003");
        // 3e-8 x 1.0001 rounds up to 4e-8 for a buy; x 0.9999 rounds down to 2e-8.
        assert_eq!(
            market_fill_price(last, true, 1).unwrap().get(),
            dec("0.00000004")
        );
        assert_eq!(
            market_fill_price(last, false, 1).unwrap().get(),
            dec("0.00000002")
        );
    }

    #[test]
    fn slippage_beyond_the_maximum_is_refused_with_its_field() {
        let refused = market_fill_price(price("1"), true, SLIPPAGE_BPS_MAX + 1).unwrap_err();
        assert_eq!(refused.field(), Some("slippage_bps"));
    }
}
