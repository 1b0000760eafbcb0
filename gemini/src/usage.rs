//! What a call used and what it costs: token counts from `usageMetadata`, and per-token
//! prices from the model table.

/// Prices of one model, in US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pricing {
    pub usd_per_million_input_tokens: f64,
    pub usd_per_million_output_tokens: f64,
}

/// Token counts of one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: u32,
    pub output_tokens: u32,
    pub thoughts_tokens: u32,
    pub total_tokens: u32,
}

impl Usage {
    /// What the call costs: thinking tokens are billed as output.
    pub fn cost_usd(&self, pricing: &Pricing) -> f64 {
        let input = f64::from(self.prompt_tokens) * pricing.usd_per_million_input_tokens;
        let output = f64::from(self.output_tokens.saturating_add(self.thoughts_tokens))
            * pricing.usd_per_million_output_tokens;
        (input + output) / 1_000_000.0
    }
}
