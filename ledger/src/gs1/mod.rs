//! GS1 identifiers: keys with check digits (GTIN, SSCC, GLN), serials, lots, expiry dates,
//! and parsers for every form a scanner or partner sends them in.
//!
//! Pure: no IO, no clock (dates use a fixed reference year for the sliding century rule).
//!
//! Map:
//! - keys and values: [`Gtin`], [`Sscc`], [`Gln`], [`Serial`], [`Lot`], [`Expiry`], [`Sgtin`],
//!   and [`ItemId`] (SGTIN or SSCC) with its storage key;
//! - the AI table: [`AI_TABLE`] of [`AiEntry`] rows ([`Component`]s with [`Linter`]s), checked
//!   against GS1's Barcode Syntax Dictionary by `tests/gs1_dictionary.rs`;
//! - [`Gs1Data`]: a validated message (every element, duplicates, `req=`/`ex=`);
//! - forms: [`parse_gs1`] reads any of them; element strings ([`to_element_string`]), raw
//!   scan data ([`to_datamatrix`]), GS1 Digital Link ([`to_digital_link`]), EPC URNs
//!   ([`to_epc_urn`]);
//! - [`describe`]: everything `custody id parse --json` shows.

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

mod ai_entry;
mod ai_table;
pub mod calendar;
mod charset;
mod check_digit;
mod component;
mod digital_link;
mod element;
mod element_string;
mod epc_urn;
mod error;
mod expiry;
mod gln;
mod gs1_data;
mod gs1_form;
mod gtin;
mod id_description;
mod iso_codes;
mod item_id;
mod linter;
mod lot;
mod scan_data;
mod serial;
mod sgtin;
mod sscc;

pub use ai_entry::{pattern_matches, AiEntry};
pub use ai_table::{lookup_ai, AI_TABLE};
pub use charset::{is_cset82, Charset};
pub use check_digit::check_digit;
pub use component::Component;
pub use digital_link::{parse_digital_link, to_digital_link, GS1_RESOLVER};
pub use element::Element;
pub use element_string::{parse_element_string, to_element_string};
pub use epc_urn::{parse_epc_urn, to_epc_urn};
pub use error::Gs1Error;
pub use expiry::Expiry;
pub use gln::Gln;
pub use gs1_data::Gs1Data;
pub use gs1_form::{parse_gs1, parse_gs1_detailed, Gs1Form, ParsedGs1};
pub use gtin::Gtin;
pub use id_description::{describe, IdDescription, IdForms};
pub use item_id::ItemId;
pub use linter::Linter;
pub use lot::Lot;
pub use scan_data::{parse_scan_data, to_datamatrix, GS};
pub use serial::Serial;
pub use sgtin::Sgtin;
pub use sscc::Sscc;
