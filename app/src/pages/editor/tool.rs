//! The mask tools and the brush's size: what a pointer on the stage does, the key that picks
//! each tool, and how `[` and `]` step the brush. Plain values, shared by the stage (which
//! paints with them) and the toolbar (which picks them).

/// What a pointer on the stage does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Brush,
    Eraser,
    Rectangle,
    Lasso,
    Pan,
}

impl Tool {
    pub const ALL: [Tool; 5] = [
        Tool::Brush,
        Tool::Eraser,
        Tool::Rectangle,
        Tool::Lasso,
        Tool::Pan,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Tool::Brush => "Brush",
            Tool::Eraser => "Eraser",
            Tool::Rectangle => "Rectangle",
            Tool::Lasso => "Lasso",
            Tool::Pan => "Hand",
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Tool::Brush => "B",
            Tool::Eraser => "E",
            Tool::Rectangle => "R",
            Tool::Lasso => "L",
            Tool::Pan => "H",
        }
    }

    pub fn test_id(self) -> &'static str {
        match self {
            Tool::Brush => "tool-brush",
            Tool::Eraser => "tool-eraser",
            Tool::Rectangle => "tool-rectangle",
            Tool::Lasso => "tool-lasso",
            Tool::Pan => "tool-pan",
        }
    }

    pub fn from_key(key: &str) -> Option<Tool> {
        Tool::ALL
            .into_iter()
            .find(|t| t.key().eq_ignore_ascii_case(key))
    }
}

/// The brush's diameter range, in image pixels.
pub const BRUSH_MIN: u32 = 1;
pub const BRUSH_MAX: u32 = 2000;

/// The next brush size up (`grow`) or down: steps of about 15 %, at least one pixel.
pub fn brush_step(size: u32, grow: bool) -> u32 {
    let step = (size / 7).max(1);
    if grow {
        size.saturating_add(step).min(BRUSH_MAX)
    } else {
        size.saturating_sub(step).max(BRUSH_MIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brush_steps_are_proportional_and_bounded() {
        assert_eq!(brush_step(40, true), 45);
        assert_eq!(brush_step(40, false), 35);
        assert_eq!(brush_step(1, false), 1);
        assert_eq!(brush_step(1, true), 2);
        assert_eq!(brush_step(BRUSH_MAX, true), BRUSH_MAX);
        // Up then down comes back near where it started, never below the minimum.
        let mut size = 3;
        for _ in 0..100 {
            size = brush_step(size, false);
        }
        assert_eq!(size, BRUSH_MIN);
    }

    #[test]
    fn every_tool_has_its_own_key() {
        for tool in Tool::ALL {
            assert_eq!(Tool::from_key(tool.key()), Some(tool));
            assert_eq!(Tool::from_key(&tool.key().to_lowercase()), Some(tool));
        }
    }
}
