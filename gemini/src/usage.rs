//! What a call used and what it costs: token counts from `usageMetadata`, and per-token
//! prices from the model table.

/// Prices of one model, in US dollars.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Pricing {
    /// Per million prompt tokens (text and images sent).
    pub usd_per_million_input_tokens: f64,
    /// Per million output tokens: the image the model makes.
    pub usd_per_million_output_tokens: f64,
    /// Per million text output tokens (the model's words and its thinking); `None`: the
    /// output rate.
    pub usd_per_million_text_output_tokens: Option<f64>,
    /// Per thousand Google Search queries a grounded call ran.
    pub usd_per_thousand_searches: f64,
}

/// Token counts (and searches) of one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: u32,
    /// Every output token (`candidatesTokenCount`), text and image.
    pub output_tokens: u32,
    /// The part of `output_tokens` that is text (from `candidatesTokensDetails`).
    pub text_output_tokens: u32,
    pub thoughts_tokens: u32,
    pub total_tokens: u32,
    /// Google Search queries the model ran for a grounded answer.
    pub search_queries: u32,
}

impl Usage {
    /// What the call costs: image output at the output rate; the model's words and its
    /// thinking (which bills as output) at the text output rate; searches per thousand.
    pub fn cost_usd(&self, pricing: &Pricing) -> f64 {
        let input = f64::from(self.prompt_tokens) * pricing.usd_per_million_input_tokens;
        let text = self.text_output_tokens.min(self.output_tokens);
        let image = f64::from(self.output_tokens - text) * pricing.usd_per_million_output_tokens;
        let text_rate = pricing
            .usd_per_million_text_output_tokens
            .unwrap_or(pricing.usd_per_million_output_tokens);
        let words = f64::from(text.saturating_add(self.thoughts_tokens)) * text_rate;
        let searches = f64::from(self.search_queries) * pricing.usd_per_thousand_searches / 1_000.0;
        (input + image + words) / 1_000_000.0 + searches
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinking_and_words_bill_as_text_output_and_searches_per_thousand() {
        let pricing = Pricing {
            usd_per_million_input_tokens: 1.5,
            usd_per_million_output_tokens: 30.0,
            usd_per_million_text_output_tokens: Some(7.5),
            usd_per_thousand_searches: 14.0,
        };
        let image_only = Usage {
            prompt_tokens: 1_000,
            output_tokens: 1_120,
            ..Usage::default()
        };
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(image_only.cost_usd(&pricing), 0.0015 + 0.0336));
        let thinking = Usage {
            thoughts_tokens: 400,
            text_output_tokens: 20,
            output_tokens: 1_140,
            ..image_only
        };
        assert!(close(
            thinking.cost_usd(&pricing),
            0.0015 + 0.0336 + 420.0 * 7.5 / 1e6
        ));
        let grounded = Usage {
            search_queries: 2,
            ..thinking
        };
        assert!(close(
            grounded.cost_usd(&pricing),
            thinking.cost_usd(&pricing) + 0.028
        ));
        // Without a text rate, thinking bills at the output rate.
        let plain = Pricing {
            usd_per_million_text_output_tokens: None,
            ..pricing
        };
        assert!(close(
            thinking.cost_usd(&plain),
            0.0015 + (1_140.0 + 400.0) * 30.0 / 1e6
        ));
    }
}
