//! The built files a page loads (`/pkg`), by the names the build gave them, and the script
//! that makes a page live.
//!
//! The release build (`cargo leptos build` with `hash-files = true`) names every file of
//! `/pkg` `name.<hash>.ext`, the hash being of the file's content, and lists the hashes in
//! `hash.txt` beside the server binary. [`BuiltFiles`] reads that list once, and [`PageHead`]
//! makes the page's loader scripts from it once; the server provides the `PageHead` to every
//! page as context, and [`PageStylesheet`] and [`PageScripts`] link by it. Without the list the
//! names are plain.
//!
//! **When the code loads.** Every page is whole as the server sends it (the editor's page
//! says what it needs until it is live), so no page carries a preload of the WASM in its
//! head, and the script that imports it waits until the browser is idle after the first paint:
//! the stylesheet and the images a page shows have the connection to themselves, and on a
//! slow phone the WASM does not push the gallery's thumbnails back. Only the islands
//! (`#[island]`) are code: a page without one (the gallery, an image's page) loads none, and
//! on the editor the script first asks for the editor island's chunk, which then downloads
//! beside the main module.

use std::sync::Arc;

use leptos::config::LeptosOptions;
use leptos::prelude::*;

/// The paths of the built files, as pages link them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltFiles {
    /// Every name under `/pkg` carries its content's hash.
    pub hashed: bool,
    /// `/pkg/gemflash.<hash>.css`
    pub stylesheet: String,
    /// `/pkg/gemflash.<hash>.js`, the module that loads the WASM and hydrates.
    pub script: String,
    /// `/pkg/gemflash.<hash>.wasm`
    pub wasm: String,
    /// The editor's WASM chunks in a split build (`split_editor_island_loader_<id>.<hash>.wasm`).
    pub editor_chunks: Vec<String>,
}

impl BuiltFiles {
    /// The hash file beside the running binary, where the build puts it.
    pub fn hash_file(options: &LeptosOptions) -> Option<std::path::PathBuf> {
        let exe = std::env::current_exe().ok()?;
        Some(exe.parent()?.join(options.hash_file.as_ref()))
    }

    /// The files as the build left them: hashed names when the hash file (beside the binary,
    /// or where `options.hash_file` points) lists a hash for each of the stylesheet, the
    /// script and the WASM; plain names otherwise. Read once, when the server starts; the
    /// server needs no setting to find its own files. `LEPTOS_HASH_FILES=false` (what
    /// `cargo leptos watch` passes when it does not hash, as the `dev` task asks) leaves a
    /// hash file from an earlier build unread.
    pub fn of(options: &LeptosOptions) -> Self {
        let unhashed = std::env::var("LEPTOS_HASH_FILES").is_ok_and(|v| v == "false");
        let hashes = (!unhashed)
            .then(|| Self::hash_file(options))
            .flatten()
            .and_then(|path| std::fs::read_to_string(path).ok());
        let mut files = Self::from_hashes(options, hashes.as_deref());
        // The split build's manifest: which chunks each lazy island needs.
        let manifest_name = match hash_of(hashes.as_deref(), "manifest") {
            Some(hash) if files.hashed => format!("__wasm_split_manifest.{hash}.json"),
            _ => "__wasm_split_manifest.json".to_owned(),
        };
        let manifest = std::path::Path::new(options.site_root.as_ref())
            .join(options.site_pkg_dir.as_ref())
            .join(manifest_name);
        if let Ok(text) = std::fs::read_to_string(manifest) {
            files.add_split(options, &text);
        }
        files
    }

    /// Takes the editor's chunks from the split manifest (`{"editor_island_loader_<id>":
    /// ["split_editor_island_loader_<id>.<hash>"]}`).
    fn add_split(&mut self, options: &LeptosOptions, manifest: &str) {
        let Ok(routes) =
            serde_json::from_str::<std::collections::BTreeMap<String, Vec<String>>>(manifest)
        else {
            return;
        };
        let pkg = format!("/{}", options.site_pkg_dir);
        self.editor_chunks = routes
            .iter()
            .filter(|(name, _)| name.starts_with(EDITOR_CHUNK_KEY))
            .flat_map(|(_, chunks)| chunks)
            .filter(|chunk| {
                chunk
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
            })
            .map(|chunk| format!("{pkg}/{chunk}.wasm"))
            .collect();
    }

    pub fn from_hashes(options: &LeptosOptions, hashes: Option<&str>) -> Self {
        let pkg = format!("/{}/{}", options.site_pkg_dir, options.output_name);
        match (
            hash_of(hashes, "css"),
            hash_of(hashes, "js"),
            hash_of(hashes, "wasm"),
        ) {
            (Some(css), Some(js), Some(wasm)) => Self {
                hashed: true,
                stylesheet: format!("{pkg}.{css}.css"),
                script: format!("{pkg}.{js}.js"),
                wasm: format!("{pkg}.{wasm}.wasm"),
                editor_chunks: Vec::new(),
            },
            _ => Self {
                hashed: false,
                stylesheet: format!("{pkg}.css"),
                script: format!("{pkg}.js"),
                // cargo-leptos renames wasm-bindgen's `_bg` file when it builds the app.
                wasm: if option_env!("LEPTOS_OUTPUT_NAME").is_some() {
                    format!("{pkg}.wasm")
                } else {
                    format!("{pkg}_bg.wasm")
                },
                editor_chunks: Vec::new(),
            },
        }
    }
}

/// The hash the hash file gives for one kind of file (`css: <hash>`).
fn hash_of<'a>(hashes: Option<&'a str>, kind: &str) -> Option<&'a str> {
    hashes?
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(k, _)| k.trim() == kind)
        .map(|(_, hash)| hash.trim())
        .filter(|hash| is_hash(hash))
}

/// A cargo-leptos content hash: 22 characters of unpadded URL-safe base64 (an MD5).
fn is_hash(text: &str) -> bool {
    text.len() == 22
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What a page's head links, made once when the server starts and shared by every render.
#[derive(Debug)]
pub struct PageHead {
    pub files: BuiltFiles,
    /// The loader of every page but the editor's ([`idle_loader`]).
    loader: String,
    /// The editor's, which first asks for the editor's chunks.
    editor_loader: String,
}

impl PageHead {
    pub fn new(files: BuiltFiles) -> Arc<Self> {
        Arc::new(Self {
            loader: idle_loader(&files, &[]),
            editor_loader: idle_loader(&files, &files.editor_chunks),
            files,
        })
    }

    /// The one the server provided, or (outside a server) one read now.
    fn current(options: &LeptosOptions) -> Arc<Self> {
        use_context::<Arc<Self>>().unwrap_or_else(|| Self::new(BuiltFiles::of(options)))
    }
}

/// The app's stylesheet, by its built name.
#[component]
pub fn PageStylesheet(options: LeptosOptions) -> impl IntoView {
    let head = PageHead::current(&options);
    view! { <link id="leptos" rel="stylesheet" href=head.files.stylesheet.clone() /> }
}

/// The script in a page's head: it imports the module and hydrates once the page has painted
/// and the browser is idle; on the editor it first asks for the editor's chunk, so the chunk
/// downloads beside the main module instead of after it.
#[component]
pub fn PageScripts(options: LeptosOptions) -> impl IntoView {
    let editor =
        use_context::<http::request::Parts>().is_some_and(|parts| parts.uri.path() == "/editor");
    let head = PageHead::current(&options);
    let loader = if editor {
        head.editor_loader.clone()
    } else {
        head.loader.clone()
    };
    view! {
        <script type="module" nonce=leptos::nonce::use_nonce()>
            {loader}
        </script>
    }
}

/// The name the split build gives the editor island's code (`#[island(lazy)] fn EditorIsland`
/// becomes the lazy function `editor_island_loader_<hash>` in the split manifest).
const EDITOR_CHUNK_KEY: &str = "editor_island_loader_";

/// The loader: once the browser is idle (at the latest 2 s after the page ran its scripts, so a
/// page that is never idle still comes alive), and only if the page has islands, it preloads
/// `chunks`, imports the module, sets up the runtime and makes each island live in document
/// order (awaiting one whose code is a chunk). An island that fails (its chunk does not load,
/// its code stops) is said in the console and the next one still starts. Then it marks the
/// document `data-hydrated="true"`, or `"error"` when an island or the module failed; a page
/// without islands is marked at once and loads no code at all. Only an export named as
/// the island macro names them (`Name_<digits>`) is called: an element that names another
/// export (`hydrate`, the module's initialiser) is refused.
fn idle_loader(files: &BuiltFiles, chunks: &[String]) -> String {
    // The paths are the build's own names (letters, digits, `/._-`), quoted as JSON strings.
    let script = serde_json::to_string(&files.script).unwrap_or_default();
    let wasm = serde_json::to_string(&files.wasm).unwrap_or_default();
    let chunks = serde_json::to_string(chunks).unwrap_or_default();
    format!(
        "const done=ok=>{{document.documentElement.dataset.hydrated=ok?\"true\":\"error\"}};\
         const live=()=>{{const islands=[...document.querySelectorAll(\"leptos-island\")];\
         if(!islands.length){{done(true);return}}\
         for(const c of {chunks}){{const l=document.createElement(\"link\");\
         l.rel=\"preload\";l.as=\"fetch\";l.type=\"application/wasm\";l.crossOrigin=\"anonymous\";\
         l.href=c;document.head.append(l)}}\
         import({script}).then(m=>m.default({{module_or_path:{wasm}}}).then(async()=>{{m.hydrate();\
         let ok=true;\
         for(const el of islands){{const n=el.dataset.component||\"\";\
         const f=/^[A-Z][A-Za-z0-9]*_[0-9]+$/.test(n)?m[n]:undefined;\
         if(typeof f!==\"function\"){{console.error(\"no code for the island\",n);ok=false;continue}}\
         try{{await f(el)}}catch(e){{console.error(\"the island did not start\",n,e);ok=false}}}}\
         done(ok)}})).catch(e=>{{console.error(\"the page code did not load\",e);done(false)}})}};\
         if(\"requestIdleCallback\" in window){{requestIdleCallback(live,{{timeout:2000}})}}else{{setTimeout(live,0)}}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> LeptosOptions {
        LeptosOptions::builder().output_name("gemflash").build()
    }

    const HASHES: &str = "js: AAAAAAAAAAAAAAAAAAAAAA\nwasm: BBBBBBBBBBBBBBBBBBBBBB\n\
                          css: Zx-_9aZx-_9aZx-_9aZx-_\nsplit: CCCCCCCCCCCCCCCCCCCCCC\n";

    #[test]
    fn the_names_take_their_hashes_from_the_hash_file() {
        let files = BuiltFiles::from_hashes(&options(), Some(HASHES));
        assert!(files.hashed);
        assert_eq!(files.stylesheet, "/pkg/gemflash.Zx-_9aZx-_9aZx-_9aZx-_.css");
        assert_eq!(files.script, "/pkg/gemflash.AAAAAAAAAAAAAAAAAAAAAA.js");
        assert_eq!(files.wasm, "/pkg/gemflash.BBBBBBBBBBBBBBBBBBBBBB.wasm");
    }

    #[test]
    fn without_a_usable_hash_for_each_file_the_names_are_plain() {
        for hashes in [
            None,
            Some(""),
            Some("js: AAAAAAAAAAAAAAAAAAAAAA\nwasm: BBBBBBBBBBBBBBBBBBBBBB\n"),
            Some(
                "js: AAAAAAAAAAAAAAAAAAAAAA\nwasm: BBBBBBBBBBBBBBBBBBBBBB\ncss: ../../etc/passwd\n",
            ),
            Some("js: short\nwasm: BBBBBBBBBBBBBBBBBBBBBB\ncss: Zx-_9aZx-_9aZx-_9aZx-_\n"),
        ] {
            let files = BuiltFiles::from_hashes(&options(), hashes);
            assert!(!files.hashed, "{hashes:?}");
            assert_eq!(files.stylesheet, "/pkg/gemflash.css");
            assert_eq!(files.script, "/pkg/gemflash.js");
            assert!(files.wasm.starts_with("/pkg/gemflash"), "{}", files.wasm);
        }
    }

    #[test]
    fn the_editor_chunks_come_from_the_split_manifest() {
        let mut files = BuiltFiles::from_hashes(&options(), Some(HASHES));
        files.add_split(
            &options(),
            r#"{"editor_island_loader_42":["split_editor_island_loader_42.DDDDDDDDDDDDDDDDDDDDDD"],
                "other_island_loader_7":["split_other_island_loader_7.EEEEEEEEEEEEEEEEEEEEEE"],
                "editor_island_loader_43":["../../etc/passwd\"><script>"]}"#,
        );
        assert_eq!(
            files.editor_chunks,
            ["/pkg/split_editor_island_loader_42.DDDDDDDDDDDDDDDDDDDDDD.wasm"]
        );
    }

    #[test]
    fn the_idle_loader_imports_the_built_module_and_hydrates_when_idle() {
        let files = BuiltFiles::from_hashes(&options(), Some(HASHES));
        let script = idle_loader(&files, &[]);
        assert!(script.contains(r#"import("/pkg/gemflash.AAAAAAAAAAAAAAAAAAAAAA.js")"#));
        assert!(script.contains(r#"module_or_path:"/pkg/gemflash.BBBBBBBBBBBBBBBBBBBBBB.wasm""#));
        assert!(script.contains("m.hydrate()"));
        assert!(script.contains("requestIdleCallback(live,{timeout:2000})"));
        assert!(script.contains("for(const c of [])"));
        // Each island by the export its element names; a page without one loads nothing.
        assert!(script.contains(r#"querySelectorAll("leptos-island")"#));
        assert!(script.contains(r#"/^[A-Z][A-Za-z0-9]*_[0-9]+$/.test(n)?m[n]:undefined"#));
        assert!(script.contains("if(!islands.length){done(true);return}"));
        // One island failing neither stops the others nor passes for success.
        assert!(script.contains("try{await f(el)}catch(e){"));
        assert!(script.contains("done(ok)"));
        assert!(script.contains(".catch(e=>{"));
        let editor = idle_loader(&files, &["/pkg/split_editor_island_loader_1.D.wasm".into()]);
        assert!(editor.contains(r#"for(const c of ["/pkg/split_editor_island_loader_1.D.wasm"])"#));
    }
}
