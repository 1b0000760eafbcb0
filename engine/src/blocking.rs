//! Running blocking work (decoding, compositing, SQLite, the file system) off the async
//! threads, in one way: [`blocking`]. A task that panics surfaces as [`TaskFailed`], which each
//! error type that can hold it converts from.

/// A blocking task that did not finish: it panicked (or the runtime is shutting down).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFailed(pub String);

/// Runs `work` on tokio's blocking pool and hands back its result.
pub async fn blocking<T, E, F>(work: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<TaskFailed> + Send + 'static,
    F: FnOnce() -> Result<T, E> + Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| E::from(TaskFailed(e.to_string())))?
}
