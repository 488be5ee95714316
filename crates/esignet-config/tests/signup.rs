//! Which identity registries `[signup]` accepts: the built-in mock (on the SQLite store) and
//! the mock identity system over HTTP, never Sunbird RC.

use esignet_config::{AuthenticatorKind, ConfigErrors, Settings, load};

fn load_env(pairs: &[(&str, &str)]) -> Result<Settings, ConfigErrors> {
    let mut vars = vec![
        ("ESIGNET_SIGNUP__ENABLED".to_owned(), "true".to_owned()),
        (
            "ESIGNET_SIGNUP__CAPTCHA_REQUIRED".to_owned(),
            "false".to_owned(),
        ),
    ];
    vars.extend(
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned())),
    );
    load(None, vars)
}

fn signup_problem(result: Result<Settings, ConfigErrors>) -> String {
    let errors = result.expect_err("signup is refused");
    errors
        .problems()
        .iter()
        .find(|problem| problem.key == "signup.enabled")
        .unwrap_or_else(|| panic!("no signup.enabled problem in {errors}"))
        .message
        .clone()
}

#[test]
fn the_embedded_defaults_accept_signup_with_the_built_in_registry() {
    let settings = load_env(&[]).unwrap();
    assert!(settings.signup.enabled);
    assert_eq!(settings.authenticator.kind, AuthenticatorKind::Mock);
    let http = load_env(&[("ESIGNET_AUTHENTICATOR__KIND", "mock-identity-http")]).unwrap();
    assert_eq!(http.authenticator.kind, AuthenticatorKind::MockIdentityHttp);
}

#[test]
fn the_built_in_registry_is_refused_on_a_shared_store() {
    let message = signup_problem(load_env(&[
        ("ESIGNET_STORE__KIND", "postgres"),
        (
            "ESIGNET_STORE__POSTGRES_URL",
            "postgres://esignet@localhost/esignet",
        ),
    ]));
    assert!(message.contains("store.kind = \"sqlite\""), "{message}");
    assert!(message.contains("mock-identity-http"), "{message}");
    // Over HTTP the registry is shared by every instance: fine with PostgreSQL.
    load_env(&[
        ("ESIGNET_STORE__KIND", "postgres"),
        (
            "ESIGNET_STORE__POSTGRES_URL",
            "postgres://esignet@localhost/esignet",
        ),
        ("ESIGNET_AUTHENTICATOR__KIND", "mock-identity-http"),
    ])
    .unwrap();
}

#[test]
fn sunbird_rc_cannot_register_residents() {
    let message = signup_problem(load_env(&[("ESIGNET_AUTHENTICATOR__KIND", "sunbird-rc")]));
    assert!(message.contains("creates identities"), "{message}");
}
