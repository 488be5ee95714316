//! `[telemetry]`: the metrics listener and OTLP trace export.

use std::net::SocketAddr;
use std::str::FromStr;

use crate::error::Problems;
use crate::raw::TelemetryRaw;
use crate::settings::TelemetrySettings;
use crate::validate::http_url;

pub(crate) fn telemetry(raw: TelemetryRaw, problems: &mut Problems) -> TelemetrySettings {
    let metrics_bind = match raw.metrics_bind.trim() {
        "" => None,
        text => SocketAddr::from_str(text)
            .map_err(|_| {
                problems.push(
                    "telemetry.metrics_bind",
                    format!("\"{text}\" is not a socket address such as 127.0.0.1:9464"),
                );
            })
            .ok(),
    };
    let otlp_endpoint = match raw.otlp_endpoint.trim() {
        "" => None,
        text => http_url(text)
            .map_err(|message| problems.push("telemetry.otlp_endpoint", message))
            .ok(),
    };
    let service_name = raw.service_name.trim().to_owned();
    if service_name.is_empty() {
        problems.push("telemetry.service_name", "must not be empty".to_owned());
    }
    TelemetrySettings {
        metrics_bind,
        otlp_endpoint,
        service_name,
    }
}

#[cfg(test)]
mod tests {
    use crate::load;

    #[test]
    fn telemetry_is_off_by_default_and_validated_when_set() {
        let settings = load(None, Vec::<(String, String)>::new()).expect("defaults load");
        assert!(settings.telemetry.metrics_bind.is_none());
        assert!(settings.telemetry.otlp_endpoint.is_none());
        let env = vec![
            (
                "ESIGNET_TELEMETRY__METRICS_BIND".to_owned(),
                "127.0.0.1:9464".to_owned(),
            ),
            (
                "ESIGNET_TELEMETRY__OTLP_ENDPOINT".to_owned(),
                "http://127.0.0.1:4318/v1/traces".to_owned(),
            ),
        ];
        let settings = load(None, env).expect("valid telemetry");
        assert_eq!(
            settings.telemetry.metrics_bind.map(|a| a.port()),
            Some(9464)
        );
        let env = vec![
            (
                "ESIGNET_TELEMETRY__METRICS_BIND".to_owned(),
                "nine".to_owned(),
            ),
            (
                "ESIGNET_TELEMETRY__OTLP_ENDPOINT".to_owned(),
                "ftp://collector".to_owned(),
            ),
        ];
        let errors = load(None, env).expect_err("both are refused").to_string();
        assert!(errors.contains("telemetry.metrics_bind"), "{errors}");
        assert!(errors.contains("telemetry.otlp_endpoint"), "{errors}");
    }
}
