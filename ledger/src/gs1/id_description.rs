//! `IdDescription`: everything `custody id parse TEXT --json` shows about a scanned or typed
//! GS1 code — what it identifies, its elements with titles, and the same data in every form.

use std::collections::BTreeMap;

use serde::Serialize;

use super::ai_table::lookup_ai;
use super::digital_link::GS1_RESOLVER;
use super::gs1_form::{parse_gs1_detailed, Gs1Form};
use super::{
    to_datamatrix, to_digital_link, to_element_string, to_epc_urn, Expiry, Gs1Data, Gs1Error,
};

/// A description of parsed GS1 data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdDescription {
    /// "sgtin", "sscc", "gtin", "gln", "lgtin" or "other".
    pub kind: String,
    /// The identifier's canonical element string (`(01)…(21)…`, `(00)…`, `(414)…`), when
    /// the data holds a primary key.
    pub id: Option<String>,
    /// The form the input was in.
    pub input_form: Gs1Form,
    /// AI → value.
    pub elements: BTreeMap<String, String>,
    /// AI → data title from the AI table.
    pub titles: BTreeMap<String, String>,
    /// The AI 17 expiry date as ISO 8601 (day 00 resolved to the month's end).
    pub expiry_date: Option<String>,
    /// The same data in every form.
    pub forms: IdForms,
}

/// The data rendered in each GS1 form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdForms {
    /// Bracketed element string of all elements.
    pub element_string: String,
    /// Raw GS1 DataMatrix data: `]d2`, GS (U+001D) as FNC1.
    pub datamatrix: String,
    /// GS1 Digital Link URI on id.gs1.org; `None` if the data has no primary key or an
    /// element that a Digital Link cannot carry.
    pub digital_link: Option<String>,
    /// EPC URN; only when the company prefix length is known (EPC input, or a known prefix).
    pub epc_urn: Option<String>,
}

/// Where the GS1 Company Prefix starts in the value of a primary key.
fn gcp_offset(ai: &str) -> usize {
    match ai {
        "00" | "01" | "8003" => 1,
        _ => 0,
    }
}

/// Describes GS1 data in any form. `known_prefixes` are GS1 Company Prefixes the caller
/// knows (e.g. of the members); the longest one that the key starts with gives the prefix
/// length needed for the EPC URN.
pub fn describe(text: &str, known_prefixes: &[String]) -> Result<IdDescription, Gs1Error> {
    let parsed = parse_gs1_detailed(text)?;
    let data = &parsed.data;
    let has = |ai: &str| data.contains(ai);
    let kind = if has("00") {
        "sscc"
    } else if has("01") && has("21") {
        "sgtin"
    } else if has("01") && has("10") {
        "lgtin"
    } else if has("01") {
        "gtin"
    } else if has("414") {
        "gln"
    } else {
        "other"
    };
    let id_ais: &[&str] = match kind {
        "sscc" => &["00"],
        "sgtin" => &["01", "21"],
        "lgtin" => &["01", "10"],
        "gtin" => &["01"],
        "gln" => &["414", "254"],
        _ => &[],
    };
    let id_data = if id_ais.is_empty() {
        data.primary_key()
            .map(|key| Gs1Data::new([(key.ai.clone(), key.value.clone())]))
            .transpose()?
    } else {
        let pairs = id_ais
            .iter()
            .filter_map(|ai| data.get(ai).map(|v| (*ai, v)));
        Some(Gs1Data::new(pairs)?)
    };
    let gcp_len = parsed.gcp_len.or_else(|| {
        let key = data.primary_key()?;
        let offset = gcp_offset(&key.ai);
        known_prefixes
            .iter()
            .filter(|p| (6..=12).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
            .filter(|p| {
                key.value
                    .get(offset..)
                    .is_some_and(|v| v.starts_with(p.as_str()))
            })
            .map(String::len)
            .max()
    });
    let expiry_date = data
        .get("17")
        .map(Expiry::parse)
        .transpose()?
        .map(|e| e.to_iso_date());
    Ok(IdDescription {
        kind: kind.to_string(),
        id: id_data.as_ref().map(to_element_string),
        input_form: parsed.form,
        elements: data
            .elements()
            .iter()
            .map(|e| (e.ai.clone(), e.value.clone()))
            .collect(),
        titles: data
            .elements()
            .iter()
            .filter_map(|e| lookup_ai(&e.ai).map(|entry| (e.ai.clone(), entry.title.to_string())))
            .collect(),
        expiry_date,
        forms: IdForms {
            element_string: to_element_string(data),
            datamatrix: to_datamatrix(data),
            digital_link: to_digital_link(data, GS1_RESOLVER).ok(),
            epc_urn: gcp_len.and_then(|len| to_epc_urn(data, len).ok()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_an_sgtin() {
        let d = describe(
            "(01)09506000134352(17)270300(10)ABC(21)XYZ",
            &["950600".to_string(), "95".to_string()],
        )
        .unwrap();
        assert_eq!(d.kind, "sgtin");
        assert_eq!(d.id.as_deref(), Some("(01)09506000134352(21)XYZ"));
        assert_eq!(d.expiry_date.as_deref(), Some("2027-03-31"));
        assert_eq!(d.elements.get("10").map(String::as_str), Some("ABC"));
        assert_eq!(
            d.titles.get("17").map(String::as_str),
            Some("USE BY or EXPIRY")
        );
        assert_eq!(
            d.forms.digital_link.as_deref(),
            Some("https://id.gs1.org/01/09506000134352/10/ABC/21/XYZ?17=270300")
        );
        assert_eq!(
            d.forms.datamatrix,
            "]d20109506000134352172703001\
             0ABC\u{1d}21XYZ"
        );
        assert_eq!(
            d.forms.epc_urn.as_deref(),
            Some("urn:epc:id:sgtin:950600.0013435.XYZ")
        );
        let json = serde_json::to_value(&d).unwrap();
        assert_eq!(json["elements"]["01"], "09506000134352");
        assert_eq!(json["input_form"], "element_string");
    }

    #[test]
    fn epc_only_when_prefix_known() {
        let d = describe("(00)106141412345678908", &[]).unwrap();
        assert_eq!(d.kind, "sscc");
        assert_eq!(d.forms.epc_urn, None);
        let d = describe("urn:epc:id:sscc:0614141.1234567890", &[]).unwrap();
        assert_eq!(
            d.forms.epc_urn.as_deref(),
            Some("urn:epc:id:sscc:0614141.1234567890")
        );
    }

    #[test]
    fn other_kinds() {
        assert_eq!(describe("09506000134352", &[]).unwrap().kind, "gtin");
        let d = describe("urn:epc:class:lgtin:4012345.012345.998877", &[]).unwrap();
        assert_eq!(d.kind, "lgtin");
        assert_eq!(d.id.as_deref(), Some("(01)04012345123456(10)998877"));
        let d = describe("urn:epc:id:sgln:0614141.07346.1234", &[]).unwrap();
        assert_eq!(d.kind, "gln");
        assert_eq!(d.id.as_deref(), Some("(414)0614141073467(254)1234"));
        let d = describe("urn:epc:id:giai:735005385.vehicle1", &[]).unwrap();
        assert_eq!(d.kind, "other");
        assert_eq!(d.id.as_deref(), Some("(8004)735005385vehicle1"));
    }
}
