//! The simulator's model table: the image models it serves, with the output sizes, token
//! counts and limits the real API documents (shared wire notes, §1-§2).

/// One simulated model.
#[derive(Debug, Clone, PartialEq)]
pub struct SimModel {
    pub id: &'static str,
    pub family: Family,
    pub max_input_images: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `gemini-2.5-flash-image`: one size per ratio, 1290 tokens, no `imageSize`.
    Flash25,
    /// `gemini-3-pro-image`: 1K/2K/4K grid; always thinks; often answers JPEG.
    Pro3,
    /// `gemini-3.1-flash-image`: 512/1K/2K/4K grid, four extra extreme ratios.
    Flash31,
    /// `gemini-3.1-flash-lite-image`: 1K only, no thinking, no tools.
    FlashLite31,
    /// `gemini-nano-banana-2.1`: 1K/2K/4K (512 answers 400), all 14 ratios, thinking levels.
    NanoBanana21,
}

pub const MODELS: &[SimModel] = &[
    SimModel {
        id: "gemini-nano-banana-2.1",
        family: Family::NanoBanana21,
        max_input_images: 14,
    },
    SimModel {
        id: "gemini-3.1-flash-image",
        family: Family::Flash31,
        max_input_images: 14,
    },
    SimModel {
        id: "gemini-3-pro-image",
        family: Family::Pro3,
        max_input_images: 14,
    },
    SimModel {
        id: "gemini-3.1-flash-lite-image",
        family: Family::FlashLite31,
        max_input_images: 3,
    },
    SimModel {
        id: "gemini-2.5-flash-image",
        family: Family::Flash25,
        max_input_images: 3,
    },
];

/// Ids the real API once served and now answers 404 for.
pub const RETIRED: &[&str] = &[
    "gemini-2.5-flash-image-preview",
    "gemini-3-pro-image-preview",
    "gemini-3.1-flash-image-preview",
    "gemini-2.0-flash-preview-image-generation",
];

const BASE_RATIOS: &[&str] = &[
    "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9",
];
const EXTRA_RATIOS: &[&str] = &["1:4", "4:1", "1:8", "8:1"];

pub fn find(id: &str) -> Option<&'static SimModel> {
    MODELS.iter().find(|m| m.id == id)
}

impl SimModel {
    pub fn supports_ratio(&self, ratio: &str) -> bool {
        self.ratios().contains(&ratio)
    }

    pub fn ratios(&self) -> Vec<&'static str> {
        let mut all = BASE_RATIOS.to_vec();
        if matches!(
            self.family,
            Family::Flash31 | Family::NanoBanana21 | Family::FlashLite31
        ) {
            all.extend_from_slice(EXTRA_RATIOS);
        }
        all
    }

    /// Sizes accepted for `imageSize`; empty when the field is not accepted.
    pub fn sizes(&self) -> &'static [&'static str] {
        match self.family {
            Family::Flash25 => &[],
            Family::Pro3 | Family::NanoBanana21 => &["1K", "2K", "4K"],
            Family::Flash31 => &["512", "1K", "2K", "4K"],
            Family::FlashLite31 => &["1K"],
        }
    }

    /// Output pixel size for a ratio and size.
    pub fn output_size(&self, ratio: &str, size: &str) -> (u32, u32) {
        if self.family == Family::Flash25 {
            return flash25_size(ratio);
        }
        let (w, h) = grid_1k(ratio);
        match size {
            "512" => (w / 2, h / 2),
            "2K" => (w * 2, h * 2),
            "4K" => (w * 4, h * 4),
            _ => (w, h),
        }
    }

    /// Output tokens of one image.
    pub fn output_tokens(&self, size: &str) -> u32 {
        match (self.family, size) {
            (Family::Flash25, _) => 1290,
            (Family::Pro3, "4K") => 2000,
            (Family::Pro3, _) => 1120,
            (Family::Flash31, "512") => 747,
            (Family::Flash31 | Family::NanoBanana21, "2K") => 1680,
            (Family::Flash31 | Family::NanoBanana21, "4K") => 2520,
            _ => 1120,
        }
    }

    /// Prompt tokens an input image costs.
    pub fn input_image_tokens(&self, width: u32, height: u32) -> u32 {
        match self.family {
            Family::Flash25 => 258 * width.div_ceil(768).max(1) * height.div_ceil(768).max(1),
            Family::Pro3 => 560,
            Family::Flash31 | Family::FlashLite31 | Family::NanoBanana21 => 1120,
        }
    }

    /// Whether the model thinks: thought tokens, and thought signatures on its parts.
    pub fn thinks(&self) -> bool {
        !matches!(self.family, Family::Flash25 | Family::FlashLite31)
    }

    /// The `thinkingLevel` values the model takes (empty: it takes none), and the one it uses
    /// when none is asked for.
    pub fn thinking_levels(&self) -> (&'static [&'static str], Option<&'static str>) {
        match self.family {
            Family::NanoBanana21 => (&["minimal", "medium", "high"], Some("medium")),
            Family::Flash31 => (&["minimal", "high"], Some("minimal")),
            Family::Pro3 | Family::Flash25 | Family::FlashLite31 => (&[], None),
        }
    }

    /// Whether the model takes the Google Search tool.
    pub fn grounds(&self) -> bool {
        matches!(
            self.family,
            Family::NanoBanana21 | Family::Flash31 | Family::Pro3
        )
    }

    /// Whether a model turn sent back without its thought signature is refused (400), as on
    /// the 3.1 Flash family; Pro takes it but loses the context.
    pub fn requires_signatures(&self) -> bool {
        matches!(self.family, Family::NanoBanana21 | Family::Flash31)
    }

    /// Whether it answers JPEG rather than PNG.
    pub fn answers_jpeg(&self) -> bool {
        self.family == Family::Pro3
    }
}

fn flash25_size(ratio: &str) -> (u32, u32) {
    match ratio {
        "2:3" => (832, 1248),
        "3:2" => (1248, 832),
        "3:4" => (864, 1184),
        "4:3" => (1184, 864),
        "4:5" => (896, 1152),
        "5:4" => (1152, 896),
        "9:16" => (768, 1344),
        "16:9" => (1344, 768),
        "21:9" => (1536, 672),
        _ => (1024, 1024),
    }
}

fn grid_1k(ratio: &str) -> (u32, u32) {
    match ratio {
        "2:3" => (848, 1264),
        "3:2" => (1264, 848),
        "3:4" => (896, 1200),
        "4:3" => (1200, 896),
        "4:5" => (928, 1152),
        "5:4" => (1152, 928),
        "9:16" => (768, 1376),
        "16:9" => (1376, 768),
        "21:9" => (1584, 672),
        "1:4" => (512, 2048),
        "4:1" => (2048, 512),
        "1:8" => (384, 3072),
        "8:1" => (3072, 384),
        _ => (1024, 1024),
    }
}

/// The supported ratio closest to `width:height`.
pub fn closest_ratio(model: &SimModel, width: u32, height: u32) -> &'static str {
    let target = f64::from(width.max(1)) / f64::from(height.max(1));
    let value = |r: &str| {
        let (w, h) = r.split_once(':').unwrap_or(("1", "1"));
        w.parse::<f64>().unwrap_or(1.0) / h.parse::<f64>().unwrap_or(1.0)
    };
    model
        .ratios()
        .into_iter()
        .min_by(|a, b| {
            let da = (value(a).ln() - target.ln()).abs();
            let db = (value(b).ln() - target.ln()).abs();
            da.total_cmp(&db)
        })
        .unwrap_or("1:1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_documented_grids() {
        let flash = find("gemini-3.1-flash-image").unwrap();
        assert_eq!(flash.output_size("16:9", "1K"), (1376, 768));
        assert_eq!(flash.output_size("16:9", "4K"), (5504, 3072));
        assert_eq!(flash.output_size("1:1", "512"), (512, 512));
        assert_eq!(flash.output_tokens("2K"), 1680);
        let old = find("gemini-2.5-flash-image").unwrap();
        assert_eq!(old.output_size("21:9", "1K"), (1536, 672));
        assert_eq!(old.output_tokens("1K"), 1290);
    }

    #[test]
    fn extreme_ratios_on_the_flash_family_only() {
        for id in [
            "gemini-3.1-flash-image",
            "gemini-nano-banana-2.1",
            "gemini-3.1-flash-lite-image",
        ] {
            assert!(find(id).unwrap().supports_ratio("8:1"), "{id}");
            assert_eq!(find(id).unwrap().ratios().len(), 14, "{id}");
        }
        assert!(!find("gemini-3-pro-image").unwrap().supports_ratio("8:1"));
    }

    #[test]
    fn nano_banana_21_has_no_512_and_thinks_at_three_levels() {
        let m = find("gemini-nano-banana-2.1").unwrap();
        assert_eq!(m.sizes(), ["1K", "2K", "4K"]);
        assert_eq!(m.thinking_levels().0, ["minimal", "medium", "high"]);
        assert_eq!(m.output_tokens("4K"), 2520);
        assert!(m.grounds() && m.requires_signatures());
        let lite = find("gemini-3.1-flash-lite-image").unwrap();
        assert!(!lite.thinks() && !lite.grounds());
    }

    #[test]
    fn closest_ratio_picks_the_nearest() {
        let pro = find("gemini-3-pro-image").unwrap();
        assert_eq!(closest_ratio(pro, 1920, 1080), "16:9");
        assert_eq!(closest_ratio(pro, 1000, 1000), "1:1");
        assert_eq!(closest_ratio(pro, 3000, 4000), "3:4");
    }
}
