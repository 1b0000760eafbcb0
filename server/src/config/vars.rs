//! The environment variables GemFlash reads. `.env.example` documents each of them.

pub const ADDR: &str = "GEMFLASH_ADDR";
pub const LEPTOS_SITE_ADDR: &str = "LEPTOS_SITE_ADDR";
pub const PUBLIC_ORIGIN: &str = "GEMFLASH_PUBLIC_ORIGIN";
pub const ALLOWED_HOSTS: &str = "GEMFLASH_ALLOWED_HOSTS";
pub const API_KEY: &str = "GEMINI_API_KEY";
pub const BASE_URL: &str = "GEMINI_BASE_URL";
pub const MODELS_FILE: &str = "GEMFLASH_MODELS_FILE";
pub const DATA_DIR: &str = "GEMFLASH_DATA_DIR";
pub const LOG_FORMAT: &str = "GEMFLASH_LOG_FORMAT";
pub const LOG: &str = "GEMFLASH_LOG";
pub const RUST_LOG: &str = "RUST_LOG";
pub const SHUTDOWN_GRACE: &str = "GEMFLASH_SHUTDOWN_GRACE_SECS";
pub const FEATHER: &str = "GEMFLASH_MASK_FEATHER_PX";
pub const UPSTREAM_ATTEMPTS: &str = "GEMFLASH_UPSTREAM_ATTEMPTS";
pub const UPSTREAM_DEADLINE: &str = "GEMFLASH_UPSTREAM_DEADLINE_SECS";
pub const RETENTION_DAYS: &str = "GEMFLASH_RETENTION_DAYS";
pub const RETENTION_MAX_IMAGES: &str = "GEMFLASH_RETENTION_MAX_IMAGES";
pub const RATE_PER_MINUTE: &str = "GEMFLASH_RATE_LIMIT_PER_MINUTE";
pub const RATE_BURST: &str = "GEMFLASH_RATE_LIMIT_BURST";
pub const TRUSTED_PROXIES: &str = "GEMFLASH_TRUSTED_PROXIES";
pub const FORWARDED_HEADER: &str = "GEMFLASH_FORWARDED_HEADER";
pub const JOBS_PER_CLIENT: &str = "GEMFLASH_MAX_JOBS_PER_CLIENT";
pub const REQUESTS_IN_FLIGHT: &str = "GEMFLASH_MAX_REQUESTS_IN_FLIGHT";
pub const MAX_CONCURRENT: &str = "GEMFLASH_MAX_CONCURRENT_CALLS";
pub const QUEUE_WAIT: &str = "GEMFLASH_QUEUE_WAIT_SECS";
pub const BUDGET_IMAGES: &str = "GEMFLASH_DAILY_BUDGET_IMAGES";
pub const BUDGET_USD: &str = "GEMFLASH_DAILY_BUDGET_USD";
pub const IMAGE_MEMORY: &str = "GEMFLASH_IMAGE_MEMORY_MB";
pub const IMAGE_WORKERS: &str = "GEMFLASH_IMAGE_WORKERS";
pub const IMAGE_MEGAPIXELS: &str = "GEMFLASH_MAX_IMAGE_MEGAPIXELS";
pub const REQUEST_MEGAPIXELS: &str = "GEMFLASH_MAX_REQUEST_MEGAPIXELS";
pub const UPLOAD_DEADLINE: &str = "GEMFLASH_UPLOAD_DEADLINE_SECS";
pub const STORAGE_MAX: &str = "GEMFLASH_STORAGE_MAX_GB";
pub const METRICS_TOKEN: &str = "GEMFLASH_METRICS_TOKEN";
pub const ACCESS: &str = "GEMFLASH_ACCESS";
pub const ACCESS_TOKENS: &str = "GEMFLASH_ACCESS_TOKENS";
pub const SESSION_HOURS: &str = "GEMFLASH_SESSION_HOURS";
pub const SESSION_IDLE: &str = "GEMFLASH_SESSION_IDLE_MINUTES";
pub const LOGIN_PER_MINUTE: &str = "GEMFLASH_LOGIN_PER_MINUTE";
pub const LOGIN_GLOBAL_PER_MINUTE: &str = "GEMFLASH_LOGIN_GLOBAL_PER_MINUTE";
pub const AUTH_HEADER: &str = "GEMFLASH_AUTH_HEADER";
pub const MODEL_CHECK_HOURS: &str = "GEMFLASH_MODEL_CHECK_HOURS";
pub const CONVERSATION_TOKENS: &str = "GEMFLASH_CONVERSATION_TOKENS";
// The built-in simulator's settings (without a key), the same variables its standalone
// binary reads.
pub const SIM_KEY: &str = gemini_sim::vars::KEY;
pub const SIM_LATENCY: &str = gemini_sim::vars::LATENCY_MS;
pub const SIM_MODELS: &str = gemini_sim::vars::MODELS;
pub const SIM_RETIRED: &str = gemini_sim::vars::RETIRED;

/// Every variable above, for the check that `.env.example` documents each one.
pub const ALL: &[&str] = &[
    ADDR,
    LEPTOS_SITE_ADDR,
    PUBLIC_ORIGIN,
    ALLOWED_HOSTS,
    API_KEY,
    BASE_URL,
    MODELS_FILE,
    DATA_DIR,
    LOG_FORMAT,
    LOG,
    RUST_LOG,
    SHUTDOWN_GRACE,
    FEATHER,
    UPSTREAM_ATTEMPTS,
    UPSTREAM_DEADLINE,
    RETENTION_DAYS,
    RETENTION_MAX_IMAGES,
    RATE_PER_MINUTE,
    RATE_BURST,
    TRUSTED_PROXIES,
    FORWARDED_HEADER,
    JOBS_PER_CLIENT,
    REQUESTS_IN_FLIGHT,
    MAX_CONCURRENT,
    QUEUE_WAIT,
    BUDGET_IMAGES,
    BUDGET_USD,
    IMAGE_MEMORY,
    IMAGE_WORKERS,
    IMAGE_MEGAPIXELS,
    REQUEST_MEGAPIXELS,
    UPLOAD_DEADLINE,
    STORAGE_MAX,
    METRICS_TOKEN,
    ACCESS,
    ACCESS_TOKENS,
    MODEL_CHECK_HOURS,
    CONVERSATION_TOKENS,
    SIM_KEY,
    SIM_LATENCY,
    SIM_MODELS,
    SIM_RETIRED,
    SESSION_HOURS,
    SESSION_IDLE,
    LOGIN_PER_MINUTE,
    LOGIN_GLOBAL_PER_MINUTE,
    AUTH_HEADER,
];

#[cfg(test)]
mod tests {
    #[test]
    fn env_example_documents_every_variable() {
        let example = include_str!("../../../.env.example");
        for var in super::ALL {
            // RUST_LOG is the standard fallback, named where GEMFLASH_LOG is.
            assert!(example.contains(var), "{var} is not in .env.example");
        }
    }
}
