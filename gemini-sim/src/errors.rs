//! Gemini's error answers, with the real API's status codes, `status` names, messages and
//! `details` (shared wire notes, §5).

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

/// An error answer as the real API sends it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: u16,
    pub status: &'static str,
    pub message: String,
    pub details: Vec<Value>,
}

impl ApiError {
    pub fn new(code: u16, status: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            status,
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(400, "INVALID_ARGUMENT", message)
    }

    pub fn missing_key() -> Self {
        Self::new(
            403,
            "PERMISSION_DENIED",
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        )
    }

    pub fn invalid_key() -> Self {
        let mut e = Self::invalid_argument("API key not valid. Please pass a valid API key.");
        e.details.push(json!({
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"}
        }));
        e
    }

    pub fn leaked_key() -> Self {
        Self::new(
            403,
            "PERMISSION_DENIED",
            "Your API key was reported as leaked. Please use another API key.",
        )
    }

    /// A suspended consumer: Google's message quotes the key it was called with.
    pub fn suspended(key: &str) -> Self {
        let mut e = Self::new(
            403,
            "PERMISSION_DENIED",
            format!("Consumer 'api_key:{key}' has been suspended."),
        );
        e.details.push(json!({
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "CONSUMER_SUSPENDED",
            "domain": "googleapis.com",
            "metadata": {
                "consumer": format!("projects/{}", 100_000_000_000u64 + u64::from(key.len() as u32)),
                "service": "generativelanguage.googleapis.com"
            }
        }));
        e
    }

    pub fn model_not_found(model: &str) -> Self {
        Self::new(
            404,
            "NOT_FOUND",
            format!(
                "models/{model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods."
            ),
        )
    }

    pub fn unknown_field(name: &str, path: &str) -> Self {
        let location = if path.is_empty() {
            String::new()
        } else {
            format!(" at '{path}'")
        };
        let message = format!(
            "Invalid JSON payload received. Unknown name \"{name}\"{location}: Cannot find field."
        );
        let mut e = Self::invalid_argument(message.clone());
        e.details.push(json!({
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": path, "description": message}]
        }));
        e
    }

    pub fn quota(model: &str, retry_secs: u32, zero: bool) -> Self {
        let (metric, quota_id, limit) = if zero {
            (
                "generate_content_free_tier_requests",
                "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                0,
            )
        } else {
            (
                "generate_content_paid_tier_requests",
                "GenerateRequestsPerMinutePerProjectPerModel",
                10,
            )
        };
        let message = format!(
            "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: generativelanguage.googleapis.com/{metric}, limit: {limit}, model: {model}\nPlease retry in {retry_secs}.{:09}s.",
            0
        );
        let mut e = Self::new(429, "RESOURCE_EXHAUSTED", message);
        e.details.push(json!({
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            "violations": [{
                "quotaMetric": format!("generativelanguage.googleapis.com/{metric}"),
                "quotaId": quota_id,
                "quotaDimensions": {"location": "global", "model": model},
                "quotaValue": limit.to_string()
            }]
        }));
        e.details.push(json!({
            "@type": "type.googleapis.com/google.rpc.RetryInfo",
            "retryDelay": format!("{retry_secs}s")
        }));
        e
    }

    pub fn overloaded() -> Self {
        Self::new(
            503,
            "UNAVAILABLE",
            "The model is overloaded. Please try again later.",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            500,
            "INTERNAL",
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
        )
    }

    pub fn body(&self) -> Value {
        let mut error = json!({"code": self.code, "message": self.message, "status": self.status});
        if !self.details.is_empty() {
            error["details"] = Value::Array(self.details.clone());
        }
        json!({ "error": error })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.body())).into_response()
    }
}
