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
