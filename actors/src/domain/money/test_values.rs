//! Literal values for unit tests: `price("95.5")`, `quantity("3")`, `money("-1.2")`.

use super::{Money, Price, Quantity};
use rust_decimal::Decimal;

pub fn dec(text: &str) -> Decimal {
    text.parse().expect("a decimal literal")
}

pub fn price(text: &str) -> Price {
    Price::new_checked(dec(text)).expect("a valid price literal")
}

pub fn quantity(text: &str) -> Quantity {
    Quantity::new_checked(dec(text)).expect("a valid quantity literal")
}

pub fn money(text: &str) -> Money {
    Money::new(dec(text))
}
