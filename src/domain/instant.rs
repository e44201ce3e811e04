//! How an instant is written: as chrono writes it (RFC 3339 text) for people and JSON,
//! as nanoseconds since 1970 (one integer) in the store's binary records, where
//! formatting and parsing text was a tenth of a message's instructions. Either form is
//! read back, whatever the format: records written before keep their text.
//!
//! Use with `#[serde(with = "crate::domain::instant")]`, or `instant::option` for an
//! `Option<DateTime<Utc>>`.

use chrono::{DateTime, Utc};
use serde::de::{self, Visitor};
use serde::{Deserializer, Serialize, Serializer};
use std::fmt;

pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    match at.timestamp_nanos_opt() {
        Some(nanos) if !serializer.is_human_readable() => serializer.serialize_i64(nanos),
        // Text for people, and for instants past what 64 bits of nanoseconds hold.
        _ => at.serialize(serializer),
    }
}

pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    deserializer.deserialize_any(InstantVisitor)
}

struct InstantVisitor;

impl Visitor<'_> for InstantVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 date and time, or nanoseconds since 1970")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        text.parse().map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, nanos: i64) -> Result<Self::Value, E> {
        Ok(DateTime::from_timestamp_nanos(nanos))
    }

    fn visit_u64<E: de::Error>(self, nanos: u64) -> Result<Self::Value, E> {
        i64::try_from(nanos)
            .map(DateTime::from_timestamp_nanos)
            .map_err(|_| E::custom("an instant past the year 2262"))
    }
}

/// The same for an optional instant (`None` as null / nil).
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(
        at: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => super::serialize(at, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        deserializer.deserialize_option(OptionVisitor)
    }

    struct OptionVisitor;

    impl<'de> Visitor<'de> for OptionVisitor {
        type Value = Option<DateTime<Utc>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an instant or nothing")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            super::deserialize(d).map(Some)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, PartialEq, serde::Serialize, Deserialize)]
    struct Record {
        #[serde(with = "super")]
        at: DateTime<Utc>,
        #[serde(default, with = "super::option")]
        claimed: Option<DateTime<Utc>>,
    }

    #[derive(serde::Serialize)]
    struct AsChronoWritesIt {
        at: DateTime<Utc>,
        claimed: Option<DateTime<Utc>>,
    }

    #[test]
    fn text_for_json_as_chrono_writes_it_integers_in_binary_and_both_read_back() {
        let instants = [
            "1960-01-01T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "2026-11-24T09:00:00.5Z",
            "2026-12-02T17:04:28.123456789Z",
            "2262-04-11T23:47:16.854775807Z",
            "2300-01-01T00:00:00Z",
        ];
        for text in instants {
            let at: DateTime<Utc> = text.parse().unwrap();
            for claimed in [None, Some(at + chrono::Duration::seconds(61))] {
                let record = Record { at, claimed };
                let json = serde_json::to_string(&record).unwrap();
                let chrono = serde_json::to_string(&AsChronoWritesIt { at, claimed }).unwrap();
                assert_eq!(json, chrono, "JSON unchanged");
                assert_eq!(serde_json::from_str::<Record>(&json).unwrap(), record);
                let binary = rmp_serde::to_vec_named(&record).unwrap();
                assert_eq!(rmp_serde::from_slice::<Record>(&binary).unwrap(), record);
                // A binary record written before, with the instant as text, still reads.
                let old = rmp_serde::to_vec_named(&AsChronoWritesIt { at, claimed }).unwrap();
                assert_eq!(rmp_serde::from_slice::<Record>(&old).unwrap(), record);
                if at.timestamp_nanos_opt().is_some() {
                    assert!(binary.len() < old.len(), "{text}: an integer, not text");
                }
            }
        }
        let missing: Record = serde_json::from_str(r#"{"at":"2026-11-24T09:00:00Z"}"#).unwrap();
        assert_eq!(missing.claimed, None);
        let err = serde_json::from_str::<Record>(r#"{"at":"ieri"}"#).unwrap_err();
        assert!(err.to_string().contains("input"), "{err}");
    }
}
