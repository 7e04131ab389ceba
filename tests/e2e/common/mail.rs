//! Real mail peers on loopback: Python's smtplib sends mail to the server's SMTP listener,
//! and aiosmtpd (Debian's python3-aiosmtpd) is the relay the server sends through, keeping
//! each mail in a Maildir the test reads.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The Python that has aiosmtpd: Debian's (python3-aiosmtpd), or the first `python3`.
fn python() -> &'static str {
    static FOUND: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();
    FOUND.get_or_init(|| {
        ["/usr/bin/python3", "python3"]
            .into_iter()
            .find(|p| {
                Command::new(p)
                    .args(["-c", "import aiosmtpd"])
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            })
            .unwrap_or("python3")
    })
}

/// True when a python3 has aiosmtpd; in CI its absence is a failure, never a skip.
pub fn aiosmtpd_available() -> bool {
    let found = Command::new(python())
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        if std::env::var("CI").is_ok() {
            panic!("aiosmtpd is not installed: .ci/run installs the python3-aiosmtpd package");
        }
        eprintln!("note: aiosmtpd not installed (apt-get install python3-aiosmtpd): skipping");
    }
    found
}

/// An aiosmtpd server keeping what it receives in a Maildir.
pub struct Relay {
    child: Child,
    pub addr: SocketAddr,
    pub maildir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Relay {
    /// Starts aiosmtpd on a free loopback port and waits until it accepts connections.
    pub async fn start() -> Relay {
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("Maildir");
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = Command::new(python())
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start aiosmtpd");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Relay {
            child,
            addr,
            maildir,
            _dir: dir,
        }
    }

    /// The mails received so far, each parsed by Python's email package: headers decoded,
    /// the text part, the attachments' names and sizes (as JSON).
    pub fn mails(&self) -> Vec<serde_json::Value> {
        read_maildir(&self.maildir)
    }

    /// Waits until a mail satisfies `want`.
    pub async fn wait_for(
        &self,
        what: &str,
        want: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        for _ in 0..300 {
            if let Some(m) = self.mails().into_iter().find(|m| want(m)) {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "no mail {what} arrived at the relay; it has {:#?}",
            self.mails()
        );
    }
}

const READ_MAILDIR: &str = r#"
import email, email.policy, json, mailbox, sys
out = []
for key, msg in mailbox.Maildir(sys.argv[1], factory=None, create=False).items():
    m = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    body = m.get_body(preferencelist=("plain",))
    out.append({
        "from": str(m["From"]), "to": str(m["To"]), "subject": str(m["Subject"]),
        "message_id": str(m["Message-ID"]), "in_reply_to": str(m["In-Reply-To"] or ""),
        "text": body.get_content() if body is not None else "",
        "attachments": [{"name": a.get_filename(), "type": a.get_content_type(), "size": len(a.get_payload(decode=True))} for a in m.iter_attachments()],
    })
print(json.dumps(out, ensure_ascii=False))
"#;

fn read_maildir(dir: &Path) -> Vec<serde_json::Value> {
    if !dir.join("new").exists() && !dir.join("cur").exists() {
        return Vec::new();
    }
    let out = Command::new(python())
        .args(["-c", READ_MAILDIR])
        .arg(dir)
        .output()
        .expect("python3");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "maildir not read: {e}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Sends a mail with Python's smtplib: `build` is Python code that sets `msg` (an
/// email.message.EmailMessage or a bytes object); prints the server's last reply as
/// `CODE TEXT` (or the refusal smtplib raised).
const SEND: &str = r#"
import os, smtplib, ssl, sys, json
from email.message import EmailMessage
from email.header import Header
host, port, sender, rcpts = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].split(",")
msg = None
exec(sys.stdin.read())
try:
    with smtplib.SMTP(host, port, timeout=30) as s:
        s.ehlo("tester.example.cn")
        ca = os.environ.get("SMTP_CA")
        if ca:
            if not s.has_extn("starttls"):
                print(599, "no STARTTLS offered"); sys.exit(0)
            s.starttls(context=ssl.create_default_context(cafile=ca))
            s.ehlo("tester.example.cn")
        data = msg if isinstance(msg, bytes) else msg.as_bytes()
        code, resp = s.mail(sender)
        if code != 250:
            print(code, resp.decode()); sys.exit(0)
        for r in rcpts:
            code, resp = s.rcpt(r)
            if code not in (250, 251):
                print(code, resp.decode()); sys.exit(0)
        code, resp = s.data(data)
        print(code, resp.decode())
except smtplib.SMTPResponseException as e:
    print(e.smtp_code, e.smtp_error.decode() if isinstance(e.smtp_error, bytes) else e.smtp_error)
"#;

/// Sends a mail built by the Python code `build` from `sender` to `rcpts`; the server's reply.
pub async fn send(smtp: SocketAddr, sender: &str, rcpts: &[&str], build: &str) -> (u16, String) {
    send_with(smtp, sender, rcpts, build, None).await
}

/// [`send`], first starting TLS and checking the server's certificate against the CA `ca`
/// (599 when STARTTLS is not offered).
pub async fn send_with(
    smtp: SocketAddr,
    sender: &str,
    rcpts: &[&str],
    build: &str,
    ca: Option<&Path>,
) -> (u16, String) {
    let ca = ca.map(Path::to_path_buf);
    let (smtp, sender, rcpts, build) =
        (smtp, sender.to_string(), rcpts.join(","), build.to_string());
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = Command::new(python())
            .args(["-c", SEND])
            .arg(smtp.ip().to_string())
            .arg(smtp.port().to_string())
            .arg(&sender)
            .arg(&rcpts)
            .envs(ca.iter().map(|ca| ("SMTP_CA", ca.as_os_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(build.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let (code, rest) = text.split_once(' ').unwrap_or_else(|| {
            panic!(
                "smtplib printed {text:?}; stderr {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (code.parse().unwrap(), rest.to_string())
    })
    .await
    .unwrap()
}
