//! The consensus boundary: how the node turns a proposed block into a decided one with a
//! commit certificate. Today a single validator decides alone ([`SoloCertifier`]); the
//! round-robin BFT state machine from `custody-consensus` plugs in behind this same seam,
//! producing certificates of the same shape.

mod solo;

pub use solo::{SoloCertifier, SoloError};
