//! Value types for money: [`Price`], [`Quantity`], [`Money`] and [`FeeRate`], each a
//! `rust_decimal::Decimal` that a checked constructor has vetted.
//!
//! Why types rather than bare decimals: the ledger mixes quantities (never negative, at most
//! [`DECIMALS_MAX`] places), quote prices (at most [`DECIMALS_MAX`] places) and cash amounts
//! (signed, any scale: fees and partial-close costs carry more places than either). A type per
//! concept makes `quantity x price -> money` the only way to get a notional, and makes every
//! arithmetic step return a [`MoneyError`] instead of panicking on overflow.
//!
//! The invariants a value type holds, and what stays a rule of the ledger:
//! - `Price`: at most 8 decimals, `|p| <= PRICE_MAX` (1e12); signed, because trading levels may
//!   compute a target below zero. The ledger itself still refuses prices <= 0.
//! - `Quantity`: at most 8 decimals, `0 <= q <= QUANTITY_MAX` (1e12), and an order's
//!   notional at most `NOTIONAL_MAX` (1e15, a ledger rule); (a closed trade holds 0; the
//!   ledger refuses orders of 0).
//! - `Money`: any decimal; only arithmetic can fail.
//! - `FeeRate`: a fraction of notional in `[0, 1)`.
//!
//! Serialisation: one representation, a decimal string, on the types themselves. Readers that
//! describe themselves (JSON) also accept a JSON number, read exactly; binary formats
//! (bincode in the store) read the string that `rust_decimal::serde::str` wrote before these
//! types existed, so stored ledgers and snapshots decode unchanged.
//!
//! Not to be confused with [`crate::domain::market::Price`], the candle's fixed-point price
//! (i64 in 1e-8 units, cheap for aggregation). Where both meet, this one is `money::Price`;
//! [`Price::from_market`] and [`Price::to_market`] convert between them.

mod amount;
mod error;
mod fee_rate;
mod grammar;
mod price;
mod quantity;
mod text;

#[cfg(test)]
mod compatibility_tests;
#[cfg(test)]
pub(crate) mod test_values;

pub use amount::Money;
pub use error::MoneyError;
pub use fee_rate::FeeRate;
pub use grammar::{
    deserialize_strict, deserialize_strict_list, deserialize_strict_option, parse_decimal,
    DecimalSyntaxError,
};
pub use price::Price;
pub use quantity::Quantity;

use rust_decimal::Decimal;

/// Exchanges quote quantities and prices with at most this many decimals.
pub const DECIMALS_MAX: u32 = 8;
/// Largest price accepted from input: 1e12, above any traded asset's price and above the
/// largest candle price the engine accepts (1e10). Stored values are read back without this bound (see `text.rs`), so nothing
/// stored under older, wider rules becomes unreadable.
pub const PRICE_MAX: Decimal = Decimal::from_parts(3_567_587_328, 232, 0, false, 0);
/// Largest quantity accepted from input: 1e12 (a trillion units of a sub-cent token).
pub const QUANTITY_MAX: Decimal = PRICE_MAX;
/// Largest notional (quantity x price) one order or add may reach: 1e15. With the bounds
/// above every value a portfolio computes stays below 1e25 per trade (a quantity of 1e12 at
/// the largest candle price), far inside `Decimal`'s ~7.9e28, so sums over the trades of any
/// portfolio that cash can pay for do not overflow; should arithmetic still fail it is an
/// error value, never a panic.
pub const NOTIONAL_MAX: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

/// Refuses more than [`DECIMALS_MAX`] places (trailing zeros do not count) or a magnitude
/// above `max`.
fn check_places_and_magnitude(value: Decimal, max: Decimal) -> Result<(), MoneyError> {
    if value.normalize().scale() > DECIMALS_MAX {
        return Err(MoneyError::TooManyDecimals {
            value,
            decimals_max: DECIMALS_MAX,
        });
    }
    if value.abs() > max {
        return Err(MoneyError::OutOfRange { value, max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bounds_are_what_their_docs_say() {
        assert_eq!(PRICE_MAX, Decimal::from(1_000_000_000_000_u64));
        assert_eq!(QUANTITY_MAX, PRICE_MAX);
        assert_eq!(NOTIONAL_MAX, Decimal::from(1_000_000_000_000_000_u64));
        // The largest product at the bounds fits with all 8 places to spare.
        let product = PRICE_MAX.checked_mul(QUANTITY_MAX).unwrap();
        assert!(product.checked_add(Decimal::new(1, 8)).is_some());
    }

    #[test]
    fn trailing_zeros_do_not_count_as_places() {
        let value: Decimal = "1.0000000000".parse().unwrap();
        assert_eq!(check_places_and_magnitude(value, PRICE_MAX), Ok(()));
        let fine: Decimal = "0.000000001".parse().unwrap();
        assert!(matches!(
            check_places_and_magnitude(fine, PRICE_MAX),
            Err(MoneyError::TooManyDecimals {
                decimals_max: 8,
                ..
            })
        ));
    }
}
