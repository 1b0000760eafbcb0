//! The gallery store: what is kept of every image, behind a small interface.
//!
//! [`ImageStore`] is everything the application asks of a store: put, get, list (with search,
//! filters and cursor paging), lineage, delete, retention, reading the files, and repair after
//! a crash. [`Store`] is the default implementation: SQLite metadata (with an FTS5 index over
//! prompts) and content-addressed files in the data directory; it needs no setup. A deployment
//! that wants Postgres and S3-compatible object storage implements the same trait.
//!
//! The trait is blocking (SQLite and the file system are); async code holds a [`StoreHandle`],
//! whose one method [`StoreHandle::run`] runs a call on the blocking pool.

mod durable;
mod handle;
pub mod query;
mod sqlite;

pub use handle::StoreHandle;
pub use query::{Cursor, ListPage, ListQuery, Retention};
pub use sqlite::Store;

/// A failure of the store itself (disk, database), or a full store. Never a user's mistake.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("store database failed: {0}")]
    Db(#[from] rusqlite::Error),
    /// The storage quota would be passed.
    #[error("the store is full: {used} of {quota} bytes used, {needed} more needed")]
    Full { used: u64, quota: u64, needed: u64 },
    /// The blocking task running a store call failed (it panicked).
    #[error("a store task failed: {0}")]
    Worker(String),
}

/// How much the store holds, and how much it may.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StorageUsage {
    /// Bytes of image files, thumbnails and the database.
    pub used_bytes: u64,
    /// The quota; `None` is unlimited.
    pub quota_bytes: Option<u64>,
}

impl StorageUsage {
    /// Whether nothing more fits.
    pub fn is_full(&self) -> bool {
        self.quota_bytes.is_some_and(|q| self.used_bytes >= q)
    }
}

/// The daily budget a reservation is checked against.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SpendLimits {
    pub images: Option<u64>,
    pub usd: Option<f64>,
}

impl SpendLimits {
    pub fn is_unlimited(&self) -> bool {
        self.images.is_none() && self.usd.is_none()
    }
}

/// How an image came to be: the protocol's own word for it, so the store and the pages say
/// the same thing.
pub use protocol::ImageKind;

/// What to store: the image file, its thumbnail and its metadata.
#[derive(Debug, Clone)]
pub struct NewImage {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
    pub thumbnail_webp: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub parent_id: Option<String>,
    pub kind: ImageKind,
    pub prompt: String,
    pub model: String,
    pub aspect_ratio: Option<String>,
    pub image_size: Option<String>,
    pub prompt_tokens: u32,
    pub output_tokens: u32,
    pub thoughts_tokens: u32,
    pub cost_usd: Option<f64>,
    /// The thinking level asked for, where the model took one.
    pub thinking_level: Option<String>,
    /// Whether the image was grounded in Google Search.
    pub grounded: bool,
    pub search_queries: u32,
    /// Earlier turns of the conversation that were sent with the request.
    pub context_turns: u32,
    /// The model's turn as Gemini returned it (JSON, see `conversation`), for replaying the
    /// conversation; the image part refers to this record's own file.
    pub model_turn: Option<String>,
    /// A grounded answer's sources and search suggestions (JSON, see `grounding`).
    pub grounding: Option<String>,
}

impl NewImage {
    /// What is known before any pixels: how the image came to be, from what prompt, by which
    /// model. Everything else starts empty; set what applies, and `studio::finish` adds the
    /// files and the size.
    pub fn new(kind: ImageKind, prompt: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            bytes: Vec::new(),
            mime: "image/png",
            thumbnail_webp: Vec::new(),
            width: 0,
            height: 0,
            parent_id: None,
            kind,
            prompt: prompt.into(),
            model: model.into(),
            aspect_ratio: None,
            image_size: None,
            prompt_tokens: 0,
            output_tokens: 0,
            thoughts_tokens: 0,
            cost_usd: None,
            thinking_level: None,
            grounded: false,
            search_queries: 0,
            context_turns: 0,
            model_turn: None,
            grounding: None,
        }
    }
}

/// What is kept beside a record and read only when needed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageExtras {
    /// The model's turn (JSON), for replaying the conversation.
    pub model_turn: Option<String>,
    /// A grounded answer's sources and search suggestions (JSON).
    pub grounding: Option<String>,
}

/// A stored image's metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRecord {
    pub id: String,
    pub created_ms: i64,
    pub parent_id: Option<String>,
    pub kind: ImageKind,
    pub prompt: String,
    pub model: String,
    pub aspect_ratio: Option<String>,
    pub image_size: Option<String>,
    pub width: u32,
    pub height: u32,
    pub mime: String,
    pub bytes: u64,
    pub sha256: String,
    pub prompt_tokens: u32,
    pub output_tokens: u32,
    pub thoughts_tokens: u32,
    pub cost_usd: Option<f64>,
    pub thinking_level: Option<String>,
    pub grounded: bool,
    pub search_queries: u32,
    pub context_turns: u32,
}

/// The file name extension of a stored image's type.
pub fn extension(mime: &str) -> &'static str {
    match mime {
        "image/png" => "png",
        "image/webp" => "webp",
        _ => "jpg",
    }
}

/// Which file of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// The image as stored.
    Image,
    /// The gallery's thumbnail, made when the image is stored.
    Thumbnail,
    /// The thumbnail for screens of twice the density, made when first asked for.
    Thumbnail2x,
    /// A copy sized for showing on a page, made when first asked for.
    View,
}

impl FileKind {
    /// Every file a record can have.
    pub const ALL: [FileKind; 4] = [
        FileKind::Image,
        FileKind::Thumbnail,
        FileKind::Thumbnail2x,
        FileKind::View,
    ];

    /// Whether the file is made from the image when first asked for (and may not exist yet).
    pub fn is_derived_later(self) -> bool {
        matches!(self, FileKind::Thumbnail2x | FileKind::View)
    }
}

/// Where an image came from and what came of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Lineage {
    pub image: ImageRecord,
    /// Parents, nearest first, up to the first source. A deleted parent ends the chain as
    /// [`Ancestor::Deleted`]: the gap is shown, not hidden.
    pub ancestors: Vec<Ancestor>,
    /// Edits made from the image, their edits, and so on: depth-first, oldest first.
    pub descendants: Vec<Descendant>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Ancestor {
    Present(Box<ImageRecord>),
    Deleted { id: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Descendant {
    pub record: ImageRecord,
    /// 1 for a direct edit of the image, 2 for an edit of that, ...
    pub depth: u32,
}

/// Spending on one day.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spend {
    pub images: u64,
    pub usd: f64,
}

/// What start-up repair found and removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RepairReport {
    pub temp_files: usize,
    pub orphan_files: usize,
}

/// Everything the application asks of a store.
pub trait ImageStore: Send + Sync + std::fmt::Debug {
    /// Stores an image: its files durably first, then its record. When this returns, the
    /// image survives a crash; if it fails or the process dies first, nothing is listed.
    fn put(&self, image: NewImage) -> Result<ImageRecord, StoreError>;

    /// The record with this id.
    fn get(&self, id: &str) -> Result<Option<ImageRecord>, StoreError>;

    /// One page of records, newest first.
    fn list(&self, query: &ListQuery) -> Result<ListPage, StoreError>;

    /// The record with its ancestors and descendants.
    fn lineage(&self, id: &str) -> Result<Option<Lineage>, StoreError>;

    /// Deletes a record and, unless another record shares them, its files. Children keep
    /// their parent id (their lineage shows the gap). Returns the deleted record.
    fn delete(&self, id: &str) -> Result<Option<ImageRecord>, StoreError>;

    /// What is kept beside a record (nothing, for a record made before it was kept).
    fn extras(&self, id: &str) -> Result<ImageExtras, StoreError>;

    /// Deletes the oldest records past the retention limits; returns how many.
    fn enforce_retention(&self, rules: &Retention, now_ms: i64) -> Result<usize, StoreError>;

    /// A file of a record, or `None` when it is missing.
    fn read(&self, record: &ImageRecord, file: FileKind) -> Result<Option<Vec<u8>>, StoreError>;

    /// What was spent on `day` (`YYYY-MM-DD`, UTC): images made and dollars.
    fn spend(&self, day: &str) -> Result<Spend, StoreError>;

    /// Adds to what was spent on `day`.
    fn add_spend(&self, day: &str, spend: Spend) -> Result<(), StoreError>;

    /// Reserves `want` of `day`'s budget, atomically: only if what was spent, what is
    /// reserved by calls in flight and `want` together stay within `limits`. Returns the
    /// reservation's id, or `None` when the budget does not allow it.
    fn reserve_spend(
        &self,
        day: &str,
        want: Spend,
        limits: &SpendLimits,
    ) -> Result<Option<String>, StoreError>;

    /// Replaces a reservation by what was really spent, in one transaction.
    fn settle_spend(&self, reservation: &str, spent: Spend) -> Result<(), StoreError>;

    /// Gives a reservation back: nothing was spent.
    fn release_spend(&self, reservation: &str) -> Result<(), StoreError>;

    /// How much the store holds, and its quota.
    fn usage(&self) -> Result<StorageUsage, StoreError>;

    /// A record's file opened for reading, with its length, or `None` when it is missing: for
    /// serving it without holding it in memory.
    fn open_file(
        &self,
        record: &ImageRecord,
        file: FileKind,
    ) -> Result<Option<(std::fs::File, u64)>, StoreError>;

    /// Keeps a file made from a stored record's image later ([`FileKind::is_derived_later`]).
    /// Returns `false`, keeping nothing, when the record has been deleted meanwhile.
    fn put_derived(
        &self,
        record: &ImageRecord,
        file: FileKind,
        bytes: &[u8],
    ) -> Result<bool, StoreError>;

    /// Removes what an interrupted write can leave behind: temporary files and files no record
    /// names. Run at start-up, before serving.
    fn repair(&self) -> Result<RepairReport, StoreError>;
}
