//! The KYC signing certificates read from the key manager of the IDA-compatible test server
//! over loopback HTTP: the kernel auth token, the certificate list, and every failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use esignet_authenticator_ida::envelope::certificate_thumbprint;
use esignet_authenticator_ida::test_server::{
    TEST_KERNEL_APP_ID, TEST_KERNEL_CLIENT_ID, TEST_KERNEL_SECRET_KEY, TestIda, TestIdaSettings,
};
use esignet_authenticator_ida::testing::self_signed;
use esignet_authenticator_ida::{
    IdaAuthenticator, IdaCertificateSource, IdaConfig, IdaCredentials,
};
use esignet_spi::Authenticator;
use openssl::x509::X509;

struct Setup {
    server: TestIda,
    config: IdaConfig,
    ida_signing: X509,
}

async fn setup() -> Setup {
    let partner = self_signed("eSignet partner");
    let ida_partner = self_signed("IDA-PARTNER");
    let ida_signing = self_signed("IDA SIGN");
    let credentials = IdaCredentials {
        partner_key: partner.0.clone(),
        partner_certificate: partner.1.clone(),
        ida_partner_certificate: ida_partner.1.clone(),
        // The configured certificate differs from the key manager's, to tell them apart.
        ida_signing_certificate: self_signed("configured IDA SIGN").1,
    };
    let signing = ida_signing.1.clone();
    let server = TestIda::start(TestIdaSettings {
        license_key: "license".to_owned(),
        partner_id: "partner".to_owned(),
        api_keys: vec!["client".to_owned()],
        partner_certificate: partner.1,
        ida_partner,
        ida_signing,
        binding_ca: self_signed("IDA KEY BINDING CA"),
    })
    .await;
    let config = IdaConfig {
        auth_url: server.base_url(),
        otp_url: server.base_url(),
        misp_license_key: "license".to_owned(),
        partner_id: None,
        api_key: None,
        credentials,
        otp_channels: vec!["email".to_owned()],
        domain_uri: "https://esignet.example".to_owned(),
        env: "Staging".to_owned(),
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(2),
    };
    Setup {
        server,
        config,
        ida_signing: signing,
    }
}

impl Setup {
    fn source(&self) -> IdaCertificateSource {
        IdaCertificateSource {
            auth_token_url: self.server.auth_token_url(),
            certificates_url: self.server.certificates_url(),
            client_id: TEST_KERNEL_CLIENT_ID.to_owned(),
            secret_key: TEST_KERNEL_SECRET_KEY.to_owned(),
            app_id: TEST_KERNEL_APP_ID.to_owned(),
            application_id: "IDA".to_owned(),
            reference_id: "SIGN".to_owned(),
        }
    }

    fn authenticator(&self, source: IdaCertificateSource) -> IdaAuthenticator {
        IdaAuthenticator::new(self.config.clone(), Arc::new(esignet_spi::SystemClock))
            .unwrap()
            .with_certificate_source(source)
            .unwrap()
    }
}

#[tokio::test]
async fn certificates_come_from_the_key_manager_with_a_kernel_token() {
    let setup = setup().await;
    let certificates = setup
        .authenticator(setup.source())
        .kyc_signing_certificates()
        .await
        .unwrap();
    assert_eq!(certificates.len(), 1);
    assert_eq!(
        certificates[0].key_id,
        certificate_thumbprint(&setup.ida_signing).unwrap()
    );
    let published = X509::from_pem(certificates[0].certificate_pem.as_bytes()).unwrap();
    assert_eq!(
        published.to_der().unwrap(),
        setup.ida_signing.to_der().unwrap()
    );
    // Without a source, the configured certificate is published.
    let configured =
        IdaAuthenticator::new(setup.config.clone(), Arc::new(esignet_spi::SystemClock))
            .unwrap()
            .kyc_signing_certificates()
            .await
            .unwrap();
    assert_ne!(configured[0].key_id, certificates[0].key_id);
}

#[tokio::test]
async fn refused_tokens_unknown_references_and_unreachable_managers_fail_cleanly() {
    let setup = setup().await;
    let failed = "kyc_signing_certificate_failed";
    let cases: Vec<(IdaCertificateSource, &str)> = vec![
        (
            IdaCertificateSource {
                secret_key: "wrong".to_owned(),
                ..setup.source()
            },
            failed,
        ),
        (
            IdaCertificateSource {
                app_id: "other".to_owned(),
                ..setup.source()
            },
            failed,
        ),
        // The key manager's own code passes through.
        (
            IdaCertificateSource {
                reference_id: "OTHER".to_owned(),
                ..setup.source()
            },
            "KER-KMS-002",
        ),
        (
            IdaCertificateSource {
                certificates_url: "http://127.0.0.1:9/v1/keymanager/getAllCertificates".to_owned(),
                ..setup.source()
            },
            failed,
        ),
        (
            IdaCertificateSource {
                auth_token_url: "http://127.0.0.1:9/v1/authmanager".to_owned(),
                ..setup.source()
            },
            failed,
        ),
        // Not the key manager: a route that answers GET with an error status.
        (
            IdaCertificateSource {
                certificates_url: format!("{}/otp/x/y/z", setup.server.base_url()),
                ..setup.source()
            },
            failed,
        ),
    ];
    for (source, code) in cases {
        let error = setup
            .authenticator(source.clone())
            .kyc_signing_certificates()
            .await
            .unwrap_err();
        assert_eq!(error.code, code, "{source:?}");
    }
}

#[test]
fn sources_are_validated() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let setup = runtime.block_on(setup());
    let new = |source: IdaCertificateSource| {
        IdaAuthenticator::new(setup.config.clone(), Arc::new(esignet_spi::SystemClock))
            .unwrap()
            .with_certificate_source(source)
            .map(|_| ())
    };
    assert!(new(setup.source()).is_ok());
    for source in [
        IdaCertificateSource {
            auth_token_url: "not a url".to_owned(),
            ..setup.source()
        },
        IdaCertificateSource {
            certificates_url: "ftp://keymanager".to_owned(),
            ..setup.source()
        },
        IdaCertificateSource {
            client_id: " ".to_owned(),
            ..setup.source()
        },
        IdaCertificateSource {
            secret_key: String::new(),
            ..setup.source()
        },
    ] {
        assert!(new(source.clone()).is_err(), "{source:?}");
    }
    // The secret key never shows in Debug output.
    assert!(!format!("{:?}", setup.source()).contains(TEST_KERNEL_SECRET_KEY));
}
