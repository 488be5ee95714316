//! The mock devices: their identities, the device key, and the signed documents describing
//! them (digital id, discovery descriptor, device info).

use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine as _;
use esignet_jose::{Algorithm, PrivateKey};
use esignet_spi::Clock;
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::x509::{X509, X509NameBuilder};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::{MockSbiConfig, MockSbiError};

/// The SBI specification version the devices implement (SBI 2.0 devices report the 0.9.5
/// specification, the one the eSignet UI and MOSIP's compliance toolkit accept).
pub const SPEC_VERSION: &str = "0.9.5";
/// Version of this device service and of the devices' firmware.
const SERVICE_VERSION: &str = "1.0.0";
const MAKE: &str = "eSignet-rs";
const PROVIDER: &str = "eSignet-rs mock devices";
const PROVIDER_ID: &str = "esignet-rs.mock";
/// Validity of the device certificate.
const CERTIFICATE_DAYS: i64 = 365;

/// A biometric modality; the spelling is the SBI `type` (`Face`, `Finger`, `Iris`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Modality {
    /// A face camera.
    Face,
    /// A fingerprint slap scanner.
    Finger,
    /// A double iris camera.
    Iris,
}

impl Modality {
    /// The SBI `type` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Face => "Face",
            Self::Finger => "Finger",
            Self::Iris => "Iris",
        }
    }

    /// The modality for an SBI `type`, case-insensitively.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Face, Self::Finger, Self::Iris]
            .into_iter()
            .find(|modality| modality.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// The SBI `deviceSubType`.
    fn device_sub_type(self) -> &'static str {
        match self {
            Self::Face => "Full face",
            Self::Finger => "Slap",
            Self::Iris => "Double",
        }
    }

    /// The sensors of the device (`deviceSubId`): the face camera is one unknown sensor; the
    /// slap and the double iris camera have left, right and both.
    fn device_sub_ids(self) -> &'static [&'static str] {
        match self {
            Self::Face => &["0"],
            Self::Finger | Self::Iris => &["1", "2", "3"],
        }
    }

    /// Most biometrics of this modality one capture may ask for.
    pub(crate) fn max_count(self) -> usize {
        match self {
            Self::Face => 1,
            Self::Finger => 10,
            Self::Iris => 2,
        }
    }

    /// The `bioSubType` of an entry the request did not name.
    pub(crate) fn default_sub_type(self) -> &'static str {
        match self {
            Self::Face => "",
            Self::Finger | Self::Iris => "UNKNOWN",
        }
    }

    /// A stable number per modality, for ids and serial numbers.
    fn number(self) -> u8 {
        match self {
            Self::Face => 1,
            Self::Finger => 2,
            Self::Iris => 3,
        }
    }
}

/// One device of the service.
#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub(crate) modality: Modality,
    pub(crate) device_id: String,
    pub(crate) device_code: String,
    serial_no: String,
}

/// The device service's state: its devices and the key signing everything they emit.
pub struct MockSbi {
    pub(crate) config: MockSbiConfig,
    pub(crate) devices: Vec<Device>,
    pub(crate) clock: Arc<dyn Clock>,
    key: PrivateKey,
    /// Standard base64 of the device certificate (DER), the `x5c` header entry.
    certificate: String,
    /// Upper-case hex SHA-256 of the certificate: the captures' `thumbprint`.
    pub(crate) thumbprint: String,
    /// `http://<address>/`: the devices' `callbackId`.
    callback_id: String,
}

impl std::fmt::Debug for MockSbi {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("MockSbi")
            .field("config", &self.config)
            .field("callback_id", &self.callback_id)
            .finish_non_exhaustive()
    }
}

impl MockSbi {
    /// The devices of `config`, reachable at `address`, with a fresh device key.
    ///
    /// # Errors
    /// [`MockSbiError::Config`] for no modality, a repeated one or a quality score above 100;
    /// [`MockSbiError::Key`] if the key or certificate cannot be made.
    pub fn new(
        config: MockSbiConfig,
        clock: Arc<dyn Clock>,
        address: SocketAddr,
    ) -> Result<Self, MockSbiError> {
        if config.modalities.is_empty() {
            return Err(MockSbiError::Config("at least one modality is needed"));
        }
        for (index, modality) in config.modalities.iter().enumerate() {
            if config.modalities[..index].contains(modality) {
                return Err(MockSbiError::Config("a modality is listed twice"));
            }
        }
        if config.quality_score > 100 {
            return Err(MockSbiError::Config("quality_score is at most 100"));
        }
        let key = PrivateKey::generate_ec_p256().map_err(|e| MockSbiError::Key(e.to_string()))?;
        let der = self_signed_certificate(&key, clock.now())
            .and_then(|certificate| certificate.to_der())
            .map_err(|e| MockSbiError::Key(e.to_string()))?;
        let devices = config
            .modalities
            .iter()
            .map(|&modality| {
                let serial_no = format!("{}{:011}", modality.number(), modality.number());
                Device {
                    modality,
                    device_id: modality.number().to_string(),
                    device_code: format!("b2f8e1c0-5b1d-4c6e-9a7f-{serial_no}"),
                    serial_no,
                }
            })
            .collect();
        Ok(Self {
            config,
            devices,
            clock,
            key,
            certificate: base64::engine::general_purpose::STANDARD.encode(&der),
            thumbprint: hex_upper(&esignet_jose::sha256(&der)),
            callback_id: format!("http://{address}/"),
        })
    }

    /// The modalities served, in order.
    pub fn modalities(&self) -> Vec<Modality> {
        self.devices.iter().map(|device| device.modality).collect()
    }

    /// The device for `modality`, if served.
    pub(crate) fn device(&self, modality: Modality) -> Option<&Device> {
        self.devices
            .iter()
            .find(|device| device.modality == modality)
    }

    /// Signs `payload` as the device: ES256 with the certificate in `x5c`.
    pub(crate) fn sign(&self, payload: &Value) -> Result<String, MockSbiError> {
        let mut header = Map::new();
        header.insert("typ".into(), Value::from("JWT"));
        header.insert("x5c".into(), json!([self.certificate]));
        let bytes = serde_json::to_vec(payload).map_err(|e| MockSbiError::Key(e.to_string()))?;
        esignet_jose::sign_compact(&self.key, Algorithm::ES256, &header, &bytes)
            .map_err(|e| MockSbiError::Key(e.to_string()))
    }

    /// The current time as SBI timestamps are written (`2026-01-01T08:00:00.000Z`).
    pub(crate) fn timestamp(&self) -> String {
        format_timestamp(self.clock.now())
    }

    /// The signed digital id of `device`.
    pub(crate) fn digital_id(&self, device: &Device) -> Result<String, MockSbiError> {
        self.sign(&json!({
            "serialNo": device.serial_no,
            "make": MAKE,
            "model": format!("Mock {} SBI", device.modality.as_str()),
            "type": device.modality.as_str(),
            "deviceSubType": device.modality.device_sub_type(),
            "deviceProvider": PROVIDER,
            "deviceProviderId": PROVIDER_ID,
            "dateTime": self.timestamp(),
        }))
    }

    /// The members shared by the discovery descriptor and the device info.
    fn descriptor(&self, device: &Device) -> Result<Map<String, Value>, MockSbiError> {
        let value = json!({
            "deviceId": device.device_id,
            "deviceStatus": "Ready",
            "certification": "L1",
            "serviceVersion": SERVICE_VERSION,
            "deviceSubId": device.modality.device_sub_ids(),
            "callbackId": self.callback_id,
            "digitalId": self.digital_id(device)?,
            "deviceCode": device.device_code,
            "specVersion": [SPEC_VERSION],
            "purpose": "Auth",
        });
        Ok(match value {
            Value::Object(map) => map,
            _ => Map::new(),
        })
    }

    /// The `MOSIPDISC` answer for a discovery `type`: every device for `Biometric Device`
    /// (or no type), the matching device for a modality name, none otherwise.
    pub(crate) fn discover(&self, device_type: Option<&str>) -> Result<Value, MockSbiError> {
        let wanted = match device_type.map(str::trim) {
            None | Some("") => None,
            Some(text) if text.eq_ignore_ascii_case("Biometric Device") => None,
            Some(text) => match Modality::parse(text) {
                Some(modality) => Some(modality),
                None => return Ok(json!([])),
            },
        };
        let mut found = Vec::new();
        for device in &self.devices {
            if wanted.is_some_and(|modality| modality != device.modality) {
                continue;
            }
            let mut descriptor = self.descriptor(device)?;
            descriptor.insert("error".into(), success());
            found.push(Value::Object(descriptor));
        }
        Ok(Value::Array(found))
    }

    /// The `MOSIPDINFO` answer: a signed device info per device.
    pub(crate) fn info(&self) -> Result<Value, MockSbiError> {
        let mut infos = Vec::with_capacity(self.devices.len());
        for device in &self.devices {
            let mut payload = self.descriptor(device)?;
            payload.insert("env".into(), Value::from("Developer"));
            payload.insert("firmware".into(), Value::from(SERVICE_VERSION));
            infos.push(json!({
                "deviceInfo": self.sign(&Value::Object(payload))?,
                "error": success(),
            }));
        }
        Ok(Value::Array(infos))
    }
}

/// `{"errorCode": "0", "errorInfo": "Success"}`.
pub(crate) fn success() -> Value {
    json!({"errorCode": "0", "errorInfo": "Success"})
}

/// Upper-case hex, as SBI writes hashes and thumbprints.
pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02X}")).collect()
}

fn format_timestamp(instant: OffsetDateTime) -> String {
    instant
        .to_offset(time::UtcOffset::UTC)
        .format(format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        ))
        .unwrap_or_default()
}

/// A self-signed certificate for the device key, valid from a minute before `now` (clock skew)
/// for [`CERTIFICATE_DAYS`].
fn self_signed_certificate(
    key: &PrivateKey,
    now: OffsetDateTime,
) -> Result<X509, openssl::error::ErrorStack> {
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_nid(Nid::COMMONNAME, "eSignet-rs mock SBI device")?;
    name.append_entry_by_nid(Nid::ORGANIZATIONNAME, MAKE)?;
    let name = name.build();
    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
    let mut builder = X509::builder()?;
    builder.set_version(2)?;
    builder.set_serial_number(serial.to_asn1_integer()?.as_ref())?;
    builder.set_subject_name(&name)?;
    builder.set_issuer_name(&name)?;
    builder.set_pubkey(key.openssl_pkey())?;
    let start = now.unix_timestamp() - 60;
    builder.set_not_before(Asn1Time::from_unix(start)?.as_ref())?;
    builder.set_not_after(Asn1Time::from_unix(start + CERTIFICATE_DAYS * 86_400)?.as_ref())?;
    builder.sign(key.openssl_pkey(), MessageDigest::sha256())?;
    Ok(builder.build())
}
