//! What an image job may use: pixels per image and per request, the process-wide
//! image-memory budget, the jobs doing image work at once, how long an upload may take, how
//! much the store may hold, and the mask's feather.

use std::time::Duration;

use protocol::limits;

use super::{ConfigError, Env, vars};

pub const DEFAULT_FEATHER_PX: u32 = 8;
/// For a 2-core, 2 GB machine: room for a few 12 MP edits at once, with the rest of the
/// process (about 60 MB) and the operating system beside it.
pub const DEFAULT_IMAGE_MEMORY_MB: u64 = 768;
pub const DEFAULT_UPLOAD_DEADLINE: Duration = Duration::from_secs(120);
/// What the gallery may hold unless told otherwise: every resource has a bound by default.
pub const DEFAULT_STORAGE_MAX_GB: f64 = 20.0;

#[derive(Debug, Clone, PartialEq)]
pub struct ImageConfig {
    /// How far inside the mask's edge an edit fades in, in pixels.
    pub feather_px: u32,
    /// Width × height of one image.
    pub max_image_pixels: u64,
    /// Width × height of all the images of one request together.
    pub max_request_pixels: u64,
    /// The process-wide budget for image memory, in bytes.
    pub memory_bytes: u64,
    /// Jobs doing image work (decoding, compositing, encoding, storing) at once; the others
    /// wait their turn in arrival order.
    pub workers: usize,
    /// How long an upload may take in all, however steadily it arrives.
    pub upload_deadline: Duration,
    /// The most the store may hold (files and database), in bytes.
    pub storage_max_bytes: Option<u64>,
}

impl ImageConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let megapixels = |var, default: u64, max| {
            env.number(var, default / 1_000_000, 1..=max, "megapixels")
                .map(|mp| mp * 1_000_000)
        };
        let max_image_pixels = megapixels(vars::IMAGE_MEGAPIXELS, limits::MAX_IMAGE_PIXELS, 100)?;
        let max_request_pixels =
            megapixels(vars::REQUEST_MEGAPIXELS, limits::MAX_REQUEST_PIXELS, 1_000)?;
        if max_request_pixels < max_image_pixels {
            return Err(ConfigError::new(
                vars::REQUEST_MEGAPIXELS,
                format!(
                    "is below {} ({} megapixels): one image could never be sent",
                    vars::IMAGE_MEGAPIXELS,
                    max_image_pixels / 1_000_000
                ),
            ));
        }
        let storage_max_bytes = env
            .positive_amount(vars::STORAGE_MAX, "10 or 0.5")?
            .or(Some(DEFAULT_STORAGE_MAX_GB))
            .map(|gb| (gb * 1024.0 * 1024.0 * 1024.0) as u64);
        Ok(Self {
            feather_px: env.number(vars::FEATHER, DEFAULT_FEATHER_PX, 0..=256, "pixels")?,
            max_image_pixels,
            max_request_pixels,
            memory_bytes: env.number(
                vars::IMAGE_MEMORY,
                DEFAULT_IMAGE_MEMORY_MB,
                64..=1_048_576,
                "megabytes",
            )? * 1024
                * 1024,
            workers: env.number(
                vars::IMAGE_WORKERS,
                engine::studio::default_image_workers(),
                1..=256,
                "jobs",
            )?,
            upload_deadline: env.seconds(
                vars::UPLOAD_DEADLINE,
                DEFAULT_UPLOAD_DEADLINE,
                5..=3600,
            )?,
            storage_max_bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::config;
    use super::*;

    #[test]
    fn image_limits_default_to_the_shared_ones_and_can_be_lowered() {
        let c = config(&[]).unwrap().images;
        assert_eq!(c.max_image_pixels, limits::MAX_IMAGE_PIXELS);
        assert_eq!(c.max_request_pixels, limits::MAX_REQUEST_PIXELS);
        assert_eq!(c.memory_bytes, 768 * 1024 * 1024);
        assert_eq!(c.storage_max_bytes, Some(20 * 1024 * 1024 * 1024));
        assert_eq!(c.feather_px, 8);
        assert_eq!(c.workers, engine::studio::default_image_workers());
        let c = config(&[
            (vars::IMAGE_WORKERS, "3"),
            (vars::IMAGE_MEGAPIXELS, "12"),
            (vars::REQUEST_MEGAPIXELS, "24"),
            (vars::IMAGE_MEMORY, "256"),
            (vars::STORAGE_MAX, "0.5"),
            (vars::UPLOAD_DEADLINE, "30"),
        ])
        .unwrap()
        .images;
        assert_eq!(c.max_image_pixels, 12_000_000);
        assert_eq!(c.max_request_pixels, 24_000_000);
        assert_eq!(c.memory_bytes, 256 * 1024 * 1024);
        assert_eq!(c.storage_max_bytes, Some(512 * 1024 * 1024));
        assert_eq!(c.upload_deadline, Duration::from_secs(30));
        assert_eq!(c.workers, 3);
    }

    #[test]
    fn image_limits_that_cannot_work_are_refused() {
        let e = config(&[(vars::REQUEST_MEGAPIXELS, "10")]).unwrap_err();
        assert_eq!(e.var, vars::REQUEST_MEGAPIXELS);
        assert_eq!(
            config(&[(vars::IMAGE_MEMORY, "8")]).unwrap_err().var,
            vars::IMAGE_MEMORY
        );
        assert_eq!(
            config(&[(vars::STORAGE_MAX, "0")]).unwrap_err().var,
            vars::STORAGE_MAX
        );
        assert_eq!(
            config(&[(vars::FEATHER, "300")]).unwrap_err().var,
            vars::FEATHER
        );
        for workers in ["0", "257", "many"] {
            assert_eq!(
                config(&[(vars::IMAGE_WORKERS, workers)]).unwrap_err().var,
                vars::IMAGE_WORKERS
            );
        }
    }
}
