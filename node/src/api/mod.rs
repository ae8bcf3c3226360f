//! The HTTP API (JSON over axum): the only module that knows HTTP. Routes live in
//! [`routes`], errors (a stable `code` and a `message`) in [`api_error`], the dashboard page
//! in [`dashboard`], and the server that runs them (timeouts, connection caps, shutdown)
//! in [`serve`].

pub mod api_error;
pub mod dashboard;
pub mod routes;
pub mod serve;

pub use routes::router;
pub use serve::{serve, ServeConfig};

/// Largest request body accepted, bytes (a 10,000-item transaction is well under it).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
