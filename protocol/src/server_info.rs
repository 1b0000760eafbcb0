//! What the server tells the browser about itself: which models it offers and which upstream
//! answers. It never carries a secret: only whether a key is configured.

use serde::{Deserialize, Serialize};

use crate::limits::Limits;

/// Which Gemini endpoint the server talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Upstream {
    /// The real Gemini API, with the operator's key.
    Gemini,
    /// The offline simulator: no key is configured, so nothing is billed and images are synthetic.
    Simulator,
}

/// One image model the server offers, as the browser needs to present it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// The Gemini model id, e.g. `gemini-3.1-flash-image`.
    pub id: String,
    /// A human label, e.g. `Nano Banana 2`.
    pub label: String,
    /// The most input images one edit may send to this model.
    pub max_input_images: u8,
    /// Aspect ratios the model accepts, e.g. `1:1`, `16:9`.
    pub aspect_ratios: Vec<String>,
    /// Output sizes the model accepts (`512`, `1K`, `2K`, `4K`); empty when it takes none.
    pub image_sizes: Vec<String>,
    /// Price of one output image at the model's default size, in US dollars.
    pub usd_per_image: f64,
    /// When Google deprecated the model (`YYYY-MM-DD`), if it did: it still answers, for now.
    #[serde(default)]
    pub deprecated: Option<String>,
    /// When Google shuts the model down (`YYYY-MM-DD`), where a date is known.
    #[serde(default)]
    pub shutdown: Option<String>,
    /// The thinking levels the model takes (`minimal`, `medium`, `high`, ...); empty when it
    /// takes none.
    #[serde(default)]
    pub thinking_levels: Vec<String>,
    /// The level used when none is chosen.
    #[serde(default)]
    pub default_thinking_level: Option<String>,
    /// The model thinks whatever is asked (its thinking is billed).
    #[serde(default)]
    pub always_thinks: bool,
    /// The model can ground its answer in Google Search.
    #[serde(default)]
    pub web_search: bool,
    /// "Keep editing" continues the conversation (the model keeps context across turns).
    #[serde(default)]
    pub multi_turn: bool,
    /// The model's own output carries a C2PA manifest.
    #[serde(default)]
    pub c2pa: bool,
    /// Whether this server's key can use the model, as the last check found.
    #[serde(default)]
    pub availability: Availability,
}

/// Whether a model of the table can be used with this server's key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Availability {
    /// Not checked yet (the check runs at start-up and every few hours).
    #[default]
    Unchecked,
    /// Gemini lists it for this key.
    Available,
    /// Not usable: why, in a sentence for a person.
    Unavailable { reason: String },
}

impl ModelInfo {
    /// Whether the model may be chosen (not known to be unavailable).
    pub fn usable(&self) -> bool {
        !matches!(self.availability, Availability::Unavailable { .. })
    }
}

/// The server's public configuration: safe to show to anyone who can load a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerInfo {
    /// The GemFlash version the server runs.
    pub version: String,
    /// Which upstream answers generation and edit requests.
    pub upstream: Upstream,
    /// Whether a real Gemini API key is configured. The key itself never leaves the server.
    pub key_configured: bool,
    /// The models offered, in the order the operator listed them.
    pub models: Vec<ModelInfo>,
    /// The model preselected in the editor.
    pub default_model: String,
    /// Whether people sign in with an access token (so pages offer to sign out).
    #[serde(default)]
    pub sign_in: bool,
    /// The input limits in force.
    #[serde(default)]
    pub limits: Limits,
    /// How far inside a mask's edge an edit fades in, in pixels (the editor previews it).
    #[serde(default)]
    pub feather_px: u32,
    /// Generations and edits one client may have in flight at once (variations beyond it
    /// wait for a slot of their own in the browser).
    #[serde(default = "one")]
    pub jobs_per_client: u32,
    /// How full the image store is, when the server says.
    #[serde(default)]
    pub storage: Option<StorageInfo>,
}

fn one() -> u32 {
    1
}

/// How much the image store holds, and how much it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageInfo {
    pub used_bytes: u64,
    /// `None`: no quota.
    pub quota_bytes: Option<u64>,
}

impl StorageInfo {
    /// Whether nothing more can be stored.
    pub fn is_full(&self) -> bool {
        self.quota_bytes.is_some_and(|q| self.used_bytes >= q)
    }

    /// How full it is, from 0 to 1, when there is a quota.
    pub fn fraction(&self) -> Option<f64> {
        self.quota_bytes
            .map(|q| (self.used_bytes as f64 / q.max(1) as f64).min(1.0))
    }
}

impl ServerInfo {
    /// The model preselected in the editor, if it is in the list.
    pub fn default_model(&self) -> Option<&ModelInfo> {
        self.models.iter().find(|m| m.id == self.default_model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> ServerInfo {
        ServerInfo {
            version: "0.1.0".into(),
            upstream: Upstream::Simulator,
            key_configured: false,
            models: vec![ModelInfo {
                id: "gemini-3.1-flash-image".into(),
                label: "Nano Banana 2".into(),
                max_input_images: 14,
                aspect_ratios: vec!["1:1".into()],
                image_sizes: vec!["1K".into()],
                usd_per_image: 0.067,
                deprecated: None,
                shutdown: None,
                thinking_levels: vec!["minimal".into(), "high".into()],
                default_thinking_level: Some("minimal".into()),
                always_thinks: false,
                web_search: true,
                multi_turn: true,
                c2pa: false,
                availability: Availability::Unavailable {
                    reason: "Retired.".into(),
                },
            }],
            default_model: "gemini-3.1-flash-image".into(),
            sign_in: false,
            limits: Limits::default(),
            feather_px: 8,
            jobs_per_client: 2,
            storage: None,
        }
    }

    #[test]
    fn upstream_serialises_in_snake_case() {
        let json = serde_json::to_string(&Upstream::Simulator).unwrap();
        assert_eq!(json, "\"simulator\"");
    }

    #[test]
    fn server_info_round_trips_through_json() {
        let original = info();
        let json = serde_json::to_string(&original).unwrap();
        let back: ServerInfo = serde_json::from_str(&json).unwrap();
        assert_eq!(back, original);
    }

    #[test]
    fn default_model_is_found_by_id() {
        let info = info();
        assert_eq!(
            info.default_model().map(|m| m.label.as_str()),
            Some("Nano Banana 2")
        );
        let missing = ServerInfo {
            default_model: "nope".into(),
            sign_in: false,
            ..info
        };
        assert!(missing.default_model().is_none());
    }
}
