//! [`SunbirdConfig`]: where the registry is and how its entities map to KBI fields and claims.

use std::time::Duration;

use url::Url;

/// One KBI form field and the registry attribute it is searched on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KbiField {
    /// The field id in the login form (a member of the decoded challenge).
    pub form_field: String,
    /// The registry attribute filtered with `eq`.
    pub attribute: String,
}

/// How the partner-specific user token (the `sub`) is derived from the entity id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PsutDerivation {
    /// The entity id itself, as eSignet's sunbird-rc plugin does: the same subject for every
    /// relying party.
    #[default]
    EntityId,
    /// base64url(SHA3-256(entity id + relying party id)): a subject per relying party.
    Pairwise,
}

/// Settings of [`crate::SunbirdAuthenticator`].
#[derive(Clone, PartialEq, Eq)]
pub struct SunbirdConfig {
    /// The registry's search endpoint, `…/api/v1/<Entity>/search`.
    pub search_url: String,
    /// The registry's entity endpoint, `…/api/v1/<Entity>`; the entity id is appended as a path
    /// segment.
    pub entity_url: String,
    /// The KBI fields, each searched with `eq`. Must include [`SunbirdConfig::individual_id_field`].
    pub kbi_fields: Vec<KbiField>,
    /// The form field holding the individual id (its filter is the request's individual id).
    pub individual_id_field: String,
    /// The entity attribute holding its id (`osid`).
    pub entity_id_field: String,
    /// How the `sub` is derived.
    pub psut: PsutDerivation,
    /// OIDC claim → entity path (a JSON pointer such as `/address/city`, or an attribute name).
    pub claims: Vec<(String, String)>,
    /// Headers sent with every registry call (for example `Authorization`); values are secrets,
    /// never logged.
    pub headers: Vec<(String, String)>,
    /// The longest one registry call may take, connection included.
    pub timeout: Duration,
    /// The longest establishing a connection may take.
    pub connect_timeout: Duration,
    /// How long a KYC token stays usable.
    pub kyc_token_ttl: Duration,
    /// The `iss` of the userinfo JWS.
    pub issuer: String,
    /// ISO 639-3 language of multi-language values when no requested locale matches.
    pub default_language: String,
}

impl std::fmt::Debug for SunbirdConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Header values are secrets (API keys, bearer tokens): only their names are shown.
        let header_names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        formatter
            .debug_struct("SunbirdConfig")
            .field("search_url", &self.search_url)
            .field("entity_url", &self.entity_url)
            .field("kbi_fields", &self.kbi_fields)
            .field("individual_id_field", &self.individual_id_field)
            .field("entity_id_field", &self.entity_id_field)
            .field("psut", &self.psut)
            .field("claims", &self.claims)
            .field("headers", &header_names)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Why a [`SunbirdConfig`] is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid Sunbird RC settings: {0}")]
pub struct SunbirdConfigError(pub String);

impl SunbirdConfig {
    /// The checked search URL, entity URL and headers.
    pub(crate) fn checked(
        &self,
    ) -> Result<(Url, Url, reqwest::header::HeaderMap), SunbirdConfigError> {
        let url = |name: &str, text: &str| {
            esignet_authenticator_http::transport::parse_base_url(text)
                .map_err(|error| SunbirdConfigError(format!("{name}: {error}")))
        };
        let search = url("search_url", &self.search_url)?;
        let entity = url("entity_url", &self.entity_url)?;
        if self.kbi_fields.is_empty() {
            return Err(SunbirdConfigError("no KBI field is configured".to_owned()));
        }
        if !self
            .kbi_fields
            .iter()
            .any(|field| field.form_field == self.individual_id_field)
        {
            return Err(SunbirdConfigError(format!(
                "the individual-id field `{}` is not one of the KBI fields",
                self.individual_id_field
            )));
        }
        if self.entity_id_field.trim().is_empty() {
            return Err(SunbirdConfigError("entity_id_field is empty".to_owned()));
        }
        for (claim, path) in &self.claims {
            if claim.is_empty() || path.is_empty() {
                return Err(SunbirdConfigError(format!(
                    "claim mapping `{claim}` = `{path}` has an empty side"
                )));
            }
        }
        if self.kyc_token_ttl.is_zero() {
            return Err(SunbirdConfigError(
                "kyc_token_ttl must be positive".to_owned(),
            ));
        }
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in &self.headers {
            let header_name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| SunbirdConfigError(format!("`{name}` is not a header name")))?;
            let mut header_value = reqwest::header::HeaderValue::from_str(value).map_err(|_| {
                SunbirdConfigError(format!("header `{name}` has an unusable value"))
            })?;
            header_value.set_sensitive(true);
            headers.insert(header_name, header_value);
        }
        Ok((search, entity, headers))
    }
}
