//! The HTTP API (JSON over axum): the only module that knows HTTP. Routes live in
//! [`routes`], errors (a stable `code` and a `message`) in [`api_error`], the dashboard page
//! in [`dashboard`].

pub mod api_error;
pub mod dashboard;
pub mod routes;

pub use routes::router;

/// Largest request body accepted, bytes (a 10,000-item transaction is well under it).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
