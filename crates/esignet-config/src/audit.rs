//! The `[audit]` section: where audit events go (the JSON log, the append-only PostgreSQL
//! table, MOSIP's audit manager over HTTP), and the queues in front of them.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::catalogue::{KeyDoc, SectionDoc, ValueKind};
use crate::error::Problems;
use crate::raw::section;
use crate::secret::SecretString;
use crate::settings::{PostgresSettings, StoreSettings};
use crate::validate::{bounded, http_url};

/// The sink names `audit.sinks` accepts.
pub const AUDIT_SINKS: &[&str] = &["log", "postgres", "http"];

/// MOSIP audit manager's endpoint path, used when `audit.http_url` has no path of its own.
pub const DEFAULT_AUDIT_MANAGER_PATH: &str = "/v1/auditmanager/audits";

section! {
    /// Audit events (eSignet's audit actions, without personal data): their sinks and queues.
    AuditRaw = "audit" {
        /// Where audit events go, any of `log` (JSON lines on the `audit` log target), `postgres` (the append-only `audit_event` table) and `http` (MOSIP's audit manager). Several at once fan out.
        sinks: Vec<String> = vec!["log".to_owned()], ValueKind::StrList, example = "[\"log\", \"postgres\"]";
        /// Events each sink's queue holds (1 to 1000000); when a sink falls behind, further events are dropped and counted (`esignet_audit_events_dropped_total`), never waited for.
        queue_size: u64 = 10_000, ValueKind::Int;
        /// Most events written to PostgreSQL in one multi-row INSERT (1 to 8000).
        batch_size: u64 = 100, ValueKind::Int;
        /// Delivery attempts of one batch (PostgreSQL) or event (HTTP) before it is dropped and counted (1 to 100); waits double from 0.2 s up to 10 s between attempts.
        max_attempts: u64 = 5, ValueKind::Int;
        /// Name of this instance stored with every record (`instance` column, MOSIP `hostName`). Default: the host name.
        instance: Option<String> = None, ValueKind::OptStr, default_doc = "the host name", example = "\"esignet-0\"";
        /// PostgreSQL URL of the `postgres` sink. Default: `store.postgres_url` when `store.kind = "postgres"`.
        postgres_url: Option<SecretString> = None, ValueKind::Secret,
            default_doc = "`store.postgres_url`", example = "\"postgres://audit:secret@127.0.0.1:5432/audit\"";
        /// Schema of the `audit_event` table. Default: `store.postgres_schema` when the store's URL is used, else the server's search path.
        postgres_schema: Option<String> = None, ValueKind::OptStr,
            default_doc = "`store.postgres_schema` with the store's URL", example = "\"audit\"";
        /// URL of MOSIP's audit manager for the `http` sink; a URL without a path gets `/v1/auditmanager/audits`.
        http_url: Option<String> = None, ValueKind::OptStr, example = "\"https://api-internal.example.org/v1/auditmanager/audits\"";
        /// How the `http` sink authenticates: `none`, `bearer` (`Authorization: Bearer <token>`) or `cookie` (`Cookie: Authorization=<token>`, as MOSIP services do).
        http_auth: String = "none".to_owned(), ValueKind::Enum(&["none", "bearer", "cookie"]);
        /// The token of `http_auth` (`bearer` or `cookie`); not sent with `none`.
        http_token: Option<SecretString> = None, ValueKind::Secret, example = "\"eyJhbGciOi...\"";
        /// Seconds one request to the audit manager may take, connecting included (1 to 300).
        http_timeout_secs: u64 = 5, ValueKind::Int;
    }
}

/// How the `http` sink authenticates.
#[derive(Debug, Clone)]
pub enum AuditHttpAuth {
    /// No credentials.
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(SecretString),
    /// `Cookie: Authorization=<token>`.
    Cookie(SecretString),
}

/// The `http` sink's settings.
#[derive(Debug, Clone)]
pub struct AuditHttpSettings {
    /// The audits endpoint (default path filled in).
    pub url: Url,
    /// Credentials.
    pub auth: AuditHttpAuth,
    /// Deadline of one request.
    pub timeout: Duration,
}

/// `[audit]`, validated.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    /// Sink names, in configuration order, without duplicates (a subset of [`AUDIT_SINKS`]).
    pub sinks: Vec<String>,
    /// Queue capacity of each sink.
    pub queue_size: usize,
    /// PostgreSQL batch size.
    pub batch_size: usize,
    /// Delivery attempts.
    pub max_attempts: u32,
    /// Instance name; `None`: the host name, found at start-up.
    pub instance: Option<String>,
    /// The `postgres` sink's database, when that sink is on (the store's by default).
    pub postgres: Option<PostgresSettings>,
    /// The `http` sink, when on.
    pub http: Option<AuditHttpSettings>,
}

impl AuditSettings {
    /// Whether `name` is among the sinks.
    pub fn has_sink(&self, name: &str) -> bool {
        self.sinks.iter().any(|sink| sink == name)
    }
}

pub(crate) fn audit(
    raw: AuditRaw,
    store: &StoreSettings,
    problems: &mut Problems,
) -> AuditSettings {
    let mut sinks: Vec<String> = Vec::new();
    let listed = raw.sinks.len();
    for sink in raw.sinks {
        let sink = sink.trim().to_owned();
        if !AUDIT_SINKS.contains(&sink.as_str()) {
            problems.push(
                "audit.sinks",
                format!("\"{sink}\" is not a sink; choose from log, postgres, http"),
            );
        } else if sinks.contains(&sink) {
            problems.push("audit.sinks", format!("\"{sink}\" is listed twice"));
        } else {
            sinks.push(sink);
        }
    }
    if listed == 0 {
        problems.push(
            "audit.sinks",
            "must name at least one sink (auditing cannot be turned off)",
        );
    }
    let queue_size = bounded(problems, "audit.queue_size", raw.queue_size, 1, 1_000_000);
    let batch_size = bounded(problems, "audit.batch_size", raw.batch_size, 1, 8000);
    let max_attempts = bounded(problems, "audit.max_attempts", raw.max_attempts, 1, 100);
    let instance = raw
        .instance
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty());
    let postgres = sinks
        .iter()
        .any(|s| s == "postgres")
        .then(|| audit_postgres(raw.postgres_url, raw.postgres_schema, store, problems))
        .flatten();
    let timeout = Duration::from_secs(bounded(
        problems,
        "audit.http_timeout_secs",
        raw.http_timeout_secs,
        1,
        300,
    ));
    let auth = match (raw.http_auth.trim(), raw.http_token) {
        // A token without a scheme is kept unused: `http_auth` says whether it is sent.
        ("none", _) => AuditHttpAuth::None,
        ("bearer" | "cookie", None) => {
            problems.push(
                "audit.http_token",
                "is required when audit.http_auth is bearer or cookie",
            );
            AuditHttpAuth::None
        }
        ("bearer", Some(token)) => AuditHttpAuth::Bearer(token),
        ("cookie", Some(token)) => AuditHttpAuth::Cookie(token),
        (other, _) => {
            problems.push(
                "audit.http_auth",
                format!("\"{other}\" is not supported; choose none, bearer or cookie"),
            );
            AuditHttpAuth::None
        }
    };
    let http = match (sinks.iter().any(|s| s == "http"), raw.http_url) {
        (false, _) => None,
        (true, None) => {
            problems.push(
                "audit.http_url",
                "is required when audit.sinks includes \"http\"",
            );
            None
        }
        (true, Some(text)) => match http_url(&text) {
            Ok(mut url) => {
                if url.path().is_empty() || url.path() == "/" {
                    url.set_path(DEFAULT_AUDIT_MANAGER_PATH);
                }
                Some(AuditHttpSettings { url, auth, timeout })
            }
            Err(message) => {
                problems.push("audit.http_url", message);
                None
            }
        },
    };
    AuditSettings {
        sinks,
        queue_size: usize::try_from(queue_size).unwrap_or(10_000),
        batch_size: usize::try_from(batch_size).unwrap_or(100),
        max_attempts: u32::try_from(max_attempts).unwrap_or(5),
        instance,
        postgres,
        http,
    }
}

/// The `postgres` sink's database: its own URL, or the store's.
fn audit_postgres(
    url: Option<SecretString>,
    schema: Option<String>,
    store: &StoreSettings,
    problems: &mut Problems,
) -> Option<PostgresSettings> {
    if let Some(schema) = &schema
        && (schema.is_empty()
            || !schema
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    {
        problems.push(
            "audit.postgres_schema",
            "must be letters, digits and underscores",
        );
    }
    match (url, &store.postgres) {
        (Some(url), _) => {
            let text = url.expose().trim();
            if !(text.starts_with("postgres://") || text.starts_with("postgresql://")) {
                problems.push("audit.postgres_url", "must be a postgres:// URL");
            }
            Some(PostgresSettings {
                url,
                schema,
                max_connections: 2,
                acquire_timeout: Duration::from_secs(3),
                statement_timeout: Duration::from_secs(5),
            })
        }
        (None, Some(store)) => {
            let mut settings = store.clone();
            if schema.is_some() {
                settings.schema = schema;
            }
            Some(settings)
        }
        (None, None) => {
            problems.push(
                "audit.postgres_url",
                "is required for the postgres sink unless store.kind = \"postgres\" (whose URL is then used)",
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::load;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_default_is_the_log_sink_alone() {
        let settings = load(None, Vec::<(String, String)>::new()).expect("defaults load");
        assert_eq!(settings.audit.sinks, vec!["log".to_owned()]);
        assert!(settings.audit.postgres.is_none());
        assert!(settings.audit.http.is_none());
        assert_eq!(settings.audit.queue_size, 10_000);
    }

    #[test]
    fn the_postgres_sink_reuses_the_store_database_by_default() {
        let settings = load(
            None,
            env(&[
                ("ESIGNET_STORE__KIND", "postgres"),
                ("ESIGNET_STORE__POSTGRES_URL", "postgres://u@db:5432/e"),
                ("ESIGNET_STORE__POSTGRES_SCHEMA", "esignet"),
                ("ESIGNET_AUDIT__SINKS", "[\"log\", \"postgres\"]"),
            ]),
        )
        .expect("valid");
        assert!(settings.audit.has_sink("postgres"));
        let postgres = settings.audit.postgres.expect("postgres sink settings");
        assert_eq!(postgres.url.expose(), "postgres://u@db:5432/e");
        assert_eq!(postgres.schema.as_deref(), Some("esignet"));

        // A database of its own, with its own schema.
        let settings = load(
            None,
            env(&[
                ("ESIGNET_AUDIT__SINKS", "[\"postgres\"]"),
                ("ESIGNET_AUDIT__POSTGRES_URL", "postgres://a@audit/db"),
                ("ESIGNET_AUDIT__POSTGRES_SCHEMA", "trail"),
            ]),
        )
        .expect("valid");
        let postgres = settings.audit.postgres.expect("postgres sink settings");
        assert_eq!(postgres.url.expose(), "postgres://a@audit/db");
        assert_eq!(postgres.schema.as_deref(), Some("trail"));
    }

    #[test]
    fn the_http_sink_gets_the_default_path_and_its_credentials() {
        let settings = load(
            None,
            env(&[
                ("ESIGNET_AUDIT__SINKS", "[\"http\"]"),
                ("ESIGNET_AUDIT__HTTP_URL", "https://mosip.example"),
                ("ESIGNET_AUDIT__HTTP_AUTH", "cookie"),
                ("ESIGNET_AUDIT__HTTP_TOKEN", "t0ken"),
            ]),
        )
        .expect("valid");
        let http = settings.audit.http.expect("http sink settings");
        assert_eq!(
            http.url.as_str(),
            "https://mosip.example/v1/auditmanager/audits"
        );
        assert!(matches!(http.auth, super::AuditHttpAuth::Cookie(ref t) if t.expose() == "t0ken"));
        let settings = load(
            None,
            env(&[
                ("ESIGNET_AUDIT__SINKS", "[\"http\"]"),
                ("ESIGNET_AUDIT__HTTP_URL", "http://10.0.0.1:8080/audit/v2"),
            ]),
        )
        .expect("valid");
        assert_eq!(
            settings.audit.http.expect("http").url.as_str(),
            "http://10.0.0.1:8080/audit/v2"
        );
    }

    #[test]
    fn every_audit_mistake_is_reported() {
        let problems =
            |pairs: &[(&str, &str)]| load(None, env(pairs)).expect_err("refused").to_string();
        let text = problems(&[("ESIGNET_AUDIT__SINKS", "[\"log\", \"kafka\", \"log\"]")]);
        assert!(text.contains("\"kafka\" is not a sink"), "{text}");
        assert!(text.contains("\"log\" is listed twice"), "{text}");
        let text = problems(&[("ESIGNET_AUDIT__SINKS", "[]")]);
        assert!(text.contains("must name at least one sink"), "{text}");
        let text = problems(&[("ESIGNET_AUDIT__SINKS", "[\"postgres\"]")]);
        assert!(text.contains("audit.postgres_url"), "{text}");
        let text = problems(&[
            ("ESIGNET_AUDIT__SINKS", "[\"postgres\"]"),
            ("ESIGNET_AUDIT__POSTGRES_URL", "mysql://x/y"),
            ("ESIGNET_AUDIT__POSTGRES_SCHEMA", "bad-name"),
        ]);
        assert!(text.contains("must be a postgres:// URL"), "{text}");
        assert!(text.contains("audit.postgres_schema"), "{text}");
        let text = problems(&[("ESIGNET_AUDIT__SINKS", "[\"http\"]")]);
        assert!(text.contains("audit.http_url"), "{text}");
        let text = problems(&[
            ("ESIGNET_AUDIT__SINKS", "[\"http\"]"),
            ("ESIGNET_AUDIT__HTTP_URL", "ftp://audit"),
            ("ESIGNET_AUDIT__HTTP_AUTH", "bearer"),
        ]);
        assert!(text.contains("audit.http_url"), "{text}");
        assert!(text.contains("audit.http_token"), "{text}");
        let text = problems(&[
            ("ESIGNET_AUDIT__HTTP_AUTH", "basic"),
            ("ESIGNET_AUDIT__HTTP_TIMEOUT_SECS", "0"),
        ]);
        assert!(text.contains("audit.http_auth"), "{text}");
        assert!(text.contains("audit.http_timeout_secs"), "{text}");
        let text = problems(&[
            ("ESIGNET_AUDIT__QUEUE_SIZE", "0"),
            ("ESIGNET_AUDIT__BATCH_SIZE", "9000"),
            ("ESIGNET_AUDIT__MAX_ATTEMPTS", "101"),
        ]);
        assert!(text.contains("audit.queue_size"), "{text}");
        assert!(text.contains("audit.batch_size"), "{text}");
        assert!(text.contains("audit.max_attempts"), "{text}");
    }
}
