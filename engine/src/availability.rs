//! Which models of the table this server's key can use: what the start-up (and periodic)
//! model check found, and what calls learn on the way (a model that answers "not found" was
//! retired). Pages show it; jobs refuse an unavailable model before they spend anything.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

use protocol::Availability;

/// The availability of each model, shared by the check, the jobs and the pages.
#[derive(Debug, Clone, Default)]
pub struct ModelAvailability(Arc<RwLock<HashMap<String, Availability>>>);

impl ModelAvailability {
    /// What is known of `id` (unchecked until a check or a call says).
    pub fn get(&self, id: &str) -> Availability {
        self.read().get(id).cloned().unwrap_or_default()
    }

    /// Records `availability` for `id`; returns whether it changed.
    pub fn set(&self, id: &str, availability: Availability) -> bool {
        let mut all = self.0.write().unwrap_or_else(|e| e.into_inner());
        all.insert(id.to_owned(), availability.clone()) != Some(availability)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Availability>> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }
}

/// The reason shown for a model Gemini does not list for this key.
pub const NOT_LISTED: &str = "Gemini does not list this model for this server's key: it was retired, or the key may not use it.";

/// The reason shown for a model Gemini answered "not found" for.
pub const NOT_FOUND: &str = "Gemini answered that this model does not exist: it was retired, or this server's key may not use it.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn availability_is_unchecked_until_set_and_reports_changes() {
        let all = ModelAvailability::default();
        assert_eq!(all.get("m"), Availability::Unchecked);
        assert!(all.set("m", Availability::Available));
        assert!(!all.set("m", Availability::Available));
        let gone = Availability::Unavailable {
            reason: NOT_FOUND.into(),
        };
        assert!(all.clone().set("m", gone.clone()));
        assert_eq!(all.get("m"), gone);
    }
}
