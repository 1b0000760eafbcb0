//! The model table: which Gemini image models this server offers, their limits and prices.
//!
//! Read from TOML (the built-in `config/models.toml`, or the file named by
//! `GEMFLASH_MODELS_FILE`) and validated as a whole at start-up, so a typo stops the server
//! with a message instead of surfacing as a 404 from Gemini in the middle of a user's edit.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

use super::{ConfigError, Env, vars};

/// The model table built into the binary.
pub const BUILT_IN: &str = include_str!("../../../config/models.toml");

/// Sizes the Gemini image API accepts for `imageConfig.imageSize`.
const KNOWN_IMAGE_SIZES: [&str; 4] = ["512", "1K", "2K", "4K"];

/// The validated model table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelTable {
    /// The id of the model preselected in the editor.
    pub default: String,
    pub models: Vec<ModelSpec>,
}

/// One image model and what the server needs to know of it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    pub id: String,
    pub label: String,
    pub max_input_images: u8,
    pub aspect_ratios: Vec<String>,
    /// Values the model takes for `imageSize`; empty when it takes none.
    #[serde(default)]
    pub image_sizes: Vec<String>,
    /// The size used when a request names none; required when `image_sizes` is not empty.
    #[serde(default)]
    pub default_image_size: Option<String>,
    #[serde(default)]
    pub usd_per_million_input_tokens: Option<f64>,
    pub usd_per_million_output_tokens: f64,
    #[serde(default)]
    pub input_tokens_per_image: Option<u32>,
    /// Output tokens of one image, by size (`1K` for models without sizes).
    pub output_tokens: BTreeMap<String, u32>,
    /// Text output (the model's words and its thinking), per million tokens; unset: the
    /// output rate.
    #[serde(default)]
    pub usd_per_million_text_output_tokens: Option<f64>,
    /// Google Search grounding, per thousand queries.
    #[serde(default)]
    pub usd_per_thousand_searches: Option<f64>,
    /// `thinkingLevel` values the model takes; empty when it takes none.
    #[serde(default)]
    pub thinking_levels: Vec<String>,
    /// The level the editor preselects; required with `thinking_levels`.
    #[serde(default)]
    pub default_thinking_level: Option<String>,
    /// The model thinks whatever is asked.
    #[serde(default)]
    pub always_thinks: bool,
    /// Google Search tools the model takes: `web`, `image`.
    #[serde(default)]
    pub grounding: Vec<String>,
    /// "Keep editing" replays the conversation (thought signatures keep the context).
    #[serde(default)]
    pub multi_turn: bool,
    /// The model's output carries a C2PA manifest.
    #[serde(default)]
    pub c2pa: bool,
    /// When Google deprecated the model (`YYYY-MM-DD`).
    #[serde(default)]
    pub deprecated: Option<String>,
    /// When Google shuts it down (`YYYY-MM-DD`), where a date is known.
    #[serde(default)]
    pub shutdown: Option<String>,
}

/// Thinking levels the Gemini API knows.
const KNOWN_THINKING_LEVELS: [&str; 4] = ["minimal", "low", "medium", "high"];
/// Google Search tools the Gemini API knows.
const KNOWN_GROUNDING: [&str; 2] = ["web", "image"];

/// Whether `text` is a date `YYYY-MM-DD` (checked by the UTC calendar's own parser).
fn is_date(text: &str) -> bool {
    protocol::parse_day(text).is_some()
}

impl ModelSpec {
    /// The images one edit may send: the model's input limit less one, for the mask that
    /// every edit sends beside them.
    pub fn edit_images(&self) -> u8 {
        self.max_input_images.saturating_sub(1).max(1)
    }

    /// The size whose token count prices an image when the request names no size.
    fn pricing_size(&self) -> &str {
        self.default_image_size.as_deref().unwrap_or("1K")
    }

    /// The price of one output image at `size` (or the default size), in US dollars.
    pub fn usd_per_image(&self, size: Option<&str>) -> Option<f64> {
        let size = size.unwrap_or_else(|| self.pricing_size());
        let tokens = self.output_tokens.get(size)?;
        Some(f64::from(*tokens) * self.usd_per_million_output_tokens / 1_000_000.0)
    }

    fn validate(&self) -> Result<(), String> {
        let id = &self.id;
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-._".contains(c))
        {
            return Err(format!(
                "model id {id:?} must be lowercase letters, digits, '-', '.' or '_' (e.g. \"gemini-3.1-flash-image\")"
            ));
        }
        if self.label.trim().is_empty() {
            return Err(format!("model {id}: label is empty"));
        }
        if !(2..=14).contains(&self.max_input_images) {
            return Err(format!(
                "model {id}: max_input_images must be between 2 and 14 (an edit sends its mask as one)"
            ));
        }
        if self.aspect_ratios.is_empty() {
            return Err(format!("model {id}: aspect_ratios is empty"));
        }
        if let Some(bad) = self.aspect_ratios.iter().find(|r| !is_aspect_ratio(r)) {
            return Err(format!(
                "model {id}: aspect ratio {bad:?} is not of the form W:H"
            ));
        }
        if let Some(bad) = self
            .image_sizes
            .iter()
            .find(|s| !KNOWN_IMAGE_SIZES.contains(&s.as_str()))
        {
            return Err(format!(
                "model {id}: image size {bad:?} is not one of {}",
                KNOWN_IMAGE_SIZES.join(", ")
            ));
        }
        match (&self.default_image_size, self.image_sizes.is_empty()) {
            (None, false) => {
                return Err(format!(
                    "model {id}: default_image_size is required with image_sizes"
                ));
            }
            (Some(size), _) if !self.image_sizes.contains(size) => {
                return Err(format!(
                    "model {id}: default_image_size {size:?} is not in image_sizes"
                ));
            }
            _ => {}
        }
        let prices = [
            Some(self.usd_per_million_output_tokens),
            self.usd_per_million_input_tokens,
        ];
        if prices
            .into_iter()
            .flatten()
            .any(|p| !p.is_finite() || p < 0.0)
        {
            return Err(format!("model {id}: prices must be zero or more"));
        }
        let extra_prices = [
            self.usd_per_million_text_output_tokens,
            self.usd_per_thousand_searches,
        ];
        if extra_prices
            .into_iter()
            .flatten()
            .any(|p| !p.is_finite() || p < 0.0)
        {
            return Err(format!("model {id}: prices must be zero or more"));
        }
        if let Some(bad) = self
            .thinking_levels
            .iter()
            .find(|l| !KNOWN_THINKING_LEVELS.contains(&l.as_str()))
        {
            return Err(format!(
                "model {id}: thinking level {bad:?} is not one of {}",
                KNOWN_THINKING_LEVELS.join(", ")
            ));
        }
        match (
            &self.default_thinking_level,
            self.thinking_levels.is_empty(),
        ) {
            (None, false) => {
                return Err(format!(
                    "model {id}: default_thinking_level is required with thinking_levels"
                ));
            }
            (Some(level), _) if !self.thinking_levels.contains(level) => {
                return Err(format!(
                    "model {id}: default_thinking_level {level:?} is not in thinking_levels"
                ));
            }
            _ => {}
        }
        if let Some(bad) = self
            .grounding
            .iter()
            .find(|g| !KNOWN_GROUNDING.contains(&g.as_str()))
        {
            return Err(format!(
                "model {id}: grounding {bad:?} is not one of {}",
                KNOWN_GROUNDING.join(", ")
            ));
        }
        for (name, date) in [
            ("deprecated", &self.deprecated),
            ("shutdown", &self.shutdown),
        ] {
            if let Some(date) = date
                && !is_date(date)
            {
                return Err(format!(
                    "model {id}: {name} {date:?} is not a date YYYY-MM-DD"
                ));
            }
        }
        if self.usd_per_image(None).is_none() {
            return Err(format!(
                "model {id}: output_tokens has no entry for the default size {:?}",
                self.pricing_size()
            ));
        }
        Ok(())
    }
}

fn is_aspect_ratio(s: &str) -> bool {
    let Some((w, h)) = s.split_once(':') else {
        return false;
    };
    let positive = |n: &str| n.parse::<u16>().is_ok_and(|n| n > 0);
    positive(w) && positive(h)
}

impl ModelTable {
    /// The table named by `GEMFLASH_MODELS_FILE`, or the built-in one.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let var = vars::MODELS_FILE;
        match env.get(var) {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| ConfigError::new(var, format!("cannot read {path:?}: {e}")))?;
                Self::parse(&text).map_err(|e| ConfigError::new(var, format!("in {path:?}: {e}")))
            }
            None => Self::parse(BUILT_IN)
                .map_err(|e| ConfigError::new(var, format!("the built-in table is invalid: {e}"))),
        }
    }

    /// Parses and validates a model table.
    pub fn parse(toml_text: &str) -> Result<Self, String> {
        let table: ModelTable = toml::from_str(toml_text).map_err(|e| e.message().to_owned())?;
        table.validate()?;
        Ok(table)
    }

    fn validate(&self) -> Result<(), String> {
        if self.models.is_empty() {
            return Err("the table lists no models".into());
        }
        let mut seen = HashSet::new();
        for model in &self.models {
            model.validate()?;
            if !seen.insert(model.id.as_str()) {
                return Err(format!("model {} is listed twice", model.id));
            }
        }
        if !seen.contains(self.default.as_str()) {
            return Err(format!(
                "the default model {:?} is not in the table",
                self.default
            ));
        }
        Ok(())
    }

    /// The model with this id.
    pub fn get(&self, id: &str) -> Option<&ModelSpec> {
        self.models.iter().find(|m| m.id == id)
    }

    /// What the image jobs need to know of each model.
    pub fn to_rules(&self) -> Vec<engine::studio::ModelRules> {
        self.models
            .iter()
            .map(|m| engine::studio::ModelRules {
                id: m.id.clone(),
                max_input_images: usize::from(m.edit_images()),
                aspect_ratios: m.aspect_ratios.clone(),
                image_sizes: m.image_sizes.clone(),
                usd_per_image: m
                    .output_tokens
                    .keys()
                    .filter_map(|size| Some((size.clone(), m.usd_per_image(Some(size))?)))
                    .chain(
                        // A request without a size is priced at the model's default size.
                        m.usd_per_image(None).map(|usd| ("1K".to_owned(), usd)),
                    )
                    .collect(),
                usd_per_input_image: f64::from(m.input_tokens_per_image.unwrap_or(0))
                    * m.usd_per_million_input_tokens.unwrap_or(0.0)
                    / 1_000_000.0,
                label: m.label.clone(),
                thinking_levels: m.thinking_levels.clone(),
                always_thinks: m.always_thinks,
                web_search: m.grounding.iter().any(|g| g == "web"),
                multi_turn: m.multi_turn,
                input_tokens_per_image: m.input_tokens_per_image.unwrap_or(1120),
                usd_per_search: m.usd_per_thousand_searches.unwrap_or(0.0) / 1_000.0,
            })
            .collect()
    }

    /// Per-token prices by model id, for the Gemini client to cost each call.
    pub fn prices(&self) -> std::collections::HashMap<String, gemini::Pricing> {
        self.models
            .iter()
            .map(|m| {
                let pricing = gemini::Pricing {
                    usd_per_million_input_tokens: m.usd_per_million_input_tokens.unwrap_or(0.0),
                    usd_per_million_output_tokens: m.usd_per_million_output_tokens,
                    usd_per_million_text_output_tokens: m.usd_per_million_text_output_tokens,
                    usd_per_thousand_searches: m.usd_per_thousand_searches.unwrap_or(0.0),
                };
                (m.id.clone(), pricing)
            })
            .collect()
    }

    /// The browser's view of the table, with what is known of each model's availability.
    pub fn to_protocol(
        &self,
        availability: impl Fn(&str) -> protocol::Availability,
    ) -> Vec<protocol::ModelInfo> {
        self.models
            .iter()
            .map(|m| protocol::ModelInfo {
                id: m.id.clone(),
                label: m.label.clone(),
                max_input_images: m.edit_images(),
                aspect_ratios: m.aspect_ratios.clone(),
                image_sizes: m.image_sizes.clone(),
                usd_per_image: m.usd_per_image(None).unwrap_or_default(),
                deprecated: m.deprecated.clone(),
                shutdown: m.shutdown.clone(),
                thinking_levels: m.thinking_levels.clone(),
                default_thinking_level: m.default_thinking_level.clone(),
                always_thinks: m.always_thinks,
                web_search: m.grounding.iter().any(|g| g == "web"),
                multi_turn: m.multi_turn,
                c2pa: m.c2pa,
                availability: availability(&m.id),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE_MODEL: &str = r#"
        default = "m-1"
        [[models]]
        id = "m-1"
        label = "Model one"
        max_input_images = 3
        aspect_ratios = ["1:1", "16:9"]
        image_sizes = ["1K", "2K"]
        default_image_size = "1K"
        usd_per_million_output_tokens = 60.0
        output_tokens = { "1K" = 1120, "2K" = 1680 }
    "#;

    #[test]
    fn models_file_is_read_and_validated() {
        use crate::config::tests::config;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("models.toml");
        std::fs::write(
            &path,
            BUILT_IN.replace(
                "default = \"gemini-nano-banana-2.1\"",
                "default = \"gemini-3-pro-image\"",
            ),
        )
        .unwrap();
        let c = config(&[(vars::MODELS_FILE, path.to_str().unwrap())]).unwrap();
        assert_eq!(c.models.default, "gemini-3-pro-image");

        std::fs::write(&path, "default = 1").unwrap();
        let e = config(&[(vars::MODELS_FILE, path.to_str().unwrap())]).unwrap_err();
        assert_eq!(e.var, vars::MODELS_FILE);

        let e = config(&[(vars::MODELS_FILE, "/nonexistent/models.toml")]).unwrap_err();
        assert!(e.problem.contains("cannot read"), "{e}");
    }

    #[test]
    fn built_in_table_is_valid() {
        let table = ModelTable::parse(BUILT_IN).unwrap();
        assert!(table.get(&table.default).is_some());
    }

    #[test]
    fn built_in_prices_match_the_published_per_image_prices() {
        let table = ModelTable::parse(BUILT_IN).unwrap();
        let flash = table.get("gemini-3.1-flash-image").unwrap();
        let cents = |p: Option<f64>| p.map(|p| (p * 1000.0).round() / 1000.0);
        assert_eq!(cents(flash.usd_per_image(Some("512"))), Some(0.045));
        assert_eq!(cents(flash.usd_per_image(Some("1K"))), Some(0.067));
        assert_eq!(cents(flash.usd_per_image(Some("4K"))), Some(0.151));
        let pro = table.get("gemini-3-pro-image").unwrap();
        assert_eq!(cents(pro.usd_per_image(None)), Some(0.134));
        assert_eq!(cents(pro.usd_per_image(Some("4K"))), Some(0.24));
    }

    #[test]
    fn the_built_in_table_is_current() {
        let table = ModelTable::parse(BUILT_IN).unwrap();
        assert_eq!(table.default, "gemini-nano-banana-2.1");
        let nb = table.get("gemini-nano-banana-2.1").unwrap();
        assert_eq!(nb.image_sizes, ["1K", "2K", "4K"], "2.1 has no 512");
        assert_eq!(nb.aspect_ratios.len(), 14);
        assert_eq!(nb.thinking_levels, ["minimal", "medium", "high"]);
        assert!(nb.multi_turn && nb.deprecated.is_none());
        let cents = |p: Option<f64>| p.map(|p| (p * 10_000.0).round() / 10_000.0);
        assert_eq!(cents(nb.usd_per_image(None)), Some(0.0336));
        let flash = table.get("gemini-3.1-flash-image").unwrap();
        assert_eq!(flash.deprecated.as_deref(), Some("2026-10-06"));
        let lite = table.get("gemini-3.1-flash-lite-image").unwrap();
        assert!(lite.c2pa && !lite.multi_turn && lite.thinking_levels.is_empty());
        let rules = table.to_rules();
        let pro = rules.iter().find(|r| r.id == "gemini-3-pro-image").unwrap();
        assert!(pro.always_thinks && pro.web_search);
        assert!((pro.usd_per_search - 0.014).abs() < 1e-12);
    }

    #[test]
    fn thinking_grounding_and_dates_are_checked() {
        let with = |extra: &str| ONE_MODEL.replace("label =", &format!("{extra}\n label ="));
        assert!(
            ModelTable::parse(&with("thinking_levels = [\"high\"]"))
                .unwrap_err()
                .contains("default_thinking_level")
        );
        assert!(
            ModelTable::parse(&with(
                "thinking_levels = [\"deep\"]\ndefault_thinking_level = \"deep\""
            ))
            .unwrap_err()
            .contains("\"deep\"")
        );
        assert!(
            ModelTable::parse(&with("grounding = [\"maps\"]"))
                .unwrap_err()
                .contains("\"maps\"")
        );
        assert!(
            ModelTable::parse(&with("deprecated = \"soon\""))
                .unwrap_err()
                .contains("YYYY-MM-DD")
        );
        assert!(
            ModelTable::parse(&with("usd_per_thousand_searches = -1.0"))
                .unwrap_err()
                .contains("prices")
        );
        let ok = ModelTable::parse(&with(
            "thinking_levels = [\"minimal\", \"high\"]\ndefault_thinking_level = \"high\"\ngrounding = [\"web\"]\nshutdown = \"2027-01-31\"",
        ))
        .unwrap();
        let info = ok.to_protocol(|_| protocol::Availability::Available);
        assert_eq!(info[0].default_thinking_level.as_deref(), Some("high"));
        assert!(info[0].web_search);
        assert_eq!(info[0].availability, protocol::Availability::Available);
    }

    #[test]
    fn unknown_size_has_no_price() {
        let table = ModelTable::parse(ONE_MODEL).unwrap();
        assert_eq!(table.models[0].usd_per_image(Some("4K")), None);
    }

    #[test]
    fn default_model_must_be_listed() {
        let text = ONE_MODEL.replace("default = \"m-1\"", "default = \"m-2\"");
        let err = ModelTable::parse(&text).unwrap_err();
        assert!(err.contains("\"m-2\" is not in the table"), "{err}");
    }

    #[test]
    fn unknown_fields_are_refused() {
        let text = ONE_MODEL.replace("label =", "colour = \"red\"\n label =");
        let err = ModelTable::parse(&text).unwrap_err();
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn bad_aspect_ratio_is_named() {
        let text = ONE_MODEL.replace("\"16:9\"", "\"16x9\"");
        let err = ModelTable::parse(&text).unwrap_err();
        assert!(err.contains("\"16x9\""), "{err}");
    }

    #[test]
    fn negative_price_is_refused() {
        let text = ONE_MODEL.replace("= 60.0", "= -1.0");
        assert!(ModelTable::parse(&text).unwrap_err().contains("prices"));
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let second = ONE_MODEL.split_once("[[models]]").unwrap().1;
        let text = format!("{ONE_MODEL}\n[[models]]{second}");
        assert!(
            ModelTable::parse(&text)
                .unwrap_err()
                .contains("listed twice")
        );
    }

    #[test]
    fn default_size_must_be_offered() {
        let text = ONE_MODEL.replace("default_image_size = \"1K\"", "default_image_size = \"4K\"");
        assert!(
            ModelTable::parse(&text)
                .unwrap_err()
                .contains("not in image_sizes")
        );
    }

    #[test]
    fn protocol_view_carries_the_default_size_price() {
        let table = ModelTable::parse(ONE_MODEL).unwrap();
        let info = table.to_protocol(|_| protocol::Availability::Unchecked);
        assert_eq!(info.len(), 1);
        assert!((info[0].usd_per_image - 0.0672).abs() < 1e-9);
    }
}
