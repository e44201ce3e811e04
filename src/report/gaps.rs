//! What customers asked that the bot could not answer, grouped by similarity: the
//! editors' list of missing FAQ entries (`sportello faq gaps`) and the material of
//! draft entries (`faq drafts`), with what operators replied to those customers.

use crate::domain::triage::{Cause, DecisionKind};
use crate::domain::{Author, CustomerId, Event, EventKind, Lang};
use crate::store::Store;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Two messages share a group when this share of their words is the same.
const SIMILAR: f64 = 0.34;
/// Operator replies within this long after a missed message count as its answer.
const REPLY_WINDOW: Duration = Duration::days(2);

#[derive(Debug, Serialize)]
pub struct Gap {
    pub lang: Lang,
    /// The group's most telling words, for a title and a file name.
    pub words: Vec<String>,
    pub count: usize,
    /// The customers' own phrasings, most frequent first, without repeats.
    pub examples: Vec<String>,
    /// What operators wrote back to these customers.
    pub operator_replies: Vec<String>,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
    /// An FAQ entry today's content comes close to for these messages (set by the
    /// caller that holds the content): add the phrasings to it rather than a new entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub close_to: Option<String>,
    #[serde(skip)]
    misses: Vec<(CustomerId, DateTime<Utc>)>,
}

/// One message the bot could not answer.
struct Miss<'a> {
    text: std::borrow::Cow<'a, str>,
    lang: Lang,
    customer: &'a CustomerId,
    at: DateTime<Utc>,
}

/// Messages answered with "I did not understand", handed off for low confidence, or
/// offered choices the customer did not pick (writing something else, or nothing more:
/// who reads the choices and leaves is the commonest miss).
fn misses(events: &[Event]) -> Vec<Miss<'_>> {
    let mut found = Vec::new();
    let mut clarified: BTreeMap<&CustomerId, Miss<'_>> = BTreeMap::new();
    for e in events {
        let EventKind::Decided {
            text,
            lang,
            decision,
            cause,
            ..
        } = &e.kind
        else {
            continue;
        };
        // A number that named none of the choices: they were offered again, and the
        // message after that tells.
        if *cause == Cause::ChoiceOutOfRange && clarified.contains_key(&e.customer) {
            continue;
        }
        // The message after a Clarify tells whether the choices helped.
        if let Some(offered) = clarified.remove(&e.customer)
            && !cause.picked()
        {
            found.push(offered);
        }
        let miss = Miss {
            text: text.as_str().into(),
            lang: *lang,
            customer: &e.customer,
            at: e.at,
        };
        // Nothing an FAQ could answer: a lone "2", an emoji.
        if !text.chars().any(char::is_alphabetic) {
            continue;
        }
        if cause.missed(*decision) {
            found.push(miss);
        } else if *decision == DecisionKind::Clarify {
            clarified.insert(&e.customer, miss);
        }
    }
    found.extend(clarified.into_values());
    found.sort_by_key(|m| m.at);
    found
}

/// Content words of a message, cut to their first five letters (a crude stem that
/// puts "pagare" and "pagamento" together).
fn stems(text: &str) -> BTreeSet<String> {
    let folded = crate::text::fold(text);
    crate::text::words(&folded)
        .filter(|w| w.chars().count() >= 3 && !is_stopword(w))
        .map(|w| w.chars().take(5).collect())
        .collect()
}

/// Words that say nothing about the topic, in Italian and English (folded).
fn is_stopword(word: &str) -> bool {
    const WORDS: &[&str] = &[
        "che",
        "chi",
        "come",
        "con",
        "del",
        "della",
        "dei",
        "delle",
        "dal",
        "dalla",
        "per",
        "non",
        "una",
        "uno",
        "gli",
        "le",
        "mio",
        "mia",
        "miei",
        "mie",
        "suo",
        "sua",
        "sono",
        "posso",
        "potete",
        "puoi",
        "vorrei",
        "voglio",
        "avete",
        "fate",
        "quando",
        "quanto",
        "dove",
        "perche",
        "anche",
        "ancora",
        "questo",
        "questa",
        "nel",
        "nella",
        "sul",
        "sulla",
        "alla",
        "allo",
        "agli",
        "salve",
        "ciao",
        "grazie",
        "buongiorno",
        "the",
        "and",
        "for",
        "you",
        "your",
        "can",
        "how",
        "what",
        "when",
        "where",
        "why",
        "with",
        "does",
        "are",
        "have",
        "has",
        "hello",
        "thanks",
        "please",
        "there",
        "this",
        "that",
        "from",
        "not",
        "any",
        "our",
        "was",
        "will",
        "would",
        "could",
    ];
    WORDS.contains(&word)
}

fn jaccard(a: &BTreeSet<String>, b: &BTreeSet<String>) -> f64 {
    let union = a.union(b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(b).count() as f64 / union as f64
}

/// The missed messages of `events` in groups of similar wording, largest first.
/// The customers' words are scrubbed of who they are first (emails, phone and order
/// numbers, "sono Francesca", the channel's name for them): they become the shop's
/// content.
pub fn gaps(store: &Store, events: &[Event]) -> crate::store::Result<Vec<Gap>> {
    let mut groups: Vec<(BTreeSet<String>, Vec<Miss<'_>>)> = Vec::new();
    let mut names: BTreeMap<&CustomerId, Option<String>> = BTreeMap::new();
    for mut miss in misses(events) {
        let name = match names.get(miss.customer) {
            Some(name) => name.clone(),
            None => {
                let name = store.conversation(miss.customer)?.and_then(|c| c.name);
                names.insert(miss.customer, name.clone());
                name
            }
        };
        miss.text = crate::text::personal::scrub(&miss.text, name.as_deref()).into();
        let words = stems(&miss.text);
        // «5», «ok?», «...»: no word names a topic the FAQ could add.
        if words.is_empty() {
            continue;
        }
        let home = groups.iter_mut().find(|(seed, members)| {
            members[0].lang == miss.lang && jaccard(seed, &words) >= SIMILAR
        });
        match home {
            Some((_, members)) => members.push(miss),
            None => groups.push((words, vec![miss])),
        }
    }
    let mut gaps: Vec<Gap> = groups.into_iter().map(|(_, m)| gap_of(m)).collect();
    gaps.sort_by(|a, b| b.count.cmp(&a.count).then(a.first_at.cmp(&b.first_at)));
    for gap in &mut gaps {
        gap.operator_replies = operator_replies(store, &gap.misses, gap.lang)?;
    }
    Ok(gaps)
}

fn gap_of(members: Vec<Miss<'_>>) -> Gap {
    let mut phrasings: BTreeMap<String, (String, usize)> = BTreeMap::new();
    let mut words: BTreeMap<String, usize> = BTreeMap::new();
    for m in &members {
        let key = crate::text::normalise(&m.text);
        phrasings
            .entry(key)
            .or_insert_with(|| (m.text.trim().to_owned(), 0))
            .1 += 1;
        let folded = crate::text::fold(&m.text);
        for w in crate::text::words(&folded) {
            if w.chars().count() >= 3 && !is_stopword(w) {
                *words.entry(w.to_owned()).or_default() += 1;
            }
        }
    }
    let mut examples: Vec<(String, usize)> = phrasings.into_values().collect();
    examples.sort_by_key(|e| std::cmp::Reverse(e.1));
    let mut top: Vec<(String, usize)> = words.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Gap {
        lang: members[0].lang,
        words: top.into_iter().take(3).map(|(w, _)| w).collect(),
        count: members.len(),
        examples: examples.into_iter().take(8).map(|(t, _)| t).collect(),
        operator_replies: Vec::new(),
        close_to: None,
        first_at: members.iter().map(|m| m.at).min().unwrap_or_default(),
        last_at: members.iter().map(|m| m.at).max().unwrap_or_default(),
        misses: members.iter().map(|m| (m.customer.clone(), m.at)).collect(),
    }
}

/// The gaps against today's content: those it now answers are left out (an entry was
/// added or improved since), and those it comes close to name that entry.
pub fn judged(brain: &crate::matcher::Brain, found: Vec<Gap>) -> Vec<Gap> {
    let floor = brain.settings.policy().clarify_floor;
    found
        .into_iter()
        .filter_map(|mut gap| {
            let mut answered = 0;
            let mut near: BTreeMap<String, usize> = BTreeMap::new();
            for text in &gap.examples {
                let (analysis, decision, _) = brain.first_message(text, Some(gap.lang));
                if matches!(decision, crate::domain::triage::Decision::Answer { .. }) {
                    answered += 1;
                } else if let Some(best) = analysis.candidates.first()
                    && best.evidence >= floor
                {
                    *near.entry(best.faq_id.clone()).or_default() += 1;
                }
            }
            if answered * 2 > gap.examples.len() {
                return None;
            }
            gap.close_to = near
                .into_iter()
                .max_by_key(|(id, n)| (*n, std::cmp::Reverse(id.clone())))
                .filter(|(_, n)| n * 2 >= gap.examples.len())
                .map(|(id, _)| id);
            Some(gap)
        })
        .collect()
}

/// The first operator message after each missed one (within two days), in the gap's
/// language, with the customer's name and order numbers taken out (`{name}`, `{order}`,
/// as in canned replies), without repeats.
fn operator_replies(
    store: &Store,
    misses: &[(CustomerId, DateTime<Utc>)],
    lang: Lang,
) -> crate::store::Result<Vec<String>> {
    let mut replies: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    for (customer, at) in misses {
        let transcript = store.transcript(customer)?;
        let reply = transcript.iter().find(|m| {
            matches!(m.author, Author::Operator(_)) && m.at >= *at && m.at - *at <= REPLY_WINDOW
        });
        let Some(reply) = reply else { continue };
        if crate::text::guess_lang(&reply.text).is_some_and(|l| l != lang) {
            continue;
        }
        // The name the channel gave and any the customer gave of themselves.
        let conversation = store.conversation(customer)?;
        let own = transcript
            .iter()
            .filter(|m| m.author == Author::Customer && m.at <= reply.at)
            .map(|m| m.text.as_str());
        let mut names = crate::text::personal::introduced(own);
        if let Some(name) = conversation.as_ref().and_then(|c| c.name.as_deref()) {
            names = format!("{name} {names}");
        }
        let text = crate::text::personal::placeholders(&reply.text, Some(names.trim()));
        if seen.insert(crate::text::normalise(&text)) {
            replies.push(text);
        }
    }
    Ok(replies)
}

#[cfg(test)]
#[path = "gaps_tests.rs"]
mod tests;
