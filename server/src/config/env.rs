//! Reading variables: one small reader that knows each variable's name, so every error it
//! gives names the variable and says what is wrong with the value (never the value of a
//! secret).

use std::{fmt::Display, ops::RangeInclusive, str::FromStr, time::Duration};

use super::ConfigError;

/// The variables, through a lookup (the process environment, or a test's map).
pub struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Env<'a> {
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { lookup }
    }

    /// A variable's value, trimmed; an empty value counts as unset (a line like
    /// `GEMINI_API_KEY=` copied from `.env.example` must not count as a key).
    pub fn get(&self, var: &str) -> Option<String> {
        (self.lookup)(var)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// Whether a variable is set (to something not empty).
    pub fn is_set(&self, var: &str) -> bool {
        self.get(var).is_some()
    }

    /// A whole number within `range`, or `default` when unset.
    pub fn number<T>(
        &self,
        var: &'static str,
        default: T,
        range: RangeInclusive<T>,
        unit: &str,
    ) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + Display,
    {
        Ok(self.optional_number(var, range, unit)?.unwrap_or(default))
    }

    /// A whole number within `range`, or `None` when unset.
    pub fn optional_number<T>(
        &self,
        var: &'static str,
        range: RangeInclusive<T>,
        unit: &str,
    ) -> Result<Option<T>, ConfigError>
    where
        T: FromStr + PartialOrd + Display,
    {
        let Some(text) = self.get(var) else {
            return Ok(None);
        };
        text.parse::<T>()
            .ok()
            .filter(|n| range.contains(n))
            .map(Some)
            .ok_or_else(|| {
                ConfigError::new(
                    var,
                    format!(
                        "{text:?} is not a whole number of {unit} from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )
            })
    }

    /// A number of seconds within `range`, or `default` when unset.
    pub fn seconds(
        &self,
        var: &'static str,
        default: Duration,
        range: RangeInclusive<u64>,
    ) -> Result<Duration, ConfigError> {
        self.number(var, default.as_secs(), range, "seconds")
            .map(Duration::from_secs)
    }

    /// A positive decimal amount (dollars, gigabytes), or `None` when unset.
    pub fn positive_amount(
        &self,
        var: &'static str,
        example: &str,
    ) -> Result<Option<f64>, ConfigError> {
        let Some(text) = self.get(var) else {
            return Ok(None);
        };
        text.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v > 0.0)
            .map(Some)
            .ok_or_else(|| {
                ConfigError::new(
                    var,
                    format!("{text:?} is not an amount above 0, e.g. {example}"),
                )
            })
    }

    /// One of several words, or `default` when unset.
    pub fn choice<T: Copy>(
        &self,
        var: &'static str,
        default: T,
        choices: &[(&str, T)],
    ) -> Result<T, ConfigError> {
        let Some(text) = self.get(var) else {
            return Ok(default);
        };
        choices
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&text))
            .map(|(_, v)| *v)
            .ok_or_else(|| {
                let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
                ConfigError::new(var, format!("{text:?} is not one of {}", names.join(", ")))
            })
    }

    /// A comma-separated list, each item parsed; empty items are skipped.
    pub fn list<T>(&self, var: &'static str, hint: &str) -> Result<Vec<T>, ConfigError>
    where
        T: FromStr<Err = String>,
    {
        let Some(text) = self.get(var) else {
            return Ok(Vec::new());
        };
        text.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|e| ConfigError::new(var, format!("{e}; {hint}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn empty_is_unset_and_values_are_trimmed() {
        let lookup = env_of(&[("A", "  "), ("B", " 7 ")]);
        let env = Env::new(&lookup);
        assert_eq!(env.get("A"), None);
        assert_eq!(env.number("B", 1u32, 0..=10, "things").unwrap(), 7);
        assert_eq!(env.number("C", 3u32, 0..=10, "things").unwrap(), 3);
    }

    #[test]
    fn errors_name_the_variable_and_the_range() {
        let lookup = env_of(&[("N", "11"), ("W", "maybe"), ("D", "-2")]);
        let env = Env::new(&lookup);
        let e = env.number("N", 1u32, 0..=10, "things").unwrap_err();
        assert_eq!(e.var, "N");
        assert!(e.problem.contains("from 0 to 10"), "{e}");
        let e = env.choice("W", 1, &[("yes", 1), ("no", 0)]).unwrap_err();
        assert!(e.problem.contains("yes, no"), "{e}");
        assert_eq!(env.positive_amount("D", "1.5").unwrap_err().var, "D");
    }
}
