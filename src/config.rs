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
