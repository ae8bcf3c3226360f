//! TEMPORARY minimal GS1 types so the domain model compiles; replaced by the gs1 branch.
#![allow(missing_docs)]
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Gs1Error(pub String);

pub fn check_digit(digits: &str) -> u8 {
    let mut sum = 0u32;
    for (i, c) in digits.bytes().rev().enumerate() {
        let d = u32::from(c - b'0');
        sum += if i % 2 == 0 { d * 3 } else { d };
    }
    ((10 - sum % 10) % 10) as u8
}

fn key(s: &str, n: usize, what: &str) -> Result<String, Gs1Error> {
    if s.len() != n || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Gs1Error(format!("{what}: expected {n} digits")));
    }
    let cd = check_digit(&s[..n - 1]);
    let got = s.as_bytes()[n - 1] - b'0';
    if cd != got {
        return Err(Gs1Error(format!(
            "{what} check digit should be {cd}, got {got}"
        )));
    }
    Ok(s.to_string())
}

macro_rules! strtype {
    ($name:ident, $parse:expr) => {
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
        pub struct $name(String);
        impl $name {
            pub fn parse(s: &str) -> Result<Self, Gs1Error> {
                let f: fn(&str) -> Result<String, Gs1Error> = $parse;
                f(s).map($name)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

strtype!(Gtin, |s| {
    let p = format!("{:0>14}", s);
    key(&p, 14, "GTIN")
});
strtype!(Sscc, |s| key(s, 18, "SSCC"));
strtype!(Gln, |s| key(s, 13, "GLN"));
strtype!(Serial, |s| if s.is_empty() || s.len() > 20 {
    Err(Gs1Error("AI 21: bad length".into()))
} else {
    Ok(s.to_string())
});
strtype!(Lot, |s| if s.is_empty() || s.len() > 20 {
    Err(Gs1Error("AI 10: bad length".into()))
} else {
    Ok(s.to_string())
});
strtype!(Expiry, |s| if s.len() != 6 {
    Err(Gs1Error("AI 17: bad length".into()))
} else {
    Ok(s.to_string())
});

impl Gtin {
    pub fn has_company_prefix(&self, p: &str) -> bool {
        self.0[1..].starts_with(p)
    }
}
impl Sscc {
    pub fn has_company_prefix(&self, p: &str) -> bool {
        self.0[1..].starts_with(p)
    }
}
impl Gln {
    pub fn has_company_prefix(&self, p: &str) -> bool {
        self.0.starts_with(p)
    }
}
impl Expiry {
    pub fn to_iso_date(&self) -> String {
        format!("20{}-{}-{}", &self.0[..2], &self.0[2..4], &self.0[4..])
    }
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Sgtin {
    pub gtin: Gtin,
    pub serial: Serial,
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum ItemId {
    Sgtin(Sgtin),
    Sscc(Sscc),
}

impl ItemId {
    pub fn parse(text: &str) -> Result<ItemId, Gs1Error> {
        let t = text.trim();
        if let Some(rest) = t.strip_prefix("(00)") {
            return Ok(ItemId::Sscc(Sscc::parse(rest)?));
        }
        if let Some(rest) = t.strip_prefix("(01)") {
            let (g, s) = rest
                .split_once("(21)")
                .ok_or_else(|| Gs1Error("no serial".into()))?;
            return Ok(ItemId::Sgtin(Sgtin {
                gtin: Gtin::parse(g)?,
                serial: Serial::parse(s)?,
            }));
        }
        if t.len() == 18 {
            return Ok(ItemId::Sscc(Sscc::parse(t)?));
        }
        Err(Gs1Error(format!("cannot parse {t}")))
    }
    pub fn key_bytes(&self) -> Vec<u8> {
        match self {
            ItemId::Sgtin(s) => [
                b"S".as_slice(),
                s.gtin.as_str().as_bytes(),
                s.serial.as_str().as_bytes(),
            ]
            .concat(),
            ItemId::Sscc(s) => [b"C".as_slice(), s.as_str().as_bytes()].concat(),
        }
    }
    pub fn from_key_bytes(b: &[u8]) -> Result<ItemId, Gs1Error> {
        let s = std::str::from_utf8(b).map_err(|e| Gs1Error(e.to_string()))?;
        match s.as_bytes().first() {
            Some(b'S') if s.len() > 15 => Ok(ItemId::Sgtin(Sgtin {
                gtin: Gtin::parse(&s[1..15])?,
                serial: Serial::parse(&s[15..])?,
            })),
            Some(b'C') => Ok(ItemId::Sscc(Sscc::parse(&s[1..])?)),
            _ => Err(Gs1Error("bad key".into())),
        }
    }
    pub fn is_container(&self) -> bool {
        matches!(self, ItemId::Sscc(_))
    }
    pub fn gtin(&self) -> Option<&Gtin> {
        match self {
            ItemId::Sgtin(s) => Some(&s.gtin),
            ItemId::Sscc(_) => None,
        }
    }
    pub fn company_prefix_matches(&self, p: &str) -> bool {
        match self {
            ItemId::Sgtin(s) => s.gtin.has_company_prefix(p),
            ItemId::Sscc(s) => s.has_company_prefix(p),
        }
    }
}
impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ItemId::Sgtin(s) => write!(f, "(01){}(21){}", s.gtin, s.serial),
            ItemId::Sscc(s) => write!(f, "(00){s}"),
        }
    }
}
impl Serialize for ItemId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}
impl<'de> Deserialize<'de> for ItemId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}
