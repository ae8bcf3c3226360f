//! Storage tests: one conformance suite run against every backend, sled-only tests
//! (reopen, genesis mismatch, corruption), data folders of another storage format, and a
//! property test of the backends against a `BTreeMap` model.

mod atomicity;
mod conformance;
pub(crate) mod fixtures;
mod format;
mod kv_props;
mod sled_only;
