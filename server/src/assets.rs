//! How long browsers may keep the site's static files: the built files under `/pkg` and the
//! icon. Every rule is here; the security headers' middleware asks
//! [`static_cache_control`] for each response that set no `Cache-Control` of its own.
//!
//! The release build (`cargo leptos build` with `hash-files = true`) renames every file of
//! `/pkg` to `name.<hash>.ext`, the hash being of the file's content, and writes the hashes to
//! `hash.txt` beside the server binary. A name then stands for exactly one content, so the
//! files may be cached for a year without asking again (`immutable`), and a new build is
//! fetched because its names are new. Without the hash file (a build made some other way)
//! the names are plain and every use revalidates (`no-cache`). The names themselves are read
//! by [`app::page_scripts::BuiltFiles`], which pages link them by.

use app::page_scripts::BuiltFiles;

/// `Cache-Control` for the built WASM and stylesheet under `/pkg`. With access control on, a
/// year in the browser's own cache only (`private`): a shared cache must not hand the app to
/// someone who has not signed in.
pub fn pkg_cache_control(files: &BuiltFiles, access_control: bool) -> &'static str {
    match (files.hashed, access_control) {
        (true, false) => "public, max-age=31536000, immutable",
        (true, true) => "private, max-age=31536000, immutable",
        (false, _) => "no-cache",
    }
}

/// How a static file may be cached: the built WASM and stylesheet by `pkg` (what
/// [`pkg_cache_control`] gave at start-up), scripts and the icon revalidated on every use;
/// `None` for anything that is not a static file.
///
/// Scripts are revalidated even with hashed names: the build's two scripts name each other
/// (the module imports the split loader, which imports the module), and cargo-leptos hashes
/// them before it writes those names in, so a script's name can stay the same while what it
/// imports is renamed. Kept for a year, a script from an earlier build would then import a
/// file that is gone. They are 11 KB; the 600 KB of WASM is what the year of caching is for.
pub fn static_cache_control(path: &str, pkg: &'static str) -> Option<&'static str> {
    match path.strip_prefix("/pkg/") {
        Some(file) if file.ends_with(".js") => Some("no-cache"),
        Some(_) => Some(pkg),
        None => (path == "/favicon.svg").then_some("no-cache"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(hashes: Option<&str>) -> BuiltFiles {
        let options = leptos::config::LeptosOptions::builder()
            .output_name("gemflash")
            .build();
        BuiltFiles::from_hashes(&options, hashes)
    }

    #[test]
    fn hashed_names_are_kept_a_year_and_privately_behind_access_control() {
        let hashed = files(Some(
            "js: AAAAAAAAAAAAAAAAAAAAAA\nwasm: BBBBBBBBBBBBBBBBBBBBBB\ncss: Zx-_9aZx-_9aZx-_9aZx-_\n",
        ));
        assert_eq!(
            pkg_cache_control(&hashed, false),
            "public, max-age=31536000, immutable"
        );
        assert_eq!(
            pkg_cache_control(&hashed, true),
            "private, max-age=31536000, immutable"
        );
    }

    #[test]
    fn plain_names_are_revalidated() {
        for hashes in [None, Some("css: Zx-_9aZx-_9aZx-_9aZx-_\n")] {
            assert_eq!(pkg_cache_control(&files(hashes), false), "no-cache");
            assert_eq!(pkg_cache_control(&files(hashes), true), "no-cache");
        }
    }
}
