//! GS1 identifiers: keys with check digits (GTIN, SSCC, GLN), serials, lots, expiry dates,
//! and parsers for every form a scanner or partner sends them in.
//!
//! Pure: no IO, no clock (dates use a fixed reference year for the sliding century rule).

/// Implements serde for a type with `as_str()` and `parse(&str)`: it travels as its text and
/// is validated again when decoded.
macro_rules! string_serde {
    ($ty:ident) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <String as serde::Deserialize>::deserialize(deserializer)?;
                $ty::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use string_serde;

pub mod calendar;
pub mod charset;
mod check_digit;
mod element_string;
mod error;
mod expiry;
mod gln;
mod gtin;
mod lot;
mod serial;
mod sgtin;
mod sscc;

pub use check_digit::check_digit;
pub use error::Gs1Error;
pub use expiry::Expiry;
pub use gln::Gln;
pub use gtin::Gtin;
pub use lot::Lot;
pub use serial::Serial;
pub use sgtin::Sgtin;
pub use sscc::Sscc;
