//! The site's built files under `/pkg`: whether their names carry their content's hash, and
//! what the stylesheet is called.
//!
//! The release build (`cargo leptos build` with `hash-files = true`) renames every file of
//! `/pkg` to `name.<hash>.ext`, the hash being of the file's content, and writes the hashes to
//! `hash.txt` beside the server binary. A name then stands for exactly one content, so the
//! files may be cached for a year without asking again (`immutable`), and a new build is
//! fetched because its names are new. Without the hash file (a build made some other way)
//! the names are plain and every use revalidates (`no-cache`). The names themselves are read
//! by [`app::page_scripts::BuiltFiles`], which pages link them by.

use app::page_scripts::BuiltFiles;
use leptos::config::LeptosOptions;

/// What the server knows of the built files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assets {
    pub files: BuiltFiles,
}

impl Assets {
    /// Reads the build's hash file (once, when the router is made).
    pub fn of(options: &LeptosOptions) -> Self {
        Self {
            files: BuiltFiles::of(options),
        }
    }

    /// `Cache-Control` for the files under `/pkg`. With access control on, a year in the
    /// browser's own cache only (`private`): a shared cache must not hand the app to someone
    /// who has not signed in.
    pub fn cache_control(&self, access_control: bool) -> &'static str {
        match (self.files.hashed, access_control) {
            (true, false) => "public, max-age=31536000, immutable",
            (true, true) => "private, max-age=31536000, immutable",
            (false, _) => "no-cache",
        }
    }
}

/// Turns hashed names on when the build left its hash file beside the running binary, so the
/// server needs no setting to find its own files.
pub fn detect_hashed_names(options: &mut LeptosOptions) {
    if !options.hash_files {
        options.hash_files = BuiltFiles::hash_file(options).is_some_and(|p| p.is_file());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assets(hashes: Option<&str>) -> Assets {
        let options = LeptosOptions::builder().output_name("gemflash").build();
        Assets {
            files: BuiltFiles::from_hashes(&options, hashes),
        }
    }

    #[test]
    fn hashed_names_are_kept_a_year_and_privately_behind_access_control() {
        let hashed = assets(Some(
            "js: AAAAAAAAAAAAAAAAAAAAAA\nwasm: BBBBBBBBBBBBBBBBBBBBBB\ncss: Zx-_9aZx-_9aZx-_9aZx-_\n",
        ));
        assert_eq!(
            hashed.cache_control(false),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(
            hashed.cache_control(true),
            "private, max-age=31536000, immutable"
        );
    }

    #[test]
    fn plain_names_are_revalidated() {
        for hashes in [None, Some("css: Zx-_9aZx-_9aZx-_9aZx-_\n")] {
            assert_eq!(assets(hashes).cache_control(false), "no-cache");
            assert_eq!(assets(hashes).cache_control(true), "no-cache");
        }
    }
}
