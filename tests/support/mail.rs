//! Real mail servers for the email tests: Dovecot (Debian's `dovecot-imapd`) configured
//! in a temp dir, loopback only, one mailbox; and a local SMTP server (aiosmtpd from
//! PyPI, `smtp_server.py`) that keeps every mail it accepts as a file. Mail reaches the
//! mailbox as a customer's would reach the shop's: IMAP APPEND.

use super::browser::free_port;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const USER: &str = "shop@negozio.test";
pub const PASSWORD: &str = "segreto-di-prova";
pub const SHOP: &str = "Negozio Lume <shop@negozio.test>";

/// A certificate authority of the test's own and a server certificate for 127.0.0.1
/// (openssl), as a shop with its own mail server has.
pub struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    pub fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let ext = "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n";
        std::fs::write(d.join("ext.cnf"), ext).unwrap();
        let steps: [&[&str]; 3] = [
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=Sportello Test CA",
            ],
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-days",
                "2",
                "-extfile",
                "ext.cnf",
            ],
        ];
        for args in steps {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(d)
                .output()
                .unwrap();
            assert!(out.status.success(), "openssl {args:?}: {out:?}");
        }
        Pki { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// A Dovecot IMAP server on a free loopback port.
pub struct Dovecot {
    pub port: u16,
    /// IMAPS (TLS from the first byte), when started with a certificate.
    pub tls_port: Option<u16>,
    dir: tempfile::TempDir,
    child: Child,
}

fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

impl Dovecot {
    pub fn start() -> Dovecot {
        Self::start_with("", None)
    }

    /// TLS only: IMAPS on `tls_port`, and STARTTLS required before a password on `port`
    /// (except from loopback, which Dovecot counts as secure: the tests' own APPEND).
    pub fn with_tls(pki: &Pki) -> Dovecot {
        let tls_port = free_port();
        let conf = format!(
            "ssl = required\nssl_cert = <{}\nssl_key = <{}\n",
            pki.path("server.pem").display(),
            pki.path("server.key").display()
        );
        Self::start_with(&conf, Some(tls_port))
    }

    /// `imaps://…` on the TLS port.
    pub fn tls_url(&self) -> String {
        format!(
            "imaps://shop%40negozio.test@127.0.0.1:{}/INBOX",
            self.tls_port.expect("started with_tls")
        )
    }

    /// A server that does not offer IDLE (as some hosted mailboxes do not): the reader
    /// must poll.
    pub fn without_idle() -> Dovecot {
        Self::start_with(
            "imap_capability = IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE SORT UIDPLUS MOVE\n",
            None,
        )
    }

    /// `extra` settings; with `tls_port`, IMAPS there (and `extra` sets up TLS).
    fn start_with(extra: &str, tls_port: Option<u16>) -> Dovecot {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let port = free_port();
        let open = |p: &Path, mode: u32| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::create_dir_all(p).unwrap();
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        open(root, 0o755);
        for sub in ["mail", "home"] {
            open(&root.join(sub), 0o777);
        }
        // As root, mail is handled as `nobody` and Dovecot's own users (made by the
        // Debian package); as anyone else, as that user.
        let root_user = run("id", &["-u"]) == "0";
        let (internal, login, uid, gid) = if root_user {
            (
                "dovecot".to_owned(),
                "dovenull".to_owned(),
                "65534".to_owned(),
                "65534".to_owned(),
            )
        } else {
            let me = run("id", &["-un"]);
            (me.clone(), me, run("id", &["-u"]), run("id", &["-g"]))
        };
        let group = run("id", &["-gn", &internal]);
        std::fs::write(
            root.join("passwd"),
            format!("{USER}:{{PLAIN}}{PASSWORD}::::::\n"),
        )
        .unwrap();
        let d = root.display();
        let imaps = tls_port.unwrap_or(0);
        let ssl = if tls_port.is_some() { "" } else { "ssl = no\n" };
        let conf = format!(
            "protocols = imap
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
{ssl}disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{d}/mail/%n
first_valid_uid = 0
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home/%n
}}
{extra}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
  }}
}}
"
        );
        let file = root.join("dovecot.conf");
        std::fs::write(&file, conf).unwrap();
        let child = Command::new("dovecot")
            .arg("-F")
            .arg("-c")
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dovecot (Debian's dovecot-imapd; .ci/run installs it)");
        let server = Dovecot {
            port,
            tls_port,
            dir,
            child,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let start = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "dovecot did not start: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    /// `imap://…` for `SPORTELLO_EMAIL_IMAP_URL`.
    pub fn url(&self) -> String {
        format!("imap://shop%40negozio.test@127.0.0.1:{}/INBOX", self.port)
    }

    /// Deliver a mail into the mailbox (IMAP APPEND, not seen).
    pub fn deliver(&self, raw: &str) {
        self.append(raw, None);
    }

    /// Deliver a mail already flagged `\Seen`, as if a person had opened it first.
    pub fn deliver_seen(&self, raw: &str) {
        self.append(raw, Some("(\\Seen)"));
    }

    fn append(&self, raw: &str, flags: Option<&'static str>) {
        let raw = raw.replace("\r\n", "\n").replace('\n', "\r\n");
        self.with_session(|mut s| async move {
            s.append("INBOX", flags, None, raw.as_bytes())
                .await
                .unwrap();
            s.logout().await.unwrap();
        });
    }

    /// Wait until `n` mails are flagged `\Seen` (the flag follows the store by a moment).
    pub fn wait_seen(&self, n: usize) -> (usize, usize) {
        let start = Instant::now();
        loop {
            let (seen, all) = self.seen();
            if seen >= n {
                return (seen, all);
            }
            assert!(
                start.elapsed() < super::browser::PATIENCE,
                "{seen} of {n} mails flagged \\Seen"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// How many mails in the mailbox carry `\Seen`, and how many in all.
    pub fn seen(&self) -> (usize, usize) {
        self.with_session(|mut s| async move {
            s.select("INBOX").await.unwrap();
            let all = s.uid_search("ALL").await.unwrap().len();
            let seen = s.uid_search("SEEN").await.unwrap().len();
            s.logout().await.unwrap();
            (seen, all)
        })
    }

    fn with_session<T, F, Fut>(&self, work: F) -> T
    where
        F: FnOnce(async_imap::Session<tokio::net::TcpStream>) -> Fut,
        Fut: Future<Output = T>,
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .unwrap();
            let mut client = async_imap::Client::new(tcp);
            client.read_response().await.unwrap().unwrap();
            let session = client
                .login(USER, PASSWORD)
                .await
                .map_err(|(e, _)| e)
                .unwrap();
            work(session).await
        })
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The local SMTP server: what Sportello sends, one file per mail.
pub struct Smtp {
    pub port: u16,
    out: tempfile::TempDir,
    child: Child,
}

impl Smtp {
    pub fn start() -> Smtp {
        Self::start_with(None)
    }

    /// STARTTLS offered and required before AUTH, with the test's certificate.
    pub fn with_starttls(pki: &Pki) -> Smtp {
        Self::start_with(Some(pki))
    }

    fn start_with(pki: Option<&Pki>) -> Smtp {
        let out = tempfile::tempdir().unwrap();
        let port = free_port();
        let script = super::repo().join("tests/support/smtp_server.py");
        let mut command = Command::new("python3");
        command
            .arg(&script)
            .arg(port.to_string())
            .arg(out.path())
            .arg(USER)
            .arg(PASSWORD);
        if let Some(pki) = pki {
            command
                .arg(pki.path("server.pem"))
                .arg(pki.path("server.key"));
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        assert_eq!(
            line.trim(),
            "ready",
            "the SMTP server (pip install aiosmtpd)"
        );
        Smtp { port, out, child }
    }

    /// `smtp://…` for `SPORTELLO_EMAIL_SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://shop%40negozio.test@127.0.0.1:{}", self.port)
    }

    pub fn dir(&self) -> PathBuf {
        self.out.path().to_owned()
    }

    /// Every mail received so far, oldest first.
    pub fn mails(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.out.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect()
    }

    /// Wait until at least `n` mails arrived; all of them.
    pub fn wait_for(&self, n: usize) -> Vec<String> {
        let start = Instant::now();
        loop {
            let mails = self.mails();
            if mails.len() >= n {
                return mails;
            }
            assert!(
                start.elapsed() < super::browser::PATIENCE,
                "{} of {n} mails arrived",
                mails.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The environment that connects `serve` to these two servers.
pub fn env(imap: &Dovecot, smtp: &Smtp) -> Vec<(&'static str, String)> {
    vec![
        ("SPORTELLO_EMAIL_IMAP_URL", imap.url()),
        ("SPORTELLO_EMAIL_SMTP_URL", smtp.url()),
        ("SPORTELLO_EMAIL_PASSWORD", PASSWORD.to_owned()),
        ("SPORTELLO_EMAIL_ADDRESS", SHOP.to_owned()),
    ]
}

/// A header's value in a raw mail (unfolded), if present.
pub fn header(raw: &str, name: &str) -> Option<String> {
    let head = raw.split("\r\n\r\n").next().unwrap_or(raw);
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}
