//! Undo and redo of mask changes, bounded.
//!
//! A change is the rectangle an operation touched, with its bytes before and after,
//! run-length encoded: a stroke over a 12 MP mask costs a few hundred bytes, not 12 MB. The
//! history keeps at most `max_steps` changes and `max_bytes` of them; past either, the oldest
//! go. A new change drops whatever was undone.

use crate::{
    Bitmap, Rect,
    rle::{decode, encode},
};

/// One undoable change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    rect: Rect,
    before: Vec<(u8, u32)>,
    after: Vec<(u8, u32)>,
}

impl Change {
    /// Bytes the change is kept in.
    pub fn size(&self) -> usize {
        (self.before.len() + self.after.len()) * std::mem::size_of::<(u8, u32)>() + 32
    }

    pub fn rect(&self) -> Rect {
        self.rect
    }
}

/// The undo and redo stacks of one mask.
#[derive(Debug, Clone)]
pub struct History {
    done: Vec<Change>,
    undone: Vec<Change>,
    max_steps: usize,
    max_bytes: usize,
}

impl Default for History {
    /// 200 steps or 32 MB, whichever comes first.
    fn default() -> Self {
        Self::new(200, 32 * 1024 * 1024)
    }
}

impl History {
    pub fn new(max_steps: usize, max_bytes: usize) -> Self {
        Self {
            done: Vec::new(),
            undone: Vec::new(),
            max_steps: max_steps.max(1),
            max_bytes,
        }
    }

    /// Runs a one-shot `operation` on `mask` (a shape, fill, clear, invert) and remembers what
    /// it changed in the rectangle it returns. Returns that rectangle (for redrawing), or
    /// `None` when nothing changed. (A stroke is many operations: its caller keeps the mask as
    /// it was when the stroke began and calls [`History::record`] when it ends.)
    pub fn apply(
        &mut self,
        mask: &mut Bitmap,
        operation: impl FnOnce(&mut Bitmap) -> Option<Rect>,
    ) -> Option<Rect> {
        let before = mask.clone();
        let rect = operation(mask)?;
        self.record(&before, mask, rect)
    }

    /// Remembers a change of `rect` from `before` to `after` (masks of the same size). Returns
    /// the rectangle, or `None` when its bytes did not change.
    pub fn record(&mut self, before: &Bitmap, after: &Bitmap, rect: Rect) -> Option<Rect> {
        let (old, new) = (before.region(rect), after.region(rect));
        if old == new {
            return None;
        }
        self.push(Change {
            rect,
            before: encode(&old),
            after: encode(&new),
        });
        Some(rect)
    }

    fn push(&mut self, change: Change) {
        self.undone.clear();
        self.done.push(change);
        while self.done.len() > self.max_steps
            || (self.done.len() > 1 && self.bytes() > self.max_bytes)
        {
            self.done.remove(0);
        }
    }

    /// Bytes the history holds.
    pub fn bytes(&self) -> usize {
        self.done.iter().chain(&self.undone).map(Change::size).sum()
    }

    pub fn can_undo(&self) -> bool {
        !self.done.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.undone.is_empty()
    }

    /// Steps that can be undone.
    pub fn steps(&self) -> usize {
        self.done.len()
    }

    /// Takes back the last change; returns the rectangle to redraw.
    pub fn undo(&mut self, mask: &mut Bitmap) -> Option<Rect> {
        let change = self.done.pop()?;
        mask.restore(change.rect, &decode(&change.before));
        let rect = change.rect;
        self.undone.push(change);
        Some(rect)
    }

    /// Makes the last undone change again; returns the rectangle to redraw.
    pub fn redo(&mut self, mask: &mut Bitmap) -> Option<Rect> {
        let change = self.undone.pop()?;
        mask.restore(change.rect, &decode(&change.after));
        let rect = change.rect;
        self.done.push(change);
        Some(rect)
    }

    /// Forgets everything (a new source, or a mask loaded from a file).
    pub fn clear(&mut self) {
        self.done.clear();
        self.undone.clear();
    }

    /// The history as bytes, at most about `max_bytes` of them: the most recent changes that
    /// fit (older ones go first; the redo stack is kept only if all of the undo stack fits).
    /// [`History::from_bytes`] reads it back. For keeping a draft across a reload.
    pub fn to_bytes(&self, max_bytes: usize) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        let mut done: Vec<&Change> = Vec::new();
        let mut used = 0;
        for change in self.done.iter().rev() {
            used += change.size();
            if used > max_bytes {
                break;
            }
            done.push(change);
        }
        done.reverse();
        let undone: Vec<&Change> = if done.len() == self.done.len() {
            self.undone
                .iter()
                .rev()
                .take_while(|c| {
                    used += c.size();
                    used <= max_bytes
                })
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect()
        } else {
            Vec::new()
        };
        for list in [&done, &undone] {
            out.extend_from_slice(&(list.len() as u32).to_le_bytes());
            for change in list {
                for v in [
                    change.rect.x0,
                    change.rect.y0,
                    change.rect.x1,
                    change.rect.y1,
                ] {
                    out.extend_from_slice(&v.to_le_bytes());
                }
                for runs in [&change.before, &change.after] {
                    out.extend_from_slice(&(runs.len() as u32).to_le_bytes());
                    for &(value, count) in runs.iter() {
                        out.push(value);
                        out.extend_from_slice(&count.to_le_bytes());
                    }
                }
            }
        }
        out
    }

    /// A history written by [`History::to_bytes`] for a mask of `width`×`height`; `None` when
    /// the bytes are not one (or a change would reach outside the mask, or its runs do not
    /// cover its rectangle exactly).
    pub fn from_bytes(bytes: &[u8], width: u32, height: u32) -> Option<Self> {
        let mut reader = Reader(bytes.strip_prefix(MAGIC)?);
        let mut history = History::default();
        for stack in 0..2 {
            let count = reader.u32()?;
            for _ in 0..count {
                let rect = Rect {
                    x0: reader.u32()?,
                    y0: reader.u32()?,
                    x1: reader.u32()?,
                    y1: reader.u32()?,
                };
                if rect.is_empty() || rect.x1 > width || rect.y1 > height {
                    return None;
                }
                let mut runs = [Vec::new(), Vec::new()];
                for list in &mut runs {
                    let n = reader.u32()?;
                    let mut total: u64 = 0;
                    for _ in 0..n {
                        let value = reader.u8()?;
                        let count = reader.u32()?;
                        total += u64::from(count);
                        list.push((value, count));
                    }
                    if total != rect.area() {
                        return None;
                    }
                }
                let [before, after] = runs;
                let change = Change {
                    rect,
                    before,
                    after,
                };
                if stack == 0 {
                    history.done.push(change);
                } else {
                    history.undone.push(change);
                }
            }
        }
        reader.0.is_empty().then_some(history)
    }
}

/// What a history's bytes begin with.
const MAGIC: &[u8] = b"GFMH1";

/// Reads little-endian numbers off the front of a byte slice.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn u8(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(first)
    }

    fn u32(&mut self) -> Option<u32> {
        let (head, rest) = self.0.split_first_chunk::<4>()?;
        self.0 = rest;
        Some(u32::from_le_bytes(*head))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undo_and_redo_walk_strokes_clears_and_inverts_both_ways() {
        let mut mask = Bitmap::new(64, 48);
        let mut history = History::default();
        let states: Vec<Bitmap> = {
            let mut states = vec![mask.clone()];
            history.apply(&mut mask, |m| {
                m.stroke(&[(5.0, 5.0), (40.0, 30.0)], 3.0, true)
            });
            states.push(mask.clone());
            history.apply(&mut mask, |m| m.rect((10.0, 10.0), (20.0, 40.0), true));
            states.push(mask.clone());
            history.apply(&mut mask, |m| Some(m.invert()));
            states.push(mask.clone());
            history.apply(&mut mask, |m| Some(m.fill(false)));
            states.push(mask.clone());
            states
        };
        assert_eq!(history.steps(), 4);
        for expected in states.iter().rev().skip(1) {
            assert!(history.undo(&mut mask).is_some());
            assert_eq!(&mask, expected);
        }
        assert!(!history.can_undo());
        assert!(history.undo(&mut mask).is_none());
        for expected in states.iter().skip(1) {
            assert!(history.redo(&mut mask).is_some());
            assert_eq!(&mask, expected);
        }
        // A new change after an undo drops the redo.
        history.undo(&mut mask);
        assert!(history.can_redo());
        // (The mask is inverted here: the corner is painted, and the eraser changes it.)
        assert!(
            history
                .apply(&mut mask, |m| m.stroke(&[(1.0, 1.0)], 1.0, false))
                .is_some()
        );
        assert!(!history.can_redo());
    }

    #[test]
    fn a_history_survives_being_written_and_read_back_and_is_cut_to_its_cap() {
        let mut mask = Bitmap::new(300, 200);
        let mut history = History::default();
        for i in 0..10 {
            let y = 10.0 + 15.0 * i as f32;
            history.apply(&mut mask, |m| {
                m.stroke(&[(5.0, y), (290.0, y + 5.0)], 4.0, true)
            });
        }
        history.undo(&mut mask);
        history.undo(&mut mask);
        let bytes = history.to_bytes(usize::MAX);
        let mut back = History::from_bytes(&bytes, 300, 200).unwrap();
        assert_eq!((back.steps(), back.can_redo()), (8, true));
        let mut replayed = mask.clone();
        while back.undo(&mut replayed).is_some() {}
        assert!(
            replayed.is_empty(),
            "every step undoes back to an empty mask"
        );
        // Cut to a cap: the newest steps stay, and they still undo.
        let cut = history.to_bytes(history.done[7].size() * 3);
        let mut kept = History::from_bytes(&cut, 300, 200).unwrap();
        assert!(kept.steps() >= 2 && kept.steps() < 8 && !kept.can_redo());
        let mut m = mask.clone();
        assert!(kept.undo(&mut m).is_some());
        // Anything else is refused.
        assert!(History::from_bytes(b"nonsense", 300, 200).is_none());
        assert!(
            History::from_bytes(&bytes, 100, 100).is_none(),
            "changes outside the mask"
        );
        assert!(History::from_bytes(&bytes[..bytes.len() - 1], 300, 200).is_none());
    }

    #[test]
    fn a_change_that_changes_nothing_is_not_a_step() {
        let mut mask = Bitmap::new(10, 10);
        let mut history = History::default();
        assert!(history.apply(&mut mask, |m| Some(m.fill(false))).is_none());
        assert!(!history.can_undo());
    }

    #[test]
    fn history_is_bounded_in_steps_and_bytes_and_keeps_at_least_fifty_strokes_of_a_big_mask() {
        let mut mask = Bitmap::new(4000, 3000);
        let mut history = History::default();
        for i in 0..250 {
            let y = (i * 11 % 2900) as f32;
            history.apply(&mut mask, |m| {
                m.stroke(&[(10.0, y), (3900.0, y + 50.0)], 20.0, true)
            });
        }
        assert_eq!(history.steps(), 200, "at most 200 steps");
        assert!(
            history.bytes() < 32 * 1024 * 1024,
            "{} bytes",
            history.bytes()
        );
        let mut small = History::new(1000, 4096);
        let mut mask = Bitmap::new(1000, 1000);
        for i in 0..100 {
            small.apply(&mut mask, |m| Some(m.fill(i % 2 == 0)));
        }
        assert!(small.bytes() <= 4096 + 200, "{} bytes", small.bytes());
        assert!(small.steps() >= 1);
    }
}
