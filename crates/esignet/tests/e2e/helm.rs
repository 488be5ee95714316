//! The Helm chart (deploy/helm/esignet): linted by Helm's own SDK, rendered for several value
//! sets, every manifest validated against the Kubernetes schemas (scripts/helm-check.py), and
//! every rendered configuration accepted by the real binary's `config check` with the
//! environment the chart gives the pods.

use std::process::Command;

fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_chart_lints_renders_valid_manifests_and_a_valid_configuration() {
    let out = tempfile::tempdir().unwrap();
    let output = Command::new("python3")
        .arg(repo().join("scripts/helm-check.py"))
        .arg(out.path())
        .output()
        .expect("python3 runs (.ci/run installs helm-python-sdk and kubernetes-validate)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "helm-check failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("\"problems\": 0"), "{stdout}");
    let data = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for case in ["defaults", "everything-on", "minimal"] {
        let config = out.path().join(format!("{case}.toml"));
        assert!(config.exists(), "{case}: no rendered config.toml");
        let config = config.to_string_lossy().into_owned();
        let (status, stdout, stderr) = crate::harness::run_cli(
            &["--config", &config, "config", "check"],
            data.path(),
            &[
                (
                    "ESIGNET_STORE__POSTGRES_URL",
                    "postgres://esignet:secret@postgres:5432/esignet",
                ),
                ("ESIGNET_CACHE__REDIS_URL", "redis://redis:6379"),
                (
                    "ESIGNET_KEYS__ENCRYPTION_KEY",
                    "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
                ),
                (
                    "ESIGNET_ADMIN__STATIC_TOKEN",
                    "an-admin-token-of-at-least-thirty-two-characters",
                ),
                ("ESIGNET_DATA__DIR", "/var/lib/esignet"),
            ],
        );
        assert_eq!(
            status, 0,
            "{case}: config check refused the chart's configuration:\n{stdout}\n{stderr}"
        );
        assert!(
            stdout.contains("configuration is valid"),
            "{case}: {stdout}"
        );
        checked += 1;
    }
    assert_eq!(checked, 3);
}
