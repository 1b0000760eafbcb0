//! Drafts: the editor's work kept in the browser (IndexedDB) as the person works, so a reload,
//! a trip to the gallery and back, or a crashed tab loses nothing: the sources (as the files
//! themselves, or a stored image's id), each source's mask and undo history (within a cap),
//! which one is being edited, the prompt and every choice. Nothing leaves the browser: uploads
//! still reach the server only when sent.
//!
//! There is one draft per browser profile (one IndexedDB store, one record). It is written a
//! moment after each change, restored when the editor opens without a source in its address,
//! and cleared when its job succeeds (or cut to its settings, when the person keeps those).

use js_sys::{Array, Object, Reflect, Uint8Array};
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{Blob, IdbDatabase, IdbOpenDbRequest, IdbRequest, IdbTransactionMode};

use super::{
    EditorState,
    sources::{self, Status},
};

const DATABASE: &str = "gemflash";
const STORE: &str = "drafts";
const KEY: &str = "current";

/// The most bytes of undo history kept per source (the newest steps; a mask is kept whole).
pub const MAX_HISTORY_BYTES: usize = 4 * 1024 * 1024;

/// The editor's work, as kept.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    pub prompt: String,
    pub model: String,
    pub ratio: String,
    pub size: String,
    pub thinking: String,
    pub grounding: bool,
    pub conversation: bool,
    pub sources: Vec<DraftSource>,
}

/// One source of a draft.
#[derive(Debug, Clone)]
pub struct DraftSource {
    pub name: String,
    /// An upload: the file itself.
    pub file: Option<Blob>,
    /// A stored image.
    pub stored_id: Option<String>,
    /// The mask as a PNG, when anything is painted.
    pub mask: Option<Blob>,
    /// The undo history (`mask::History::to_bytes`).
    pub history: Option<Vec<u8>>,
    /// Whether it is the one being edited.
    pub active: bool,
}

impl Draft {
    /// Whether there is anything to keep.
    pub fn is_empty(&self) -> bool {
        self.prompt.trim().is_empty() && self.sources.is_empty()
    }
}

fn set(object: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(object, &key.into(), value);
}

fn text(object: &JsValue, key: &str) -> String {
    Reflect::get(object, &key.into())
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

fn flag(object: &JsValue, key: &str) -> bool {
    Reflect::get(object, &key.into())
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

fn blob(object: &JsValue, key: &str) -> Option<Blob> {
    Reflect::get(object, &key.into()).ok()?.dyn_into().ok()
}

impl Draft {
    fn to_js(&self) -> JsValue {
        let record = Object::new();
        set(&record, "version", &1.into());
        set(&record, "prompt", &self.prompt.as_str().into());
        set(&record, "model", &self.model.as_str().into());
        set(&record, "ratio", &self.ratio.as_str().into());
        set(&record, "size", &self.size.as_str().into());
        set(&record, "thinking", &self.thinking.as_str().into());
        set(&record, "grounding", &self.grounding.into());
        set(&record, "conversation", &self.conversation.into());
        let sources = Array::new();
        for source in &self.sources {
            let item = Object::new();
            set(&item, "name", &source.name.as_str().into());
            if let Some(file) = &source.file {
                set(&item, "file", file);
            }
            if let Some(id) = &source.stored_id {
                set(&item, "stored_id", &id.as_str().into());
            }
            if let Some(mask) = &source.mask {
                set(&item, "mask", mask);
            }
            if let Some(history) = &source.history {
                set(&item, "history", &Uint8Array::from(history.as_slice()));
            }
            set(&item, "active", &source.active.into());
            sources.push(&item);
        }
        set(&record, "sources", &sources);
        record.into()
    }

    fn from_js(record: &JsValue) -> Option<Self> {
        if Reflect::get(record, &"version".into()).ok()?.as_f64() != Some(1.0) {
            return None;
        }
        let sources: Array = Reflect::get(record, &"sources".into())
            .ok()?
            .dyn_into()
            .ok()?;
        let sources = sources
            .iter()
            .filter_map(|item| {
                let stored_id =
                    Some(text(&item, "stored_id")).filter(|id| protocol::is_image_id(id));
                let file = blob(&item, "file");
                (file.is_some() || stored_id.is_some()).then(|| DraftSource {
                    name: text(&item, "name"),
                    file,
                    stored_id,
                    mask: blob(&item, "mask"),
                    history: Reflect::get(&item, &"history".into())
                        .ok()
                        .and_then(|v| v.dyn_into::<Uint8Array>().ok())
                        .map(|a| a.to_vec()),
                    active: flag(&item, "active"),
                })
            })
            .collect();
        Some(Self {
            prompt: text(record, "prompt"),
            model: text(record, "model"),
            ratio: text(record, "ratio"),
            size: text(record, "size"),
            thinking: text(record, "thinking"),
            grounding: flag(record, "grounding"),
            conversation: flag(record, "conversation"),
            sources,
        })
    }
}

/// Waits for an IndexedDB request to succeed; its result.
async fn done(request: &IdbRequest) -> Result<JsValue, JsValue> {
    let (on_success, on_error, rx) = super::local::outcome();
    request.set_onsuccess(Some(on_success.as_ref().unchecked_ref()));
    request.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let ok = rx.await.unwrap_or(false);
    request.set_onsuccess(None);
    request.set_onerror(None);
    if ok {
        request.result()
    } else {
        Err(request
            .error()
            .ok()
            .flatten()
            .map_or(JsValue::NULL, JsValue::from))
    }
}

async fn database() -> Result<IdbDatabase, JsValue> {
    let factory = leptos::prelude::window()
        .indexed_db()?
        .ok_or_else(|| JsValue::from_str("IndexedDB is not available"))?;
    let open: IdbOpenDbRequest = factory.open_with_u32(DATABASE, 1)?;
    let opening = open.clone();
    let upgrade = Closure::<dyn FnMut()>::new(move || {
        if let Ok(db) = opening.result().and_then(|r| r.dyn_into::<IdbDatabase>())
            && !db.object_store_names().contains(STORE)
        {
            let _ = db.create_object_store(STORE);
        }
    });
    open.set_onupgradeneeded(Some(upgrade.as_ref().unchecked_ref()));
    let db = done(&open).await;
    open.set_onupgradeneeded(None);
    db?.dyn_into()
}

/// Runs `work` on the draft store in a transaction of `mode`, and waits for its request.
async fn with_store(
    mode: IdbTransactionMode,
    work: impl FnOnce(&web_sys::IdbObjectStore) -> Result<IdbRequest, JsValue>,
) -> Result<JsValue, JsValue> {
    let db = database().await?;
    let tx = db.transaction_with_str_and_mode(STORE, mode)?;
    let request = work(&tx.object_store(STORE)?)?;
    let result = done(&request).await;
    db.close();
    result
}

/// The kept draft, if there is one this version can read.
pub async fn load() -> Option<Draft> {
    let record = with_store(IdbTransactionMode::Readonly, |store| store.get(&KEY.into()))
        .await
        .ok()?;
    if record.is_undefined() || record.is_null() {
        return None;
    }
    Draft::from_js(&record)
}

/// Keeps `draft`. One with no prompt and no sources is cleared instead, or kept as settings
/// only when the person asked for their settings to be remembered. A browser that refuses
/// (private mode, no room) keeps nothing; the page works on.
pub async fn save(draft: &Draft) {
    if draft.is_empty() && super::local::setting(KEEP_SETTINGS).as_deref() != Some("yes") {
        return clear().await;
    }
    put(draft).await;
}

async fn put(draft: &Draft) {
    let value = draft.to_js();
    let _ = with_store(IdbTransactionMode::Readwrite, |store| {
        store.put_with_key(&value, &KEY.into())
    })
    .await;
}

/// Forgets the draft.
pub async fn clear() {
    let _ = with_store(IdbTransactionMode::Readwrite, |store| {
        store.delete(&KEY.into())
    })
    .await;
}

/// The editor's work now, or `None` while a source is still being checked or restored (a draft
/// written then would miss it).
fn snapshot(state: EditorState) -> Option<Draft> {
    let choices = state.choices;
    let all = state.sources.get_untracked();
    if all.iter().any(|s| s.status == Status::Checking)
        || state.local.with_value(|l| !l.pending.is_empty())
    {
        return None;
    }
    let active = state.active.get_untracked();
    let sources = all
        .into_iter()
        .filter(|s| s.is_ready())
        .map(|s| {
            let (file, mask, history) = state.local.with_value(|l| {
                let file = l.files.get(&s.key).map(|(f, _)| Blob::from(f.clone()));
                let (mask, history) = l.masks.get(&s.key).map_or((None, None), |m| {
                    let painted = m.bitmap.bounds().is_some();
                    let png = painted
                        .then(|| super::mask_file::to_png(&m.bitmap))
                        .flatten();
                    let history = (m.history.can_undo() || m.history.can_redo())
                        .then(|| m.history.to_bytes(MAX_HISTORY_BYTES));
                    (png, history)
                });
                (file, mask, history)
            });
            DraftSource {
                name: s.name.clone(),
                file,
                stored_id: s.stored_id.clone(),
                mask,
                history,
                active: Some(s.key) == active,
            }
        })
        .collect();
    Some(Draft {
        prompt: state.prompt.get_untracked(),
        model: choices.model.get_untracked(),
        ratio: choices.ratio.get_untracked(),
        size: choices.size.get_untracked(),
        thinking: choices.thinking.get_untracked(),
        grounding: choices.grounding.get_untracked(),
        conversation: choices.conversation.get_untracked(),
        sources,
    })
}

/// How long after the last change the draft is written.
const SAVE_AFTER: std::time::Duration = std::time::Duration::from_millis(400);

/// Writes the draft a moment after the last change (again later, while a source is still
/// being checked).
pub fn save_soon(state: EditorState) {
    let handle = set_timeout_with_handle(
        move || {
            state.local.update_value(|l| l.save = None);
            if !state.dirty.get_untracked() {
                return;
            }
            match snapshot(state) {
                Some(draft) => leptos::task::spawn_local(async move { save(&draft).await }),
                None => save_soon(state),
            }
        },
        SAVE_AFTER,
    )
    .ok();
    state.local.update_value(|l| {
        if let Some(old) = std::mem::replace(&mut l.save, handle) {
            old.clear();
        }
    });
}

/// The draft a pending save would write, taken now (the timed save is cancelled).
fn take_pending(state: EditorState) -> Option<Draft> {
    let handle = state.local.try_update_value(|l| l.save.take()).flatten()?;
    handle.clear();
    if state.dirty.get_untracked() {
        snapshot(state)
    } else {
        None
    }
}

/// Whether a change waits for its timed save.
pub fn pending(state: EditorState) -> bool {
    state
        .local
        .try_with_value(|l| l.save.is_some())
        .unwrap_or(false)
}

/// The longest a followed link waits for the draft's save: a browser whose IndexedDB does not
/// answer (its database blocked by another tab, a storage error) must not hold the page.
const LEAVE_WAIT: std::time::Duration = std::time::Duration::from_millis(1500);

/// Writes a pending save now, and returns when it is written or after [`LEAVE_WAIT`],
/// whichever is first: a link followed the moment after a change waits for this, so the
/// change is kept.
pub async fn flush_before_leaving(state: EditorState) {
    let Some(draft) = take_pending(state) else {
        return;
    };
    let (waited, wait) = futures::channel::oneshot::channel::<()>();
    set_timeout(
        move || {
            let _ = waited.send(());
        },
        LEAVE_WAIT,
    );
    let saved = std::pin::pin!(save(&draft));
    futures::future::select(saved, wait).await;
}

/// Starts writing a pending save now, when the page is going or hidden and cannot wait (a
/// reload, a closed or discarded tab). A browser may end an IndexedDB write begun that late,
/// which loses only the moment since the last timed save.
pub fn flush(state: EditorState) {
    if let Some(draft) = take_pending(state) {
        leptos::task::spawn_local(async move { save(&draft).await });
    }
}

/// After a job succeeded: the work was sent, so the draft goes, or only its settings stay
/// when the person keeps them.
pub fn sent(state: EditorState) {
    state.dirty.set(false);
    if !state.alive() {
        return;
    }
    let choices = state.choices;
    let keep = super::local::setting(KEEP_SETTINGS).as_deref() == Some("yes");
    let settings = Draft {
        model: choices.model.get_untracked(),
        ratio: choices.ratio.get_untracked(),
        size: choices.size.get_untracked(),
        thinking: choices.thinking.get_untracked(),
        grounding: choices.grounding.get_untracked(),
        conversation: true,
        ..Draft::default()
    };
    leptos::task::spawn_local(async move {
        if keep {
            put(&settings).await;
        } else {
            clear().await;
        }
    });
}

/// The browser's remembered setting: keep the settings after an image is made.
pub const KEEP_SETTINGS: &str = "gemflash.keep-settings";

/// Restores the kept draft, if there is one: settings, prompt, then each source with its mask
/// and history (put back as it becomes ready). Returns whether there was one with work in it.
pub async fn restore(state: EditorState) -> bool {
    let choices = state.choices;
    let Some(draft) = load().await else {
        return false;
    };
    if !state.alive() {
        return false;
    }
    let usable = choices
        .models
        .with_value(|all| all.iter().any(|m| m.id == draft.model && m.usable()));
    if usable {
        choices.model.set(draft.model.clone());
    }
    if !draft.ratio.is_empty() {
        choices.ratio.set(draft.ratio.clone());
    }
    choices.size.set(draft.size.clone());
    choices.thinking.set(draft.thinking.clone());
    choices.grounding.set(draft.grounding);
    choices.conversation.set(draft.conversation);
    if draft.is_empty() {
        // Settings only (kept after a job): nothing to say.
        return false;
    }
    state.prompt.set(draft.prompt.clone());
    let mut active = None;
    for source in draft.sources {
        let key = match (&source.file, &source.stored_id) {
            (Some(blob), _) => {
                let parts = Array::of1(blob);
                let options = web_sys::FilePropertyBag::new();
                options.set_type(&blob.type_());
                let Ok(file) = web_sys::File::new_with_blob_sequence_and_options(
                    &parts,
                    &source.name,
                    &options,
                ) else {
                    continue;
                };
                let Some(key) = sources::add_files(state, vec![file]).into_iter().next() else {
                    continue;
                };
                key
            }
            (None, Some(id)) => sources::add_stored(state, id),
            (None, None) => continue,
        };
        if source.mask.is_some() || source.history.is_some() {
            state.local.update_value(|l| {
                l.pending
                    .insert(key, (source.mask.clone(), source.history.clone()));
            });
        }
        if source.active {
            active = Some(key);
        }
    }
    if let Some(key) = active {
        state.local.update_value(|l| l.wanted_active = Some(key));
    }
    state.dirty.set(true);
    true
}
