//! Reading `sportello.toml`: the file parsed, checked for what its types cannot say, and
//! every error told at its line in the editor's words.

use super::Config;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // The cause follows in the error's chain (`error: cannot read X: No such file`).
    #[error("cannot read {path}")]
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

/// A parse error in the words of the file's editor, not of Rust's types ("expected f32",
/// "expected struct HoursSettings").
fn plain(message: &str) -> String {
    static TYPES: std::sync::LazyLock<[(regex::Regex, &str); 5]> = std::sync::LazyLock::new(|| {
        let re = |p: &str| regex::Regex::new(p).expect("a valid pattern");
        [
            (re(r"expected f(32|64)\b"), "expected a number (like 0.85)"),
            (
                re(r"expected [ui](8|16|32|64|128|size)\b"),
                "expected a whole number (like 3)",
            ),
            (
                re(r"expected struct \w+"),
                "expected a table of settings (its own [section], or { key = value, ... })",
            ),
            (
                re(r"expected a sequence"),
                "expected a list (like [\"a\", \"b\"])",
            ),
            (
                re(r"expected a map"),
                "expected a table (like { key = value })",
            ),
        ]
    });
    TYPES.iter().fold(message.to_owned(), |m, (re, with)| {
        re.replace_all(&m, *with).into_owned()
    })
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
        let config = Config::parse(&text).map_err(|e| ConfigError::Parse {
            path: path.display().to_string(),
            line: e
                .span()
                .map_or(1, |s| crate::diagnostics::line_of(&text, s.start)),
            message: plain(e.message()),
        })?;
        config
            .validate(&text)
            .map_err(|(key, message)| ConfigError::Parse {
                path: path.display().to_string(),
                line: key_line(&text, key).unwrap_or(1),
                message,
            })?;
        Ok(config)
    }

    /// What the types cannot say: the matching settings are shares (0..1), and handoffs
    /// must go to a department that exists. The key at fault and the sentence; `text`
    /// is the file, to tell a key set from one left at its default.
    pub fn validate(&self, text: &str) -> Result<(), (&'static str, String)> {
        let m = &self.matching;
        for (key, value) in [
            ("threshold", m.threshold),
            ("clarify_floor", m.clarify_floor),
            ("margin", m.margin),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err((
                    key,
                    format!(
                        "[matching] {key} = {value} is outside 0..1: it is a share, e.g. \
                         0.85 for 85 %"
                    ),
                ));
            }
        }
        let key = "default_department";
        let department = &self.default_department;
        if !self.departments.contains_key(department) {
            let known: Vec<&str> = self.departments.keys().map(String::as_str).collect();
            let known = known.join(", ");
            let message = if key_line(text, key).is_some() {
                format!(
                    "{key} `{department}` is not a configured department (configured: \
                     {known}): name one of them, or add a [departments.{department}] section"
                )
            } else {
                format!(
                    "{key} is not set and its default, `{department}`, is not a configured \
                     department (configured: {known}; [departments.NAME] sections replace \
                     the four default ones): add {key} = \"NAME\" naming one of them"
                )
            };
            return Err((key, message));
        }
        Ok(())
    }

    pub fn parse(text: &str) -> Result<Config, toml::de::Error> {
        toml::from_str(text)
    }
}

/// The line (from 1) where a top-level `key = ...` is set in `text`, if it is.
fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|n| n + 1)
}
