//! `esignet`: the eSignet-rs binary.
//!
//! `esignet serve` runs the OpenID Connect provider; `esignet config check` validates the
//! configuration without starting; `esignet keys list|rotate|import` manages signing keys.
// The UI configuration defaults are one large json! literal.
#![recursion_limit = "256"]

mod app;
mod audit;
mod backends;
mod core_config;
mod demo;
mod demo_client;
mod hsm;
mod ida;
mod identity_records;
mod rest_identity;
mod signup;
mod sunbird;
mod tracing_setup;
mod wallet;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use esignet_config::Settings;
use esignet_keys::KeyManager;
use esignet_spi::{Clock, SystemClock};

#[derive(Parser)]
#[command(
    name = "esignet",
    version,
    about = "An OpenID Connect provider for digital identity, wire-compatible with MOSIP eSignet"
)]
struct Cli {
    /// The TOML configuration file (defaults and ESIGNET_* variables apply without one).
    #[arg(long, global = true, env = "ESIGNET_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the provider (the default).
    Serve,
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Signing-key tools.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Runs complete logins against a running server and reports throughput and latency.
    Bench(Box<BenchArgs>),
    /// Runs the database migrations (PostgreSQL; SQLite migrates on open) and exits.
    Migrate,
    /// Runs the provider, the mock identity system and the demo relying party together.
    Demo(demo::DemoArgs),
    /// Runs the mock identity system (its own port and store).
    MockIdentity(demo::MockIdentityArgs),
    /// Runs the demo relying party (a health services portal).
    DemoRp(demo::DemoRpArgs),
    /// Runs a mock SBI 2.0 biometric device on loopback.
    MockSbi(demo::MockSbiArgs),
    /// Acts as a wallet app: binds a key with an OTP, then completes a QR-code login.
    WalletSim(Box<wallet::WalletSimArgs>),
}

#[derive(clap::Args)]
struct BenchArgs {
    /// The server's public base URL.
    #[arg(long, default_value = "http://127.0.0.1:8088")]
    url: String,
    /// The API base path.
    #[arg(long, default_value = "/v1/esignet")]
    base_path: String,
    /// The static admin token configured on the server (registers the benchmark client).
    #[arg(long, env = "ESIGNET_BENCH_ADMIN_TOKEN")]
    admin_token: String,
    /// Concurrent virtual residents.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Logins to run.
    #[arg(long, default_value_t = 2000)]
    logins: u64,
    /// Maximum duration in seconds.
    #[arg(long, default_value_t = 120)]
    duration: u64,
    /// `plain` (Bearer) or `fapi` (PAR + DPoP).
    #[arg(long, default_value = "plain")]
    flow: String,
    /// Ask for encrypted (JWE) userinfo.
    #[arg(long)]
    jwe: bool,
    /// Client key algorithm: RS256 or ES256.
    #[arg(long, default_value = "RS256")]
    client_alg: String,
    /// Individual ids to log in as (comma separated).
    #[arg(
        long,
        default_value = "8267411571,5860142938,3519847260,7704215589,6102938475"
    )]
    individuals: String,
    /// The identity system's development OTP.
    #[arg(long, default_value = "111111")]
    otp: String,
    /// The server's PID, to report its CPU time and memory from /proc.
    #[arg(long)]
    server_pid: Option<u32>,
    /// The server's metrics endpoint (`http://<telemetry.metrics_bind>/metrics`), to report its
    /// cache and store calls (round trips) per login.
    #[arg(long)]
    metrics_url: Option<String>,
    /// Other processes whose CPU time to report per login, as NAME=COMM (every process whose
    /// command name is COMM, e.g. `redis=redis-server`, `postgres=postgres`); repeatable.
    #[arg(long = "watch", value_name = "NAME=COMM")]
    watch: Vec<String>,
    /// Skip the warm-up round.
    #[arg(long)]
    no_warmup: bool,
    /// Write the JSON report here.
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Validates the configuration and lists every problem; exit status 1 if any.
    Check,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Lists the service signing keys.
    List,
    /// Generates a new current signing key; the previous one stays published until it expires.
    Rotate,
    /// Imports a PKCS#12 keystore's private key and certificate chain as a signing key (into
    /// the HSM with keys.backend = "pkcs11"); it becomes current like a rotated key.
    Import {
        /// The PKCS#12 (.p12 / .pfx) file.
        #[arg(long, value_name = "FILE")]
        pkcs12: PathBuf,
        /// The environment variable holding the keystore password (never a command-line
        /// argument: those are visible to other users); without it the password is empty.
        #[arg(long, value_name = "VAR")]
        password_env: Option<String>,
        /// The application the key signs for (only the service's token-signing keys).
        #[arg(long, default_value = "OIDC_SERVICE")]
        application: String,
    },
}

fn load_settings(cli: &Cli) -> Result<Settings, String> {
    esignet_config::load(cli.config.as_deref(), std::env::vars())
        .map_err(|errors| errors.to_string())
}

/// `config check` of `[notification]`: every configured transport must be reachable.
fn check_notification(settings: &Settings) -> Result<(), String> {
    let transports =
        esignet_notify::Transports::from_settings(&settings.notification, Arc::new(SystemClock))
            .map_err(|error| format!("{error:#}"))?;
    if !transports.is_configured() {
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| format!("cannot start the runtime: {error}"))?;
    let problems = runtime.block_on(transports.check());
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Bench(args)) = cli.command {
        return bench(*args);
    }
    if let Some(Command::WalletSim(args)) = cli.command {
        return wallet::wallet_sim(*args);
    }
    let settings = match load_settings(&cli) {
        Ok(settings) => settings,
        Err(problems) => {
            eprintln!("invalid configuration:\n{problems}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(Command::Config {
        command: ConfigCommand::Check,
    }) = &cli.command
    {
        // The HSM settings are only proven by using them: load the module, find the token and
        // log in (messages name the setting, never the PIN).
        if let Err(error) = hsm::open_vault(&settings) {
            eprintln!("invalid configuration:\n{error:#}");
            return ExitCode::FAILURE;
        }
        // Likewise the notification transports: connect to the gateway, and open a whole
        // SMTP session (TLS and AUTH included).
        if let Err(problems) = check_notification(&settings) {
            eprintln!("invalid configuration:\n{problems}");
            return ExitCode::FAILURE;
        }
        println!("configuration is valid");
        return ExitCode::SUCCESS;
    }
    let _tracing = tracing_setup::init(&settings);
    // The blocking pool runs CPU-bound work (RSA signing, key generation): more threads than
    // cores only adds stacks, malloc arenas and memory under load, never throughput.
    let blocking_threads = std::thread::available_parallelism().map_or(4, |n| n.get() * 2);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(blocking_threads)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match cli.command {
            None | Some(Command::Serve) => serve(&settings).await,
            Some(Command::Keys { command }) => keys(&settings, command).await,
            Some(Command::Demo(args)) => demo::demo(&settings, &args).await,
            Some(Command::Migrate) => backends::migrate(&settings).await,
            Some(Command::MockIdentity(args)) => demo::mock_identity(&settings, &args).await,
            Some(Command::DemoRp(args)) => demo::demo_rp(&settings, &args).await,
            Some(Command::MockSbi(args)) => demo::mock_sbi(&args).await,
            Some(Command::Config { .. })
            | Some(Command::Bench(_))
            | Some(Command::WalletSim(_)) => Ok(()),
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let mut app = app::build(settings).await?;
    app.start_metrics_listener(settings).await?;
    let listener = tokio::net::TcpListener::bind(settings.server.bind)
        .await
        .with_context(|| format!("cannot listen on {}", settings.server.bind))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, public_url = %settings.server.public_url, "eSignet is ready");
    axum::serve(listener, app.router.into_make_service())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server failed")?;
    for task in app.tasks {
        task.abort();
    }
    Ok(())
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

async fn keys(settings: &Settings, command: KeysCommand) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let app::KeyMaterial {
        store, kek, vault, ..
    } = app::open_store(settings).await?;
    // Read the keystore before opening the keys: a bad file or password changes nothing.
    let import = match &command {
        KeysCommand::Import {
            pkcs12,
            password_env,
            application,
        } => {
            if application != app::SERVICE_KEYS {
                anyhow::bail!(
                    "only {} keys can be imported (not {application})",
                    app::SERVICE_KEYS
                );
            }
            let der = std::fs::read(pkcs12)
                .with_context(|| format!("cannot read {}", pkcs12.display()))?;
            let password = match password_env {
                Some(name) => zeroize::Zeroizing::new(
                    std::env::var(name)
                        .with_context(|| format!("the environment variable {name} is not set"))?,
                ),
                None => zeroize::Zeroizing::new(String::new()),
            };
            Some((der, password))
        }
        _ => None,
    };
    let manager = KeyManager::open_with_vault(
        store,
        kek,
        vault,
        clock,
        app::SERVICE_KEYS,
        app::key_policy(settings, "eSignet token signing")?,
    )
    .await
    .context("cannot open the service signing keys")?;
    if let Some((der, password)) = import {
        let info = manager
            .import_pkcs12(&der, &password)
            .await
            .context("import failed")?;
        if info.is_current {
            println!("imported: new current key {}", info.kid);
        } else {
            println!(
                "imported: key {} signs from {} (published now)",
                info.kid, info.not_before
            );
        }
    }
    if let KeysCommand::Rotate = command {
        let info = manager.rotate().await.context("rotation failed")?;
        if info.not_before > esignet_spi::Clock::now(&SystemClock) {
            println!(
                "rotated: new key {} signs from {} (published now)",
                info.kid, info.not_before
            );
        } else {
            println!("rotated: new current key {}", info.kid);
        }
    }
    println!(
        "{:<45} {:<6} {:<22} {:<22} current",
        "kid", "alg", "not before", "not after"
    );
    for key in manager.keys() {
        println!(
            "{:<45} {:<6} {:<22} {:<22} {}",
            key.kid,
            key.algorithm,
            key.not_before.date().to_string() + " " + &key.not_before.time().to_string(),
            key.not_after.date().to_string() + " " + &key.not_after.time().to_string(),
            if key.is_current { "yes" } else { "" }
        );
    }
    Ok(())
}

fn bench(args: BenchArgs) -> ExitCode {
    let flow = match args.flow.as_str() {
        "plain" => esignet_bench::FlowKind::Plain,
        "fapi" => esignet_bench::FlowKind::Fapi,
        other => {
            eprintln!("unknown flow {other}: use plain or fapi");
            return ExitCode::FAILURE;
        }
    };
    let Some(client_alg) = esignet_jose::Algorithm::parse(&args.client_alg) else {
        eprintln!(
            "unknown client algorithm {}: use RS256 or ES256",
            args.client_alg
        );
        return ExitCode::FAILURE;
    };
    let mut watched = Vec::new();
    for entry in &args.watch {
        let Some((name, comm)) = entry.split_once('=') else {
            eprintln!("--watch takes NAME=COMM, got {entry}");
            return ExitCode::FAILURE;
        };
        watched.push((name.to_owned(), comm.to_owned()));
    }
    let config = esignet_bench::BenchConfig {
        url: args.url.trim_end_matches('/').to_owned(),
        base_path: args.base_path,
        admin_token: args.admin_token,
        concurrency: args.concurrency.max(1),
        logins: args.logins,
        duration: std::time::Duration::from_secs(args.duration),
        warmup: !args.no_warmup,
        flow,
        jwe: args.jwe,
        client_alg,
        individuals: args.individuals.split(',').map(str::to_owned).collect(),
        otp: args.otp,
        server_pid: args.server_pid,
        metrics_url: args.metrics_url,
        watched,
        progress_every: std::time::Duration::from_secs(5),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(esignet_bench::run(config)) {
        Ok(report) => {
            print!("{}", report.text);
            if let Some(path) = args.json
                && let Err(error) = std::fs::write(&path, report.json.to_string())
            {
                eprintln!("cannot write {}: {error}", path.display());
                return ExitCode::FAILURE;
            }
            if report.failed > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(error) => {
            eprintln!("benchmark failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}
