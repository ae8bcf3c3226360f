//! `Component`: one part of an AI's format ("N6,yymmd0", "[X..17]"), with its character
//! set, length and linters.

use std::fmt;

use super::charset::Charset;
use super::linter::Linter;

/// One component of an AI value format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Component {
    /// The characters it may hold.
    pub charset: Charset,
    /// The fewest characters (equal to `max` for a fixed-length component).
    pub min: u8,
    /// The most characters.
    pub max: u8,
    /// Whether the component may be left out (`[...]` in the dictionary).
    pub optional: bool,
    /// Content checks, in order.
    pub linters: &'static [Linter],
}

impl Component {
    /// Whether the length is fixed.
    pub fn is_fixed(&self) -> bool {
        self.min == self.max
    }

    /// Marks the component optional (table builder).
    pub const fn opt(self) -> Component {
        Component {
            optional: true,
            ..self
        }
    }

    /// Attaches linters (table builder).
    pub const fn lint(self, linters: &'static [Linter]) -> Component {
        Component { linters, ..self }
    }
}

impl fmt::Display for Component {
    /// The dictionary notation: `N14,csum,gcppos2`, `[X..17]`, `[N3],iso3166`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let length = if self.is_fixed() {
            self.max.to_string()
        } else if self.min == 1 {
            format!("..{}", self.max)
        } else {
            format!("{}..{}", self.min, self.max)
        };
        let spec = format!("{}{length}", self.charset.letter());
        if self.optional {
            write!(f, "[{spec}]")?;
        } else {
            f.write_str(&spec)?;
        }
        for linter in self.linters {
            write!(f, ",{}", linter.name())?;
        }
        Ok(())
    }
}

/// A component of `min..=max` characters of `charset` (table builder).
const fn component(charset: Charset, min: u8, max: u8) -> Component {
    Component {
        charset,
        min,
        max,
        optional: false,
        linters: &[],
    }
}

/// Digits, `min..=max` long.
pub(crate) const fn n(min: u8, max: u8) -> Component {
    component(Charset::Numeric, min, max)
}

/// CSET 82, `min..=max` long.
pub(crate) const fn x(min: u8, max: u8) -> Component {
    component(Charset::Cset82, min, max)
}

/// CSET 39, `min..=max` long.
pub(crate) const fn y(min: u8, max: u8) -> Component {
    component(Charset::Cset39, min, max)
}

/// CSET 64, `min..=max` long.
pub(crate) const fn z(min: u8, max: u8) -> Component {
    component(Charset::Cset64, min, max)
}
