//! The real-browser suite (`tests/browser`, Node's test runner driving Debian's Chromium through
//! playwright-core, with axe-core) as part of `cargo nextest run --workspace`: installs the
//! suite's npm packages when its lock file changed (`npm ci`), then runs it against the binary
//! cargo just built. It fails, never skips, when Node.js, npm or Chromium is missing: CI
//! (`.ci/run`) installs them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The whole suite normally takes well under a minute; this bounds a hung browser.
const SUITE_TIMEOUT: Duration = Duration::from_secs(600);

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/browser")
        .canonicalize()
        .expect("tests/browser exists")
}

/// Runs `program args` in `dir`; panics with a hint when the program is not installed.
fn output(program: &str, args: &[&str], dir: &Path, hint: &str) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("cannot run `{program}` ({error}): {hint}"))
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Node.js 20 or newer and npm are on the PATH.
fn check_node(dir: &Path) {
    let hint = "the browser suite needs Node.js 20+ and npm (Debian: apt-get install nodejs npm)";
    let version = output("node", &["--version"], dir, hint);
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|major| major.parse().ok())
        .unwrap_or(0);
    assert!(major >= 20, "Node.js {version} is too old: {hint}");
    let npm = output("npm", &["--version"], dir, hint);
    assert!(npm.status.success(), "npm does not run: {hint}");
}

/// Debian's Chromium (or `CHROMIUM_PATH`) is installed.
fn check_chromium() {
    let path = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(
        Path::new(&path).exists(),
        "Chromium not found at {path}: the browser suite needs Debian's chromium package \
         (apt-get install chromium) or CHROMIUM_PATH"
    );
}

/// `npm ci` unless `node_modules` was installed from the current lock file.
fn install_packages(dir: &Path) {
    let lock = std::fs::read(dir.join("package-lock.json")).expect("package-lock.json");
    let stamp = dir.join("node_modules/.esignet-installed-lock.json");
    if std::fs::read(&stamp).is_ok_and(|installed| installed == lock) {
        return;
    }
    let installed = output(
        "npm",
        &["ci", "--no-audit", "--no-fund"],
        dir,
        "npm is required",
    );
    assert!(
        installed.status.success(),
        "npm ci failed in {}:\n{}",
        dir.display(),
        text(&installed)
    );
    std::fs::write(&stamp, &lock).expect("write the install stamp");
}

#[test]
fn login_pages_in_chromium() {
    let dir = suite_dir();
    check_node(&dir);
    check_chromium();
    install_packages(&dir);

    let mut child = Command::new("node")
        .args(["--test", "--test-reporter=spec", "test/"])
        .current_dir(&dir)
        .env("ESIGNET_BIN", env!("CARGO_BIN_EXE_esignet"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node starts");
    // Drain both pipes on their own threads so a chatty suite cannot block on a full pipe.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut buffer);
        buffer
    });
    let err = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut buffer);
        buffer
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for node") {
            break Some(status);
        }
        if started.elapsed() > SUITE_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.join().unwrap_or_default()),
        String::from_utf8_lossy(&err.join().unwrap_or_default())
    );
    match status {
        Some(status) if status.success() => println!("{report}"),
        Some(status) => panic!("the browser suite failed ({status}):\n{report}"),
        None => panic!("the browser suite did not finish within {SUITE_TIMEOUT:?}:\n{report}"),
    }
}
