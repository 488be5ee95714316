//! Wiring of the wallet flows (key binding, QR-code login): the key binder of the configured
//! identity system and the public key registry of the configured store.

use std::sync::Arc;

use anyhow::Context;
use esignet_config::Settings;
use esignet_core::WalletSupport;
use esignet_keys::{KeyEncryptionKey, KeyManager};
use esignet_mock_authenticator::{MockAuthenticator, MockKeyBinder};
use esignet_spi::{BindingStore, Clock, KeyBinder};

use crate::backends::Store;
use crate::core_config::wallet_config;

/// Key application of the built-in mock identity system's binding CA (it certifies wallet
/// keys), as MOSIP's keymanager names it.
pub const MOCK_BINDING_KEYS: &str = "MOCK_BINDING_SERVICE";

/// The built-in mock identity system's key binder, its binding CA keys opened (generated on
/// first start) from the service's key store, and the CA keys' rotation task.
pub async fn mock_key_binder(
    settings: &Settings,
    store: Arc<dyn Store>,
    kek: Arc<KeyEncryptionKey>,
    clock: Arc<dyn Clock>,
    mock: Arc<MockAuthenticator>,
) -> anyhow::Result<(Arc<dyn KeyBinder>, tokio::task::JoinHandle<()>)> {
    let policy = crate::app::key_policy(settings, "Mock identity system wallet binding CA")?
        .issuing_certificates();
    let keys = KeyManager::open(store, kek, clock, MOCK_BINDING_KEYS, policy)
        .await
        .context("cannot open the mock identity system's binding CA keys")?;
    let rotation = keys.spawn_rotation(settings.keys.rotation_check_interval);
    let validity = time::Duration::try_from(settings.wallet.certificate_validity)
        .context("wallet.certificate_validity_days out of range")?;
    Ok((Arc::new(MockKeyBinder::new(mock, keys, validity)), rotation))
}

/// The wallet support of the core: the identity system's key binder and the store's public key
/// registry, with the `[wallet]` settings.
pub fn wallet_support(
    settings: &Settings,
    binder: Arc<dyn KeyBinder>,
    bindings: Arc<dyn BindingStore>,
) -> WalletSupport {
    WalletSupport {
        config: wallet_config(settings),
        binder,
        bindings,
    }
}

/// `esignet wallet-sim`: a wallet app on the command line (see `esignet_wallet_sim`).
#[derive(clap::Args)]
pub struct WalletSimArgs {
    /// The server's public base URL.
    #[arg(long, default_value = "http://127.0.0.1:8088")]
    url: String,
    /// The API base path.
    #[arg(long, default_value = "/v1/esignet")]
    base_path: String,
    /// The resident (individual id) the wallet belongs to.
    #[arg(long, default_value = "8267411571")]
    individual_id: String,
    /// The OTP the identity system accepts (the built-in mock's development OTP by default).
    #[arg(long, default_value = "111111")]
    otp: String,
    /// The link code shown by the login page (the code, or the QR code's deep link).
    #[arg(long)]
    link_code: Option<String>,
    /// Where the wallet keeps its binding (private key included); reused when present.
    #[arg(long, default_value = "wallet-binding.json")]
    state_file: std::path::PathBuf,
    /// Bind a new key even if the state file holds a binding.
    #[arg(long)]
    rebind: bool,
    /// Key algorithm of a new binding: ES256 or RS256.
    #[arg(long, default_value = "ES256")]
    algorithm: String,
    /// Accept every requested claim and scope (default: essential claims only).
    #[arg(long)]
    accept_all: bool,
    /// The `aud` of WLA tokens (the server's `wallet.binding_audience`).
    #[arg(long, default_value = esignet_wallet_sim::DEFAULT_AUDIENCE)]
    audience: String,
}

/// Runs `esignet wallet-sim`: binds (or reuses the saved binding), then logs in with the link
/// code if one was given. Prints what it did, never the private key.
pub fn wallet_sim(args: WalletSimArgs) -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run_wallet_sim(&args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("wallet-sim failed: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run_wallet_sim(args: &WalletSimArgs) -> anyhow::Result<()> {
    use esignet_wallet_sim::{Binding, ConsentChoice, WalletSim};

    let wallet = WalletSim::new(
        &args.url,
        &args.base_path,
        Arc::new(esignet_spi::SystemClock),
    )?
    .with_audience(args.audience.clone());
    let saved = if args.rebind {
        None
    } else {
        match std::fs::read_to_string(&args.state_file) {
            Ok(text) => Some(Binding::from_json(&serde_json::from_str(&text)?)?),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("cannot read {}", args.state_file.display()));
            }
        }
    };
    let binding = match saved {
        Some(binding) => {
            println!(
                "using the binding in {} (expires {})",
                args.state_file.display(),
                binding.expire_date_time
            );
            binding
        }
        None => {
            let algorithm = esignet_jose::Algorithm::parse(&args.algorithm)
                .context("the algorithm must be ES256 or RS256")?;
            let binding = wallet
                .bind(&args.individual_id, &args.otp, algorithm)
                .await?;
            write_private(
                &args.state_file,
                &serde_json::to_vec_pretty(&binding.to_json()?)?,
            )?;
            println!(
                "bound a new {} key (certificate thumbprint {}, expires {}); saved to {}",
                args.algorithm,
                binding.thumbprint,
                binding.expire_date_time,
                args.state_file.display()
            );
            binding
        }
    };
    if let Some(link_code) = &args.link_code {
        let choice = if args.accept_all {
            ConsentChoice::All
        } else {
            ConsentChoice::EssentialOnly
        };
        let outcome = wallet
            .login(&binding, &args.individual_id, link_code, &choice)
            .await?;
        println!(
            "logged in: consent {} (claims: {}; scopes: {}); the login page now collects its code",
            outcome.consent_action,
            outcome.accepted_claims.join(" "),
            outcome.permitted_scopes.join(" ")
        );
    }
    Ok(())
}

/// Writes `contents` readable by the owner only (it holds a private key).
fn write_private(path: &std::path::Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(contents)?;
    Ok(())
}
