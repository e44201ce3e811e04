//! `TestApp`: the real service on a sled store in a temp dir, with the repository's
//! sample content (or a copy of it that a test may break), on a simulated clock.

use chrono::{DateTime, Duration, TimeZone, Utc};
use sportello::config::Config;
use sportello::domain::{CustomerId, Inbound, Lang, Outbound, Ticket};
use sportello::matcher::Brain;
use sportello::service::{ContentDirs, Handled, Service};
use sportello::store::Store;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn sample_dirs() -> ContentDirs {
    ContentDirs {
        faq: repo().join("faq"),
        intents: repo().join("intents"),
    }
}

/// Run the built `sportello` once in the repository with `--data data`, feeding
/// `stdin` (e.g. a password for `operator add`).
pub fn sportello(data: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    sportello_bytes(data, args, stdin.as_bytes())
}

/// [`sportello`] with input that need not be UTF-8 (a terminal set to Latin-1).
pub fn sportello_bytes(data: &Path, args: &[&str], stdin: &[u8]) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_sportello"))
        .current_dir(repo())
        .arg("--data")
        .arg(data)
        .args(args)
        .env("USER", "tester")
        .env_remove("SPORTELLO_OPERATOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

/// Run `sportello` as [`sportello`] does, with no input; it must succeed. Its output.
pub fn sportello_ok(data: &Path, args: &[&str]) -> String {
    let out = sportello(data, args, "");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Copy a folder tree (for tests that edit the content).
/// Send SIGTERM to `child` (a stop asked as a service manager asks it).
pub fn sigterm(child: &std::process::Child) {
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap() {
        let path = item.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// Where a test's store lives: a temp directory (sled), or a database of its own when
/// the run selects PostgreSQL ([`postgres::selected`]).
pub enum TestData {
    Dir(tempfile::TempDir),
    Database(postgres::TestDatabase),
    /// A store another value owns (a second process on one database).
    Shared(PathBuf),
}

impl TestData {
    pub fn new() -> Self {
        if postgres::selected() {
            TestData::Database(postgres::TestDatabase::new())
        } else {
            TestData::Dir(tempfile::tempdir().unwrap())
        }
    }

    /// `--data` for it.
    pub fn location(&self) -> PathBuf {
        match self {
            TestData::Dir(dir) => dir.path().to_owned(),
            TestData::Database(db) => db.data(),
            TestData::Shared(at) => at.clone(),
        }
    }
}

/// A served shop's place in a child-process test: a temp directory for its files (the
/// config, copies of content, logs) and its store, kept in that same directory (sled)
/// or in a database of its own when the run selects PostgreSQL ([`postgres::selected`]).
pub struct Place {
    files: tempfile::TempDir,
    database: Option<postgres::TestDatabase>,
}

impl Place {
    pub fn new() -> Place {
        Place {
            files: tempfile::tempdir().unwrap(),
            database: postgres::selected().then(postgres::TestDatabase::new),
        }
    }

    /// On sled whatever the run selects: for a test of sled's own files (a full disk,
    /// a truncated or read-only directory).
    pub fn on_disk() -> Place {
        Place {
            files: tempfile::tempdir().unwrap(),
            database: None,
        }
    }

    /// `--data` for it: `data` in its directory, or the database's URL.
    pub fn data(&self) -> PathBuf {
        match &self.database {
            Some(db) => db.data(),
            None => self.files.path().join("data"),
        }
    }

    /// The directory for its files.
    pub fn files(&self) -> &Path {
        self.files.path()
    }
}

pub struct TestApp {
    pub data: TestData,
    /// Holds a private copy of the content, when the test has one.
    _content: Option<tempfile::TempDir>,
    pub dirs: ContentDirs,
    pub service: Service,
    clock: DateTime<Utc>,
    sent: u64,
}

impl TestApp {
    pub fn new() -> Self {
        Self::with_content(sample_dirs())
    }

    /// A private copy of the sample content that the test may edit.
    pub fn with_own_content() -> Self {
        let content = tempfile::tempdir().unwrap();
        let root = content.path();
        copy_dir(&repo().join("faq"), &root.join("faq"));
        copy_dir(&repo().join("intents"), &root.join("intents"));
        let mut app = Self::with_content(ContentDirs {
            faq: root.join("faq"),
            intents: root.join("intents"),
        });
        app._content = Some(content);
        app
    }

    pub fn with_content(dirs: ContentDirs) -> Self {
        Self::with_config(dirs, Config::default())
    }

    /// The sample content with `config` (e.g. opening hours).
    pub fn with_config(dirs: ContentDirs, config: Config) -> Self {
        Self::on(TestData::new(), dirs, config)
    }

    /// On the store `data`, whatever the run selected.
    pub fn on(data: TestData, dirs: ContentDirs, config: Config) -> Self {
        let service = open_service_with(&data.location(), &dirs, config);
        let clock = Utc.with_ymd_and_hms(2026, 3, 10, 10, 0, 0).unwrap();
        Self {
            data,
            _content: None,
            dirs,
            service,
            clock,
            sent: 0,
        }
    }

    /// Close the store and open it again from disk, as after a restart.
    pub fn restart(self) -> Self {
        let TestApp {
            data,
            _content,
            dirs,
            service,
            clock,
            sent,
        } = self;
        let config = service.config().clone();
        drop(service);
        // sled's flusher thread may hold the store's lock a moment after the drop.
        let service = service_on(open_when_free(&data.location()), &dirs, config);
        Self {
            data,
            _content,
            dirs,
            service,
            clock,
            sent,
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock
    }

    /// Set the simulated clock (the next message comes 30 s after it).
    pub fn set_clock(&mut self, at: DateTime<Utc>) {
        self.clock = at;
    }

    pub fn inbound(&mut self, customer: &str, text: &str) -> Inbound {
        self.clock += Duration::seconds(30);
        self.sent += 1;
        Inbound {
            customer: CustomerId::parse(customer).unwrap(),
            message_id: format!("m{}", self.sent),
            text: text.to_owned(),
            at: self.clock,
            sent_at: None,
            locale: None,
            name: None,
            attachment: None,
            original: None,
        }
    }

    /// Send a message as `customer`; returns what the service decided.
    pub fn send(&mut self, customer: &str, text: &str) -> Handled {
        let inbound = self.inbound(customer, text);
        self.service.handle_inbound(&inbound).unwrap()
    }

    /// Send a message and collect everything delivered to the customer afterwards.
    pub fn say(&mut self, customer: &str, text: &str) -> Vec<Outbound> {
        self.send(customer, text);
        self.delivered(customer)
    }

    pub fn delivered(&self, customer: &str) -> Vec<Outbound> {
        let mut got = Vec::new();
        let id = CustomerId::parse(customer).unwrap();
        self.service
            .deliver(&id, |m| {
                got.push(m.clone());
                true
            })
            .unwrap();
        got
    }

    pub fn queue(&self) -> Vec<Ticket> {
        self.service.store().queue().unwrap()
    }

    pub fn answer_of(&self, faq_id: &str) -> String {
        self.service
            .brain()
            .faq
            .entry(faq_id)
            .unwrap_or_else(|| panic!("no entry {faq_id}"))
            .answer
            .clone()
    }

    pub fn lang_of(&self, customer: &str) -> Option<Lang> {
        let id = CustomerId::parse(customer).unwrap();
        self.service
            .store()
            .conversation(&id)
            .unwrap()
            .and_then(|c| c.lang)
    }
}

pub fn open_service(data: &Path, dirs: &ContentDirs) -> Service {
    open_service_with(data, dirs, Config::default())
}

pub fn open_service_with(data: &Path, dirs: &ContentDirs, config: Config) -> Service {
    service_on(open_when_free(data), dirs, config)
}

/// Open the store at `data`; a sled directory a store just dropped may still be locked
/// by sled's flusher thread for a moment: wait for it.
pub fn open_when_free(data: &Path) -> Store {
    let mut store = Store::open(data);
    for _ in 0..100 {
        match store {
            Err(sportello::store::StoreError::InUse(_)) => {
                std::thread::sleep(std::time::Duration::from_millis(50));
                store = Store::open(data);
            }
            _ => break,
        }
    }
    store.expect("the store opens")
}

/// The service on an opened store, with the content of `dirs` (the shared sample brain
/// when they are the sample's).
fn service_on(store: Store, dirs: &ContentDirs, config: Config) -> Service {
    let sample = *dirs == sample_dirs() && config.matching == Config::default().matching;
    let brain = if sample {
        sample_brain().0.clone()
    } else {
        let (brain, diagnostics) = Brain::load(&dirs.faq, &dirs.intents, config.matching, None);
        assert!(
            !sportello::matcher::has_errors(&diagnostics),
            "content has errors: {diagnostics:?}"
        );
        Arc::new(brain)
    };
    Service::new(store, brain, config)
}

/// The brain of the repository's `faq/` and `intents/` with the default settings, and
/// its diagnostics: built (the classifier trained) once per test binary, shared by
/// every test that serves the sample content unchanged.
pub fn sample_brain() -> &'static (Arc<Brain>, Vec<sportello::diagnostics::Diagnostic>) {
    static SAMPLE: OnceLock<(Arc<Brain>, Vec<sportello::diagnostics::Diagnostic>)> =
        OnceLock::new();
    SAMPLE.get_or_init(|| {
        let dirs = sample_dirs();
        let matching = Config::default().matching;
        let (brain, diagnostics) = Brain::load(&dirs.faq, &dirs.intents, matching, None);
        assert!(
            !sportello::matcher::has_errors(&diagnostics),
            "sample content has errors: {diagnostics:?}"
        );
        (Arc::new(brain), diagnostics)
    })
}
/// Serve `router` on 127.0.0.1 from a thread and runtime of its own (so that plain,
/// blocking tests can use a fake server); its address.
pub fn serve_in_background(router: axum::Router) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, router).await.unwrap();
        });
    });
    addr
}

pub mod browser;
pub mod http;
pub mod mail;
pub mod orders;
pub mod postgres;
pub mod telegram;
pub mod whatsapp;

/// The gap of `faq gaps --json` one of whose words `word` accepts.
pub fn gap_with(
    gaps: &serde_json::Value,
    word: impl Fn(&str) -> bool,
) -> Option<&serde_json::Value> {
    gaps.as_array().unwrap().iter().find(|g| {
        g["words"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| word(w.as_str().unwrap()))
    })
}
