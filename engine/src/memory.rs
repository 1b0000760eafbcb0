//! The process-wide image-memory budget.
//!
//! Every large buffer a job holds (an upload's bytes, decoded pixels, working copies, the
//! request sent upstream and its answer, the encoded result) is paid for from one budget
//! before it exists. A job reserves what it may need at most, from the images' headers, in one
//! step (so two jobs can never each hold half of what both need); it waits briefly when the
//! budget is taken and is refused (as busy) when the wait runs out. A job that could never fit
//! is refused at once, as too large. What is reserved is released when the job drops its
//! [`MemoryPermit`], whatever way it ends. So the memory images take is bounded by the
//! configuration (`GEMFLASH_IMAGE_MEMORY_MB`), whatever the inputs.

use std::{sync::Arc, time::Duration};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The budget is counted in units of this many bytes.
const UNIT: u64 = 64 * 1024;

/// Why memory could not be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MemoryError {
    /// More than the whole budget: this job can never run on this server.
    #[error("the job needs {needed} bytes, more than the whole image-memory budget ({budget})")]
    TooLarge { needed: u64, budget: u64 },
    /// The budget stayed taken by other jobs for the whole wait.
    #[error("the image-memory budget stayed taken for the whole wait")]
    Busy,
}

/// The budget, shared by every job of the process. Cheap to clone.
#[derive(Debug, Clone)]
pub struct MemoryBudget {
    units: Arc<Semaphore>,
    total_units: u32,
    wait: Duration,
}

/// Memory reserved by a job; released when dropped.
#[derive(Debug)]
pub struct MemoryPermit {
    units: Option<OwnedSemaphorePermit>,
    bytes: u64,
}

impl MemoryPermit {
    /// Bytes this permit holds.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// A permit that holds nothing (for work that needs no reservation).
    pub fn none() -> Self {
        Self {
            units: None,
            bytes: 0,
        }
    }

    /// Holds `other`'s memory too (both from the same budget), released together.
    pub fn merge(&mut self, other: MemoryPermit) {
        match (&mut self.units, other.units) {
            (Some(mine), Some(theirs)) => mine.merge(theirs),
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
        self.bytes += other.bytes;
    }
}

impl MemoryBudget {
    /// A budget of `bytes`; a reservation waits at most `wait` for room.
    pub fn new(bytes: u64, wait: Duration) -> Self {
        let total_units = u32::try_from(bytes / UNIT)
            .unwrap_or(u32::MAX)
            .min(Semaphore::MAX_PERMITS as u32)
            .max(1);
        Self {
            units: Arc::new(Semaphore::new(total_units as usize)),
            total_units,
            wait,
        }
    }

    /// The whole budget, in bytes.
    pub fn total(&self) -> u64 {
        u64::from(self.total_units) * UNIT
    }

    /// Bytes not reserved right now.
    pub fn available(&self) -> u64 {
        self.units.available_permits() as u64 * UNIT
    }

    /// Reserves `bytes`, waiting up to the budget's wait for room.
    pub async fn reserve(&self, bytes: u64) -> Result<MemoryPermit, MemoryError> {
        let units = bytes.div_ceil(UNIT).max(1);
        if units > u64::from(self.total_units) {
            return Err(MemoryError::TooLarge {
                needed: bytes,
                budget: self.total(),
            });
        }
        let units = units as u32;
        let acquire = self.units.clone().acquire_many_owned(units);
        match tokio::time::timeout(self.wait, acquire).await {
            Ok(Ok(permit)) => Ok(MemoryPermit {
                units: Some(permit),
                bytes: u64::from(units) * UNIT,
            }),
            // The semaphore is never closed; a closed one means nothing can be had.
            Ok(Err(_)) | Err(_) => Err(MemoryError::Busy),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1024 * 1024;

    #[tokio::test]
    async fn reservations_add_up_to_the_budget_and_are_returned_on_drop() {
        let budget = MemoryBudget::new(10 * MB, Duration::from_millis(20));
        let a = budget.reserve(6 * MB).await.unwrap();
        assert_eq!(a.bytes(), 6 * MB);
        assert_eq!(budget.available(), 4 * MB);
        assert_eq!(budget.reserve(5 * MB).await.unwrap_err(), MemoryError::Busy);
        let b = budget.reserve(4 * MB).await.unwrap();
        assert_eq!(budget.available(), 0);
        drop(a);
        drop(b);
        assert_eq!(budget.available(), 10 * MB);
    }

    #[tokio::test]
    async fn merged_permits_are_released_together() {
        let budget = MemoryBudget::new(10 * MB, Duration::from_millis(20));
        let mut a = budget.reserve(3 * MB).await.unwrap();
        a.merge(budget.reserve(4 * MB).await.unwrap());
        assert_eq!((a.bytes(), budget.available()), (7 * MB, 3 * MB));
        drop(a);
        assert_eq!(budget.available(), 10 * MB);
    }

    #[tokio::test]
    async fn a_job_larger_than_the_budget_is_refused_at_once() {
        let budget = MemoryBudget::new(10 * MB, Duration::from_secs(60));
        let started = std::time::Instant::now();
        assert!(matches!(
            budget.reserve(11 * MB).await,
            Err(MemoryError::TooLarge { .. })
        ));
        assert!(started.elapsed() < Duration::from_secs(1), "no wait");
    }

    #[tokio::test]
    async fn a_waiting_job_gets_memory_once_another_releases_it() {
        let budget = MemoryBudget::new(10 * MB, Duration::from_secs(5));
        let a = budget.reserve(8 * MB).await.unwrap();
        let waiter = {
            let budget = budget.clone();
            tokio::spawn(async move { budget.reserve(8 * MB).await.map(|p| p.bytes()) })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(a);
        assert_eq!(waiter.await.unwrap(), Ok(8 * MB));
    }
}
