//! What the next request is made with: the model (its deprecation or unavailability said in
//! words, an unavailable one not choosable), the shape of a generated image, how hard the
//! model thinks, and whether it searches Google.

use leptos::prelude::*;
use protocol::{Availability, GalleryItem, ModelInfo};

/// The person's choices for the next request, shared by the form and the requests.
#[derive(Clone, Copy)]
pub struct Choices {
    pub models: StoredValue<Vec<ModelInfo>>,
    pub model: RwSignal<String>,
    pub ratio: RwSignal<String>,
    /// `""`: the model's default size.
    pub size: RwSignal<String>,
    /// `""`: the model's default level.
    pub thinking: RwSignal<String>,
    pub grounding: RwSignal<bool>,
    /// Continue the conversation of a stored image being edited (else start fresh).
    pub conversation: RwSignal<bool>,
    /// Edit a small mask on a large image through a frame around it, at higher detail (else
    /// always send the whole image). Remembered by the browser.
    pub detail: RwSignal<bool>,
    /// How many images one request makes, side by side (1 to 4).
    pub variations: RwSignal<usize>,
    /// Expand the canvas to this aspect ratio (`""`: keep the size).
    pub expand: RwSignal<String>,
    /// Where the image stays on the expanded canvas (`centre`, `left`, ...).
    pub expand_anchor: RwSignal<String>,
    /// The chosen model.
    pub current: Memo<Option<ModelInfo>>,
}

impl Choices {
    /// The choices at their defaults: the server's default model if it can be used, else the
    /// first that can.
    pub fn new(models: Vec<ModelInfo>, default_model: String) -> Self {
        let first = models
            .iter()
            .find(|m| m.id == default_model && m.usable())
            .or_else(|| models.iter().find(|m| m.usable()))
            .map_or(default_model, |m| m.id.clone());
        let models = StoredValue::new(models);
        let model = RwSignal::new(first);
        let current = Memo::new(move |_| {
            let id = model.get();
            models.with_value(|all| all.iter().find(|m| m.id == id).cloned())
        });
        Self {
            models,
            model,
            ratio: RwSignal::new("1:1".to_owned()),
            size: RwSignal::new(String::new()),
            thinking: RwSignal::new(String::new()),
            grounding: RwSignal::new(false),
            conversation: RwSignal::new(true),
            detail: RwSignal::new(true),
            variations: RwSignal::new(1),
            expand: RwSignal::new(String::new()),
            expand_anchor: RwSignal::new("centre".to_owned()),
            current,
        }
    }

    /// Takes over what a stored image was made with: its model (when it can still be used),
    /// and with `everything` its shape and options too.
    pub fn reuse(&self, image: &GalleryItem, everything: bool) {
        let usable = self
            .models
            .with_value(|all| all.iter().any(|m| m.id == image.model && m.usable()));
        if usable {
            self.model.set(image.model.clone());
        }
        if !everything {
            return;
        }
        if let Some(ratio) = &image.aspect_ratio {
            self.ratio.set(ratio.clone());
        }
        self.size.set(image.image_size.clone().unwrap_or_default());
        self.thinking
            .set(image.thinking_level.clone().unwrap_or_default());
        self.grounding.set(image.grounded);
    }

    /// The thinking level to send: the one chosen, if the model takes it.
    pub fn thinking_level(&self) -> Option<String> {
        let chosen = self.thinking.get_untracked();
        self.current
            .get_untracked()
            .filter(|m| m.thinking_levels.contains(&chosen))
            .map(|_| chosen)
    }

    /// Whether to ground the image in Google Search (only where the model can).
    pub fn grounded(&self) -> bool {
        self.grounding.get_untracked() && self.current.get_untracked().is_some_and(|m| m.web_search)
    }

    /// The size to ask for: the one chosen, if the model takes it.
    pub fn image_size(&self) -> Option<String> {
        let chosen = self.size.get_untracked();
        self.current
            .get_untracked()
            .filter(|m| m.image_sizes.contains(&chosen))
            .map(|_| chosen)
    }
}

fn option_label(m: &ModelInfo) -> String {
    let state = match (&m.availability, &m.deprecated) {
        (Availability::Unavailable { .. }, _) => " · unavailable",
        (_, Some(_)) => " · deprecated",
        _ => "",
    };
    format!(
        "{} · ≈ {}{state}",
        m.label,
        protocol::format_usd(m.usd_per_image)
    )
}

/// What the chosen model's state means for the person: deprecated (until when, and what to
/// choose instead) or unavailable (why).
fn model_notice(m: &ModelInfo, models: &[ModelInfo]) -> Option<String> {
    if let Availability::Unavailable { reason } = &m.availability {
        return Some(format!("{} cannot be used: {reason}", m.label));
    }
    let since = m.deprecated.as_ref()?;
    let until = m
        .shutdown
        .as_ref()
        .map_or_else(String::new, |d| format!(" and shuts it down on {d}"));
    let instead = models
        .iter()
        .find(|o| o.id != m.id && o.deprecated.is_none() && o.usable())
        .map_or_else(String::new, |o| {
            format!(" Choose {} for new work.", o.label)
        });
    Some(format!(
        "Google deprecated {} on {since}{until}.{instead}",
        m.label
    ))
}

/// The model, its notice, and its options (thinking, grounding).
#[component]
pub fn ModelOptions(choices: Choices) -> impl IntoView {
    let Choices {
        models,
        model,
        thinking,
        grounding,
        current,
        size,
        ..
    } = choices;
    let notice = move || {
        let chosen = current.get()?;
        models.with_value(|all| model_notice(&chosen, all))
    };
    let levels = move || current.get().map(|m| m.thinking_levels).unwrap_or_default();
    let default_level = move || current.get().and_then(|m| m.default_thinking_level);
    view! {
        <label class="field">
            <span>"Model"</span>
            <select
                name="model"
                data-testid="model"
                prop:value=move || model.get()
                on:change=move |ev| {
                    model.set(event_target_value(&ev));
                    size.set(String::new());
                    thinking.set(String::new());
                }
            >
                {models
                    .get_value()
                    .into_iter()
                    .map(|m| {
                        let selected = m.id == model.get_untracked();
                        let title = match &m.availability {
                            Availability::Unavailable { reason } => reason.clone(),
                            _ => String::new(),
                        };
                        view! {
                            <option
                                value=m.id.clone()
                                selected=selected
                                disabled=!m.usable()
                                title=title
                            >
                                {option_label(&m)}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
        {move || {
            let levels = levels();
            (!levels.is_empty())
                .then(|| {
                    let default = default_level().unwrap_or_default();
                    view! {
                        <label class="field">
                            <span>"Thinking"</span>
                            <select
                                name="thinking_level"
                                data-testid="thinking-level"
                                prop:value=move || {
                                    let chosen = thinking.get();
                                    if chosen.is_empty() {
                                        default_level().unwrap_or_default()
                                    } else {
                                        chosen
                                    }
                                }
                                on:change=move |ev| thinking.set(event_target_value(&ev))
                            >
                                {levels
                                    .into_iter()
                                    .map(|level| {
                                        let selected = if thinking.get_untracked().is_empty() {
                                            level == default
                                        } else {
                                            level == thinking.get_untracked()
                                        };
                                        let label = if level == default {
                                            format!("{level} (default)")
                                        } else {
                                            level.clone()
                                        };
                                        view! {
                                            <option value=level selected=selected>
                                                {label}
                                            </option>
                                        }
                                    })
                                    .collect_view()}
                            </select>
                        </label>
                    }
                })
        }}
        {move || {
            current
                .get()
                .is_some_and(|m| m.web_search)
                .then(|| {
                    view! {
                        <label class="field field-check">
                            <input
                                type="checkbox"
                                name="grounding"
                                data-testid="grounding"
                                prop:checked=move || grounding.get()
                                on:change=move |ev| grounding.set(event_target_checked(&ev))
                            />
                            <span>"Search Google for facts"</span>
                        </label>
                    }
                })
        }}
        {move || {
            notice()
                .map(|text| {
                    view! {
                        <p class="notice notice-warn small field-wide" data-testid="model-notice">
                            {text}
                        </p>
                    }
                })
        }}
    }
}

/// The shape of a generated image: aspect ratio and size, as the chosen model takes them.
#[component]
pub fn ImageShape(choices: Choices) -> impl IntoView {
    let Choices {
        ratio,
        size,
        current,
        ..
    } = choices;
    view! {
        <label class="field">
            <span>"Aspect ratio"</span>
            <select
                name="aspect_ratio"
                data-testid="aspect-ratio"
                prop:value=move || ratio.get()
                on:change=move |ev| ratio.set(event_target_value(&ev))
            >
                {move || {
                    current
                        .get()
                        .map(|m| m.aspect_ratios)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|r| {
                            let selected = r == ratio.get_untracked();
                            view! {
                                <option value=r.clone() selected=selected>
                                    {r.clone()}
                                </option>
                            }
                        })
                        .collect_view()
                }}
            </select>
        </label>
        {move || {
            let sizes = current.get().map(|m| m.image_sizes).unwrap_or_default();
            (!sizes.is_empty())
                .then(|| {
                    view! {
                        <label class="field">
                            <span>"Size"</span>
                            <select
                                name="image_size"
                                data-testid="image-size"
                                prop:value=move || size.get()
                                on:change=move |ev| size.set(event_target_value(&ev))
                            >
                                <option value="">"Default"</option>
                                {sizes
                                    .into_iter()
                                    .map(|s| view! { <option value=s.clone()>{s.clone()}</option> })
                                    .collect_view()}
                            </select>
                        </label>
                    }
                })
        }}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(id: &str, deprecated: Option<&str>, availability: Availability) -> ModelInfo {
        ModelInfo {
            id: id.into(),
            label: id.to_uppercase(),
            max_input_images: 13,
            aspect_ratios: vec!["1:1".into()],
            image_sizes: vec![],
            usd_per_image: 0.03,
            deprecated: deprecated.map(str::to_owned),
            shutdown: deprecated.map(|_| "2026-10-29".to_owned()),
            thinking_levels: vec![],
            default_thinking_level: None,
            always_thinks: false,
            web_search: false,
            multi_turn: true,
            c2pa: false,
            availability,
        }
    }

    #[test]
    fn a_deprecated_model_says_until_when_and_what_instead() {
        let all = vec![
            model("old", Some("2026-10-06"), Availability::Available),
            model("new", None, Availability::Available),
        ];
        let text = model_notice(&all[0], &all).unwrap();
        assert!(
            text.contains("2026-10-06") && text.contains("2026-10-29"),
            "{text}"
        );
        assert!(text.contains("Choose NEW"), "{text}");
        assert!(model_notice(&all[1], &all).is_none());
        let gone = model(
            "gone",
            None,
            Availability::Unavailable {
                reason: "Retired.".into(),
            },
        );
        assert!(model_notice(&gone, &all).unwrap().contains("Retired."));
        assert!(option_label(&gone).ends_with("unavailable"));
    }
}

/// The browser's remembered setting: always send Gemini the whole image.
pub const WHOLE_IMAGE: &str = "gemflash.whole-image";

/// Whether a small mask on a large image is edited through a frame around it.
#[component]
pub fn DetailChoice(choices: Choices) -> impl IntoView {
    let detail = choices.detail;
    view! {
        <label class="field field-check small">
            <input
                type="checkbox"
                name="detail"
                data-testid="detail"
                prop:checked=move || detail.get()
                on:change=move |ev| {
                    let on = event_target_checked(&ev);
                    detail.set(on);
                    super::local::remember(WHOLE_IMAGE, if on { "no" } else { "yes" });
                }
            />
            <span>"Edit a small area at higher detail (Gemini sees a frame around the mask)"</span>
        </label>
    }
}

/// The most variations one request may ask for.
pub const MAX_VARIATIONS: usize = 4;

/// How many images a request makes: each is a call of its own, counted against the rate limit
/// and the day's budget, and stored with its cost.
#[component]
pub fn Variations(choices: Choices) -> impl IntoView {
    let variations = choices.variations;
    view! {
        <label class="field">
            <span>"Variations"</span>
            <select
                name="variations"
                data-testid="variations"
                on:change=move |ev| {
                    variations.set(event_target_value(&ev).parse().unwrap_or(1));
                }
                prop:value=move || variations.get().to_string()
            >
                {(1..=MAX_VARIATIONS)
                    .map(|n| {
                        view! {
                            <option value=n.to_string() selected=move || variations.get() == n>
                                {n.to_string()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}
