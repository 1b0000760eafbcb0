//! Writing a new file so that its bytes are on disk when the call returns.
//!
//! A stored image (megabytes, written once, read seldom) is written past the page cache where
//! the system allows it (`O_DIRECT` on Linux): copying it into the cache was the largest single
//! cost of a generation on the project's machine (a quarter of its CPU, the kernel filling
//! pages it had never used), and the copy would only push thumbnails and the database out of
//! the cache. Small files, and file systems that refuse direct writes (`EINVAL`: tmpfs on older
//! kernels, some network and FUSE file systems), are written the ordinary way. Either way the
//! file is synced before the call returns.

use std::{
    fs::File,
    io::{self, Write},
    path::Path,
};

/// Files at least this large are written directly, where the file system allows it.
const DIRECT_FROM: usize = 256 * 1024;

/// A direct write goes through an aligned buffer of at most this much (a whole number of
/// blocks, so every write starts at an aligned offset): what it holds beyond the file's own
/// bytes is bounded by this, not by the file (a job's memory reservation has 4 MiB of slack
/// for such buffers).
const STAGING: usize = 1024 * 1024;

/// How a file was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Written {
    /// Past the page cache.
    Direct,
    /// Through the page cache.
    Buffered,
}

/// Creates (or truncates) `path`, writes `bytes` and syncs the file.
pub(super) fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<Written> {
    #[cfg(target_os = "linux")]
    if bytes.len() >= DIRECT_FROM {
        match direct::write(path, bytes) {
            Ok(()) => return Ok(Written::Direct),
            // This file system (or this buffer) does not take direct writes: the ordinary way
            // below truncates what a partial direct write left.
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {}
            Err(e) => return Err(e),
        }
    }
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(Written::Buffered)
}

#[cfg(target_os = "linux")]
mod direct {
    use std::{
        fs::OpenOptions,
        io::{self, Write},
        os::unix::fs::OpenOptionsExt,
        path::Path,
    };

    use super::STAGING;

    /// What `O_DIRECT` asks of the buffer's address, the offset and the length: the disk's
    /// logical block size, 512 bytes or 4 KiB; 4 KiB serves both.
    const ALIGN: usize = 4096;

    /// Writes `bytes` piece by piece through an aligned buffer, the last piece padded to a
    /// whole block, then cuts the file to its length and syncs it (the length is metadata,
    /// which the sync writes too).
    pub(super) fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
        let room = STAGING.min(bytes.len().next_multiple_of(ALIGN));
        // Never grown past its capacity, so it never moves and stays aligned.
        let mut staging: Vec<u8> = Vec::with_capacity(room + ALIGN);
        let start = staging.as_ptr().align_offset(ALIGN);
        if start >= ALIGN {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .custom_flags(libc::O_DIRECT)
            .open(path)?;
        for piece in bytes.chunks(STAGING) {
            staging.clear();
            staging.resize(start, 0);
            staging.extend_from_slice(piece);
            staging.resize(start + piece.len().next_multiple_of(ALIGN), 0);
            file.write_all(&staging[start..])?;
        }
        file.set_len(bytes.len() as u64)?;
        file.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bytes that differ at every position, so a shifted or padded copy cannot pass.
    fn pattern(len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (i % 251) as u8 ^ (i >> 12) as u8)
            .collect()
    }

    #[test]
    fn every_size_reads_back_exactly_whichever_way_it_was_written() {
        let dir = tempfile::tempdir().unwrap();
        let sizes = [
            0,
            1,
            4095,
            4096,
            4097,
            DIRECT_FROM - 1,
            DIRECT_FROM,
            DIRECT_FROM + 1,
            STAGING - 1,
            STAGING,
            STAGING + 1,
            3 * STAGING,
            3 * 1024 * 1024 + 7,
        ];
        for size in sizes {
            let path = dir.path().join(format!("f{size}"));
            let bytes = pattern(size);
            let written = write_synced(&path, &bytes).unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), bytes, "{size} bytes");
            if size < DIRECT_FROM {
                assert_eq!(written, Written::Buffered, "{size} bytes");
            }
        }
    }

    #[test]
    fn a_shorter_file_replaces_a_longer_one_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        write_synced(&path, &pattern(DIRECT_FROM * 3)).unwrap();
        let shorter = pattern(DIRECT_FROM + 5);
        write_synced(&path, &shorter).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), shorter);
        write_synced(&path, b"small").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"small");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_large_file_on_a_disk_is_written_past_the_page_cache() {
        use std::os::unix::fs::OpenOptionsExt;
        // Where the temporary directory's file system takes no direct I/O (tmpfs on older
        // kernels), the ordinary way is the right answer.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let written = write_synced(&path, &pattern(DIRECT_FROM * 2)).unwrap();
        let takes_direct = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECT)
            .open(&path)
            .is_ok();
        let expected = if takes_direct {
            Written::Direct
        } else {
            Written::Buffered
        };
        assert_eq!(written, expected);
    }
}
