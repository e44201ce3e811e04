//! The FAQ folder: load and validate the editors' Markdown files, index them in
//! tantivy (in RAM, one analyser per language), search them, and watch the folder.

mod analyzer;
pub mod calibration;
mod entry;
mod index;
pub mod lexicon;
mod model;
pub mod suggest;
mod vocabulary;
mod watch;

pub use entry::{DRAFT_MARK, DRAFT_NOTES, Entry, HOURS};
pub use index::{FaqIndex, HeldOutSemantic, Hit};
pub use watch::watch;

use crate::diagnostics::Diagnostic;
use crate::domain::Lang;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The entries being served, in path order, and the shop's own lexicon of each
/// language (`faq/<lang>/lexicon.txt`, see [`lexicon`]).
#[derive(Debug, Clone, Default)]
pub struct FaqSet {
    pub entries: Vec<Entry>,
    pub lexicon: HashMap<Lang, String>,
}

impl FaqSet {
    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }
}

/// Load every `*.md` under `dir` (files starting with `_` or `.` and folders such as
/// `_drafts` included; drafts are parsed but not served). A file that fails keeps its
/// previous version from `previous` when there is one, so a bad edit never takes an
/// answer away.
pub fn load_dir(dir: &Path, previous: Option<&FaqSet>) -> (FaqSet, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let mut files = Vec::new();
    if let Err(e) = collect_markdown(dir, &mut files) {
        diagnostics.push(
            Diagnostic::error(dir, 1, format!("cannot read the FAQ folder: {e}"))
                .hint("pass the folder with --faq DIR"),
        );
    }
    files.sort();
    let old: HashMap<&Path, &Entry> = previous
        .map(|p| p.entries.iter().map(|e| (e.path.as_path(), e)).collect())
        .unwrap_or_default();
    let mut entries: Vec<Entry> = Vec::new();
    for path in files {
        let parsed = std::fs::read(&path)
            .map_err(|e| Diagnostic::error(&path, 1, format!("cannot read the file: {e}")))
            .and_then(|bytes| utf8(&path, bytes))
            .and_then(|text| entry::parse(&path, &text, folder_lang(dir, &path)));
        let entry = match parsed {
            Ok(entry) => entry,
            Err(d) => {
                let kept = old.get(path.as_path()).map(|e| (*e).clone());
                let d = if kept.is_some() {
                    d.hint("the previous version of this entry keeps serving")
                } else {
                    d
                };
                diagnostics.push(d);
                match kept {
                    Some(e) => e,
                    None => continue,
                }
            }
        };
        diagnostics.extend(oversized(&entry));
        entries.push(entry);
    }
    let entries = one_per_id(entries, previous, &mut diagnostics);
    let lexicon = load_lexicons(dir, &mut diagnostics);
    (FaqSet { entries, lexicon }, diagnostics)
}

/// An answer past this many characters is a warning: a chat customer reads it on a
/// phone, and Telegram and WhatsApp cut it into messages of 4,096.
const LONG_ANSWER: usize = 2_000;
/// Questions past this many in one entry are a warning: each is checked and trained at
/// every load, and matching gains nothing from so many.
const MANY_QUESTIONS: usize = 300;

/// Warnings for an entry too large to serve well (answer, questions).
fn oversized(entry: &Entry) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let chars = entry.answer.chars().count();
    if chars > LONG_ANSWER {
        found.push(
            Diagnostic::warning(
                &entry.path,
                1,
                format!(
                    "the answer is {chars} characters, long to read in a chat (Telegram and WhatsApp split what passes {})",
                    crate::domain::MAX_MESSAGE
                ),
            )
            .hint(format!(
                "keep an answer under {LONG_ANSWER} characters, what a customer reads on a phone; link a page for the rest"
            )),
        );
    }
    let questions = entry.questions.len();
    if questions > MANY_QUESTIONS {
        found.push(
            Diagnostic::warning(
                &entry.path,
                1,
                format!("{questions} questions: every load checks and trains on each of them"),
            )
            .hint(format!(
                "3 to 10 questions in customers' own words match as well; keep at most {MANY_QUESTIONS}"
            )),
        );
    }
    found
}

/// Where two files claim one id (a stray `rimborsi-copia.md` beside `rimborsi.md`), one
/// is kept and the other reported: the file already serving that id, else the file named
/// after it, else the first by path. Entries stay in path order.
fn one_per_id(
    entries: Vec<Entry>,
    previous: Option<&FaqSet>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Entry> {
    let serving = |e: &Entry| {
        previous
            .and_then(|p| p.get(&e.id))
            .is_some_and(|p| p.path == e.path)
    };
    let named = |e: &Entry| e.path.file_stem().is_some_and(|s| s == e.id.as_str());
    let mut winner: HashMap<&str, &Entry> = HashMap::new();
    for e in &entries {
        let rank = |e: &Entry| (serving(e), named(e));
        winner
            .entry(e.id.as_str())
            .and_modify(|w| {
                if rank(e) > rank(w) {
                    *w = e;
                }
            })
            .or_insert(e);
    }
    let kept: HashMap<String, PathBuf> = winner
        .into_iter()
        .map(|(id, e)| (id.to_owned(), e.path.clone()))
        .collect();
    entries
        .into_iter()
        .filter(|e| {
            let first = &kept[&e.id];
            if *first == e.path {
                return true;
            }
            diagnostics.push(
                Diagnostic::error(
                    &e.path,
                    1,
                    format!("duplicate id `{}`, already used by {}", e.id, first.display()),
                )
                .hint("ids default to the file name: rename the file or set a different id (a backup copy belongs outside faq/)"),
            );
            false
        })
        .collect()
}

/// Each language's `lexicon.txt`, where the shop wrote one (checked: warnings).
fn load_lexicons(dir: &Path, diagnostics: &mut Vec<Diagnostic>) -> HashMap<Lang, String> {
    let mut found = HashMap::new();
    for lang in Lang::ALL {
        let path = dir.join(lang.code()).join("lexicon.txt");
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        match utf8(&path, bytes) {
            Ok(text) => {
                diagnostics.extend(lexicon::check(&path, lang, &text));
                found.insert(lang, text);
            }
            Err(d) => diagnostics.push(d),
        }
    }
    found
}

/// A content file's text, or the diagnostic that says it is not UTF-8.
fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String, Diagnostic> {
    String::from_utf8(bytes).map_err(|e| {
        Diagnostic::error(path, 1, format!("the file is not UTF-8 ({e})")).hint("save it as UTF-8")
    })
}

fn collect_markdown(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for item in std::fs::read_dir(dir)? {
        let path = item?.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            collect_markdown(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
    Ok(())
}

/// `faq/it/...` means Italian, `faq/en/...` English.
fn folder_lang(root: &Path, path: &Path) -> Option<Lang> {
    let rel = path.strip_prefix(root).ok()?;
    rel.components()
        .filter_map(|c| c.as_os_str().to_str())
        .find_map(|c| c.parse().ok())
}
