//! Starts the real `hotline12345` binary on loopback ports picked by the OS, against SQLite or
//! a fresh PostgreSQL database, and stops it when dropped.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use hotline12345::store::testdb::TestDb;

/// The bundled development token of the provincial supervisor (sees every case).
pub const SUPERVISOR_TOKEN: &str = "dev-sup-province";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The environment variable that holds the PostgreSQL server URL for tests.
pub const POSTGRES_ENV: &str = "HOTLINE_TEST_POSTGRES_URL";

/// The PostgreSQL server for tests: `HOTLINE_TEST_POSTGRES_URL`, else the local default.
pub fn postgres_base_url() -> String {
    std::env::var(POSTGRES_ENV)
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A running server and what a test needs to reach it.
pub struct TestServer {
    child: std::sync::Mutex<Option<Child>>,
    /// SIP address (UDP and TCP).
    pub sip: SocketAddr,
    /// HTTP API base, e.g. `http://127.0.0.1:40123`.
    pub http: String,
    /// SIP over TLS, when the server was started with it.
    pub sips: Option<SocketAddr>,
    /// The SMTP listener, when started with --smtp-listen.
    pub smtp: Option<SocketAddr>,
    /// The data folder (SQLite file, audio).
    pub data: PathBuf,
    /// The database URL the server uses.
    pub database_url: String,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    _data_dir: Option<tempfile::TempDir>,
}

/// The project's own folders.
pub fn project_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(name)
}

/// Options for starting a test server.
pub struct ServerOptions {
    pub dialplan: PathBuf,
    pub extra_args: Vec<String>,
    /// Keeps a generated dialplan folder alive as long as the options.
    pub _dialplan_dir: Option<std::sync::Arc<tempfile::TempDir>>,
}

impl Default for ServerOptions {
    /// The bundled dialplan with every platform staffed around the clock, so that tests of the
    /// staffed call path do not depend on the time of day they run at.
    fn default() -> Self {
        Self::with_hours("[\"00:00-24:00\"]")
    }
}

impl ServerOptions {
    /// The bundled dialplan with every platform's hours set to `hours` (a TOML list such as
    /// `["08:00-20:00"]`; `[]` is never staffed): the test's clock is the dialplan's.
    pub fn with_hours(hours: &str) -> Self {
        Self::with_dialplan_edit(|name, text| match name {
            "hotline.toml" => text.replace(
                "default_hours = [\"08:00-20:00\"]",
                &format!("default_hours = {hours}"),
            ),
            "platforms.toml" => {
                text.replace("hours = [\"00:00-24:00\"]", &format!("hours = {hours}"))
            }
            _ => text,
        })
    }

    /// These options with more command-line arguments for `serve`.
    pub fn with_args(mut self, args: &[&str]) -> Self {
        self.extra_args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    /// These options with the dialplan file `name` replaced by `text`.
    pub fn with_dialplan_file(self, name: &str, text: String) -> Self {
        let dir = self.dialplan.clone();
        std::fs::write(dir.join(name), text).unwrap();
        self
    }

    /// A copy of the bundled dialplan with each file passed through `edit(name, text)`.
    pub fn with_dialplan_edit(edit: impl Fn(&str, String) -> String) -> Self {
        let dir = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(project_dir("dialplan")).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(dir.path().join(&name), edit(&name, text)).unwrap();
        }
        Self {
            dialplan: dir.path().to_path_buf(),
            extra_args: Vec::new(),
            _dialplan_dir: Some(std::sync::Arc::new(dir)),
        }
    }
}

/// A database for one test: a temp SQLite file or a fresh PostgreSQL database.
pub struct TestDatabase {
    pub url: String,
    db: Option<TestDb>,
}

impl TestDatabase {
    /// None when the backend cannot run here (PostgreSQL without its URL outside CI).
    pub async fn create(backend: Backend, data: &std::path::Path) -> Option<TestDatabase> {
        match backend {
            Backend::Sqlite => Some(TestDatabase {
                url: format!("sqlite://{}", data.join("hotline.db").display()),
                db: None,
            }),
            Backend::Postgres => {
                let base = postgres_base_url();
                let db = match TestDb::postgres(&base).await {
                    Ok(db) => db,
                    // In CI PostgreSQL is required; elsewhere a missing server is a noted skip.
                    Err(e) if std::env::var("CI").is_err() => {
                        eprintln!("note: no PostgreSQL at {base} ({e}): skipping this variant");
                        return None;
                    }
                    Err(e) => panic!("PostgreSQL at {base} is required in CI: {e}"),
                };
                Some(TestDatabase {
                    url: db.url().to_string(),
                    db: Some(db),
                })
            }
        }
    }

    /// Drops the PostgreSQL database.
    pub async fn drop_db(self) {
        if let Some(db) = self.db {
            db.cleanup().await;
        }
    }
}

impl TestServer {
    /// Starts a server with a fresh data folder on `database_url`.
    pub fn start(database_url: &str, data_dir: tempfile::TempDir, options: &ServerOptions) -> Self {
        let data = data_dir.path().to_path_buf();
        let mut server = Self::start_in(database_url, &data, options);
        server._data_dir = Some(data_dir);
        server
    }

    /// Starts a server on an existing data folder (for restart tests).
    pub fn start_in(database_url: &str, data: &std::path::Path, options: &ServerOptions) -> Self {
        // A random RTP range per server so parallel tests do not collide.
        let base = 30000 + 2 * (rand::random::<u16>() % 14000);
        // HOTLINE_TEST_BINARY runs the suite against another build (an older commit, say).
        let binary = std::env::var("HOTLINE_TEST_BINARY")
            .unwrap_or_else(|_| env!("CARGO_BIN_EXE_hotline12345").to_string());
        let mut child = Command::new(binary)
            .arg("serve")
            .arg("--dialplan")
            .arg(&options.dialplan)
            .arg("--prompts")
            .arg(super::audio::test_prompts())
            .arg("--data")
            .arg(data)
            .arg("--database-url")
            .arg(database_url)
            .args([
                "--sip-listen",
                "127.0.0.1:0",
                "--http-listen",
                "127.0.0.1:0",
            ])
            .arg("--rtp-ports")
            .arg(format!("{}-{}", base, base + 400))
            .args(&options.extra_args)
            .env("RUST_LOG", "info,sqlx=warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start hotline12345");

        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let log2 = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                log2.lock().unwrap().push(line);
            }
        });
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("hotline12345 ready: ") {
                    let _ = tx.send(rest.to_string());
                }
            }
        });
        let ready = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(r) => r,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "server did not start; its log:\n{}",
                    log.lock().unwrap().join("\n")
                );
            }
        };
        let mut sip = None;
        let mut http = None;
        let mut sips = None;
        let mut smtp = None;
        for part in ready.split_whitespace() {
            if let Some(v) = part.strip_prefix("sip=") {
                sip = Some(v.parse().unwrap());
            }
            if let Some(v) = part.strip_prefix("http=") {
                http = Some(format!("http://{v}"));
            }
            if let Some(v) = part.strip_prefix("sips=") {
                sips = Some(v.parse().unwrap());
            }
            if let Some(v) = part.strip_prefix("smtp=") {
                smtp = Some(v.parse().unwrap());
            }
        }
        TestServer {
            child: std::sync::Mutex::new(Some(child)),
            sip: sip.expect("sip address"),
            http: http.expect("http address"),
            sips,
            smtp,
            data: data.to_path_buf(),
            database_url: database_url.to_string(),
            log,
            _data_dir: None,
        }
    }

    /// The server's process id (None once it was stopped).
    pub fn pid(&self) -> Option<u32> {
        self.child.lock().unwrap().as_ref().map(|c| c.id())
    }

    /// How many file descriptors the server holds now.
    pub fn open_fds(&self) -> usize {
        let pid = self.pid().expect("server running");
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .count()
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Stops the server with SIGTERM (a clean shutdown) and waits for it.
    pub fn stop(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            for _ in 0..100 {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and returns at once (the server drains its calls).
    pub fn terminate(&self) {
        let pid = self.pid().expect("server running");
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status();
    }

    /// Waits up to `wait` for the server to exit; its exit code, None while it runs on.
    pub fn wait_exit(&self, wait: Duration) -> Option<i32> {
        let until = std::time::Instant::now() + wait;
        while std::time::Instant::now() < until {
            if let Some(child) = self.child.lock().unwrap().as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Some(status.code().unwrap_or(-1));
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Kills the server without warning (SIGKILL), as a crash would.
    pub fn crash(&self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Any API request, as `token`'s user (none: no Authorization), with a body of a content
    /// type; the status and the answer (JSON, or its text as a JSON string).
    pub async fn request(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<(&str, String)>,
    ) -> (u16, serde_json::Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut req = reqwest::Client::new().request(method, format!("{}{}", self.http, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some((kind, text)) = body {
            req = req.header("content-type", kind).body(text);
        }
        let resp = req.send().await.expect("HTTP request");
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        )
    }

    /// GET a JSON document from the API.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let resp = reqwest::Client::new()
            .get(format!("{}{}", self.http, path))
            .bearer_auth(SUPERVISOR_TOKEN)
            .send()
            .await
            .expect("HTTP request");
        let status = resp.status().as_u16();
        let body = resp.json().await.unwrap_or(serde_json::Value::Null);
        (status, body)
    }

    /// The samples of voice message `id`, read from its WAV through the API.
    pub async fn voicemail_samples(&self, id: i64) -> Vec<i16> {
        let bytes = reqwest::Client::new()
            .get(format!("{}/api/voicemails/{id}/audio", self.http))
            .bearer_auth(SUPERVISOR_TOKEN)
            .send()
            .await
            .expect("HTTP request")
            .bytes()
            .await
            .unwrap();
        let reader =
            hound::WavReader::new(std::io::Cursor::new(bytes.to_vec())).expect("a WAV file");
        assert_eq!(reader.spec().sample_rate, 8000);
        reader.into_samples::<i16>().map(Result::unwrap).collect()
    }

    /// One seat as `GET /api/agents` shows it.
    pub async fn seat(&self, id: &str) -> serde_json::Value {
        let (status, body) = self.get_json("/api/agents").await;
        assert_eq!(status, 200, "{body}");
        body.as_array()
            .and_then(|seats| seats.iter().find(|a| a["id"] == id))
            .unwrap_or_else(|| panic!("seat {id} in {body}"))
            .clone()
    }

    /// One seat's live state in the ACD, as `GET /api/queues` shows it.
    pub async fn live_seat(&self, id: &str) -> serde_json::Value {
        let (status, body) = self.get_json("/api/queues").await;
        assert_eq!(status, 200, "{body}");
        body["agents"]
            .as_array()
            .and_then(|seats| seats.iter().find(|a| a["id"] == id))
            .unwrap_or_else(|| panic!("seat {id} in {body}"))
            .clone()
    }

    /// The cases of a caller, through the API.
    pub async fn cases_of(&self, caller: &str) -> Vec<serde_json::Value> {
        let (status, body) = self
            .get_json(&format!("/api/cases?caller={}", urlencode(caller)))
            .await;
        assert_eq!(status, 200, "GET cases of {caller}: {body}");
        body.as_array().cloned().unwrap_or_default()
    }

    /// Waits until the call `call_id` in progress has a party of `role` (`operator`,
    /// `hotline`, `colleague`, `supervisor`) in `state` (`ringing`, `up`), as
    /// `GET /api/calls/{id}` says; returns that view.
    pub async fn wait_for_party(
        &self,
        call_id: &str,
        role: &str,
        state: &str,
    ) -> serde_json::Value {
        let mut last = serde_json::Value::Null;
        for _ in 0..150 {
            let (st, body) = self.get_json(&format!("/api/calls/{call_id}")).await;
            if st == 200
                && body["parties"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["role"] == role && p["state"] == state))
            {
                return body;
            }
            last = body;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("no {role} {state} in call {call_id}: {last}");
    }

    /// The audit trail of the latest case of `caller`: (actor, action, detail), oldest first.
    pub async fn audit_of(&self, caller: &str) -> Vec<(String, String, String)> {
        let cases = self.cases_of(caller).await;
        let case = cases[0]["case_number"].as_str().expect("a case");
        let (_, view) = self.get_json(&format!("/api/cases/{case}")).await;
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
        view["audit"]
            .as_array()
            .map(|steps| {
                steps
                    .iter()
                    .map(|a| (text(&a["actor_id"]), text(&a["action"]), text(&a["detail"])))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Percent-encodes a query value, byte by byte of its UTF-8 (phone numbers with `+` and
/// spaces, Chinese words).
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
