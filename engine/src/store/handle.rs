//! The store as async code holds it: one handle, one way to call it.

use std::sync::Arc;

use super::{ImageStore, StoreError};
use crate::blocking::{TaskFailed, blocking};

/// A shared store for async code. [`StoreHandle::run`] runs a call on tokio's blocking pool
/// (SQLite and the file system block); a task that fails surfaces as [`StoreError::Worker`].
/// Start-up code and tests, which may block, reach the store's methods directly through
/// `Deref`.
#[derive(Debug, Clone)]
pub struct StoreHandle(Arc<dyn ImageStore>);

impl StoreHandle {
    pub fn new(store: Arc<dyn ImageStore>) -> Self {
        Self(store)
    }

    /// Runs `call` with the store, off the async threads. The error is the call's own (a
    /// [`StoreError`], or a caller's error that can hold one).
    pub async fn run<T, E, F>(&self, call: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<TaskFailed> + Send + 'static,
        F: FnOnce(&dyn ImageStore) -> Result<T, E> + Send + 'static,
    {
        let store = self.0.clone();
        blocking(move || call(store.as_ref())).await
    }
}

impl From<TaskFailed> for StoreError {
    fn from(e: TaskFailed) -> Self {
        StoreError::Worker(e.0)
    }
}

impl std::ops::Deref for StoreHandle {
    type Target = dyn ImageStore;

    fn deref(&self) -> &Self::Target {
        self.0.as_ref()
    }
}
