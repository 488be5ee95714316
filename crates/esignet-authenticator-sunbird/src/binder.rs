//! [`NoKeyBinder`]: a registry binds no wallet keys.

use esignet_spi::{
    KeyBinder, KeyBindingRequest, KeyBindingResult, PluginError, SendOtpResult, SigningCertificate,
};

/// The [`KeyBinder`] of an identity system that offers no wallet key binding (a Sunbird RC
/// registry): every binding call is `not_implemented`, and no challenge format is supported, so
/// the wallet flows refuse cleanly instead of reaching the registry.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoKeyBinder;

#[async_trait::async_trait]
impl KeyBinder for NoKeyBinder {
    async fn send_binding_otp(
        &self,
        _individual_id: &str,
        _otp_channels: &[String],
        _request_headers: &[(String, String)],
    ) -> Result<SendOtpResult, PluginError> {
        Err(PluginError::new(crate::codes::NOT_IMPLEMENTED))
    }

    async fn do_key_binding(
        &self,
        _request: KeyBindingRequest,
    ) -> Result<KeyBindingResult, PluginError> {
        Err(PluginError::new(crate::codes::NOT_IMPLEMENTED))
    }

    fn supported_challenge_formats(&self, _auth_factor_type: &str) -> Vec<String> {
        Vec::new()
    }

    async fn binding_ca_certificates(&self) -> Result<Vec<SigningCertificate>, PluginError> {
        Ok(Vec::new())
    }
}
