//! Conversations: "Keep editing" continues one. What is kept of each model turn, and the
//! history a follow-up replays.
//!
//! Each stored image keeps the model's turn as Gemini returned it: its words and its image
//! part, each with its `thoughtSignature` (3.x models keep context through them, and the
//! 3.1 Flash family refuses a turn sent back without them). The image part is kept by
//! reference to the record's own file, never as a second copy. A follow-up replays its
//! lineage: for each earlier turn, the user's instruction as text (an upload is never kept,
//! so the images a user sent are not replayed) and the model's turn verbatim, its image read
//! back from the gallery at [`crate::edit::REFERENCE_SIDE`]; then the new instruction, with
//! its mask. The mask-exact compositing applies to every turn as to a single edit.

use bytes::Bytes;
use gemini::wire::{Content, Part};
use serde::{Deserialize, Serialize};

use crate::store::ImageRecord;

/// The most earlier turns a follow-up replays, whatever the token budget allows: each one's
/// image is read back and sent, so this bounds the memory and time a follow-up costs.
pub const MAX_TURNS: usize = 8;

/// One part of a stored model turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredPart {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The image part: the record's own file.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub image: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thought_signature: Option<String>,
}

/// What is stored of a model turn (thought parts are left out, as a reply needs them not):
/// its text parts and the one image part that became the record, with their signatures.
/// `image_index` is the index, in `turn.parts`, of the image that was kept.
pub fn stored_turn(turn: &Content, image_index: usize) -> Option<String> {
    let parts: Vec<StoredPart> = turn
        .parts
        .iter()
        .enumerate()
        .filter(|(_, p)| !p.is_thought())
        .filter_map(|(i, p)| {
            if p.inline_data.is_some() {
                (i == image_index).then(|| StoredPart {
                    text: None,
                    image: true,
                    thought_signature: p.thought_signature.clone(),
                })
            } else {
                p.text.as_ref().map(|text| StoredPart {
                    text: Some(text.clone()),
                    image: false,
                    thought_signature: p.thought_signature.clone(),
                })
            }
        })
        .collect();
    parts
        .iter()
        .any(|p| p.image)
        .then(|| serde_json::to_string(&parts).ok())
        .flatten()
}

/// A stored model turn sent back, its image part carrying `image` (PNG bytes); `None` when
/// the stored turn cannot be read.
pub fn replayed_turn(stored: &str, image: Bytes) -> Option<Content> {
    let parts: Vec<StoredPart> = serde_json::from_str(stored).ok()?;
    let parts = parts
        .into_iter()
        .map(|p| {
            let mut part = if p.image {
                Part::image("image/png", image.clone())
            } else {
                Part::text(p.text.unwrap_or_default())
            };
            part.thought_signature = p.thought_signature;
            part
        })
        .collect();
    Some(Content {
        role: Some("model".into()),
        parts,
    })
}

/// One earlier turn a follow-up may replay.
#[derive(Debug, Clone)]
pub struct Turn {
    pub record: ImageRecord,
    /// The model's turn (JSON, see [`stored_turn`]).
    pub model_turn: String,
}

/// The turns to replay, oldest first: from the newest (`newest_first`, the image being
/// edited, then its parent, ...), as many as [`MAX_TURNS`] and `budget` allow. A turn costs
/// its image (`image_tokens`) and its words (about four characters a token); the turns kept
/// are always the most recent ones, so the model sees the history nearest the edit.
pub fn fit(newest_first: Vec<Turn>, budget: u32, image_tokens: u32) -> Vec<Turn> {
    let mut spent: u32 = 0;
    let mut kept: Vec<Turn> = Vec::new();
    for turn in newest_first.into_iter().take(MAX_TURNS) {
        let words = turn.record.prompt.len() + turn.model_turn.len();
        let cost = image_tokens.saturating_add(u32::try_from(words / 4).unwrap_or(u32::MAX));
        if spent.saturating_add(cost) > budget {
            break;
        }
        spent += cost;
        kept.push(turn);
    }
    kept.reverse();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ImageKind, NewImage};

    fn model_turn() -> Content {
        let mut thought = Part::text("planning");
        thought.thought = Some(true);
        let mut words = Part::text("Here it is.");
        words.thought_signature = Some("sig-a".into());
        let mut draft = Part::image("image/png", vec![1, 2, 3]);
        draft.thought = Some(true);
        let mut image = Part::image("image/png", vec![9; 100]);
        image.thought_signature = Some("sig-b".into());
        Content {
            role: Some("model".into()),
            parts: vec![thought, words, draft, image],
        }
    }

    #[test]
    fn a_model_turn_is_kept_without_thoughts_or_bytes_and_replayed_verbatim() {
        let stored = stored_turn(&model_turn(), 3).unwrap();
        assert!(!stored.contains("planning"), "thoughts are not kept");
        assert!(stored.len() < 200, "no image bytes: {stored}");
        let replayed = replayed_turn(&stored, Bytes::from_static(b"png")).unwrap();
        assert_eq!(replayed.role.as_deref(), Some("model"));
        assert_eq!(replayed.parts.len(), 2);
        assert_eq!(replayed.parts[0].text.as_deref(), Some("Here it is."));
        assert_eq!(
            replayed.parts[0].thought_signature.as_deref(),
            Some("sig-a")
        );
        let image = replayed.parts[1].inline_data.as_ref().unwrap();
        assert_eq!(image.data.as_ref(), b"png");
        assert_eq!(
            replayed.parts[1].thought_signature.as_deref(),
            Some("sig-b")
        );
        assert!(
            stored_turn(&model_turn(), 0).is_none(),
            "no image kept, no turn"
        );
        assert!(replayed_turn("not json", Bytes::new()).is_none());
    }

    fn turn(prompt: &str) -> Turn {
        let new = NewImage::new(ImageKind::Edited, prompt, "m");
        Turn {
            record: crate::store::ImageRecord {
                id: prompt.into(),
                created_ms: 0,
                parent_id: None,
                kind: new.kind,
                prompt: new.prompt,
                model: new.model,
                aspect_ratio: None,
                image_size: None,
                width: 1,
                height: 1,
                mime: "image/png".into(),
                bytes: 1,
                sha256: String::new(),
                prompt_tokens: 0,
                output_tokens: 0,
                thoughts_tokens: 0,
                cost_usd: None,
                thinking_level: None,
                grounded: false,
                search_queries: 0,
                context_turns: 0,
            },
            model_turn: "[]".into(),
        }
    }

    #[test]
    fn the_newest_turns_that_fit_the_budget_are_kept_oldest_first() {
        let newest_first: Vec<Turn> = (0..12).rev().map(|i| turn(&format!("t{i}"))).collect();
        let kept = fit(newest_first.clone(), 100_000, 1000);
        assert_eq!(kept.len(), MAX_TURNS);
        assert_eq!(kept.first().unwrap().record.prompt, "t4");
        assert_eq!(kept.last().unwrap().record.prompt, "t11");
        let kept = fit(newest_first, 2_500, 1000);
        let prompts: Vec<&str> = kept.iter().map(|t| t.record.prompt.as_str()).collect();
        assert_eq!(prompts, ["t10", "t11"]);
        assert!(fit(vec![turn("x")], 10, 1000).is_empty());
    }
}
