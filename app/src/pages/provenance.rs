//! Where an image's facts and marks come from, shown beside it (on its own page and as a
//! result in the editor): the sources Google Search gave a grounded image, with Google's
//! search suggestions in a sandboxed frame of their own, and what provenance the image
//! carries (SynthID, and the C2PA manifest GemFlash cannot keep).

use leptos::either::Either;
use leptos::prelude::*;
use protocol::{Grounding, ImageResult, ModelInfo};

/// A grounded image's sources and searches, and Google's search suggestions as Google requires
/// them shown: served by GemFlash as a document of their own, framed in a sandbox (no script
/// of theirs runs in GemFlash's origin; the page's policy stays strict).
#[component]
pub fn GroundingSources(grounding: Grounding, id: String) -> impl IntoView {
    let Grounding {
        queries,
        sources,
        search_suggestions,
    } = grounding;
    let searched = (!queries.is_empty()).then(|| {
        view! {
            <p class="muted small" data-testid="grounding-queries">
                {format!("Searched Google for: {}", queries.join(" · "))}
            </p>
        }
    });
    view! {
        <section class="grounding" aria-label="Sources" data-testid="grounding">
            <h3 class="small">"Sources"</h3>
            {if sources.is_empty() {
                Either::Left(
                    view! {
                        <p class="muted small">"Google Search gave no pages for this image."</p>
                    },
                )
            } else {
                Either::Right(
                    view! {
                        <ul class="sources-list small" data-testid="grounding-sources">
                            {sources
                                .into_iter()
                                .map(|s| {
                                    view! {
                                        <li>
                                            <a
                                                href=s.uri.clone()
                                                rel="noopener noreferrer nofollow"
                                                target="_blank"
                                                title=s.uri
                                            >
                                                {s.title}
                                            </a>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    },
                )
            }}
            {searched}
            {search_suggestions
                .then(|| {
                    view! {
                        <iframe
                            class="search-suggestions"
                            src=ImageResult::search_suggestions_url(&id)
                            sandbox="allow-popups allow-popups-to-escape-sandbox"
                            referrerpolicy="no-referrer"
                            title="Google Search suggestions"
                            data-testid="search-suggestions"
                        ></iframe>
                    }
                })}
        </section>
    }
}

/// What provenance the image carries: SynthID always (Gemini marks its pixels, and the
/// pixels GemFlash keeps are Gemini's or the source's); a C2PA manifest never (GemFlash keeps
/// pixels only, and an edit is composited from two images), which matters where the model's
/// own output carries one.
pub fn provenance_note(model: Option<&ModelInfo>, edited: bool) -> String {
    let synth_id = "Gemini marks what it makes with an invisible SynthID watermark, which stays in these pixels.";
    match model {
        Some(m) if m.c2pa => format!(
            "{} adds a C2PA manifest to its own images. GemFlash keeps pixels only{}, so that manifest is not kept. {synth_id}",
            m.label,
            if edited {
                " and composites an edit from two images"
            } else {
                ""
            }
        ),
        _ => synth_id.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::Availability;

    #[test]
    fn the_note_says_a_c2pa_manifest_is_not_kept_and_synth_id_stays() {
        let lite = ModelInfo {
            id: "lite".into(),
            label: "Nano Banana 2 Lite".into(),
            max_input_images: 2,
            aspect_ratios: vec![],
            image_sizes: vec![],
            usd_per_image: 0.03,
            deprecated: None,
            shutdown: None,
            thinking_levels: vec![],
            default_thinking_level: None,
            always_thinks: false,
            web_search: false,
            multi_turn: false,
            c2pa: true,
            availability: Availability::Unchecked,
        };
        let note = provenance_note(Some(&lite), true);
        assert!(
            note.contains("C2PA manifest") && note.contains("not kept"),
            "{note}"
        );
        assert!(
            note.contains("composites") && note.contains("SynthID"),
            "{note}"
        );
        let plain = provenance_note(None, false);
        assert!(plain.contains("SynthID") && !plain.contains("C2PA"));
    }
}
