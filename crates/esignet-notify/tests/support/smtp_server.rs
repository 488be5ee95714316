//! Starts `scripts/test-smtp-server.py` (aiosmtpd) on a free loopback port and reads the
//! messages it received. Shared with the binary's end-to-end tests (included by path), so it
//! uses only the standard library and serde_json.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// Options of the server.
#[derive(Default)]
pub struct SmtpOptions {
    /// STARTTLS (or implicit TLS) with this certificate and key (PEM files).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// TLS from the first byte instead of STARTTLS.
    pub implicit_tls: bool,
    /// AUTH required for this user and password.
    pub auth: Option<(String, String)>,
}

/// A running aiosmtpd; killed on drop.
pub struct SmtpServer {
    child: Child,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    out: tempfile::TempDir,
}

impl SmtpServer {
    /// Starts the server and waits for its `READY <port>` line.
    pub fn start(options: &SmtpOptions) -> Self {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/test-smtp-server.py");
        let out = tempfile::tempdir().expect("temp dir");
        let mut command = Command::new("python3");
        command.arg(&script).arg(out.path());
        if let Some((cert, key)) = &options.tls {
            command.arg("--cert").arg(cert).arg("--key").arg(key);
        }
        if options.implicit_tls {
            command.arg("--implicit-tls");
        }
        if let Some((user, password)) = &options.auth {
            command
                .arg("--user")
                .arg(user)
                .arg("--password")
                .arg(password);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs (aiosmtpd is installed by .ci/run)");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("READY line");
        let port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP server did not start: {line:?}"));
        Self { child, port, out }
    }

    /// Every message received so far (mail_from, rcpt_tos, subject, from, to, body).
    pub fn messages(&self) -> Vec<serde_json::Value> {
        let mut files: Vec<_> = std::fs::read_dir(self.out.path())
            .expect("out dir")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).expect("read")).expect("json"))
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
