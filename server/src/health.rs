//! Health endpoints for load balancers and orchestrators.
//!
//! `/healthz` answers as long as the process serves HTTP. `/readyz` also checks what a request
//! needs: a valid configuration (the server would not have started without one) and a data
//! directory it can write to. The write probe's answer is kept for [`PROBE_TTL`], so a
//! prober calling every second (or someone calling in a loop) does not make the server write
//! and sync a file each time. Neither reveals paths or configuration; details go to the log.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use engine::blocking::{TaskFailed, blocking};
use serde::Serialize;

/// How long a write probe's answer is kept.
pub const PROBE_TTL: Duration = Duration::from_secs(5);

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

/// The readiness check of one data directory, with its last answer.
#[derive(Debug, Clone)]
pub struct Readiness {
    data_dir: PathBuf,
    last: Arc<Mutex<Option<(Instant, bool)>>>,
}

impl Readiness {
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            data_dir,
            last: Arc::default(),
        }
    }

    /// Whether the data directory can be written, from a probe at most [`PROBE_TTL`] old.
    async fn data_dir_writable(&self) -> bool {
        if let Some((at, ok)) = *self.last.lock().unwrap_or_else(|e| e.into_inner())
            && at.elapsed() < PROBE_TTL
        {
            return ok;
        }
        let dir = self.data_dir.clone();
        let ok = match blocking(move || probe_writable(&dir).map_err(Probe::Io)).await {
            Ok(()) => true,
            Err(Probe::Io(e)) => {
                tracing::warn!(error = %e, "data directory is not writable");
                false
            }
            Err(Probe::Task(e)) => {
                tracing::error!(error = e.0, "data directory probe did not finish");
                false
            }
        };
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), ok));
        ok
    }
}

enum Probe {
    Io(std::io::Error),
    Task(TaskFailed),
}

impl From<TaskFailed> for Probe {
    fn from(e: TaskFailed) -> Self {
        Probe::Task(e)
    }
}

/// Liveness: the process is up and serving.
pub async fn healthz() -> impl IntoResponse {
    Json(Health {
        status: "ok",
        checks: None,
    })
}

/// Readiness: the process can do its work.
pub async fn readyz(State(readiness): State<Readiness>) -> impl IntoResponse {
    let data_dir_ok = readiness.data_dir_writable().await;
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
