//! The classifier's features: words and word pairs, character 2–5-grams of each word,
//! hashed (FNV-1a, stable across runs and platforms) and counted; and the map from those
//! hashes to feature ids.

use std::collections::HashMap;

/// The features' keys are FNV hashes already: a multiply spreads them for the map
/// (SipHash over them again was a tenth of a message's instructions).
#[derive(Default)]
pub(super) struct Spread(u64);

impl std::hash::Hasher for Spread {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(super) type FeatureIds = HashMap<u64, u32, std::hash::BuildHasherDefault<Spread>>;

pub(super) const FAMILY: u64 = 1;
pub(super) const WORD: u64 = 0;
pub(super) const CHAR: u64 = 1;

/// Hashed features with counts: words and word pairs (family bit 0), character
/// n-grams of each word with its boundaries (family bit 1).
pub(super) fn raw_features(terms: &[String], text: &str) -> Vec<(u64, u32)> {
    // The hashes collected, then sorted and counted: cheaper than a map of counts.
    let mut hashes: Vec<u64> = Vec::with_capacity(16 * terms.len() + 64);
    let mut add = |h: u64| hashes.push(h);
    for (i, t) in terms.iter().enumerate() {
        add(hash(&[b"w", t.as_bytes()]) & !FAMILY);
        if let Some(next) = terms.get(i + 1) {
            add(hash(&[b"b", t.as_bytes(), b" ", next.as_bytes()]) & !FAMILY);
        }
    }
    for word in crate::text::words(text).filter(|w| w.chars().count() >= 2) {
        let chars: Vec<char> = std::iter::once(' ')
            .chain(word.chars())
            .chain(std::iter::once(' '))
            .collect();
        for n in 2..=5 {
            for gram in chars.windows(n) {
                let mut buf = [0_u8; 20];
                let mut len = 0;
                for c in gram {
                    len += c.encode_utf8(&mut buf[len..]).len();
                }
                add(hash(&[b"c", &buf[..len]]) | CHAR);
            }
        }
    }
    hashes.sort_unstable();
    let mut out: Vec<(u64, u32)> = Vec::with_capacity(hashes.len());
    for h in hashes {
        match out.last_mut() {
            Some((last, n)) if *last == h => *n += 1,
            _ => out.push((h, 1)),
        }
    }
    out
}

/// FNV-1a: stable across runs and platforms.
fn hash(parts: &[&[u8]]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325_u64;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
