//! Customers' wordings as new questions of an FAQ entry: the edit of the entry's
//! Markdown file (the `questions` array of its front matter) and the plain unified
//! diff an editor reviews before `faq suggest --apply` writes it.

/// `text` with `questions` added at the end of its front matter's `questions` array;
/// None if the file has no such array, or if the edit would change anything else
/// (the result is parsed again and compared: an odd layout is refused, not corrupted).
pub fn add_questions(text: &str, questions: &[String]) -> Option<String> {
    let edited = insert(text, questions)?;
    let (before, after) = (front_matter(text)?, front_matter(&edited)?);
    let mut expected = before.clone();
    let list = expected.get_mut("questions")?.as_array_mut()?;
    list.extend(questions.iter().cloned().map(toml::Value::String));
    (after == expected).then_some(edited)
}

/// The TOML between the `+++` fences.
fn front_matter(text: &str) -> Option<toml::Table> {
    let mut parts = text.splitn(3, "+++");
    let (_, toml, _) = (parts.next()?, parts.next()?, parts.next()?);
    toml.parse().ok()
}

fn insert(text: &str, questions: &[String]) -> Option<String> {
    let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let fence_end = lines
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, l)| l.trim_end() == "+++")
        .map(|(i, _)| i)?;
    let start = (1..fence_end).find(|&i| {
        let l = lines[i].trim_start();
        l.starts_with("questions") && l["questions".len()..].trim_start().starts_with('=')
    })?;
    let quoted: Vec<String> = questions
        .iter()
        .map(|q| toml::Value::String(q.clone()).to_string())
        .collect();
    let mut out: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
    if lines[start].trim_end().ends_with(']') {
        // questions = ["a", "b"] on one line.
        let line = lines[start].trim_end();
        let close = line.rfind(']')?;
        let sep = if line[..close].trim_end().ends_with('[') {
            ""
        } else {
            ", "
        };
        let newline = &lines[start][line.len()..];
        out[start] = format!("{}{sep}{}]{newline}", &line[..close], quoted.join(", "));
    } else {
        let end = (start + 1..fence_end).find(|&i| lines[i].trim_start().starts_with(']'))?;
        let indent = "  ";
        let added: String = quoted
            .iter()
            .map(|q| format!("{indent}{q},{eol}"))
            .collect();
        // The last item may lack a trailing comma.
        let last = end - 1;
        if last > start && !out[last].trim_end().ends_with(',') && !out[last].trim().is_empty() {
            let body = out[last].trim_end().to_owned();
            out[last] = format!("{body},{eol}");
        }
        out.insert(end, added);
    }
    Some(out.concat())
}

/// A unified diff of `old` -> `new` (one hunk around the changed lines), as `git diff`
/// shows it; empty when nothing changed.
pub fn diff(path: &str, old: &str, new: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if prefix == a.len() && prefix == b.len() {
        return String::new();
    }
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let context = 3;
    let from = prefix.saturating_sub(context);
    let a_end = (a.len() - suffix + context).min(a.len());
    let b_end = (b.len() - suffix + context).min(b.len());
    let mut out = format!(
        "--- a/{path}\n+++ b/{path}\n@@ -{},{} +{},{} @@\n",
        from + 1,
        a_end - from,
        from + 1,
        b_end - from
    );
    for line in &a[from..prefix] {
        out.push_str(&format!(" {line}\n"));
    }
    for line in &a[prefix..a.len() - suffix] {
        out.push_str(&format!("-{line}\n"));
    }
    for line in &b[prefix..b.len() - suffix] {
        out.push_str(&format!("+{line}\n"));
    }
    for line in &a[a.len() - suffix..a_end] {
        out.push_str(&format!(" {line}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: &str = "+++\nquestions = [\n  \"Posso avere la fattura?\",\n  \"Come inserisco la partita IVA?\"\n]\ntags = [\"fatturazione\"]\n+++\nAl checkout...\n";

    #[test]
    fn a_wording_is_added_to_a_multi_line_array_and_shown_as_a_diff() {
        let new = add_questions(ENTRY, &["mi fate la \"fattura\"?".into()]).unwrap();
        assert!(
            new.contains("  \"Come inserisco la partita IVA?\",\n  'mi fate la \"fattura\"?',\n]"),
            "{new}"
        );
        let d = diff("faq/it/fattura.md", ENTRY, &new);
        assert!(
            d.starts_with("--- a/faq/it/fattura.md\n+++ b/faq/it/fattura.md\n@@ -1,7 +1,8 @@\n"),
            "{d}"
        );
        assert!(d.contains("-  \"Come inserisco la partita IVA?\"\n+  \"Come inserisco la partita IVA?\",\n+  'mi fate"), "{d}");
        assert_eq!(diff("x", ENTRY, ENTRY), "");
    }

    #[test]
    fn an_odd_layout_is_refused_rather_than_corrupted_and_crlf_is_kept() {
        let commented = "+++\nquestions = [\"a?\"] # note\ntags = [\n  \"x\",\n]\n+++\nbody\n";
        assert_eq!(add_questions(commented, &["b?".into()]), None);
        let trailing = "+++\nquestions = [\n  \"a?\" # first\n]\n+++\nbody\n";
        assert_eq!(add_questions(trailing, &["b?".into()]), None);
        let crlf = "+++\r\nquestions = [\r\n  \"a?\",\r\n]\r\n+++\r\nbody\r\n";
        let new = add_questions(crlf, &["b?".into()]).unwrap();
        assert_eq!(
            new,
            "+++\r\nquestions = [\r\n  \"a?\",\r\n  \"b?\",\r\n]\r\n+++\r\nbody\r\n"
        );
    }

    #[test]
    fn a_one_line_array_grows_on_its_line() {
        let text = "+++\nquestions = [\"a?\"]\n+++\nbody\n";
        let new = add_questions(text, &["b?".into()]).unwrap();
        assert_eq!(new, "+++\nquestions = [\"a?\", \"b?\"]\n+++\nbody\n");
        assert_eq!(
            add_questions("+++\nid = \"x\"\n+++\nbody\n", &["b?".into()]),
            None
        );
    }
}
