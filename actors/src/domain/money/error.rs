use rust_decimal::Decimal;

/// Why a value is not a valid price, quantity, amount or fee rate, or why arithmetic on them
/// failed. The messages read as the second half of a field-level error ("quantity: ...").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("at most {decimals_max} decimals, got {value}")]
    TooManyDecimals { value: Decimal, decimals_max: u32 },
    #[error("must be at most {max} in magnitude, got {value}")]
    OutOfRange { value: Decimal, max: Decimal },
    #[error("must not be negative, got {value}")]
    Negative { value: Decimal },
    #[error("must be in [0, 1), got {value}")]
    FeeRateOutOfRange { value: Decimal },
    /// `Decimal` ran out of its 96-bit mantissa (or a divisor was zero).
    #[error("the amounts overflow")]
    Overflow,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_value_and_the_limit() {
        let value = Decimal::new(-15, 1);
        assert_eq!(
            MoneyError::Negative { value }.to_string(),
            "must not be negative, got -1.5"
        );
        assert_eq!(
            MoneyError::TooManyDecimals {
                value: Decimal::new(1, 9),
                decimals_max: 8
            }
            .to_string(),
            "at most 8 decimals, got 0.000000001"
        );
        assert_eq!(
            MoneyError::OutOfRange {
                value: Decimal::from(20),
                max: Decimal::TEN
            }
            .to_string(),
            "must be at most 10 in magnitude, got 20"
        );
        assert_eq!(
            MoneyError::FeeRateOutOfRange {
                value: Decimal::ONE
            }
            .to_string(),
            "must be in [0, 1), got 1"
        );
        assert_eq!(MoneyError::Overflow.to_string(), "the amounts overflow");
    }
}
