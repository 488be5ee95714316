//! The browser solver (`assets/captcha-pow.js`) run under Node's WebCrypto, checked by the Rust
//! verifier. Requires `node` (CI provides it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use esignet_cache_memory::MemoryCache;
use esignet_captcha::{POW_SOLVER_JS, PowCaptcha, PowConfig};
use esignet_spi::{CaptchaVerifier, Clock, SystemClock};

const RUNNER: &str = r#"
import { readFileSync } from "node:fs";
import { solveChallenge } from "./captcha-pow.mjs";
const challenge = JSON.parse(readFileSync(process.argv[2], "utf8"));
try {
  const token = await solveChallenge(challenge);
  process.stdout.write("token:" + token);
} catch (error) {
  process.stdout.write("error:" + error.name + ":" + error.message);
}
"#;

fn node_available() -> bool {
    Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

/// Runs the solver on `challenge` and returns its `token:...` or `error:...` line.
fn run_solver(dir: &std::path::Path, challenge: &serde_json::Value) -> String {
    let path = dir.join("challenge.json");
    std::fs::write(&path, challenge.to_string()).unwrap();
    let output = Command::new("node")
        .arg(dir.join("runner.mjs"))
        .arg(&path)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn the_browser_solver_produces_tokens_the_server_accepts() {
    // Node is part of the project's toolchain (CI installs it): its absence is a failure.
    assert!(
        node_available(),
        "node is required for the JavaScript solver test"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("captcha-pow.mjs"), POW_SOLVER_JS).unwrap();
    std::fs::write(dir.path().join("runner.mjs"), RUNNER).unwrap();
    // The real clock: the solver measures its deadline on the machine's clock.
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let captcha = PowCaptcha::new(
        [3; 32],
        PowConfig {
            difficulty_bits: 12,
            challenge_ttl: Duration::from_secs(60),
        },
        MemoryCache::new(clock.clone()),
        clock,
    );

    for action in ["send-otp", "pwd"] {
        let challenge = captcha.challenge(action).unwrap().unwrap();
        let line = run_solver(dir.path(), &challenge);
        let token = line
            .strip_prefix("token:")
            .unwrap_or_else(|| panic!("{line}"));
        assert_eq!(captcha.verify(token, action).await, Ok(true), "{action}");
        assert_eq!(captcha.verify(token, action).await, Ok(false), "replay");
    }

    let mut not_pow = captcha.challenge("pwd").unwrap().unwrap();
    not_pow["kind"] = "remote".into();
    assert!(run_solver(dir.path(), &not_pow).starts_with("error:TypeError"));

    let mut expired = captcha.challenge("pwd").unwrap().unwrap();
    expired["expiresIn"] = 0.into();
    assert!(run_solver(dir.path(), &expired).contains("expired"));
}
