//! The real pieces a person would use: `sportello serve` as a child process (with
//! operator accounts made by `sportello operator add`), and headless Chromium driven
//! over WebDriver (chromedriver + fantoccini).

use fantoccini::{Client, ClientBuilder, Locator};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a page may take to show what a test waits for.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap().port()
}

/// `sportello serve` on a free port, with the sample content.
pub struct Server {
    place: Option<super::Place>,
    pub base: String,
    child: Child,
    pub stderr: Arc<Mutex<String>>,
}

pub const PASSWORD: &str = "una password lunga";

impl Server {
    /// A server with the given operators (`name`, department) already created.
    pub fn start(operators: &[(&str, &str)]) -> Server {
        Self::start_with(operators, None, &[])
    }

    /// The same with `config` as its `sportello.toml` and more environment (the
    /// operators are made before, with the default departments).
    pub fn start_with(
        operators: &[(&str, &str)],
        config: Option<&str>,
        env: &[(&str, &str)],
    ) -> Server {
        let data = super::Place::new();
        for (name, department) in operators {
            let out = super::sportello(
                &data.data(),
                &["operator", "add", name, "--department", department],
                &format!("{PASSWORD}\n"),
            );
            assert!(out.status.success(), "operator add: {out:?}");
        }
        Self::spawn_env(data, config, env)
    }

    pub fn spawn(data: super::Place) -> Server {
        Self::spawn_with(data, None)
    }

    /// A server on `data` with `config` as its `sportello.toml` (written beside the
    /// store).
    pub fn spawn_with(data: super::Place, config: Option<&str>) -> Server {
        Self::spawn_env(data, config, &[])
    }

    /// A server with operator anna, on a copy of the sample FAQ with one broken file
    /// (`it/rotto.md`: its front matter does not parse).
    pub fn with_broken_faq() -> Server {
        let data = super::Place::new();
        let faq = data.files().join("faq");
        super::copy_dir(&super::repo().join("faq"), &faq);
        let broken = "+++\nid = \"rotto\"\nquestions = [\n+++\nx\n";
        std::fs::write(faq.join("it/rotto.md"), broken).unwrap();
        let out = super::sportello(
            &data.data(),
            &["operator", "add", "anna", "--department", "assistenza"],
            &format!("{PASSWORD}\n"),
        );
        assert!(out.status.success(), "operator add: {out:?}");
        let faq = faq.to_str().unwrap().to_owned();
        Self::spawn_full(data, None, &[], &["--faq", &faq])
    }

    /// The same with more environment (secrets of a channel or the order platform).
    pub fn spawn_env(data: super::Place, config: Option<&str>, env: &[(&str, &str)]) -> Server {
        Self::spawn_full(data, config, env, &[])
    }

    fn spawn_full(
        data: super::Place,
        config: Option<&str>,
        env: &[(&str, &str)],
        args: &[&str],
    ) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sportello"));
        command
            .current_dir(super::repo())
            .args(args)
            .arg("--data")
            .arg(data.data());
        if let Some(config) = config {
            let file = data.files().join("sportello.toml");
            std::fs::write(&file, config).unwrap();
            command.arg("--config").arg(file);
        }
        let mut child = command
            .arg("serve")
            .env("SPORTELLO_HTTP_ADDR", "127.0.0.1:0")
            .env_remove("SPORTELLO_TELEGRAM_TOKEN")
            .env_remove("SPORTELLO_WHATSAPP_TOKEN")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = BufReader::new(child.stderr.take().unwrap());
        let log = stderr.clone();
        std::thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("sportello serving on ") {
                    let _ = tx.send(url.to_owned());
                }
                log.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("serve says where it listens");
        Server {
            place: Some(data),
            base,
            child,
            stderr,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, as a service manager stops it; its place once it exited cleanly (to
    /// run a command on it, or start another server).
    pub fn terminate(mut self) -> super::Place {
        crate::support::telegram::terminate(&mut self.child);
        self.place.take().unwrap()
    }

    /// SIGKILL; its place.
    pub fn stop(mut self) -> super::Place {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.place.take().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const HOW_TO_INSTALL: &str = "\n  the browser tests need Chromium and chromedriver: on Debian `sudo apt-get install chromium chromium-driver`, on Ubuntu `sudo apt-get install chromium-browser chromium-chromedriver`, or set SPORTELLO_CHROMEDRIVER to a chromedriver (run as root, or with passwordless sudo, the tests install them themselves)";

/// Where chromedriver is: `SPORTELLO_CHROMEDRIVER`, else the first one found, else
/// installed once from the distribution's packages (as root or with passwordless
/// sudo). Never a silent skip: without one the browser tests fail saying how to get it.
fn chromedriver() -> String {
    static FOUND: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    let found = FOUND.get_or_init(|| {
        if let Ok(program) = std::env::var("SPORTELLO_CHROMEDRIVER") {
            return Ok(program);
        }
        find_chromedriver()
            .or_else(|| {
                install_browser();
                find_chromedriver()
            })
            .ok_or_else(|| format!("no chromedriver found{HOW_TO_INSTALL}"))
    });
    found.clone().unwrap_or_else(|e| panic!("{e}"))
}

fn find_chromedriver() -> Option<String> {
    let on_path = Command::new("chromedriver")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if on_path {
        return Some("chromedriver".into());
    }
    [
        "/usr/lib/chromium/chromedriver",
        "/usr/lib/chromium-browser/chromedriver",
        "/snap/bin/chromium.chromedriver",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists())
    .map(str::to_owned)
}

/// Install Chromium and chromedriver with apt (Debian's package names, then Ubuntu's),
/// as root or through passwordless sudo; says what it does on stderr.
fn install_browser() {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let sudo = !root
        && Command::new("sudo")
            .args(["-n", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    if !root && !sudo {
        eprintln!("browser tests: no chromedriver, and no root or passwordless sudo to install it");
        return;
    }
    let apt = |args: &[&str]| {
        let mut command = if root {
            Command::new("apt-get")
        } else {
            let mut c = Command::new("sudo");
            c.args(["-n", "apt-get"]);
            c
        };
        command
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(args)
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    eprintln!("browser tests: installing Chromium and chromedriver with apt-get");
    let _ = apt(&["update", "-qq"]);
    for packages in [
        ["chromium", "chromium-driver", "fonts-dejavu-core"],
        [
            "chromium-browser",
            "chromium-chromedriver",
            "fonts-dejavu-core",
        ],
    ] {
        let mut args = vec!["install", "-y", "-qq"];
        args.extend(packages);
        if apt(&args) {
            return;
        }
    }
}

/// chromedriver on a free port, and headless Chromium sessions through it.
pub struct Chromium {
    driver: Child,
    url: String,
}

impl Chromium {
    pub async fn start() -> Chromium {
        let port = free_port();
        let program = chromedriver();
        let mut driver = Command::new(&program)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {program} ({e}){}", HOW_TO_INSTALL));
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..400 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Chromium { driver, url };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = driver.kill();
        let _ = driver.wait();
        panic!("{program} did not listen on port {port} within 20 s");
    }

    /// A new browser window of the given size, in the given UI language.
    pub async fn window(&self, width: u32, height: u32, lang: &str) -> Client {
        self.open(width, height, lang, None).await
    }

    /// A phone's screen (Chromium's own windows are at least 500 px wide): the page
    /// sees a viewport of `width` x `height`.
    pub async fn phone(&self, width: u32, height: u32, lang: &str) -> Client {
        let metrics = serde_json::json!({"deviceMetrics": {"width": width, "height": height, "pixelRatio": 2.0}});
        self.open(width.max(500), height, lang, Some(metrics)).await
    }

    async fn open(
        &self,
        width: u32,
        height: u32,
        lang: &str,
        mobile: Option<serde_json::Value>,
    ) -> Client {
        let binary = [
            "/usr/lib/chromium/chromium",
            "/usr/bin/chromium",
            "/usr/bin/chromium-browser",
            "/snap/bin/chromium",
        ]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("chromium");
        let caps = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": binary,
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--disable-gpu", format!("--window-size={width},{height}"),
                         format!("--lang={lang}")],
                "prefs": {"intl.accept_languages": lang},
            }
        });
        let mut caps = caps;
        if let Some(mobile) = mobile {
            caps["goog:chromeOptions"]["mobileEmulation"] = mobile;
        }
        let serde_json::Value::Object(caps) = caps else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("chromedriver starts a headless Chromium")
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Wait until an element matching `css` exists.
pub async fn wait_for(client: &Client, css: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no `{css}` on the page after {PATIENCE:?}: {e}"))
}

/// Wait until some element matching `css` has text containing `needle`; its text.
pub async fn wait_for_text(client: &Client, css: &str, needle: &str) -> String {
    let start = std::time::Instant::now();
    loop {
        let mut seen = Vec::new();
        if let Ok(found) = client.find_all(Locator::Css(css)).await {
            for element in found {
                if let Ok(text) = element.text().await {
                    if text.contains(needle) {
                        return text;
                    }
                    seen.push(text);
                }
            }
        }
        assert!(
            start.elapsed() < PATIENCE,
            "no `{css}` containing {needle:?} after {PATIENCE:?}; saw {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Save a screenshot as the README's picture `docs/{name}.png` (every run refreshes
/// them; git shows when a page changed), and a copy under target/screenshots.
pub async fn screenshot(client: &Client, name: &str) {
    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
    let dir = super::repo().join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
    std::fs::write(super::repo().join("docs").join(format!("{name}.png")), png).unwrap();
}
