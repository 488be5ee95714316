//! Wiring of `authenticator.kind = "ida"`: the MOSIP IDA authenticator from `[ida]`, and IDA's
//! identity key binding for wallets when binding CA certificates are configured (without them
//! the wallet flows refuse with `not_implemented`: wallets could not verify a certificate).

use std::sync::Arc;

use anyhow::Context;
use esignet_authenticator_ida::{
    IdaAuthenticator, IdaBindingConfig, IdaCertificateSource, IdaConfig, IdaCredentials,
    IdaKeyBinder,
};
use esignet_authenticator_sunbird::NoKeyBinder;
use esignet_config::Settings;
use esignet_spi::{Authenticator, Clock, KeyBinder};

/// The IDA authenticator and its key binder (IDA's, or a refusing one without binding CAs).
pub fn ida_authenticator(
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<(Arc<dyn Authenticator>, Arc<dyn KeyBinder>)> {
    let section = &settings.ida;
    // The configuration has read and checked the files; this parses them into keys.
    let credentials = IdaCredentials::from_pem(
        section.partner_private_key_pem.expose().as_bytes(),
        section.partner_certificate_pem.as_bytes(),
        section.ida_partner_certificate_pem.as_bytes(),
        section.ida_signing_certificate_pem.as_bytes(),
    )
    .context("cannot read the IDA keys and certificates")?;
    let config = IdaConfig {
        auth_url: section.auth_url.clone(),
        otp_url: section.otp_url.clone(),
        misp_license_key: section.misp_license_key.expose().to_owned(),
        partner_id: section.partner_id.clone(),
        api_key: section.api_key.as_ref().map(|key| key.expose().to_owned()),
        credentials,
        otp_channels: section.otp_channels.clone(),
        domain_uri: section
            .domain_uri
            .clone()
            .unwrap_or_else(|| settings.issuer().to_owned()),
        env: section.env.clone(),
        timeout: section.timeout,
        connect_timeout: section.connect_timeout,
    };
    let binder: Arc<dyn KeyBinder> = if section.binding_ca_certificate_pems.is_empty() {
        Arc::new(NoKeyBinder)
    } else {
        let binding = IdaBindingConfig::from_pem(
            section.binding_url.clone(),
            &section.binding_ca_certificate_pems,
        )
        .context("cannot read the IDA binding CA certificates")?;
        Arc::new(
            IdaKeyBinder::new(config.clone(), binding, clock.clone())
                .context("cannot set up the IDA key binder")?,
        )
    };
    let mut authenticator =
        IdaAuthenticator::new(config, clock).context("cannot set up the IDA authenticator")?;
    if let Some(source) = &section.certificate_source {
        authenticator = authenticator
            .with_certificate_source(IdaCertificateSource {
                auth_token_url: source.auth_token_url.clone(),
                certificates_url: source.certificates_url.clone(),
                client_id: source.client_id.clone(),
                secret_key: source.secret_key.expose().to_owned(),
                app_id: source.app_id.clone(),
                application_id: "IDA".to_owned(),
                reference_id: "SIGN".to_owned(),
            })
            .context("cannot set up the IDA certificate source")?;
    }
    Ok((Arc::new(authenticator), binder))
}
