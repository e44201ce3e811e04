//! Typed configuration: `sportello.toml` (or `--config FILE`) plus `SPORTELLO_*`
//! environment variables. Secrets come only from the environment.

use crate::matcher::MatchSettings;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub matching: MatchSettings,
    /// Where handoffs go when neither the FAQ entry nor the intent names a department.
    pub default_department: String,
    pub departments: BTreeMap<String, Department>,
    pub telegram: TelegramSettings,
}

/// `[telegram]`: how the channel behaves (the token comes from the environment).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramSettings {
    /// Long-polling wait per getUpdates call, e.g. "10s".
    #[serde(deserialize_with = "duration")]
    pub poll_timeout: chrono::Duration,
    /// How long a reply is retried before it is given up (and kept as failed), e.g. "1h".
    #[serde(deserialize_with = "duration")]
    pub give_up_after: chrono::Duration,
}

impl Default for TelegramSettings {
    fn default() -> Self {
        Self {
            poll_timeout: chrono::Duration::seconds(10),
            give_up_after: chrono::Duration::hours(1),
        }
    }
}

/// A span written as a number and a unit: `30s`, `10m`, `24h`, `7d`.
pub fn parse_duration(raw: &str) -> Result<chrono::Duration, String> {
    let raw = raw.trim();
    let (n, unit) = raw.split_at(raw.len().saturating_sub(1));
    let n: i64 = n
        .parse()
        .map_err(|_| format!("{raw}: expected a number and a unit, like 30s, 10m, 24h or 7d"))?;
    match unit {
        "s" => Ok(chrono::Duration::seconds(n)),
        "m" => Ok(chrono::Duration::minutes(n)),
        "h" => Ok(chrono::Duration::hours(n)),
        "d" => Ok(chrono::Duration::days(n)),
        _ => Err(format!("{raw}: the unit is s, m, h or d (e.g. 10m)")),
    }
}

fn duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<chrono::Duration, D::Error> {
    let raw = String::deserialize(d)?;
    parse_duration(&raw).map_err(serde::de::Error::custom)
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    /// How the department is shown to customers, per language code.
    #[serde(default)]
    pub label: BTreeMap<String, String>,
}

impl Default for Config {
    fn default() -> Self {
        let departments = ["vendite", "logistica", "amministrazione", "assistenza"]
            .into_iter()
            .map(|d| (d.to_owned(), Department::default()))
            .collect();
        Self {
            matching: MatchSettings::default(),
            default_department: "assistenza".into(),
            departments,
            telegram: TelegramSettings::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}\n  hint: see the configuration table in README.md")]
    Parse {
        path: String,
        line: usize,
        message: String,
    },
}

impl Config {
    /// Read `path` if given (it must exist), else `sportello.toml` if present, else defaults.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let default = Path::new("sportello.toml");
        let path = match path {
            Some(p) => p,
            None if default.exists() => default,
            None => return Ok(Config::default()),
        };
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Config::parse(&text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            line: e
                .span()
                .map_or(1, |s| crate::diagnostics::line_of(&text, s.start)),
            message: e.message().to_owned(),
        })
    }

    pub fn parse(text: &str) -> Result<Config, toml::de::Error> {
        toml::from_str(text)
    }
}
