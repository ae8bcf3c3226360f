//! API errors: every failure answers JSON `{"error": {"code", "message"}}` with a stable code
//! that scripts can rely on.

use crate::node::{apply_error_code, tx_error_code, SubmitError};
use crate::storage::StorageError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// An API error: HTTP status, stable code, message.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// Human-readable message.
    pub message: String,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 500 for a fault of this node's, not the request's.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// 400 for unparseable input.
    pub fn malformed(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        tracing::error!(error = %e, "storage error while serving a request");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "storage", e.to_string())
    }
}

impl From<custody_ledger::state::StateError> for ApiError {
    fn from(e: custody_ledger::state::StateError) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "storage", e.to_string())
    }
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> Self {
        let message = e.to_string();
        match e {
            SubmitError::Tx(t) => {
                let code = tx_error_code(&t);
                let status = if code == "too_large" {
                    StatusCode::PAYLOAD_TOO_LARGE
                } else {
                    StatusCode::BAD_REQUEST
                };
                ApiError::new(status, code, message)
            }
            SubmitError::Rule(r) => {
                let code = apply_error_code(&custody_ledger::state::ApplyError::Rule(r));
                let status = if code == "sequence" {
                    StatusCode::CONFLICT
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                ApiError::new(status, code, message)
            }
            SubmitError::Duplicate(_) => ApiError::new(StatusCode::CONFLICT, "duplicate", message),
            SubmitError::Full(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "mempool_full", message)
            }
            SubmitError::Storage(s) => s.into(),
        }
    }
}
