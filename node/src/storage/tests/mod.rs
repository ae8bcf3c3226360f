//! Storage tests: one conformance suite run against every backend, sled-only tests
//! (reopen, genesis mismatch, corruption), and a property test of the backends against a
//! `BTreeMap` model.

mod atomicity;
mod conformance;
pub(crate) mod fixtures;
mod kv_props;
mod sled_only;
