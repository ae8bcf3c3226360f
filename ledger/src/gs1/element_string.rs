//! Bracketed GS1 element strings, `(01)09506000134352(21)XYZ`: parsing and rendering.

/// A value as written inside an element string: `(` becomes `\(` so it cannot be read as the
/// start of the next AI.
pub(crate) fn escape_value(value: &str) -> String {
    value.replace('(', "\\(")
}
