//! One virtual resident's logins, step by step, timed per endpoint.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use esignet_jose::{Algorithm, PrivateKey};
use hdrhistogram::Histogram;
use serde_json::{Map, Value, json};

use crate::FlowKind;
use crate::setup::Setup;

/// What a set of workers measured.
#[derive(Debug)]
pub struct Outcome {
    /// Logins that ended with a verified userinfo.
    pub completed: u64,
    /// Failed logins by the step that failed.
    pub failed: BTreeMap<&'static str, u64>,
    /// The first failure's message, for diagnosis.
    pub first_error: Option<String>,
    /// Latency per endpoint, microseconds.
    pub latencies: BTreeMap<&'static str, Histogram<u64>>,
    /// Whole-login latency, microseconds.
    pub login_latency: Histogram<u64>,
}

/// An auto-resizing histogram of microseconds (3 significant digits); recording never fails.
fn histogram() -> Histogram<u64> {
    let mut histogram =
        Histogram::<u64>::new(3).expect("3 significant digits is within the supported 0..=5");
    histogram.auto(true);
    histogram
}

/// The wrapper's `requestTime`: now, in eSignet's format.
pub fn request_time() -> String {
    #[expect(
        clippy::disallowed_methods,
        reason = "a load generator stamps real requests with the real time"
    )]
    let now = time::OffsetDateTime::now_utc();
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    now.format(format).unwrap_or_default()
}

fn unix_now() -> i64 {
    #[expect(
        clippy::disallowed_methods,
        reason = "a load generator signs real assertions with the real time"
    )]
    let now = time::OffsetDateTime::now_utc();
    now.unix_timestamp()
}

/// A failed step.
struct StepError {
    step: &'static str,
    message: String,
}

type StepResult<T> = Result<T, StepError>;

fn fail<T>(step: &'static str, message: impl Into<String>) -> StepResult<T> {
    Err(StepError {
        step,
        message: message.into(),
    })
}

/// Latencies by step, shared by every virtual resident of a run: one histogram per step (a few
/// hundred KB each), not one per resident and step, which at 2,000 residents took gigabytes and
/// minutes to merge. Recording holds the lock for a few nanoseconds.
type Latencies = Arc<std::sync::Mutex<BTreeMap<&'static str, Histogram<u64>>>>;

struct Resident {
    setup: Arc<Setup>,
    http: reqwest::Client,
    latencies: Latencies,
    individual: String,
}

impl Resident {
    fn record(&mut self, step: &'static str, started: Instant) {
        let micros = started.elapsed().as_micros().min(u128::from(u64::MAX)) as u64;
        let mut latencies = self.latencies.lock().unwrap_or_else(|e| e.into_inner());
        let entry = latencies.entry(step).or_insert_with(histogram);
        let _ = entry.record(micros.max(1));
    }

    async fn wrapped(
        &mut self,
        step: &'static str,
        path: &str,
        request: Value,
        headers: &[(&str, String)],
    ) -> StepResult<Value> {
        let body = json!({"requestTime": request_time(), "request": request});
        let mut call = self
            .http
            .post(format!("{}{path}", self.setup.api))
            .json(&body);
        for (name, value) in headers {
            call = call.header(*name, value);
        }
        let started = Instant::now();
        let response = call.send().await.map_err(|e| StepError {
            step,
            message: e.to_string(),
        })?;
        let text = response.text().await.map_err(|e| StepError {
            step,
            message: e.to_string(),
        })?;
        self.record(step, started);
        let value: Value = serde_json::from_str(&text).map_err(|_| StepError {
            step,
            message: text.clone(),
        })?;
        if value["errors"].as_array().is_some_and(|e| !e.is_empty()) {
            return fail(step, value["errors"].to_string());
        }
        Ok(value)
    }

    fn assertion(&self, audience: &str) -> StepResult<String> {
        let now = unix_now();
        let claims = json!({"iss": self.setup.client_id, "sub": self.setup.client_id, "aud": audience,
                            "iat": now, "exp": now + 60, "jti": esignet_jose::random_id()});
        esignet_jose::sign_compact(
            &self.setup.client_key,
            self.setup.config.client_alg,
            &Map::new(),
            claims.to_string().as_bytes(),
        )
        .map_err(|e| StepError {
            step: "client-assertion",
            message: e.to_string(),
        })
    }

    fn dpop(
        &self,
        key: &PrivateKey,
        htm: &str,
        htu: &str,
        nonce: Option<&str>,
        access_token: Option<&str>,
    ) -> StepResult<String> {
        let mut header = Map::new();
        header.insert("typ".into(), json!("dpop+jwt"));
        header.insert("jwk".into(), key.public_jwk().to_json());
        let mut claims =
            json!({"htm": htm, "htu": htu, "iat": unix_now(), "jti": esignet_jose::random_id()});
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        if let Some(token) = access_token {
            claims["ath"] = json!(esignet_jose::sha256_b64url(token.as_bytes()));
        }
        esignet_jose::sign_compact(
            key,
            Algorithm::ES256,
            &header,
            claims.to_string().as_bytes(),
        )
        .map_err(|e| StepError {
            step: "dpop-proof",
            message: e.to_string(),
        })
    }

    async fn form(
        &mut self,
        step: &'static str,
        url: &str,
        form: &[(&str, String)],
        dpop: Option<String>,
    ) -> StepResult<(u16, reqwest::header::HeaderMap, Value)> {
        let mut call = self.http.post(url).form(form);
        if let Some(proof) = dpop {
            call = call.header("DPoP", proof);
        }
        let started = Instant::now();
        let response = call.send().await.map_err(|e| StepError {
            step,
            message: e.to_string(),
        })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.json().await.unwrap_or(Value::Null);
        self.record(step, started);
        Ok((status, headers, body))
    }

    /// One complete login.
    async fn login(&mut self) -> StepResult<()> {
        let setup = self.setup.clone();
        let fapi = setup.config.flow == FlowKind::Fapi;
        let started = Instant::now();
        let csrf: Value = {
            let t = Instant::now();
            let response = self
                .http
                .get(format!("{}/csrf/token", setup.api))
                .send()
                .await
                .map_err(|e| StepError {
                    step: "csrf",
                    message: e.to_string(),
                })?;
            let value = response.json().await.map_err(|e| StepError {
                step: "csrf",
                message: e.to_string(),
            })?;
            self.record("csrf", t);
            value
        };
        let csrf = csrf["token"].as_str().unwrap_or_default().to_owned();
        let verifier = format!("{}{}", esignet_jose::random_id(), esignet_jose::random_id());
        let challenge = esignet_jose::sha256_b64url(verifier.as_bytes());
        let nonce = esignet_jose::random_id();
        let dpop_key = if fapi {
            Some(PrivateKey::generate_ec_p256().map_err(|e| StepError {
                step: "dpop-proof",
                message: e.to_string(),
            })?)
        } else {
            None
        };
        let claims = json!({"userinfo": {"name": {"essential": true}, "email": null, "phone_number": null, "birthdate": null}});
        let mut par_nonce: Option<String> = None;
        let details = if let Some(key) = &dpop_key {
            let proof = self.dpop(key, "POST", &setup.par_endpoint, None, None)?;
            let form = vec![
                ("client_id", setup.client_id.clone()),
                ("scope", "openid profile".to_owned()),
                ("response_type", "code".to_owned()),
                ("redirect_uri", setup.redirect_uri.clone()),
                ("state", "bench".to_owned()),
                ("nonce", nonce.clone()),
                ("acr_values", "mosip:idp:acr:generated-code".to_owned()),
                ("claims", claims.to_string()),
                ("code_challenge", challenge.clone()),
                ("code_challenge_method", "S256".to_owned()),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
                ),
                ("client_assertion", self.assertion(&setup.par_endpoint)?),
            ];
            let (status, par_headers, body) = self
                .form("par", &setup.par_endpoint, &form, Some(proof))
                .await?;
            if status != 201 {
                return fail("par", body.to_string());
            }
            // The server may hand out its DPoP nonce with the PAR response (RFC 9449 §8).
            par_nonce = par_headers
                .get("dpop-nonce")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let request_uri = body["request_uri"].as_str().unwrap_or_default().to_owned();
            self.wrapped(
                "par-oauth-details",
                "/authorization/par-oauth-details",
                json!({"clientId": setup.client_id, "requestUri": request_uri}),
                &[("X-XSRF-TOKEN", csrf.clone())],
            )
            .await?
        } else {
            let request = json!({"clientId": setup.client_id, "scope": "openid profile", "responseType": "code",
                "redirectUri": setup.redirect_uri, "nonce": nonce, "state": "bench", "acrValues": "mosip:idp:acr:generated-code",
                "claims": claims, "claimsLocales": "en", "codeChallenge": challenge, "codeChallengeMethod": "S256"});
            self.wrapped(
                "oauth-details",
                "/authorization/v3/oauth-details",
                request,
                &[("X-XSRF-TOKEN", csrf.clone())],
            )
            .await?
        };
        let response = &details["response"];
        let transaction_id = response["transactionId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let hash = esignet_jose::sha256_b64url(response.to_string().as_bytes());
        let headers = [
            ("X-XSRF-TOKEN", csrf.clone()),
            ("oauth-details-key", transaction_id.clone()),
            ("oauth-details-hash", hash.clone()),
        ];
        let individual = self.individual.clone();
        self.wrapped("send-otp", "/authorization/send-otp", json!({"transactionId": transaction_id, "individualId": individual, "otpChannels": ["email", "phone"]}), &headers).await?;
        let otp = setup.config.otp.clone();
        let authenticated = self
            .wrapped("authenticate", "/authorization/v3/authenticate", json!({"transactionId": transaction_id, "individualId": individual,
                "challengeList": [{"authFactorType": "OTP", "challenge": otp, "format": "alpha-numeric"}]}), &headers)
            .await?;
        {
            let t = Instant::now();
            let response = self
                .http
                .get(format!("{}/authorization/claim-details", setup.api))
                .header("oauth-details-key", &transaction_id)
                .header("oauth-details-hash", &hash)
                .send()
                .await
                .map_err(|e| StepError {
                    step: "claim-details",
                    message: e.to_string(),
                })?;
            let _ = response.bytes().await;
            self.record("claim-details", t);
        }
        let accepted: Vec<&str> = if authenticated["response"]["consentAction"] == "CAPTURE" {
            vec!["name", "email", "phone_number", "birthdate"]
        } else {
            vec![]
        };
        let code = self
            .wrapped("auth-code", "/authorization/auth-code", json!({"transactionId": transaction_id, "acceptedClaims": accepted, "permittedAuthorizeScopes": []}), &headers)
            .await?;
        let code = code["response"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let mut token_form = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", setup.redirect_uri.clone()),
            ("client_id", setup.client_id.clone()),
            ("code_verifier", verifier),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
            ),
            ("client_assertion", self.assertion(&setup.token_endpoint)?),
        ];
        let mut dpop_nonce: Option<String> = None;
        let proof = match &dpop_key {
            Some(key) => Some(self.dpop(
                key,
                "POST",
                &setup.token_endpoint,
                par_nonce.as_deref(),
                None,
            )?),
            None => None,
        };
        let (mut status, mut headers_out, mut tokens) = self
            .form("token", &setup.token_endpoint, &token_form, proof)
            .await?;
        if status == 400
            && tokens["error"] == "use_dpop_nonce"
            && let Some(key) = &dpop_key
        {
            let nonce = headers_out
                .get("dpop-nonce")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            token_form.pop();
            token_form.push(("client_assertion", self.assertion(&setup.token_endpoint)?));
            let proof = self.dpop(key, "POST", &setup.token_endpoint, Some(&nonce), None)?;
            (status, headers_out, tokens) = self
                .form("token", &setup.token_endpoint, &token_form, Some(proof))
                .await?;
        }
        if status != 200 {
            return fail("token", tokens.to_string());
        }
        if let Some(value) = headers_out.get("dpop-nonce").and_then(|v| v.to_str().ok()) {
            dpop_nonce = Some(value.to_owned());
        }
        let access_token = tokens["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let userinfo = self
            .userinfo(&access_token, dpop_key.as_ref(), dpop_nonce)
            .await?;
        self.verify_userinfo(&userinfo).await?;
        self.record("login", started);
        Ok(())
    }

    async fn userinfo(
        &mut self,
        token: &str,
        dpop_key: Option<&PrivateKey>,
        mut nonce: Option<String>,
    ) -> StepResult<String> {
        let endpoint = self.setup.userinfo_endpoint.clone();
        for _ in 0..2 {
            let mut call = self.http.get(&endpoint);
            match dpop_key {
                Some(key) => {
                    call = call
                        .header("Authorization", format!("DPoP {token}"))
                        .header(
                            "DPoP",
                            self.dpop(key, "GET", &endpoint, nonce.as_deref(), Some(token))?,
                        );
                }
                None => call = call.header("Authorization", format!("Bearer {token}")),
            }
            let started = Instant::now();
            let response = call.send().await.map_err(|e| StepError {
                step: "userinfo",
                message: e.to_string(),
            })?;
            let status = response.status().as_u16();
            let next_nonce = response
                .headers()
                .get("dpop-nonce")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = response.text().await.map_err(|e| StepError {
                step: "userinfo",
                message: e.to_string(),
            })?;
            self.record("userinfo", started);
            if status == 200 {
                return Ok(body);
            }
            if status == 401 && next_nonce.is_some() {
                nonce = next_nonce;
                continue;
            }
            return fail("userinfo", format!("HTTP {status}"));
        }
        fail("userinfo", "nonce loop")
    }

    async fn verify_userinfo(&mut self, body: &str) -> StepResult<()> {
        let jws = if body.split('.').count() == 5 {
            let key = self.setup.encryption_key.as_ref().ok_or(StepError {
                step: "verify",
                message: "unexpected JWE".into(),
            })?;
            let plain = esignet_jose::decrypt_compact(body, key).map_err(|e| StepError {
                step: "verify",
                message: e.to_string(),
            })?;
            String::from_utf8(plain).map_err(|e| StepError {
                step: "verify",
                message: e.to_string(),
            })?
        } else {
            body.to_owned()
        };
        let decoded = esignet_jose::decode_compact(&jws).map_err(|e| StepError {
            step: "verify",
            message: e.to_string(),
        })?;
        let kid = decoded.kid().unwrap_or_default().to_owned();
        let key = self
            .setup
            .key_for(&self.http, &kid)
            .await
            .ok_or(StepError {
                step: "verify",
                message: format!("unknown kid {kid}"),
            })?;
        if !decoded.verify(&key) {
            return fail("verify", "userinfo signature does not verify");
        }
        let claims = decoded.claims().map_err(|e| StepError {
            step: "verify",
            message: e.to_string(),
        })?;
        if claims
            .get("sub")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return fail("verify", "userinfo without sub");
        }
        Ok(())
    }
}

/// Runs logins on `concurrency` virtual residents until `max_logins` have been attempted or
/// `duration` has passed.
pub async fn run_logins(
    setup: Arc<Setup>,
    clients: &[reqwest::Client],
    max_logins: u64,
    duration: Duration,
    progress: Option<Duration>,
) -> Outcome {
    let concurrency = clients.len();
    let attempted = Arc::new(AtomicU64::new(0));
    let completed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + duration;
    let reporter = progress.map(|every| {
        let completed = completed.clone();
        tokio::spawn(async move {
            let start = Instant::now();
            loop {
                tokio::time::sleep(every).await;
                let done = completed.load(Ordering::Relaxed);
                let secs = start.elapsed().as_secs_f64();
                eprintln!(
                    "  {:>6.1} s  {done:>8} logins  {:>8.1} logins/s",
                    secs,
                    done as f64 / secs.max(0.001)
                );
            }
        })
    });
    let latencies: Latencies = Arc::default();
    let mut workers = Vec::with_capacity(concurrency);
    for (index, client) in clients.iter().enumerate() {
        let latencies = latencies.clone();
        let setup = setup.clone();
        let attempted = attempted.clone();
        let completed = completed.clone();
        let http = client.clone();
        workers.push(tokio::spawn(async move {
            let individuals = &setup.config.individuals;
            let individual = individuals
                .get(index % individuals.len().max(1))
                .cloned()
                .unwrap_or_default();
            let mut resident = Resident {
                setup: setup.clone(),
                http,
                latencies,
                individual,
            };
            let mut failed: BTreeMap<&'static str, u64> = BTreeMap::new();
            let mut first_error = None;
            while Instant::now() < deadline
                && attempted.fetch_add(1, Ordering::Relaxed) < max_logins
            {
                match resident.login().await {
                    Ok(()) => {
                        completed.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(error) => {
                        *failed.entry(error.step).or_default() += 1;
                        first_error.get_or_insert(format!("{}: {}", error.step, error.message));
                    }
                }
            }
            (failed, first_error)
        }));
    }
    let mut outcome = Outcome {
        completed: 0,
        failed: BTreeMap::new(),
        first_error: None,
        latencies: BTreeMap::new(),
        login_latency: histogram(),
    };
    for worker in workers {
        let Ok((failed, first_error)) = worker.await else {
            continue;
        };
        for (step, count) in failed {
            *outcome.failed.entry(step).or_default() += count;
        }
        if outcome.first_error.is_none() {
            outcome.first_error = first_error;
        }
    }
    if let Some(reporter) = reporter {
        reporter.abort();
    }
    let mut latencies = std::mem::take(&mut *latencies.lock().unwrap_or_else(|e| e.into_inner()));
    if let Some(login) = latencies.remove("login") {
        outcome.login_latency = login;
    }
    outcome.latencies = latencies;
    outcome.completed = completed.load(Ordering::Relaxed);
    outcome
}

/// One HTTP client (with its own cookie jar and connection) per virtual resident, created once
/// and kept across the warm-up and the measured run, so the measured run reuses warm
/// connections as browsers and relying parties do instead of opening them all at once.
///
/// Against a plain-HTTP server the clients skip loading the system's root certificates: that
/// took tens of milliseconds per client, minutes of start-up at 2,000 residents.
pub fn resident_clients(
    concurrency: usize,
    plain_http: bool,
) -> anyhow::Result<Vec<reqwest::Client>> {
    (0..concurrency)
        .map(|_| {
            reqwest::Client::builder()
                .tls_built_in_root_certs(!plain_http)
                .cookie_store(true)
                .timeout(Duration::from_secs(120))
                .pool_max_idle_per_host(4)
                .build()
                .map_err(anyhow::Error::from)
        })
        .collect()
}
