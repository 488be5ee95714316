//! A SoftHSM2 token of the test's own: a fresh token directory and `SOFTHSM2_CONF`.
//!
//! SoftHSM2 reads `SOFTHSM2_CONF` from the environment when the module is initialised, and a
//! process initialises a module once, so each test runs its body in a child process (this same
//! test binary, filtered to the one test) whose environment points at the test's own token.

use std::path::PathBuf;
use std::process::Command;

pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
pub const PIN: &str = "4711-test-pin";
const SO_PIN: &str = "12345678";
const CHILD: &str = "ESIGNET_TEST_SOFTHSM_CHILD";
const LABEL_VAR: &str = "ESIGNET_TEST_TOKEN_LABEL";
const DIR_VAR: &str = "ESIGNET_TEST_DIR";

/// The token a test body runs against.
pub struct Token {
    pub label: String,
    /// A scratch directory of the test (the store lives here).
    pub dir: PathBuf,
}

/// Initialises a token labelled `label` in a new directory; returns the directory and the
/// configuration file.
pub fn init_token(label: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens");
    std::fs::create_dir_all(&tokens).unwrap();
    let conf = dir.path().join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .unwrap();
    let output = Command::new("softhsm2-util")
        .args(["--init-token", "--free", "--label", label])
        .args(["--so-pin", SO_PIN, "--pin", PIN])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .expect("softhsm2-util (Debian package softhsm2) must be installed");
    assert!(
        output.status.success(),
        "softhsm2-util failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (dir, conf)
}

/// Runs `body` against a token of this test's own, in a child process. `name` is the test's
/// path in this binary.
pub fn isolated(name: &str, body: impl FnOnce(Token)) {
    if std::env::var_os(CHILD).is_some() {
        body(Token {
            label: std::env::var(LABEL_VAR).unwrap(),
            dir: PathBuf::from(std::env::var(DIR_VAR).unwrap()),
        });
        return;
    }
    let label = format!("t-{}", &name[..name.len().min(24)]);
    let (dir, conf) = init_token(&label);
    let output = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env("SOFTHSM2_CONF", &conf)
        .env(CHILD, "1")
        .env(LABEL_VAR, &label)
        .env(DIR_VAR, dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the test body failed:\n{stdout}\n{stderr}"
    );
    // A filter matching nothing also exits 0: make sure the body really ran.
    assert!(
        stdout.contains("1 passed"),
        "the child did not run {name}:\n{stdout}"
    );
}
