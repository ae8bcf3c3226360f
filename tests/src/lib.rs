//! Helpers for Custody integration tests.
