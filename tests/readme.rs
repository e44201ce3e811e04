//! Every command the README shows in a `sh` block, run as written, in the README's order,
//! in one sandbox (a copy of the sample content, `tests/shops/` and `tests/shops-dev/`,
//! its own `data/`):
//! `cargo run --` is the binary cargo built for this test run. A command that is not run
//! here must be one of the few the test names, each with where it does run, so a new
//! command cannot be skipped silently.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// Commands of the README that this test does not run, and why.
const RUN_ELSEWHERE: &[(&str, &str)] = &[
    ("cargo test", "the test suite itself: .ci/run runs it"),
    (
        "cargo build --release",
        "the crash harness's long run, by hand",
    ),
    (
        "SPORTELLO_BIN=target/release/sportello SPORTELLO_CRASH_ROUNDS=40 cargo test crash -- --nocapture",
        "the crash harness's long run (the short one runs in this suite)",
    ),
];

/// The README's `sh` blocks, one command a line, comments removed.
fn readme_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(crate::support::repo().join("README.md")).unwrap();
    let mut commands = Vec::new();
    let mut inside = false;
    for line in readme.lines() {
        let line = line.trim();
        if line.starts_with("```") {
            inside = line == "```sh";
            continue;
        }
        if inside && !line.is_empty() {
            let command = match line.find("   #").or_else(|| line.find("  #")) {
                Some(i) => line[..i].trim_end(),
                None => line,
            };
            commands.push(command.to_owned());
        }
    }
    commands
}

/// The sandbox: a working folder with the sample content, `../shared` beside it as in
/// the repository's checkout.
fn sandbox() -> tempfile::TempDir {
    let repo = crate::support::repo();
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("main");
    crate::support::copy_dir(&repo.join("faq"), &work.join("faq"));
    crate::support::copy_dir(&repo.join("intents"), &work.join("intents"));
    for shops in ["tests/shops", "tests/shops-dev"] {
        crate::support::copy_dir(&repo.join(shops), &work.join(shops));
    }
    let shared = repo.join("../shared");
    std::os::unix::fs::symlink(shared, dir.path().join("shared")).unwrap();
    dir
}

fn shell(work: &Path, command: &str) -> Command {
    let line = command
        .replace("cargo run --release -- ", "\"$SPORTELLO\" ")
        .replace("cargo run -- ", "\"$SPORTELLO\" ");
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(line)
        .current_dir(work)
        .env("SPORTELLO", env!("CARGO_BIN_EXE_sportello"))
        .env("SPORTELLO_HTTP_ADDR", "127.0.0.1:0")
        .env("USER", "tester")
        .env_remove("SPORTELLO_TELEGRAM_TOKEN")
        .env_remove("SPORTELLO_DATA");
    sh
}

/// `serve`: it must come up, answer `/healthz` and stop cleanly on SIGTERM.
fn serve(work: &Path, command: &str) {
    let mut child = shell(work, &format!("exec {command}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Keep reading its stderr until it ends: a closed pipe would fail serve's next write.
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    let said = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let log = said.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(addr) = line.strip_prefix("sportello serving on http://") {
                let _ = tx.send(addr.to_owned());
            }
            log.lock().unwrap().push_str(&format!("{line}\n"));
        }
    });
    let addr = rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("serve says where it listens");
    // (Under load the first connection can be refused while serve starts: try again.)
    let health = (0..40)
        .find_map(|_| {
            let tried = std::panic::catch_unwind(|| {
                crate::support::http::request(&addr, "GET", "/healthz", &[], None)
            });
            if tried.is_err() {
                std::thread::sleep(std::time::Duration::from_millis(250));
            }
            tried.ok()
        })
        .unwrap_or_else(|| panic!("serve answers /healthz: {}", said.lock().unwrap()));
    assert_eq!(health.status, 200, "{command}: {}", health.body);
    let pid = child.id().to_string();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{command}: stopped with {status}");
}

/// What some commands must print (beyond succeeding).
fn expected_output(command: &str) -> Option<&'static str> {
    [
        ("cargo run -- queue list", "asked"),
        (
            "cargo run -- chat --customer terminal:giulia",
            "Ciao, sono Anna!",
        ),
        (
            "cargo run -- queue close 2 --faq costi-di-spedizione --as anna",
            "closed",
        ),
        (
            "cargo run -- faq suggest",
            "+  \"quanto si paga per spedire in Sicilia?\"",
        ),
        ("cargo run -- bench --quick --json", "pipeline_msgs_per_s"),
        (
            "cargo run -- bench --only pipeline --quick --postgres postgres://postgres@127.0.0.1:5432",
            "pipeline on PostgreSQL",
        ),
        (
            "cargo run -- store copy --from data --to postgres://postgres@127.0.0.1:5432/sportello_readme_example",
            "check --store: 0 problems",
        ),
        (
            "cargo run -- --data postgres://postgres@127.0.0.1:5432/sportello_readme_example customer show terminal:marco",
            "terminal:marco",
        ),
        (
            "cargo run -- --data postgres://postgres@127.0.0.1:5432/sportello_readme_example check --store",
            "store: 0 problems",
        ),
        (
            "cargo run -- bench --only pipeline --quick",
            "ratio of CPU time",
        ),
        (
            "cargo run -- --faq tests/shops/it-lume/faq eval tests/shops/it-lume/cases.jsonl",
            "cases 200",
        ),
        (
            "cargo run -- --faq tests/shops/en-green/faq eval tests/shops/en-green/cases.jsonl",
            "cases 200",
        ),
        (
            "cargo run -- --faq tests/shops-dev/it-zampa/faq eval tests/shops-dev/it-zampa/cases.jsonl",
            "cases 200",
        ),
        (
            "cargo run -- --faq tests/shops-dev/en-spoke/faq eval tests/shops-dev/en-spoke/cases.jsonl",
            "cases 200",
        ),
    ]
    .into_iter()
    .find(|(c, _)| *c == command)
    .map(|(_, out)| out)
}

#[test]
fn every_command_the_readme_shows_runs_as_written() {
    let commands = readme_commands();
    let ci = std::fs::read_to_string(crate::support::repo().join(".ci/run")).unwrap();
    for (skipped, why) in RUN_ELSEWHERE {
        assert!(
            commands.iter().any(|c| c == skipped),
            "stale exception: {skipped} ({why})"
        );
    }
    let dir = sandbox();
    let work = dir.path().join("main");
    // The README's PostgreSQL example copies into this database: fresh for every run.
    let _example = crate::support::postgres::TestDatabase::named("sportello_readme_example");
    let mut ran = 0;
    for command in &commands {
        if RUN_ELSEWHERE.iter().any(|(c, _)| c == command) {
            continue;
        }
        if command.starts_with("cargo run --example") {
            assert!(
                ci.lines().any(|l| l == command),
                "{command}: not in .ci/run as written"
            );
            continue;
        }
        assert!(command.contains("cargo run "), "{command}: how is it run?");
        if command.ends_with(" serve") {
            serve(&work, command);
            ran += 1;
            continue;
        }
        // `operator add` without a pipe asks the password: it reads standard input.
        let out = shell(&work, command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                let mut input = child.stdin.take().unwrap();
                let _ = input.write_all(b"una password lunga\n");
                drop(input);
                child.wait_with_output()
            })
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "{command}\n{stdout}\n{stderr}");
        assert!(!stderr.contains("panicked"), "{command}\n{stderr}");
        if let Some(needle) = expected_output(command) {
            let both = format!("{stdout}{stderr}");
            assert!(both.contains(needle), "{command}: no `{needle}` in\n{both}");
        }
        ran += 1;
    }
    assert!(ran >= 14, "only {ran} commands ran");
    // The demo's report was written where the README says.
    let report = std::fs::read_to_string(work.join("report.html")).unwrap();
    assert!(report.contains("<svg"), "the report has its charts");
}
