//! The dashboard: one static page that polls the JSON API (chain head, blocks, members, and
//! a look-up of any scanned code).

use axum::response::Html;

/// Serves the dashboard page.
pub async fn page() -> Html<&'static str> {
    Html(include_str!("dashboard.html"))
}
