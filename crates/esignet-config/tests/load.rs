//! Behaviour of `esignet_config::load`: layering, typo protection, validation and redaction.

use std::path::{Path, PathBuf};
use std::time::Duration;

use esignet_config::{
    ConfigErrors, LogFormat, ServerProfile, Settings, SigningAlgorithm, StoreKind, load,
};

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A temporary directory holding `config.toml` with `body`.
struct ConfigFile {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl ConfigFile {
    fn new(body: &str) -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, body).expect("write the configuration file");
        Self { dir, path }
    }

    /// Writes another file next to the configuration and returns its path as a string.
    fn sibling(&self, name: &str, body: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, body).expect("write a file next to the configuration");
        path.to_str().expect("temporary paths are UTF-8").to_owned()
    }
}

fn load_file(file: &ConfigFile, vars: &[(&str, &str)]) -> Result<Settings, ConfigErrors> {
    load(Some(&file.path), env(vars))
}

fn expect_errors(result: Result<Settings, ConfigErrors>) -> ConfigErrors {
    match result {
        Ok(settings) => panic!("expected problems, got a valid configuration: {settings:?}"),
        Err(errors) => errors,
    }
}

fn keys_of(errors: &ConfigErrors) -> Vec<&str> {
    errors.problems().iter().map(|p| p.key.as_str()).collect()
}

#[test]
fn no_file_and_no_environment_gives_the_demo_configuration() {
    let s = load(None, Vec::new()).unwrap();
    assert_eq!(s.server.bind.to_string(), "127.0.0.1:8088");
    assert_eq!(s.server.public_url, "http://127.0.0.1:8088");
    assert_eq!(s.issuer(), "http://127.0.0.1:8088");
    assert_eq!(
        s.endpoint_url("/oauth/v2/token"),
        "http://127.0.0.1:8088/v1/esignet/oauth/v2/token"
    );
    assert_eq!(s.server.profile, ServerProfile::None);
    assert_eq!(s.server.request_timeout, Duration::from_secs(30));
    assert_eq!(s.server.max_body_bytes, 65_536);
    assert_eq!(s.data.dir, Path::new("data"));
    assert_eq!(s.store.kind, StoreKind::Sqlite);
    assert_eq!(s.sqlite_path(), Path::new("data").join("esignet.db"));
    assert_eq!(
        s.encryption_key_file(),
        Path::new("data").join("master.key")
    );
    assert!(s.keys.encryption_key.is_none());
    assert_eq!(s.keys.algorithm, SigningAlgorithm::Rs256);
    assert_eq!(s.keys.validity, Duration::from_secs(90 * 86_400));
    assert_eq!(s.keys.rotate_before, Duration::from_secs(14 * 86_400));
    assert_eq!(s.tokens.auth_code_lifetime, Duration::from_secs(300));
    assert_eq!(s.transaction.preauth_ttl, Duration::from_secs(300));
    assert_eq!(s.transaction.auth_txn_id_length, 10);
    assert_eq!(
        s.security.dpop_signing_algs,
        [
            SigningAlgorithm::Es256,
            SigningAlgorithm::Ps256,
            SigningAlgorithm::Rs256
        ]
    );
    assert!(
        !s.security.csrf_cookie_secure,
        "auto with an http public URL"
    );
    assert_eq!(s.oidc.acr_values_supported.len(), 6);
    assert!(s.oidc.acr_mapping.contains_acr("mosip:idp:acr:id-token"));
    assert!(!s.admin.is_enabled(), "the admin API is closed by default");
    assert!(s.demo.seed_client);
    assert_eq!(s.demo.client_id, "health-services-demo");
    assert_eq!(
        s.demo.private_key_file,
        Path::new("data").join("demo-client-key.json")
    );
    assert_eq!(s.authenticator.mock_otp, "111111");
    assert!(s.ui.configs.is_empty());
    assert_eq!(s.logging.format, LogFormat::Text);
    assert_eq!(s.logging.level, "info");
}

#[test]
fn file_values_override_defaults() {
    let file = ConfigFile::new(
        r#"
        version = 1
        [server]
        bind = "0.0.0.0:9000"
        public_url = "https://esignet.example/idp/"
        base_path = "/api"
        profile = "fapi2.0"
        [data]
        dir = "/var/lib/esignet"
        [keys]
        algorithm = "PS256"
        [tokens]
        access_token_lifetime_secs = 900
        [oidc]
        ui_locales_supported = ["en", "km"]
        [ui.configs]
        "sbi.env" = "Developer"
        "resend.otp.delay.secs" = 180
        "wallet.config" = { "wallet.name" = "Inji" }
        "#,
    );
    let s = load_file(&file, &[]).unwrap();
    assert_eq!(s.server.bind.port(), 9000);
    assert_eq!(
        s.server.public_url, "https://esignet.example/idp",
        "trailing slash stripped"
    );
    assert_eq!(s.issuer(), "https://esignet.example/idp");
    assert_eq!(
        s.endpoint_url("/oidc/userinfo"),
        "https://esignet.example/idp/api/oidc/userinfo"
    );
    assert_eq!(s.server.profile, ServerProfile::Fapi2);
    assert!(
        s.security.csrf_cookie_secure,
        "auto with an https public URL"
    );
    assert_eq!(s.sqlite_path(), Path::new("/var/lib/esignet/esignet.db"));
    assert_eq!(s.keys.algorithm, SigningAlgorithm::Ps256);
    assert_eq!(s.tokens.access_token_lifetime, Duration::from_secs(900));
    assert_eq!(
        s.tokens.id_token_lifetime,
        Duration::from_secs(3600),
        "untouched keys keep defaults"
    );
    assert_eq!(s.oidc.ui_locales_supported, ["en", "km"]);
    assert_eq!(s.ui.configs["sbi.env"], "Developer");
    assert_eq!(s.ui.configs["resend.otp.delay.secs"], 180);
    assert_eq!(s.ui.configs["wallet.config"]["wallet.name"], "Inji");
}

#[test]
fn environment_overrides_file_with_numbers_arrays_and_tables() {
    let file = ConfigFile::new(
        "[server]\nbind = \"0.0.0.0:9000\"\nissuer = \"https://file.example\"\n[tokens]\naccess_token_lifetime_secs = 900\n",
    );
    let s = load_file(
        &file,
        &[
            ("ESIGNET_SERVER__BIND", "0.0.0.0:8088"),
            ("ESIGNET_SERVER__ISSUER", ""),
            ("ESIGNET_TOKENS__ACCESS_TOKEN_LIFETIME_SECS", "600"),
            ("ESIGNET_OIDC__SCOPES", r#"["openid","profile"]"#),
            ("ESIGNET_OIDC__UI_LOCALES_SUPPORTED", "en, ar"),
            ("ESIGNET_DEMO__SEED_CLIENT", "false"),
            ("ESIGNET_AUTHENTICATOR__MOCK_OTP", "123456"),
            (
                "ESIGNET_UI__CONFIGS",
                r#"{"otp.length": 6, "sbi.env": "Developer"}"#,
            ),
            ("ESIGNET_VERSION", "1"),
            ("PATH", "/usr/bin"),
        ],
    )
    .unwrap();
    assert_eq!(s.server.bind.port(), 8088);
    assert_eq!(
        s.issuer(),
        "http://127.0.0.1:8088",
        "an empty variable unsets the file's issuer"
    );
    assert_eq!(s.tokens.access_token_lifetime, Duration::from_secs(600));
    assert_eq!(s.oidc.scopes, ["openid", "profile"]);
    assert_eq!(s.oidc.ui_locales_supported, ["en", "ar"]);
    assert!(!s.demo.seed_client);
    assert_eq!(
        s.authenticator.mock_otp, "123456",
        "digits stay a string for a string key"
    );
    assert_eq!(s.ui.configs["otp.length"], 6);
}

#[test]
fn unknown_toml_keys_are_rejected_by_name() {
    let file =
        ConfigFile::new("[server]\nbnd = \"0.0.0.0:1\"\n[tokenz]\nx = 1\n[ui.configs]\nfree = 1\n");
    let errors = expect_errors(load_file(&file, &[]));
    assert_eq!(keys_of(&errors), ["server.bnd", "tokenz"], "{errors}");
    assert!(
        errors.problems()[0].message.contains("unknown key"),
        "{errors}"
    );
    assert!(
        errors.problems()[0].message.contains("bind"),
        "lists the valid keys: {errors}"
    );
    assert!(
        errors.problems()[1].message.contains("unknown section"),
        "{errors}"
    );
}

#[test]
fn unknown_esignet_variables_are_reported() {
    let errors = expect_errors(load(
        None,
        env(&[
            ("ESIGNET_SERVER_BIND", "0.0.0.0:1"),
            ("ESIGNET_TOKENS__NOPE", "1"),
            ("ESIGNET_CONFIG", "esignet.toml"),
            ("ESIGNET_LOG", "debug"),
            ("HOME", "/home/operator"),
        ]),
    ));
    assert_eq!(
        keys_of(&errors),
        ["ESIGNET_SERVER_BIND", "ESIGNET_TOKENS__NOPE"],
        "{errors}"
    );
    assert!(
        errors.problems()[0]
            .message
            .contains("did you mean ESIGNET_SERVER__BIND"),
        "{errors}"
    );
}

#[test]
fn ill_typed_values_are_each_reported() {
    let file = ConfigFile::new(
        "logging = 5\n[tokens]\nid_token_lifetime_secs = \"long\"\naccess_token_lifetime_secs = -5\n\
         [oidc]\nscopes = [\"openid\", 3]\n[demo]\nseed_client = \"yes\"\n",
    );
    let errors = expect_errors(load_file(&file, &[("ESIGNET_CACHE__MAX_ENTRIES", "many")]));
    assert_eq!(
        keys_of(&errors),
        [
            "cache.max_entries",
            "tokens.id_token_lifetime_secs",
            "tokens.access_token_lifetime_secs",
            "oidc.scopes",
            "demo.seed_client",
            "logging",
        ],
        "{errors}"
    );
    let messages: Vec<&str> = errors
        .problems()
        .iter()
        .map(|p| p.message.as_str())
        .collect();
    assert_eq!(
        messages[0],
        "expected an integer (from ESIGNET_CACHE__MAX_ENTRIES)"
    );
    assert!(
        messages[2].contains("expected a non-negative integer"),
        "{errors}"
    );
    assert!(messages[3].starts_with("item 2: "), "{errors}");
    assert!(messages[5].contains("expected a table"), "{errors}");
}

#[test]
fn several_problems_are_reported_at_once() {
    let file = ConfigFile::new(
        "[server]\npublic_url = \"ftp://esignet.example\"\n[keys]\nvalidity_days = 30\nrotate_before_days = 30\nalgorithm = \"HS256\"\n",
    );
    let errors = expect_errors(load_file(&file, &[]));
    assert_eq!(
        keys_of(&errors),
        [
            "server.public_url",
            "keys.algorithm",
            "keys.rotate_before_days"
        ],
        "{errors}"
    );
    let text = errors.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("server.public_url: "), "{text}");
    assert!(
        lines[1].contains("\"HS256\" is not supported; must be one of \"RS256\""),
        "{text}"
    );
    assert!(
        lines[2].contains("must be less than keys.validity_days (30)"),
        "{text}"
    );
}

#[test]
fn range_and_shape_rules() {
    let file = ConfigFile::new(
        r#"
        version = 2
        [server]
        bind = "localhost"
        base_path = "v1/esignet/"
        issuer = "https://issuer.example?x=1"
        max_body_bytes = 10
        [store]
        kind = "postgres"
        [tokens]
        auth_code_lifetime_secs = 0
        [transaction]
        auth_txn_id_length = 65
        [security]
        dpop_signing_algs = []
        client_assertion_signing_algs = ["RS256", "RS256"]
        csrf_cookie_secure = "sometimes"
        [oidc]
        scopes = ["profile"]
        claims_in_verified_claims_supported = ["name", "shoe_size"]
        acr_values_supported = ["mosip:idp:acr:nope"]
        [authenticator]
        mock_otp = "12345"
        [demo]
        redirect_uris = []
        [logging]
        format = "xml"
        "#,
    );
    let errors = expect_errors(load_file(&file, &[]));
    let expected = [
        "version",
        "server.bind",
        "server.base_path",
        "server.issuer",
        "server.max_body_bytes",
        "store.postgres_url",
        "tokens.auth_code_lifetime_secs",
        "transaction.auth_txn_id_length",
        "security.csrf_cookie_secure",
        "security.dpop_signing_algs",
        "security.client_assertion_signing_algs",
        "oidc.scopes",
        "oidc.claims_in_verified_claims_supported",
        "oidc.acr_values_supported",
        "authenticator.mock_otp",
        "demo.redirect_uris",
        "logging.format",
    ];
    assert_eq!(keys_of(&errors), expected, "{errors}");
    let store = &errors.problems()[5];
    assert!(
        store
            .message
            .contains("required when store.kind = \"postgres\""),
        "{errors}"
    );
}

#[test]
fn missing_or_malformed_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.toml");
    let errors = expect_errors(load(Some(&missing), Vec::new()));
    assert_eq!(keys_of(&errors), ["config"]);
    assert!(
        errors.problems()[0].message.contains("does not exist"),
        "{errors}"
    );

    let file = ConfigFile::new("[server\nbind = 1");
    let errors = expect_errors(load_file(&file, &[("ESIGNET_NOPE", "1")]));
    assert_eq!(keys_of(&errors), ["ESIGNET_NOPE", "config"], "{errors}");
    assert!(
        errors.problems()[1].message.contains("not valid TOML"),
        "{errors}"
    );
}

const KEY_B64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const ADMIN_TOKEN: &str = "s3cr3t-admin-token-0123456789abcdef";

#[test]
fn secrets_are_redacted_in_debug_output() {
    let s = load(
        None,
        env(&[
            ("ESIGNET_KEYS__ENCRYPTION_KEY", KEY_B64),
            ("ESIGNET_ADMIN__STATIC_TOKEN", ADMIN_TOKEN),
        ]),
    )
    .unwrap();
    let key = s.keys.encryption_key.as_ref().unwrap();
    assert_eq!(key.expose()[31], 31);
    assert_eq!(s.admin.static_token.as_ref().unwrap().expose(), ADMIN_TOKEN);
    assert!(s.admin.is_enabled());
    let debug = format!("{s:?}");
    assert!(
        !debug.contains(ADMIN_TOKEN) && !debug.contains("s3cr3t"),
        "{debug}"
    );
    assert!(!debug.contains("[0, 1, 2, 3"), "key bytes leaked: {debug}");
    assert!(debug.contains("<redacted>"));
}

#[test]
fn secret_values_never_appear_in_problems() {
    let short_key = "c2hvcnQta2V5LXNlY3JldA=="; // "short-key-secret"
    let errors = expect_errors(load(
        None,
        env(&[
            ("ESIGNET_KEYS__ENCRYPTION_KEY", short_key),
            ("ESIGNET_KEYS__ENCRYPTION_KEY_FILE", "data/master.key"),
            ("ESIGNET_ADMIN__STATIC_TOKEN", "tooshort-secret"),
        ]),
    ));
    assert_eq!(
        keys_of(&errors),
        [
            "keys.encryption_key",
            "keys.encryption_key",
            "admin.static_token"
        ],
        "{errors}"
    );
    let text = errors.to_string();
    assert!(text.contains("not both"), "{text}");
    assert!(text.contains("decodes to 16 bytes"), "{text}");
    assert!(text.contains("at least 32 characters, got 15"), "{text}");
    assert!(
        !text.contains(short_key) && !text.contains("tooshort-secret"),
        "{text}"
    );
    let not_base64 = errors_for(&[("ESIGNET_KEYS__ENCRYPTION_KEY", "%%%secret%%%")]);
    assert!(
        not_base64.contains("not valid base64") && !not_base64.contains("secret%"),
        "{not_base64}"
    );
}

fn errors_for(vars: &[(&str, &str)]) -> String {
    expect_errors(load(None, env(vars))).to_string()
}

#[test]
fn admin_authentication_rules() {
    let file = ConfigFile::new("");
    let token_file = file.sibling("token", &format!("  {ADMIN_TOKEN}\n"));
    let s = load_file(&file, &[("ESIGNET_ADMIN__STATIC_TOKEN_FILE", &token_file)]).unwrap();
    assert_eq!(
        s.admin.static_token.as_ref().unwrap().expose(),
        ADMIN_TOKEN,
        "whitespace trimmed"
    );

    let s = load(
        None,
        env(&[
            ("ESIGNET_ADMIN__IAM_JWKS_URL", "https://iam.example/certs"),
            ("ESIGNET_ADMIN__IAM_ISSUER", "https://iam.example"),
            ("ESIGNET_ADMIN__IAM_AUDIENCE", "esignet"),
        ]),
    )
    .unwrap();
    let iam = s.admin.iam.as_ref().unwrap();
    assert_eq!(iam.jwks_url.as_str(), "https://iam.example/certs");
    assert_eq!(iam.audience.as_deref(), Some("esignet"));
    assert!(s.admin.is_enabled());

    let text = errors_for(&[
        ("ESIGNET_ADMIN__IAM_JWKS_URL", "https://iam.example/certs"),
        ("ESIGNET_ADMIN__STATIC_TOKEN_FILE", "no/such/token"),
    ]);
    assert!(text.contains("admin.iam_issuer: is required"), "{text}");
    assert!(
        text.contains("admin.static_token_file: cannot read no/such/token"),
        "{text}"
    );

    let text = errors_for(&[("ESIGNET_ADMIN__IAM_ISSUER", "https://iam.example")]);
    assert_eq!(
        text,
        "admin.iam_issuer: has no effect without admin.iam_jwks_url"
    );
}

#[test]
fn acr_mapping_file_loads_in_file_order() {
    let file = ConfigFile::new("");
    let mapping = file.sibling(
        "mapping.json",
        r#"{"amr":{"OTP":[{"type":"OTP"}],"Bio":[{"type":"BIO","count":2,"subTypes":["Iris"]}]},
            "acr_amr":{"urn:z:otp":["OTP"],"urn:a:bio":["Bio","OTP"]}}"#,
    );
    let s = load_file(
        &file,
        &[
            ("ESIGNET_OIDC__ACR_AMR_MAPPING_FILE", &mapping),
            ("ESIGNET_OIDC__ACR_VALUES_SUPPORTED", "urn:a:bio,urn:z:otp"),
        ],
    )
    .unwrap();
    let acrs: Vec<&str> = s
        .oidc
        .acr_mapping
        .acr_amr
        .iter()
        .map(|(a, _)| a.as_str())
        .collect();
    assert_eq!(acrs, ["urn:z:otp", "urn:a:bio"]);
    let lists = s.oidc.acr_mapping.auth_factor_lists("urn:a:bio").unwrap();
    assert_eq!(lists.len(), 2);
    assert_eq!(lists[0][0].count, 2);
    assert_eq!(
        lists[0][0].sub_types.as_deref(),
        Some(&["Iris".to_owned()][..])
    );
}

#[test]
fn bad_acr_mapping_is_reported() {
    let file = ConfigFile::new("");
    let mapping = file.sibling(
        "mapping.json",
        r#"{"amr":{"X":[{"type":"RETINA"}]},"acr_amr":{"urn:x":["X","Y"]}}"#,
    );
    let errors = expect_errors(load_file(
        &file,
        &[("ESIGNET_OIDC__ACR_AMR_MAPPING_FILE", &mapping)],
    ));
    assert_eq!(
        keys_of(&errors),
        ["oidc.acr_amr_mapping_file", "oidc.acr_amr_mapping_file"],
        "{errors}"
    );
    let text = errors.to_string();
    assert!(text.contains("unknown factor type \"RETINA\""), "{text}");
    assert!(text.contains("names unknown amr \"Y\""), "{text}");

    let errors = expect_errors(load(
        None,
        env(&[("ESIGNET_OIDC__ACR_AMR_MAPPING_FILE", "no/such.json")]),
    ));
    assert_eq!(keys_of(&errors), ["oidc.acr_amr_mapping_file"]);
    assert!(
        errors.problems()[0]
            .message
            .starts_with("cannot read no/such.json"),
        "{errors}"
    );

    // A valid mapping that lacks an advertised ACR.
    let mapping = file.sibling(
        "small.json",
        r#"{"amr":{"OTP":[{"type":"OTP"}]},"acr_amr":{"urn:otp":["OTP"]}}"#,
    );
    let text = errors_for(&[("ESIGNET_OIDC__ACR_AMR_MAPPING_FILE", &mapping)]);
    assert_eq!(
        text.lines().count(),
        6,
        "each of the six default ACRs is missing: {text}"
    );
    assert!(
        text.contains("\"mosip:idp:acr:knowledge\" is not in the ACR/AMR mapping"),
        "{text}"
    );
}
