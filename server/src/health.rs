//! Health endpoints for load balancers and orchestrators.
//!
//! `/healthz` answers as long as the process serves HTTP. `/readyz` also checks what a request
//! needs: a valid configuration (the server would not have started without one) and a data
//! directory it can write to. Neither reveals paths or configuration; details go to the log.

use std::path::Path;

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde::Serialize;

use crate::state::AppState;

#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    checks: Option<Checks>,
}

#[derive(Debug, Serialize)]
struct Checks {
    config: &'static str,
    data_dir: &'static str,
}

/// Liveness: the process is up and serving.
pub async fn healthz() -> impl IntoResponse {
    Json(Health {
        status: "ok",
        checks: None,
    })
}

/// Readiness: the process can do its work.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let dir = state.config.data_dir.clone();
    let writable = tokio::task::spawn_blocking(move || probe_writable(&dir)).await;
    let data_dir_ok = match writable {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "data directory is not writable");
            false
        }
        Err(e) => {
            tracing::error!(error = %e, "data directory probe did not finish");
            false
        }
    };
    let checks = Checks {
        config: "ok",
        data_dir: if data_dir_ok { "ok" } else { "not writable" },
    };
    let (status, text) = if data_dir_ok {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    };
    (
        status,
        Json(Health {
            status: text,
            checks: Some(checks),
        }),
    )
}

/// Creates, syncs and removes a probe file in `dir`.
fn probe_writable(dir: &Path) -> std::io::Result<()> {
    use std::io::Write;
    let path = dir.join(format!(".ready-probe-{}", uuid::Uuid::new_v4()));
    let result = std::fs::File::create(&path).and_then(|mut f| {
        f.write_all(b"ok")?;
        f.sync_all()
    });
    let removed = std::fs::remove_file(&path);
    result.and(removed)
}
