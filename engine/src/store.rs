//! The gallery store: SQLite metadata and image files in the data directory.
//!
//! Blobs are content-addressed (`blobs/ab/<sha256>.png`, `thumbs/ab/<sha256>.webp`), so two
//! records with the same pixels share one file. Every file is written to a temporary name,
//! synced, renamed into place and its directory synced; only then is the row inserted, in a
//! transaction. So a row never points to a missing file: a crash leaves at worst a file no
//! row names, which start-up repair can remove.
//!
//! The API is blocking; async callers run it on `spawn_blocking`.

use std::{
    fs::{self, File},
    io::Write,
    path::{Path, PathBuf},
    sync::{Mutex, MutexGuard},
    time::{SystemTime, UNIX_EPOCH},
};

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

/// A failure of the store itself (disk, database). Never a user's mistake.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store I/O failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("store database failed: {0}")]
    Db(#[from] rusqlite::Error),
}

/// How an image came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Generated,
    Edited,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Generated => "generated",
            Kind::Edited => "edited",
        }
    }

    fn parse(s: &str) -> Self {
        if s == "edited" {
            Kind::Edited
        } else {
            Kind::Generated
        }
    }
}

/// What to store: the image file, its thumbnail and its metadata.
#[derive(Debug, Clone)]
pub struct NewImage {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
    pub thumbnail_webp: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub parent_id: Option<String>,
    pub kind: Kind,
    pub prompt: String,
    pub model: String,
    pub aspect_ratio: Option<String>,
    pub image_size: Option<String>,
    pub prompt_tokens: u32,
    pub output_tokens: u32,
    pub thoughts_tokens: u32,
    pub cost_usd: Option<f64>,
}

/// A stored image's metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRecord {
    pub id: String,
    pub created_ms: i64,
    pub parent_id: Option<String>,
    pub kind: Kind,
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
}

/// The store in one data directory.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    db: Mutex<Connection>,
}

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
CREATE TABLE IF NOT EXISTS images (
    id            TEXT PRIMARY KEY,
    created_ms    INTEGER NOT NULL,
    parent_id     TEXT,
    kind          TEXT NOT NULL CHECK (kind IN ('generated', 'edited')),
    prompt        TEXT NOT NULL,
    model         TEXT NOT NULL,
    aspect_ratio  TEXT,
    image_size    TEXT,
    width         INTEGER NOT NULL,
    height        INTEGER NOT NULL,
    mime          TEXT NOT NULL,
    bytes         INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    thoughts_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd      REAL
);
CREATE INDEX IF NOT EXISTS images_by_created ON images (created_ms DESC, id DESC);
CREATE INDEX IF NOT EXISTS images_by_parent ON images (parent_id);
CREATE INDEX IF NOT EXISTS images_by_sha ON images (sha256);
";

const COLUMNS: &str = "id, created_ms, parent_id, kind, prompt, model, aspect_ratio, image_size, \
    width, height, mime, bytes, sha256, prompt_tokens, output_tokens, thoughts_tokens, cost_usd";

impl Store {
    /// Opens (creating if needed) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        for sub in ["blobs", "thumbs", "tmp"] {
            fs::create_dir_all(dir.join(sub))?;
        }
        let db = Connection::open(dir.join("gallery.sqlite3"))?;
        db.execute_batch(SCHEMA)?;
        Ok(Self {
            dir: dir.to_owned(),
            db: Mutex::new(db),
        })
    }

    fn db(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent: keep going.
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores an image: files first (durably), then the row.
    pub fn put(&self, image: NewImage) -> Result<ImageRecord, StoreError> {
        let sha256 = hex::encode(Sha256::digest(&image.bytes));
        let ext = if image.mime == "image/png" {
            "png"
        } else {
            "jpg"
        };
        self.write_durably(&self.blob_path(&sha256, ext), &image.bytes)?;
        self.write_durably(&self.thumb_path(&sha256), &image.thumbnail_webp)?;
        let record = ImageRecord {
            id: uuid::Uuid::new_v4().simple().to_string(),
            created_ms: now_ms(),
            parent_id: image.parent_id,
            kind: image.kind,
            prompt: image.prompt,
            model: image.model,
            aspect_ratio: image.aspect_ratio,
            image_size: image.image_size,
            width: image.width,
            height: image.height,
            mime: image.mime.to_owned(),
            bytes: image.bytes.len() as u64,
            sha256,
            prompt_tokens: image.prompt_tokens,
            output_tokens: image.output_tokens,
            thoughts_tokens: image.thoughts_tokens,
            cost_usd: image.cost_usd,
        };
        let r = &record;
        self.db().execute(
            &format!("INSERT INTO images ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"),
            params![
                r.id, r.created_ms, r.parent_id, r.kind.as_str(), r.prompt, r.model, r.aspect_ratio,
                r.image_size, r.width, r.height, r.mime, r.bytes as i64, r.sha256, r.prompt_tokens,
                r.output_tokens, r.thoughts_tokens, r.cost_usd
            ],
        )?;
        Ok(record)
    }

    /// The record with this id.
    pub fn get(&self, id: &str) -> Result<Option<ImageRecord>, StoreError> {
        let db = self.db();
        let mut stmt = db.prepare_cached(&format!("SELECT {COLUMNS} FROM images WHERE id = ?1"))?;
        Ok(stmt.query_row([id], row_to_record).optional()?)
    }

    /// The image file of a record.
    pub fn image_file(&self, record: &ImageRecord) -> PathBuf {
        let ext = if record.mime == "image/png" {
            "png"
        } else {
            "jpg"
        };
        self.blob_path(&record.sha256, ext)
    }

    /// The thumbnail file of a record.
    pub fn thumbnail_file(&self, record: &ImageRecord) -> PathBuf {
        self.thumb_path(&record.sha256)
    }

    fn blob_path(&self, sha: &str, ext: &str) -> PathBuf {
        self.dir
            .join("blobs")
            .join(&sha[..2])
            .join(format!("{sha}.{ext}"))
    }

    fn thumb_path(&self, sha: &str) -> PathBuf {
        self.dir
            .join("thumbs")
            .join(&sha[..2])
            .join(format!("{sha}.webp"))
    }

    /// Writes `bytes` to `path` so that a crash leaves either the whole file or none: a
    /// synced temporary file renamed into place, then the directory synced.
    fn write_durably(&self, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        if path.exists() {
            return Ok(()); // Content-addressed: the same bytes are already there.
        }
        let dir = path
            .parent()
            .ok_or_else(|| std::io::Error::other("blob path has no parent"))?;
        fs::create_dir_all(dir)?;
        let tmp = self
            .dir
            .join("tmp")
            .join(uuid::Uuid::new_v4().simple().to_string());
        let written = (|| {
            let mut file = File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&tmp, path)?;
            File::open(dir)?.sync_all()
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        Ok(written?)
    }
}

fn row_to_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<ImageRecord> {
    Ok(ImageRecord {
        id: row.get(0)?,
        created_ms: row.get(1)?,
        parent_id: row.get(2)?,
        kind: Kind::parse(&row.get::<_, String>(3)?),
        prompt: row.get(4)?,
        model: row.get(5)?,
        aspect_ratio: row.get(6)?,
        image_size: row.get(7)?,
        width: row.get(8)?,
        height: row.get(9)?,
        mime: row.get(10)?,
        bytes: row.get::<_, i64>(11)?.max(0) as u64,
        sha256: row.get(12)?,
        prompt_tokens: row.get(13)?,
        output_tokens: row.get(14)?,
        thoughts_tokens: row.get(15)?,
        cost_usd: row.get(16)?,
    })
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_image(bytes: &[u8], prompt: &str) -> NewImage {
        NewImage {
            bytes: bytes.to_vec(),
            mime: "image/png",
            thumbnail_webp: b"RIFF-thumb".to_vec(),
            width: 4,
            height: 3,
            parent_id: None,
            kind: Kind::Generated,
            prompt: prompt.into(),
            model: "gemini-3.1-flash-image".into(),
            aspect_ratio: Some("4:3".into()),
            image_size: None,
            prompt_tokens: 5,
            output_tokens: 1120,
            thoughts_tokens: 200,
            cost_usd: Some(0.0792),
        }
    }

    #[test]
    fn a_stored_image_comes_back_whole_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let stored = store.put(new_image(b"\x89PNG pixels", "a cat")).unwrap();
        let got = store.get(&stored.id).unwrap().unwrap();
        assert_eq!(got, stored);
        assert_eq!(fs::read(store.image_file(&got)).unwrap(), b"\x89PNG pixels");
        assert_eq!(fs::read(store.thumbnail_file(&got)).unwrap(), b"RIFF-thumb");
        assert_eq!(got.sha256, hex::encode(Sha256::digest(b"\x89PNG pixels")));
        assert!(store.get("nope").unwrap().is_none());

        // Reopening reads the same database from disk.
        drop(store);
        let again = Store::open(dir.path()).unwrap();
        assert_eq!(again.get(&stored.id).unwrap().unwrap().prompt, "a cat");
    }

    #[test]
    fn identical_pixels_share_one_file_and_leave_no_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let a = store.put(new_image(b"same", "first")).unwrap();
        let b = store.put(new_image(b"same", "second")).unwrap();
        assert_ne!(a.id, b.id);
        assert_eq!(store.image_file(&a), store.image_file(&b));
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }
}
