//! The `[ida]` section: defaults without the kind, and every problem with it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use esignet_authenticator_ida::testing::{certificate_pem, private_key_pem, self_signed};
use esignet_config::{AuthenticatorKind, ConfigErrors, Settings, load};

struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    fn write(&self, name: &str, body: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, body).expect("write");
        path.to_str().expect("UTF-8 path").to_owned()
    }

    fn load(&self, config: &str) -> Result<Settings, ConfigErrors> {
        let path = self.dir.path().join("config.toml");
        std::fs::write(&path, config).expect("write");
        load(Some(&path), Vec::new())
    }

    /// A complete `[ida]` section with valid files; `key` overrides the private key file.
    fn section(&self, key: Option<&str>) -> String {
        let (partner_key, partner) = self_signed("partner");
        let (_, ida_partner) = self_signed("IDA-PARTNER");
        let (_, ida_sign) = self_signed("IDA SIGN");
        let key_file = key.map_or_else(
            || self.write("partner-key.pem", &private_key_pem(&partner_key)),
            str::to_owned,
        );
        format!(
            "[authenticator]\nkind = \"ida\"\n[ida]\nmisp_license_key = \"license\"\n\
             partner_private_key_file = \"{key_file}\"\n\
             partner_certificate_file = \"{}\"\n\
             ida_partner_certificate_file = \"{}\"\n\
             ida_signing_certificate_file = \"{}\"\n",
            self.write("partner.pem", &certificate_pem(&partner)),
            self.write("ida-partner.pem", &certificate_pem(&ida_partner)),
            self.write("ida-sign.pem", &certificate_pem(&ida_sign)),
        )
    }
}

fn problem_keys(result: Result<Settings, ConfigErrors>) -> Vec<(String, String)> {
    match result {
        Ok(_) => panic!("expected problems"),
        Err(errors) => errors
            .problems()
            .iter()
            .map(|problem| (problem.key.clone(), problem.message.clone()))
            .collect(),
    }
}

#[test]
fn other_kinds_never_read_the_files() {
    let settings = load(None, Vec::new()).unwrap();
    assert_ne!(settings.authenticator.kind, AuthenticatorKind::Ida);
    assert_eq!(
        settings.ida.auth_url,
        "http://ida-auth.ida/idauthentication/v1"
    );
    assert!(settings.ida.partner_certificate_pem.is_empty());
}

#[test]
fn a_complete_section_loads_its_pem_files() {
    let files = Files::new();
    let settings = files.load(&files.section(None)).unwrap();
    assert_eq!(settings.authenticator.kind, AuthenticatorKind::Ida);
    assert_eq!(settings.ida.misp_license_key.expose(), "license");
    assert!(
        settings
            .ida
            .partner_private_key_pem
            .expose()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    assert!(
        settings
            .ida
            .ida_signing_certificate_pem
            .contains("CERTIFICATE")
    );
    assert_eq!(settings.ida.otp_channels, ["email", "phone"]);
    assert!(settings.ida.partner_id.is_none() && settings.ida.api_key.is_none());
    // The license key never shows in Debug output.
    assert!(!format!("{:?}", settings.ida).contains("\"license\""));
}

#[test]
fn missing_unreadable_or_mismatched_files_and_bad_urls_are_problems() {
    let files = Files::new();
    let (other_key, _) = self_signed("other");
    let other = files.write("other-key.pem", &private_key_pem(&other_key));
    let problems = problem_keys(files.load(&files.section(Some(&other))));
    assert!(
        problems
            .iter()
            .any(|(key, message)| key == "ida.partner_private_key_file"
                && message.contains("does not belong")),
        "{problems:?}"
    );

    let missing = files.dir.path().join("absent.pem");
    let problems = problem_keys(files.load(&files.section(Some(missing.to_str().unwrap()))));
    assert!(
        problems
            .iter()
            .any(|(key, message)| key == "ida.partner_private_key_file"
                && message.contains("cannot read")),
        "{problems:?}"
    );

    let not_pem = files.write("not.pem", "hello");
    let problems = problem_keys(files.load(&files.section(Some(&not_pem))));
    assert!(
        problems
            .iter()
            .any(|(key, _)| key == "ida.partner_private_key_file")
    );

    let bare = "[authenticator]\nkind = \"ida\"\n[ida]\nauth_url = \"ftp://ida\"\n";
    let problems: Vec<String> = problem_keys(files.load(bare))
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    for key in [
        "ida.auth_url",
        "ida.misp_license_key",
        "ida.partner_private_key_file",
        "ida.partner_certificate_file",
        "ida.ida_partner_certificate_file",
        "ida.ida_signing_certificate_file",
    ] {
        assert!(
            problems.iter().any(|found| found == key),
            "{key}: {problems:?}"
        );
    }
}

#[test]
fn key_binding_settings_default_to_off_and_read_the_ca_chains() {
    let files = Files::new();
    let settings = files.load(&files.section(None)).unwrap();
    assert_eq!(settings.ida.binding_url, settings.ida.auth_url);
    assert!(settings.ida.binding_ca_certificate_pems.is_empty());

    let (_, ca) = self_signed("IDA KEY BINDING CA");
    let (_, root) = self_signed("root");
    let chain = files.write(
        "binding-ca.pem",
        &format!("{}{}", certificate_pem(&ca), certificate_pem(&root)),
    );
    let previous = files.write("old-ca.pem", &certificate_pem(&root));
    let config = format!(
        "{}binding_url = \"https://ida-binding.example/idauthentication/v1/\"\n\
         binding_ca_certificate_files = [\"{chain}\", \"{previous}\"]\n",
        files.section(None)
    );
    let settings = files.load(&config).unwrap();
    assert_eq!(
        settings.ida.binding_url,
        "https://ida-binding.example/idauthentication/v1"
    );
    assert_eq!(settings.ida.binding_ca_certificate_pems.len(), 2);
    assert_eq!(
        settings.ida.binding_ca_certificate_pems[0]
            .matches("BEGIN CERTIFICATE")
            .count(),
        2
    );
}

#[test]
fn bad_binding_urls_and_ca_files_are_problems() {
    let files = Files::new();
    let not_pem = files.write("not.pem", "hello");
    let missing = files.dir.path().join("absent.pem");
    let config = format!(
        "{}binding_url = \"ftp://ida\"\n\
         binding_ca_certificate_files = [\"{not_pem}\", \"{}\", \"\"]\n",
        files.section(None),
        missing.to_str().unwrap()
    );
    let problems = problem_keys(files.load(&config));
    let about = |key: &str, text: &str| {
        problems
            .iter()
            .any(|(found, message)| found == key && message.contains(text))
    };
    assert!(about("ida.binding_url", "http or https"), "{problems:?}");
    for text in [
        "is not a PEM certificate chain",
        "cannot read",
        "must name a PEM file",
    ] {
        assert!(
            about("ida.binding_ca_certificate_files", text),
            "{text}: {problems:?}"
        );
    }
}

#[test]
fn the_key_manager_certificate_source_needs_its_credentials() {
    let files = Files::new();
    let settings = files.load(&files.section(None)).unwrap();
    assert!(settings.ida.certificate_source.is_none());

    let config = format!(
        "{}certificates_url = \"http://keymanager.local/v1/keymanager/getAllCertificates\"\n\
         auth_token_url = \"http://auth.local/v1/authmanager/authenticate/clientidsecretkey\"\n\
         auth_client_id = \"ida-client\"\n\
         auth_secret_key = \"kernel-secret\"\n",
        files.section(None)
    );
    let settings = files.load(&config).unwrap();
    let source = settings.ida.certificate_source.clone().unwrap();
    assert_eq!(source.client_id, "ida-client");
    assert_eq!(source.secret_key.expose(), "kernel-secret");
    assert_eq!(source.app_id, "ida");
    assert!(!format!("{:?}", settings.ida).contains("kernel-secret"));

    let alone = format!(
        "{}certificates_url = \"http://keymanager.local/v1/keymanager/getAllCertificates\"\n",
        files.section(None)
    );
    let problems = problem_keys(files.load(&alone));
    for key in [
        "ida.auth_token_url",
        "ida.auth_client_id",
        "ida.auth_secret_key",
    ] {
        assert!(
            problems
                .iter()
                .any(|(found, message)| found == key && message.contains("ida.certificates_url")),
            "{key}: {problems:?}"
        );
    }
    let bad = format!(
        "{}certificates_url = \"keymanager\"\nauth_token_url = \"ftp://auth\"\n",
        files.section(None)
    );
    let problems = problem_keys(files.load(&bad));
    assert!(
        problems
            .iter()
            .any(|(key, _)| key == "ida.certificates_url")
    );
    assert!(problems.iter().any(|(key, _)| key == "ida.auth_token_url"));
}
