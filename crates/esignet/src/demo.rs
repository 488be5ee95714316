//! The companion services the binary can run: the mock identity system, the demo relying party,
//! the mock SBI device, and `esignet demo`, which starts the provider, the mock identity system
//! and the demo relying party together on fixed loopback ports.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use esignet_config::{AuthenticatorKind, Settings};
use esignet_spi::{Clock, SystemClock};
use tokio::sync::watch;

/// Options of `esignet mock-identity`.
#[derive(clap::Args, Debug, Clone)]
pub struct MockIdentityArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8082")]
    pub bind: SocketAddr,
    /// The service's own data directory (default: `mock-identity` under `[data] dir`).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Artificial delay after send-otp, kyc-auth and kyc-exchange, in milliseconds (models a slow
    /// national ID backend in benchmarks).
    #[arg(long, default_value_t = 0)]
    pub response_delay_ms: u64,
    /// Use the self-registration schema (a new identity needs only individualId, fullName,
    /// phone and password) and serve the signup pages' account form at `/identity/ui-spec`.
    /// On by default when `[signup] enabled`.
    #[arg(long)]
    pub signup_schema: bool,
}

/// Options of `esignet demo-rp`.
#[derive(clap::Args, Debug, Clone)]
pub struct DemoRpArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub bind: SocketAddr,
    /// The demo relying party's public URL (default: `http://<bind>`).
    #[arg(long)]
    pub public_url: Option<String>,
    /// The provider's public URL (default: `[server] public_url`).
    #[arg(long)]
    pub esignet_url: Option<String>,
}

/// Options of `esignet demo`.
#[derive(clap::Args, Debug, Clone)]
pub struct DemoArgs {
    /// Where the mock identity system listens.
    #[arg(long, default_value = "127.0.0.1:8082")]
    pub identity_bind: SocketAddr,
    /// Where the demo relying party listens.
    #[arg(long, default_value = "127.0.0.1:8090")]
    pub rp_bind: SocketAddr,
}

/// Options of `esignet mock-sbi`.
#[derive(clap::Args, Debug, Clone)]
pub struct MockSbiArgs {
    /// Where to listen (SBI devices live on 127.0.0.1:4501-4600).
    #[arg(long, default_value = "127.0.0.1:4501")]
    pub bind: SocketAddr,
}

fn clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

fn mock_identity_config(
    settings: &Settings,
    args: &MockIdentityArgs,
) -> esignet_mock_identity::MockIdentityConfig {
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| settings.data.dir.join("mock-identity"));
    let mut config = esignet_mock_identity::MockIdentityConfig::new(data_dir, settings.issuer());
    config.bind = args.bind;
    config.otp = settings.authenticator.mock_otp.clone();
    config.response_delay = Duration::from_millis(args.response_delay_ms);
    // Residents who register through the signup pages give only what the account form asks.
    if args.signup_schema || settings.signup.enabled {
        config.schema = esignet_mock_identity::SchemaProfile::Signup;
    }
    config.certificate_validity = time::Duration::try_from(settings.wallet.certificate_validity)
        .unwrap_or(esignet_mock_authenticator::DEFAULT_CERTIFICATE_VALIDITY);
    config
}

fn demo_rp_config(settings: &Settings, args: &DemoRpArgs) -> esignet_demo_rp::DemoRpConfig {
    esignet_demo_rp::DemoRpConfig {
        bind: args.bind,
        public_url: args
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", args.bind)),
        esignet_url: args
            .esignet_url
            .clone()
            .unwrap_or_else(|| settings.server.public_url.clone()),
        client_id: settings.demo.client_id.clone(),
        private_key_file: settings.demo.private_key_file.clone(),
        ..esignet_demo_rp::DemoRpConfig::default()
    }
}

/// `esignet mock-identity`.
pub async fn mock_identity(settings: &Settings, args: &MockIdentityArgs) -> anyhow::Result<()> {
    let mut config = mock_identity_config(settings, args);
    config.notifier = otp_notifier(settings)?;
    esignet_mock_identity::serve(&config, clock(), crate::shutdown_signal()).await
}

/// The `[notification]` transports delivering the mock identity system's login OTPs; `None`
/// when none is configured (the OTP is then only the configured development one, unsent).
fn otp_notifier(settings: &Settings) -> anyhow::Result<Option<esignet_mock_identity::OtpNotifier>> {
    let notifier = esignet_notify::ChannelNotifier::from_settings(&settings.notification, clock())
        .context("cannot set up [notification]")?;
    Ok(notifier.map(|n| esignet_mock_identity::OtpNotifier(Arc::new(n))))
}

/// `esignet demo-rp`.
pub async fn demo_rp(settings: &Settings, args: &DemoRpArgs) -> anyhow::Result<()> {
    esignet_demo_rp::serve(
        demo_rp_config(settings, args),
        clock(),
        crate::shutdown_signal(),
    )
    .await
}

/// `esignet mock-sbi`.
pub async fn mock_sbi(args: &MockSbiArgs) -> anyhow::Result<()> {
    let config = esignet_mock_sbi::MockSbiConfig {
        bind: args.bind,
        ..esignet_mock_sbi::MockSbiConfig::default()
    };
    esignet_mock_sbi::serve(config, clock(), crate::shutdown_signal())
        .await
        .context("mock SBI device failed")
}

/// `esignet demo`: the provider, the mock identity system and the demo relying party in one
/// process, the provider talking to the identity system over HTTP exactly as it would to a
/// remote one.
pub async fn demo(settings: &Settings, args: &DemoArgs) -> anyhow::Result<()> {
    let identity_args = MockIdentityArgs {
        bind: args.identity_bind,
        data_dir: None,
        response_delay_ms: 0,
        // The demo always offers self-registration.
        signup_schema: true,
    };
    let mut identity = mock_identity_config(settings, &identity_args);
    identity.notifier = otp_notifier(settings)?;
    let mut provider = settings.clone();
    provider.authenticator.kind = AuthenticatorKind::MockIdentityHttp;
    // The demo shows the sign-up and forgot-password links and the eKYC detour.
    provider.signup_redirect.enabled = true;
    provider.authenticator.url = format!(
        "http://{}{}",
        identity.bind,
        esignet_mock_identity::CONTEXT_PATH
    );
    demo_signup(&mut provider);
    let rp_args = DemoRpArgs {
        bind: args.rp_bind,
        public_url: None,
        esignet_url: None,
    };
    let rp = demo_rp_config(settings, &rp_args);

    let (stop, stopped) = watch::channel(false);
    let until_stopped = |mut receiver: watch::Receiver<bool>| async move {
        let _ = receiver.wait_for(|stop| *stop).await;
    };
    // The identity system first: the provider fetches its certificates, the portal the
    // provider's discovery.
    let identity_listener = tokio::net::TcpListener::bind(identity.bind)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} for the mock identity system",
                identity.bind
            )
        })?;
    let identity_task = tokio::spawn({
        let stopped = stopped.clone();
        async move {
            esignet_mock_identity::serve_listener(
                identity_listener,
                &identity,
                clock(),
                until_stopped(stopped),
            )
            .await
        }
    });
    let mut app = crate::app::build(&provider).await?;
    app.start_metrics_listener(&provider).await?;
    let provider_listener = tokio::net::TcpListener::bind(provider.server.bind)
        .await
        .with_context(|| format!("cannot listen on {}", provider.server.bind))?;
    let provider_task = tokio::spawn({
        let stopped = stopped.clone();
        async move {
            axum::serve(provider_listener, app.router.into_make_service())
                .with_graceful_shutdown(until_stopped(stopped))
                .await
                .context("provider failed")
        }
    });
    let rp_url = rp.public_url.clone();
    let rp_task = tokio::spawn(esignet_demo_rp::serve(
        rp,
        clock(),
        until_stopped(stopped.clone()),
    ));

    print_welcome(settings, &rp_url, &provider.authenticator.url);
    crate::shutdown_signal().await;
    let _ = stop.send(true);
    for (name, task) in [
        ("mock identity system", identity_task),
        ("provider", provider_task),
        ("demo relying party", rp_task),
    ] {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::error!(service = name, error = %format!("{error:#}"), "service failed")
            }
            Err(error) => tracing::error!(service = name, %error, "service task failed"),
        }
    }
    for task in app.tasks {
        task.abort();
    }
    Ok(())
}

/// The demo serves the Signup service over the mock identity system: registered residents log
/// in at once. Its phone numbers are the mock's individual ids (5 to 19 digits), so the demo
/// swaps eSignet's `+91` default for a plain national number; the OTP is the mock's fixed one.
fn demo_signup(provider: &mut Settings) {
    let defaults = esignet_config::SignupRaw::default();
    let signup = &mut provider.signup;
    signup.enabled = true;
    // The eKYC detour of the demo: the mock verifier replays its story for any resident.
    signup.identity_verification = provider.signup_redirect.enabled;
    if signup.identifier_regex == defaults.identifier_regex {
        signup.identifier_regex = r"^[1-9][0-9]{7,9}$".to_owned();
        signup.identifier_prefix = String::new();
    }
    if signup.fixed_otp.is_none() {
        signup.fixed_otp = Some(esignet_config::SecretString::new(
            provider.authenticator.mock_otp.clone(),
        ));
    }
    if provider.captcha.kind == esignet_config::CaptchaKind::None {
        signup.captcha_required = false;
    }
}

#[expect(
    clippy::print_stdout,
    reason = "the demo's instructions are for the person at the terminal"
)]
fn print_welcome(settings: &Settings, rp_url: &str, identity_url: &str) {
    println!();
    println!("eSignet-rs demo is running:");
    println!("  relying party (open this):  {rp_url}");
    println!(
        "  eSignet provider:           {}",
        settings.server.public_url
    );
    println!("  mock identity system:       {identity_url}");
    println!();
    println!(
        "Click \"Sign in with eSignet\" and log in as one of these residents (OTP is always {}):",
        settings.authenticator.mock_otp
    );
    println!("  {:<12} {:<26} {:<8} password", "id", "name", "PIN");
    for person in esignet_mock_authenticator::demo_credentials() {
        println!(
            "  {:<12} {:<26} {:<8} {}",
            person.individual_id, person.name, person.pin, person.password
        );
    }
    println!();
    println!("Press Ctrl-C to stop.");
}
