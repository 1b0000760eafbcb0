//! The default store: SQLite metadata and content-addressed files in the data directory.
//!
//! Files are content-addressed (`blobs/ab/<sha256>.png`, `thumbs/ab/<sha256>.webp`), so two
//! records with the same pixels share one file. Every file is written to `tmp/`, synced,
//! renamed into place and its directory synced; only then is the row inserted. So a row never
//! names a missing file, and a crash leaves at worst a temporary or unnamed file, which
//! [`ImageStore::repair`] removes at start-up. Deleting removes the row first, then the files
//! no other row names. One connection behind a mutex serialises writes; WAL and
//! `synchronous = FULL` make a committed row survive power loss.
//!
//! Prompts are indexed with FTS5 (an external-content table kept in step by triggers; it uses
//! the table's rowid, so the database must not be `VACUUM`ed without a `rebuild` after).
//! Schema changes are migrations numbered by `PRAGMA user_version`.

use std::{
    collections::HashSet,
    fs::{self, File},
    path::{Path, PathBuf},
    sync::{
        Mutex, MutexGuard,
        atomic::{AtomicU64, Ordering},
    },
};

use rusqlite::{
    Connection, OptionalExtension, ToSql, TransactionBehavior, params, params_from_iter,
};
use sha2::{Digest, Sha256};

use super::{
    Ancestor, Cursor, Descendant, FileKind, ImageExtras, ImageKind, ImageRecord, ImageStore,
    Lineage, ListPage, ListQuery, NewImage, RepairReport, Retention, Spend, SpendLimits,
    StorageUsage, StoreError, durable, extension,
    query::{Position, fts_query},
};
use crate::clock::now_ms;

/// Migrations, in order: the schema after migration `n` has `user_version = n + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: images and their indexes.
    "
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
    ",
    // 2: full-text search over prompts, and the filters' indexes.
    "
    CREATE VIRTUAL TABLE images_fts USING fts5(
        prompt, content = 'images', content_rowid = 'rowid',
        tokenize = 'unicode61 remove_diacritics 2'
    );
    INSERT INTO images_fts (images_fts) VALUES ('rebuild');
    CREATE TRIGGER images_fts_insert AFTER INSERT ON images BEGIN
        INSERT INTO images_fts (rowid, prompt) VALUES (new.rowid, new.prompt);
    END;
    CREATE TRIGGER images_fts_delete AFTER DELETE ON images BEGIN
        INSERT INTO images_fts (images_fts, rowid, prompt) VALUES ('delete', old.rowid, old.prompt);
    END;
    CREATE INDEX images_by_model ON images (model, created_ms DESC, id DESC);
    CREATE INDEX images_by_kind ON images (kind, created_ms DESC, id DESC);
    ",
    // 3: spending per UTC day, for the daily budget (it must survive a restart).
    "
    CREATE TABLE spend (
        day    TEXT PRIMARY KEY,
        images INTEGER NOT NULL DEFAULT 0,
        usd    REAL NOT NULL DEFAULT 0
    );
    ",
    // 4: the part of a day's budget held by calls in flight (none outlives its process: the
    // table is emptied when the store opens).
    "
    CREATE TABLE spend_reservations (
        id     TEXT PRIMARY KEY,
        day    TEXT NOT NULL,
        images INTEGER NOT NULL,
        usd    REAL NOT NULL
    );
    CREATE INDEX spend_reservations_by_day ON spend_reservations (day);
    ",
    // 5: thinking, grounding and conversations. The settings a record was made with sit in
    // `images`; the model's turn (for replaying the conversation) and a grounded answer's
    // sources, which can be kilobytes, sit beside it and are read only when needed.
    "
    ALTER TABLE images ADD COLUMN thinking_level TEXT;
    ALTER TABLE images ADD COLUMN grounded INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE images ADD COLUMN search_queries INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE images ADD COLUMN context_turns INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE image_turns (
        id          TEXT PRIMARY KEY REFERENCES images (id) ON DELETE CASCADE,
        model_turn  TEXT,
        grounding   TEXT
    );
    ",
];

const COLUMNS: &str = "images.id, images.created_ms, images.parent_id, images.kind, images.prompt, \
    images.model, images.aspect_ratio, images.image_size, images.width, images.height, \
    images.mime, images.bytes, images.sha256, images.prompt_tokens, images.output_tokens, \
    images.thoughts_tokens, images.cost_usd, images.thinking_level, images.grounded, \
    images.search_queries, images.context_turns";
/// How many columns [`COLUMNS`] names (a query that selects more reads the next one).
const COLUMN_COUNT: usize = 21;

/// How deep a lineage is followed, and how many descendants are listed.
const MAX_ANCESTORS: usize = 64;
const MAX_DESCENDANTS: usize = 200;

/// The store in one data directory.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    db: Mutex<Connection>,
    /// Bytes of the image and thumbnail files, counted at open and kept up to date (with what
    /// a `put` in progress is about to write).
    file_bytes: AtomicU64,
    /// The most the store may hold, files and database together; `None` is unlimited.
    quota: Option<u64>,
}

impl Store {
    /// Opens (creating if needed) the store in `dir`, migrating its schema.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        for sub in ["blobs", "thumbs", "tmp"] {
            fs::create_dir_all(dir.join(sub))?;
        }
        let mut db = Connection::open(dir.join("gallery.sqlite3"))?;
        db.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
        )?;
        migrate(&mut db)?;
        // A reservation belongs to a call of a process that is gone.
        db.execute("DELETE FROM spend_reservations", [])?;
        let file_bytes = ["blobs", "thumbs"]
            .iter()
            .map(|top| dir_bytes(&dir.join(top)))
            .sum::<Result<u64, _>>()?;
        Ok(Self {
            dir: dir.to_owned(),
            db: Mutex::new(db),
            file_bytes: AtomicU64::new(file_bytes),
            quota: None,
        })
    }

    /// The same store with a quota on what it holds (files and database); a `put` that would
    /// pass it fails with [`StoreError::Full`].
    pub fn with_quota(mut self, quota: Option<u64>) -> Self {
        self.quota = quota;
        self
    }

    /// Bytes of the database files.
    fn db_bytes(&self) -> u64 {
        ["gallery.sqlite3", "gallery.sqlite3-wal"]
            .iter()
            .filter_map(|name| fs::metadata(self.dir.join(name)).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Counts `needed` more bytes against the quota, or refuses them.
    fn claim(&self, needed: u64) -> Result<(), StoreError> {
        let before = self.file_bytes.fetch_add(needed, Ordering::SeqCst);
        if let Some(quota) = self.quota {
            let used = before + self.db_bytes();
            if used + needed > quota {
                self.file_bytes.fetch_sub(needed, Ordering::SeqCst);
                return Err(StoreError::Full {
                    used,
                    quota,
                    needed,
                });
            }
        }
        Ok(())
    }

    fn unclaim(&self, bytes: u64) {
        self.file_bytes.fetch_sub(bytes, Ordering::SeqCst);
    }

    fn db(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent: keep going.
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The path of a record's file.
    pub fn file_path(&self, record: &ImageRecord, file: FileKind) -> PathBuf {
        match file {
            FileKind::Image => self.blob_path(&record.sha256, extension(&record.mime)),
            FileKind::Thumbnail => self.thumb_path(&record.sha256, ""),
            FileKind::Thumbnail2x => self.thumb_path(&record.sha256, ".2x"),
            FileKind::View => self.thumb_path(&record.sha256, ".view"),
        }
    }

    fn blob_path(&self, sha: &str, ext: &str) -> PathBuf {
        self.dir
            .join("blobs")
            .join(sha.get(..2).unwrap_or("00"))
            .join(format!("{sha}.{ext}"))
    }

    /// A WebP made from the image: `<sha256><variant>.webp`.
    fn thumb_path(&self, sha: &str, variant: &str) -> PathBuf {
        self.dir
            .join("thumbs")
            .join(sha.get(..2).unwrap_or("00"))
            .join(format!("{sha}{variant}.webp"))
    }

    /// Writes `bytes` to `path` so that a crash leaves either the whole file or none: a
    /// synced temporary file renamed into place, then the directory synced. Returns whether
    /// the file was written (`false`: the same content was already there).
    fn write_durably(&self, path: &Path, bytes: &[u8]) -> Result<bool, StoreError> {
        if path.exists() {
            return Ok(false); // Content-addressed: the same bytes are already there.
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
            durable::write_synced(&tmp, bytes)?;
            fs::rename(&tmp, path)?;
            File::open(dir)?.sync_all()
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written?;
        Ok(true)
    }

    /// Removes a record's files unless another record names the same content. Called with
    /// the database lock held, so no `put` of the same content runs in between.
    fn remove_files_if_unshared(
        &self,
        db: &Connection,
        record: &ImageRecord,
    ) -> Result<(), StoreError> {
        let shared: bool = db
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM images WHERE sha256 = ?1)")?
            .query_row([&record.sha256], |r| r.get(0))?;
        if !shared {
            for file in FileKind::ALL {
                let freed = remove_if_present(&self.file_path(record, file))?;
                self.unclaim(freed);
            }
        }
        Ok(())
    }

    /// One direction of a listing from `bound` (exclusive), at most `limit` records, in that
    /// direction's order.
    fn fetch(
        &self,
        db: &Connection,
        query: &ListQuery,
        older: bool,
        bound: Option<Position>,
        limit: usize,
    ) -> Result<Vec<ImageRecord>, StoreError> {
        let mut sql = format!("SELECT {COLUMNS} FROM images");
        let mut args: Vec<Box<dyn ToSql>> = Vec::new();
        let mut conditions: Vec<&str> = Vec::new();
        if let Some(fts) = query.text.as_deref().and_then(fts_query) {
            sql.push_str(" JOIN images_fts ON images_fts.rowid = images.rowid");
            conditions.push("images_fts MATCH ?");
            args.push(Box::new(fts));
        }
        if let Some(model) = &query.model {
            conditions.push("images.model = ?");
            args.push(Box::new(model.clone()));
        }
        if let Some(kind) = query.kind {
            conditions.push("images.kind = ?");
            args.push(Box::new(kind.as_str()));
        }
        if let Some(from) = query.from_ms {
            conditions.push("images.created_ms >= ?");
            args.push(Box::new(from));
        }
        if let Some(until) = query.until_ms {
            conditions.push("images.created_ms < ?");
            args.push(Box::new(until));
        }
        if let Some(bound) = bound {
            conditions.push(if older {
                "(images.created_ms, images.id) < (?, ?)"
            } else {
                "(images.created_ms, images.id) > (?, ?)"
            });
            args.push(Box::new(bound.created_ms));
            args.push(Box::new(bound.id_hex()));
        }
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(if older {
            " ORDER BY images.created_ms DESC, images.id DESC"
        } else {
            " ORDER BY images.created_ms ASC, images.id ASC"
        });
        sql.push_str(" LIMIT ?");
        args.push(Box::new(i64::try_from(limit).unwrap_or(i64::MAX)));
        let mut stmt = db.prepare_cached(&sql)?;
        let rows = stmt.query_map(params_from_iter(args.iter()), row_to_record)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn get_with(db: &Connection, id: &str) -> Result<Option<ImageRecord>, StoreError> {
        let mut stmt = db.prepare_cached(&format!("SELECT {COLUMNS} FROM images WHERE id = ?1"))?;
        Ok(stmt.query_row([id], row_to_record).optional()?)
    }
}

impl ImageStore for Store {
    fn put(&self, image: NewImage) -> Result<ImageRecord, StoreError> {
        let sha256 = hex::encode(Sha256::digest(&image.bytes));
        let blob = self.blob_path(&sha256, extension(image.mime));
        let thumb = self.thumb_path(&sha256, "");
        // Counted against the quota before anything is written; given back for whatever is
        // not written after all (the same content was already there, or the write failed).
        let sizes = [image.bytes.len() as u64, image.thumbnail_webp.len() as u64];
        self.claim(sizes[0] + sizes[1])?;
        let mut unwritten = sizes[0] + sizes[1];
        let mut write = |path: &Path, bytes: &[u8], size: u64| -> Result<(), StoreError> {
            if self.write_durably(path, bytes)? {
                unwritten -= size;
            }
            Ok(())
        };
        // The slow part, without the lock.
        let outside = write(&blob, &image.bytes, sizes[0])
            .and_then(|()| write(&thumb, &image.thumbnail_webp, sizes[1]));
        if let Err(e) = outside {
            self.unclaim(unwritten);
            return Err(e);
        }
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
            thinking_level: image.thinking_level,
            grounded: image.grounded,
            search_queries: image.search_queries,
            context_turns: image.context_turns,
        };
        let db = self.db();
        // A delete of the last record with this content may have removed the files since
        // they were written; under the lock no other can. (Such a rewrite is counted again:
        // the delete gave its bytes back.)
        for (path, bytes) in [(&blob, &image.bytes), (&thumb, &image.thumbnail_webp)] {
            if path.exists() {
                continue;
            }
            self.claim(bytes.len() as u64)
                .inspect_err(|_| self.unclaim(unwritten))?;
            if let Err(e) = self.write_durably(path, bytes) {
                self.unclaim(bytes.len() as u64 + unwritten);
                return Err(e);
            }
        }
        self.unclaim(unwritten);
        let r = &record;
        // The record and what is kept beside it go in together, or not at all.
        let tx = db.unchecked_transaction()?;
        tx.prepare_cached(
            "INSERT INTO images (id, created_ms, parent_id, kind, prompt, model, aspect_ratio, \
             image_size, width, height, mime, bytes, sha256, prompt_tokens, output_tokens, \
             thoughts_tokens, cost_usd, thinking_level, grounded, search_queries, context_turns) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
             ?18, ?19, ?20, ?21)",
        )?
        .execute(params![
            r.id,
            r.created_ms,
            r.parent_id,
            r.kind.as_str(),
            r.prompt,
            r.model,
            r.aspect_ratio,
            r.image_size,
            r.width,
            r.height,
            r.mime,
            r.bytes as i64,
            r.sha256,
            r.prompt_tokens,
            r.output_tokens,
            r.thoughts_tokens,
            r.cost_usd,
            r.thinking_level,
            r.grounded,
            r.search_queries,
            r.context_turns
        ])?;
        if image.model_turn.is_some() || image.grounding.is_some() {
            tx.prepare_cached(
                "INSERT INTO image_turns (id, model_turn, grounding) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![r.id, image.model_turn, image.grounding])?;
        }
        tx.commit()?;
        metrics::counter!("gemflash_images_stored_total", "kind" => r.kind.as_str()).increment(1);
        Ok(record)
    }

    fn get(&self, id: &str) -> Result<Option<ImageRecord>, StoreError> {
        Self::get_with(&self.db(), id)
    }

    fn list(&self, query: &ListQuery) -> Result<ListPage, StoreError> {
        let limit = query.limit.max(1);
        let db = self.db();
        let (items, more_beyond) = match query.cursor {
            None | Some(Cursor::Before(_)) => {
                let bound = match query.cursor {
                    Some(Cursor::Before(p)) => Some(p),
                    _ => None,
                };
                let mut items = self.fetch(&db, query, true, bound, limit + 1)?;
                let more = items.len() > limit;
                items.truncate(limit);
                (items, more)
            }
            Some(Cursor::After(p)) => {
                let mut items = self.fetch(&db, query, false, Some(p), limit + 1)?;
                let more = items.len() > limit;
                items.truncate(limit);
                items.reverse();
                (items, more)
            }
        };
        let first = items.first().and_then(Position::of);
        let last = items.last().and_then(Position::of);
        let (older, newer) = match query.cursor {
            None | Some(Cursor::Before(_)) => {
                let newer = match first {
                    Some(p) if !self.fetch(&db, query, false, Some(p), 1)?.is_empty() => Some(p),
                    _ => None,
                };
                (if more_beyond { last } else { None }, newer)
            }
            Some(Cursor::After(_)) => {
                let older = match last {
                    Some(p) if !self.fetch(&db, query, true, Some(p), 1)?.is_empty() => Some(p),
                    _ => None,
                };
                (older, if more_beyond { first } else { None })
            }
        };
        Ok(ListPage {
            items,
            older,
            newer,
        })
    }

    fn lineage(&self, id: &str) -> Result<Option<Lineage>, StoreError> {
        let db = self.db();
        let Some(image) = Self::get_with(&db, id)? else {
            return Ok(None);
        };
        let mut ancestors = Vec::new();
        let mut next = image.parent_id.clone();
        while let Some(parent) = next.take() {
            if ancestors.len() >= MAX_ANCESTORS {
                break;
            }
            match Self::get_with(&db, &parent)? {
                Some(record) => {
                    next = record.parent_id.clone();
                    ancestors.push(Ancestor::Present(Box::new(record)));
                }
                None => ancestors.push(Ancestor::Deleted { id: parent }),
            }
        }
        let mut stmt = db.prepare_cached(&format!(
            "WITH RECURSIVE tree (id, depth, path) AS (
                SELECT id, 1, printf('%015d-%s', created_ms, id) FROM images WHERE parent_id = ?1
                UNION ALL
                SELECT images.id, tree.depth + 1,
                       tree.path || '/' || printf('%015d-%s', images.created_ms, images.id)
                FROM images JOIN tree ON images.parent_id = tree.id
                WHERE tree.depth < {MAX_ANCESTORS}
            )
            SELECT {COLUMNS}, tree.depth FROM tree JOIN images ON images.id = tree.id
            ORDER BY tree.path LIMIT {MAX_DESCENDANTS}"
        ))?;
        let descendants = stmt
            .query_map([id], |row| {
                Ok(Descendant {
                    record: row_to_record(row)?,
                    depth: row.get(COLUMN_COUNT)?,
                })
            })?
            .collect::<Result<_, _>>()?;
        Ok(Some(Lineage {
            image,
            ancestors,
            descendants,
        }))
    }

    fn delete(&self, id: &str) -> Result<Option<ImageRecord>, StoreError> {
        let db = self.db();
        let Some(record) = Self::get_with(&db, id)? else {
            return Ok(None);
        };
        db.prepare_cached("DELETE FROM images WHERE id = ?1")?
            .execute([id])?;
        // The row is gone (committed); a crash before the files go leaves files no row
        // names, which repair removes.
        self.remove_files_if_unshared(&db, &record)?;
        Ok(Some(record))
    }

    fn extras(&self, id: &str) -> Result<ImageExtras, StoreError> {
        let db = self.db();
        let mut stmt =
            db.prepare_cached("SELECT model_turn, grounding FROM image_turns WHERE id = ?1")?;
        let found = stmt
            .query_row([id], |row| {
                Ok(ImageExtras {
                    model_turn: row.get(0)?,
                    grounding: row.get(1)?,
                })
            })
            .optional()?;
        Ok(found.unwrap_or_default())
    }

    fn enforce_retention(&self, rules: &Retention, now_ms: i64) -> Result<usize, StoreError> {
        if rules.is_unlimited() {
            return Ok(0);
        }
        let mut doomed: Vec<String> = Vec::new();
        {
            let db = self.db();
            if let Some(age) = rules.max_age_ms {
                let mut stmt = db.prepare_cached("SELECT id FROM images WHERE created_ms < ?1")?;
                let rows = stmt.query_map([now_ms.saturating_sub(age)], |r| r.get(0))?;
                doomed.extend(rows.collect::<Result<Vec<String>, _>>()?);
            }
            if let Some(count) = rules.max_count {
                let mut stmt = db.prepare_cached(
                    "SELECT id FROM images ORDER BY created_ms DESC, id DESC LIMIT -1 OFFSET ?1",
                )?;
                let rows =
                    stmt.query_map([i64::try_from(count).unwrap_or(i64::MAX)], |r| r.get(0))?;
                doomed.extend(rows.collect::<Result<Vec<String>, _>>()?);
            }
        }
        doomed.sort_unstable();
        doomed.dedup();
        let mut deleted = 0;
        for id in doomed {
            if self.delete(&id)?.is_some() {
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    fn reserve_spend(
        &self,
        day: &str,
        want: Spend,
        limits: &SpendLimits,
    ) -> Result<Option<String>, StoreError> {
        let mut db = self.db();
        // IMMEDIATE: the check and the insert are one step, for every writer of the file.
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (spent_images, spent_usd): (i64, f64) = tx.query_row(
            "SELECT COALESCE(SUM(images), 0), COALESCE(SUM(usd), 0.0) FROM ( \
                 SELECT images, usd FROM spend WHERE day = ?1 \
                 UNION ALL SELECT images, usd FROM spend_reservations WHERE day = ?1)",
            [day],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let images = spent_images.max(0) as u64 + want.images;
        let usd = spent_usd + want.usd;
        let over = limits.images.is_some_and(|max| images > max)
            || limits.usd.is_some_and(|max| usd > max + 1e-9);
        if over {
            return Ok(None);
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        tx.execute(
            "INSERT INTO spend_reservations (id, day, images, usd) VALUES (?1, ?2, ?3, ?4)",
            params![
                id,
                day,
                i64::try_from(want.images).unwrap_or(i64::MAX),
                want.usd
            ],
        )?;
        tx.commit()?;
        Ok(Some(id))
    }

    fn settle_spend(&self, reservation: &str, spent: Spend) -> Result<(), StoreError> {
        let mut db = self.db();
        let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let day: Option<String> = tx
            .query_row(
                "DELETE FROM spend_reservations WHERE id = ?1 RETURNING day",
                [reservation],
                |r| r.get(0),
            )
            .optional()?;
        // A reservation emptied by a restart still settles on today's row.
        let day = day.unwrap_or_else(crate::clock::today);
        tx.execute(
            "INSERT INTO spend (day, images, usd) VALUES (?1, ?2, ?3) \
             ON CONFLICT (day) DO UPDATE SET images = images + ?2, usd = usd + ?3",
            params![
                day,
                i64::try_from(spent.images).unwrap_or(i64::MAX),
                spent.usd
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    fn release_spend(&self, reservation: &str) -> Result<(), StoreError> {
        self.db()
            .prepare_cached("DELETE FROM spend_reservations WHERE id = ?1")?
            .execute([reservation])?;
        Ok(())
    }

    fn usage(&self) -> Result<StorageUsage, StoreError> {
        Ok(StorageUsage {
            used_bytes: self.file_bytes.load(Ordering::SeqCst) + self.db_bytes(),
            quota_bytes: self.quota,
        })
    }

    fn open_file(
        &self,
        record: &ImageRecord,
        file: FileKind,
    ) -> Result<Option<(File, u64)>, StoreError> {
        match File::open(self.file_path(record, file)) {
            Ok(f) => {
                let len = f.metadata()?.len();
                Ok(Some((f, len)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn read(&self, record: &ImageRecord, file: FileKind) -> Result<Option<Vec<u8>>, StoreError> {
        match fs::read(self.file_path(record, file)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn spend(&self, day: &str) -> Result<Spend, StoreError> {
        let db = self.db();
        let mut stmt = db.prepare_cached("SELECT images, usd FROM spend WHERE day = ?1")?;
        let spend = stmt
            .query_row([day], |r| {
                Ok(Spend {
                    images: r.get::<_, i64>(0)?.max(0) as u64,
                    usd: r.get(1)?,
                })
            })
            .optional()?;
        Ok(spend.unwrap_or_default())
    }

    fn add_spend(&self, day: &str, spend: Spend) -> Result<(), StoreError> {
        self.db()
            .prepare_cached(
                "INSERT INTO spend (day, images, usd) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (day) DO UPDATE SET images = images + ?2, usd = usd + ?3",
            )?
            .execute(params![
                day,
                i64::try_from(spend.images).unwrap_or(i64::MAX),
                spend.usd
            ])?;
        Ok(())
    }

    fn put_derived(
        &self,
        record: &ImageRecord,
        file: FileKind,
        bytes: &[u8],
    ) -> Result<bool, StoreError> {
        if !file.is_derived_later() {
            return Err(
                std::io::Error::other("only a derived file is put after the record").into(),
            );
        }
        let path = self.file_path(record, file);
        let size = bytes.len() as u64;
        self.claim(size)?;
        // Written without the lock, like a put's files; a delete that ran meanwhile is caught
        // below, under it.
        match self.write_durably(&path, bytes) {
            Ok(true) => {}
            Ok(false) => {
                self.unclaim(size);
                return Ok(true);
            }
            Err(e) => {
                self.unclaim(size);
                return Err(e);
            }
        }
        let db = self.db();
        let named: bool = db
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM images WHERE sha256 = ?1)")?
            .query_row([&record.sha256], |r| r.get(0))?;
        if !named {
            let freed = remove_if_present(&path)?;
            self.unclaim(freed);
        }
        Ok(named)
    }

    fn repair(&self) -> Result<RepairReport, StoreError> {
        // Hold the lock: no put or delete may run while files are judged.
        let db = self.db();
        let mut report = RepairReport::default();
        for entry in fs::read_dir(self.dir.join("tmp"))? {
            remove_if_present(&entry?.path())?;
            report.temp_files += 1;
        }
        let named: HashSet<String> = db
            .prepare("SELECT DISTINCT sha256 FROM images")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for top in ["blobs", "thumbs"] {
            for shard in fs::read_dir(self.dir.join(top))? {
                let shard = shard?.path();
                if !shard.is_dir() {
                    continue;
                }
                for file in fs::read_dir(&shard)? {
                    let path = file?.path();
                    // `<sha256>.png`, `<sha256>.2x.webp`, …
                    let name = path.file_name().and_then(|s| s.to_str()).unwrap_or("");
                    let sha = name.split('.').next().unwrap_or("");
                    if !named.contains(sha) {
                        let freed = remove_if_present(&path)?;
                        self.unclaim(freed);
                        report.orphan_files += 1;
                    }
                }
            }
        }
        Ok(report)
    }
}

/// Brings the schema up to the newest migration, one transaction per step.
fn migrate(db: &mut Connection) -> Result<(), StoreError> {
    let version: usize = db
        .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))?
        .try_into()
        .unwrap_or(0);
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = db.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        tx.commit()?;
    }
    Ok(())
}

/// Removes a file if it is there; returns the bytes it held.
fn remove_if_present(path: &Path) -> Result<u64, StoreError> {
    let len = fs::metadata(path).map_or(0, |m| m.len());
    match fs::remove_file(path) {
        Ok(()) => Ok(len),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(e.into()),
    }
}

/// Bytes of every file in `dir` and the directories in it.
fn dir_bytes(dir: &Path) -> Result<u64, StoreError> {
    let mut total = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

fn row_to_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<ImageRecord> {
    Ok(ImageRecord {
        id: row.get(0)?,
        created_ms: row.get(1)?,
        parent_id: row.get(2)?,
        kind: ImageKind::parse(&row.get::<_, String>(3)?).unwrap_or(ImageKind::Generated),
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
        thinking_level: row.get(17)?,
        grounded: row.get(18)?,
        search_queries: row.get(19)?,
        context_turns: row.get(20)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_image(bytes: &[u8], prompt: &str) -> NewImage {
        NewImage {
            bytes: bytes.to_vec(),
            thumbnail_webp: [b"RIFF-thumb-", bytes].concat(),
            width: 4,
            height: 3,
            aspect_ratio: Some("4:3".into()),
            prompt_tokens: 5,
            output_tokens: 1120,
            thoughts_tokens: 200,
            cost_usd: Some(0.0792),
            ..NewImage::new(ImageKind::Generated, prompt, "gemini-3.1-flash-image")
        }
    }

    fn open() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    /// Stores `n` images with distinct content and strictly increasing creation times.
    fn fill(store: &Store, n: usize, prompt: impl Fn(usize) -> String) -> Vec<ImageRecord> {
        (0..n)
            .map(|i| {
                let r = store
                    .put(new_image(format!("pixels {i}").as_bytes(), &prompt(i)))
                    .unwrap();
                // Distinct milliseconds, so the order is by time, not by random id.
                std::thread::sleep(std::time::Duration::from_millis(2));
                r
            })
            .collect()
    }

    fn ids(items: &[ImageRecord]) -> Vec<&str> {
        items.iter().map(|r| r.id.as_str()).collect()
    }

    #[test]
    fn a_stored_image_comes_back_whole_from_disk() {
        let (dir, store) = open();
        let stored = store.put(new_image(b"\x89PNG pixels", "a cat")).unwrap();
        let got = store.get(&stored.id).unwrap().unwrap();
        assert_eq!(got, stored);
        assert_eq!(
            store.read(&got, FileKind::Image).unwrap().unwrap(),
            b"\x89PNG pixels"
        );
        assert_eq!(
            store.read(&got, FileKind::Thumbnail).unwrap().unwrap(),
            b"RIFF-thumb-\x89PNG pixels"
        );
        assert_eq!(got.sha256, hex::encode(Sha256::digest(b"\x89PNG pixels")));
        assert!(store.get("nope").unwrap().is_none());

        // Reopening reads the same database from disk.
        drop(store);
        let again = Store::open(dir.path()).unwrap();
        assert_eq!(again.get(&stored.id).unwrap().unwrap().prompt, "a cat");
    }

    #[test]
    fn identical_pixels_share_one_file_and_leave_no_temporary_files() {
        let (dir, store) = open();
        let a = store.put(new_image(b"same", "first")).unwrap();
        let b = store.put(new_image(b"same", "second")).unwrap();
        assert_ne!(a.id, b.id);
        assert_eq!(
            store.file_path(&a, FileKind::Image),
            store.file_path(&b, FileKind::Image)
        );
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }

    #[test]
    fn pages_walk_newest_first_both_ways_without_gaps_or_repeats() {
        let (_dir, store) = open();
        let all = fill(&store, 7, |i| format!("image {i}"));
        let newest_first: Vec<&str> = all.iter().rev().map(|r| r.id.as_str()).collect();
        let mut query = ListQuery {
            limit: 3,
            ..Default::default()
        };
        let p1 = store.list(&query).unwrap();
        assert_eq!(ids(&p1.items), newest_first[0..3]);
        assert_eq!(p1.newer, None, "the first page has nothing newer");
        query.cursor = p1.older.map(Cursor::Before);
        let p2 = store.list(&query).unwrap();
        assert_eq!(ids(&p2.items), newest_first[3..6]);
        query.cursor = p2.older.map(Cursor::Before);
        let p3 = store.list(&query).unwrap();
        assert_eq!(ids(&p3.items), newest_first[6..7]);
        assert_eq!(p3.older, None, "the last page has nothing older");

        // And back: the page newer than page 3 is page 2.
        query.cursor = p3.newer.map(Cursor::After);
        let back = store.list(&query).unwrap();
        assert_eq!(ids(&back.items), newest_first[3..6]);
        assert!(back.newer.is_some() && back.older.is_some());
        query.cursor = back.newer.map(Cursor::After);
        let first = store.list(&query).unwrap();
        assert_eq!(ids(&first.items), newest_first[0..3]);
        assert_eq!(first.newer, None);
    }

    #[test]
    fn search_finds_every_word_as_a_prefix_in_any_case_and_accent() {
        let (_dir, store) = open();
        let all = fill(&store, 4, |i| {
            [
                "A red fox in the snow",
                "Blue whale, deep sea",
                "red panda eating bamboo",
                "Crème brûlée on a plate",
            ][i]
                .to_owned()
        });
        let find = |text: &str| {
            let page = store
                .list(&ListQuery {
                    text: Some(text.into()),
                    limit: 10,
                    ..Default::default()
                })
                .unwrap();
            ids(&page.items)
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(find("red"), [all[2].id.clone(), all[0].id.clone()]);
        assert_eq!(find("RED fo"), [all[0].id.clone()]);
        assert_eq!(find("creme brulee"), [all[3].id.clone()]);
        assert!(find("giraffe").is_empty());
        // FTS syntax is just text.
        assert!(find("\"unbalanced OR NEAR(").is_empty());
        assert_eq!(find("   ").len(), 4, "no words means no search");
    }

    #[test]
    fn filters_by_model_kind_and_date_combine() {
        let (_dir, store) = open();
        let mut a = new_image(b"a", "one");
        a.model = "gemini-3-pro-image".into();
        let a = store.put(a).unwrap();
        let mut b = new_image(b"b", "two");
        b.kind = ImageKind::Edited;
        b.parent_id = Some(a.id.clone());
        let b = store.put(b).unwrap();
        let page = |q: ListQuery| {
            ids(&store.list(&ListQuery { limit: 10, ..q }).unwrap().items)
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            page(ListQuery {
                model: Some("gemini-3-pro-image".into()),
                ..Default::default()
            }),
            vec![a.id.clone()]
        );
        assert_eq!(
            page(ListQuery {
                kind: Some(ImageKind::Edited),
                ..Default::default()
            }),
            vec![b.id.clone()]
        );
        assert!(
            page(ListQuery {
                kind: Some(ImageKind::Edited),
                model: Some("gemini-3-pro-image".into()),
                ..Default::default()
            })
            .is_empty()
        );
        assert!(
            page(ListQuery {
                until_ms: Some(a.created_ms),
                ..Default::default()
            })
            .is_empty()
        );
        assert_eq!(
            page(ListQuery {
                from_ms: Some(a.created_ms),
                until_ms: Some(b.created_ms + 1),
                ..Default::default()
            })
            .len(),
            2
        );
    }

    #[test]
    fn lineage_shows_ancestors_descendants_and_the_gap_a_deleted_parent_leaves() {
        let (_dir, store) = open();
        let root = store.put(new_image(b"root", "root")).unwrap();
        let child = |parent: &ImageRecord, bytes: &[u8]| {
            let mut n = new_image(bytes, "edit");
            n.kind = ImageKind::Edited;
            n.parent_id = Some(parent.id.clone());
            std::thread::sleep(std::time::Duration::from_millis(2));
            store.put(n).unwrap()
        };
        let a = child(&root, b"a");
        let a1 = child(&a, b"a1");
        let b = child(&root, b"b");

        let l = store.lineage(&a1.id).unwrap().unwrap();
        assert_eq!(
            l.ancestors,
            [
                Ancestor::Present(Box::new(a.clone())),
                Ancestor::Present(Box::new(root.clone()))
            ]
        );
        assert!(l.descendants.is_empty());

        let l = store.lineage(&root.id).unwrap().unwrap();
        let tree: Vec<(&str, u32)> = l
            .descendants
            .iter()
            .map(|d| (d.record.id.as_str(), d.depth))
            .collect();
        assert_eq!(
            tree,
            [(a.id.as_str(), 1), (a1.id.as_str(), 2), (b.id.as_str(), 1)]
        );

        store.delete(&a.id).unwrap().unwrap();
        let l = store.lineage(&a1.id).unwrap().unwrap();
        assert_eq!(l.ancestors, [Ancestor::Deleted { id: a.id.clone() }]);
        assert_eq!(l.image.parent_id.as_deref(), Some(a.id.as_str()));
        assert!(store.lineage("nope").unwrap().is_none());
    }

    #[test]
    fn delete_removes_row_and_files_but_keeps_files_another_record_shares() {
        let (_dir, store) = open();
        let a = store.put(new_image(b"shared", "a")).unwrap();
        let b = store.put(new_image(b"shared", "b")).unwrap();
        let c = store.put(new_image(b"alone", "c")).unwrap();

        assert_eq!(
            store.delete(&a.id).unwrap().map(|r| r.id),
            Some(a.id.clone())
        );
        assert!(store.get(&a.id).unwrap().is_none());
        assert!(
            store.read(&b, FileKind::Image).unwrap().is_some(),
            "b still needs it"
        );

        store.delete(&c.id).unwrap();
        assert!(!store.file_path(&c, FileKind::Image).exists());
        assert!(!store.file_path(&c, FileKind::Thumbnail).exists());
        assert!(
            store.delete(&c.id).unwrap().is_none(),
            "deleting twice is a no-op"
        );

        // Deleted records are no longer found by search either.
        let found = store
            .list(&ListQuery {
                text: Some("c".into()),
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert!(found.items.is_empty());
    }

    #[test]
    fn retention_deletes_the_oldest_past_the_count_and_the_age() {
        let (_dir, store) = open();
        let all = fill(&store, 5, |i| format!("n{i}"));
        let by_count = Retention {
            max_count: Some(3),
            max_age_ms: None,
        };
        assert_eq!(store.enforce_retention(&by_count, now_ms()).unwrap(), 2);
        let left = store
            .list(&ListQuery {
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(
            ids(&left.items),
            [&all[4].id, &all[3].id, &all[2].id].map(String::as_str)
        );

        let by_age = Retention {
            max_count: None,
            max_age_ms: Some(0),
        };
        // Everything created before "now + 1 ms" is older than an age of 0.
        assert_eq!(store.enforce_retention(&by_age, now_ms() + 1).unwrap(), 3);
        assert_eq!(
            store
                .enforce_retention(&Retention::default(), now_ms())
                .unwrap(),
            0
        );
    }

    #[test]
    fn repair_removes_temporary_and_orphan_files_and_keeps_named_ones() {
        let (dir, store) = open();
        let kept = store.put(new_image(b"kept", "kept")).unwrap();
        fs::write(dir.path().join("tmp").join("half-written"), b"par").unwrap();
        let orphan = dir
            .path()
            .join("blobs")
            .join("ff")
            .join(format!("{}.png", "f".repeat(64)));
        fs::create_dir_all(orphan.parent().unwrap()).unwrap();
        fs::write(&orphan, b"no row names me").unwrap();

        let report = store.repair().unwrap();
        assert_eq!(
            report,
            RepairReport {
                temp_files: 1,
                orphan_files: 1
            }
        );
        assert!(!orphan.exists());
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        assert!(store.read(&kept, FileKind::Image).unwrap().is_some());
        assert!(store.read(&kept, FileKind::Thumbnail).unwrap().is_some());
    }

    #[test]
    fn spending_adds_up_per_day_and_survives_reopening() {
        let (dir, store) = open();
        assert_eq!(store.spend("2026-11-22").unwrap(), Spend::default());
        store
            .add_spend(
                "2026-11-22",
                Spend {
                    images: 1,
                    usd: 0.067,
                },
            )
            .unwrap();
        store
            .add_spend(
                "2026-11-22",
                Spend {
                    images: 1,
                    usd: 0.134,
                },
            )
            .unwrap();
        store
            .add_spend(
                "2026-11-23",
                Spend {
                    images: 5,
                    usd: 1.0,
                },
            )
            .unwrap();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        let day = store.spend("2026-11-22").unwrap();
        assert_eq!(day.images, 2);
        assert!((day.usd - 0.201).abs() < 1e-9);
        let next = store.spend("2026-11-23").unwrap();
        assert_eq!(next.images, 5);
        assert!((next.usd - 1.0).abs() < 1e-9);
    }

    #[test]
    fn reservations_hold_the_budget_atomically_and_settle_to_what_was_spent() {
        let (dir, store) = open();
        let store = std::sync::Arc::new(store);
        let day = "2026-12-01";
        let limits = SpendLimits {
            images: Some(5),
            usd: None,
        };
        let one = Spend {
            images: 1,
            usd: 0.05,
        };
        // Many threads race for the budget: exactly five get a reservation.
        let granted: Vec<String> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..16)
                .map(|_| {
                    let store = store.clone();
                    scope.spawn(move || store.reserve_spend(day, one, &limits).unwrap())
                })
                .collect();
            workers
                .into_iter()
                .filter_map(|w| w.join().unwrap())
                .collect()
        });
        assert_eq!(granted.len(), 5);
        assert_eq!(
            store.spend(day).unwrap(),
            Spend::default(),
            "nothing spent yet"
        );
        // One call made an image, one was billed without one, one gave its share back.
        store.settle_spend(&granted[0], one).unwrap();
        store
            .settle_spend(
                &granted[1],
                Spend {
                    images: 0,
                    usd: 0.02,
                },
            )
            .unwrap();
        store.release_spend(&granted[2]).unwrap();
        let spent = store.spend(day).unwrap();
        assert_eq!(spent.images, 1);
        assert!((spent.usd - 0.07).abs() < 1e-9);
        // Two reservations are still held: 1 spent + 2 held + 2 more = 5.
        assert!(store.reserve_spend(day, one, &limits).unwrap().is_some());
        assert!(store.reserve_spend(day, one, &limits).unwrap().is_some());
        assert!(store.reserve_spend(day, one, &limits).unwrap().is_none());
        // Another day has its own budget.
        assert!(
            store
                .reserve_spend("2026-12-02", one, &limits)
                .unwrap()
                .is_some()
        );
        // A dollar budget counts what is held too.
        let usd = SpendLimits {
            images: None,
            usd: Some(0.10),
        };
        assert!(
            store
                .reserve_spend("2026-12-03", one, &usd)
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .reserve_spend("2026-12-03", one, &usd)
                .unwrap()
                .is_some()
        );
        assert!(
            store
                .reserve_spend("2026-12-03", one, &usd)
                .unwrap()
                .is_none()
        );
        // No reservation outlives the process that held it.
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        let spent = store.spend(day).unwrap();
        assert_eq!(spent.images, 1, "settled spending stays");
        for _ in 0..4 {
            assert!(store.reserve_spend(day, one, &limits).unwrap().is_some());
        }
        assert!(store.reserve_spend(day, one, &limits).unwrap().is_none());
    }

    #[test]
    fn the_quota_refuses_a_put_before_writing_and_counts_what_is_held() {
        let (dir, store) = open();
        store.put(new_image(&[1u8; 1_000], "fits")).unwrap();
        let used = store.usage().unwrap();
        assert!(used.used_bytes >= 2_000, "files and database: {used:?}");
        // Room for the database to grow a little (a page or two a commit), not for 64 KB.
        let quota = used.used_bytes + 32 * 1024;
        let store = store.with_quota(Some(quota));
        assert_eq!(store.usage().unwrap().quota_bytes, Some(quota));
        // The same content again takes no room for files.
        store.put(new_image(&[1u8; 1_000], "again")).unwrap();
        let big = new_image(&[2u8; 64 * 1024], "too big");
        let e = store.put(big).unwrap_err();
        assert!(matches!(e, StoreError::Full { .. }), "{e}");
        assert_eq!(
            store
                .list(&ListQuery {
                    limit: 10,
                    ..Default::default()
                })
                .unwrap()
                .items
                .len(),
            2
        );
        let files: usize = ["blobs", "thumbs"]
            .iter()
            .map(|top| walk_files(&dir.path().join(top)))
            .sum();
        assert_eq!(files, 2, "nothing of the refused image was written");
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }

    fn walk_files(dir: &Path) -> usize {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| if p.is_dir() { walk_files(&p) } else { 1 })
            .sum()
    }

    #[test]
    fn a_database_from_before_search_is_migrated_and_its_prompts_become_searchable() {
        let dir = tempfile::tempdir().unwrap();
        {
            // The first schema, as an earlier GemFlash left it (user_version 0).
            let db = Connection::open(dir.path().join("gallery.sqlite3")).unwrap();
            db.execute_batch(MIGRATIONS[0]).unwrap();
            db.execute(
                "INSERT INTO images (id, created_ms, kind, prompt, model, width, height, mime, \
                 bytes, sha256) VALUES ('0123456789abcdef0123456789abcdef', 1, 'generated', \
                 'an old lighthouse', 'm', 1, 1, 'image/png', 1, 'ab')",
                [],
            )
            .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let found = store
            .list(&ListQuery {
                text: Some("lighthouse".into()),
                limit: 10,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(found.items.len(), 1);
        let version: i64 = store
            .db()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
    }
}
