//! Money in integer cents. Walmart US trades in USD; floating point never touches an amount we store.

use std::fmt;
use std::ops::{Add, Mul, Sub};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money {
    cents: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid amount {0:?}")]
pub struct InvalidAmount(pub String);

impl Money {
    pub const ZERO: Money = Money { cents: 0 };

    pub const fn from_cents(cents: i64) -> Self {
        Self { cents }
    }

    pub const fn cents(self) -> i64 {
        self.cents
    }

    /// From a decimal amount as the APIs send it (JSON number), rounded half away from zero to cents.
    pub fn from_decimal(amount: f64) -> Result<Self, InvalidAmount> {
        if !amount.is_finite() || amount.abs() > 1e13 {
            return Err(InvalidAmount(amount.to_string()));
        }
        Ok(Self {
            cents: (amount * 100.0).round() as i64,
        })
    }

    /// The amount as a JSON number with two decimals' worth of precision.
    pub fn to_decimal(self) -> f64 {
        self.cents as f64 / 100.0
    }

    pub fn is_negative(self) -> bool {
        self.cents < 0
    }
}

/// An amount past what `Money` holds (about ±92 trillion dollars): only corrupted input gets here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("amount overflow: {0}")]
pub struct MoneyOverflow(pub String);

impl Money {
    pub fn checked_add(self, rhs: Money) -> Result<Money, MoneyOverflow> {
        self.cents
            .checked_add(rhs.cents)
            .map(Money::from_cents)
            .ok_or_else(|| MoneyOverflow(format!("{self} + {rhs}")))
    }

    pub fn checked_sub(self, rhs: Money) -> Result<Money, MoneyOverflow> {
        self.cents
            .checked_sub(rhs.cents)
            .map(Money::from_cents)
            .ok_or_else(|| MoneyOverflow(format!("{self} - {rhs}")))
    }

    pub fn checked_mul(self, quantity: u32) -> Result<Money, MoneyOverflow> {
        self.cents
            .checked_mul(i64::from(quantity))
            .map(Money::from_cents)
            .ok_or_else(|| MoneyOverflow(format!("{self} x {quantity}")))
    }
}

// The operators saturate: they never wrap (release) or panic (debug). Amounts are bounded where
// they are parsed (`from_decimal`: ±10^13 dollars), so real sums and products never reach the
// bounds; a corrupted input ends at the bound, never as a small or negative total. Callers that
// must refuse such input use the `checked_*` methods.
impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money {
            cents: self.cents.saturating_add(rhs.cents),
        }
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money {
            cents: self.cents.saturating_sub(rhs.cents),
        }
    }
}

impl Mul<u32> for Money {
    type Output = Money;
    fn mul(self, rhs: u32) -> Money {
        Money {
            cents: self.cents.saturating_mul(i64::from(rhs)),
        }
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, Add::add)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.cents < 0 { "-" } else { "" };
        write!(
            f,
            "{sign}{}.{:02}",
            self.cents.unsigned_abs() / 100,
            self.cents.unsigned_abs() % 100
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_conversion_rounds_to_cents() {
        assert_eq!(Money::from_decimal(19.99).unwrap().cents(), 1999);
        assert_eq!(Money::from_decimal(0.015).unwrap().cents(), 2);
        assert_eq!(Money::from_decimal(-1.5).unwrap().to_string(), "-1.50");
        assert!(Money::from_decimal(f64::NAN).is_err());
        assert_eq!((Money::from_cents(250) * 3).to_string(), "7.50");
    }

    #[test]
    fn arithmetic_never_wraps() {
        let big = Money::from_cents(i64::MAX - 1);
        assert_eq!(big + Money::from_cents(5), Money::from_cents(i64::MAX));
        assert_eq!(
            Money::from_cents(i64::MIN + 1) - Money::from_cents(5),
            Money::from_cents(i64::MIN)
        );
        assert_eq!(big * u32::MAX, Money::from_cents(i64::MAX));
        assert_eq!(
            Money::from_cents(-2) * u32::MAX,
            Money::from_cents(-2 * i64::from(u32::MAX))
        );
        assert!(big.checked_add(Money::from_cents(5)).is_err());
        assert!(
            Money::from_cents(i64::MIN)
                .checked_sub(Money::from_cents(1))
                .is_err()
        );
        assert!(big.checked_mul(2).is_err());
        assert_eq!(Money::from_cents(250).checked_mul(3), Ok(Money::from_cents(750)));
        assert_eq!(Money::from_cents(i64::MIN).to_string(), "-92233720368547758.08");
        let many: Money = std::iter::repeat_n(big, 3).sum();
        assert_eq!(many, Money::from_cents(i64::MAX));
    }
}
