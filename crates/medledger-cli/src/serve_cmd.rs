//! `medledger serve` (the HTTP API and the review UI) and `medledger token
//! create` (an API token for a user of the same database).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use medledger_server::{AppState, ServerOptions};
use serde_json::json;

use crate::coding::{ModelArgs, default_model_path};
use crate::ledger_cmd::{LedgerOpts, open_ledger, principal};

#[derive(Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Largest request body in bytes (larger: 413).
    #[arg(long, default_value_t = 2 << 20)]
    pub max_body_bytes: usize,
    /// Requests running longer are answered 503.
    #[arg(long, default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Worker threads for requests and for coding (default: all cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Ledger connections in the pool.
    #[arg(long, default_value_t = 4)]
    pub db_pool: usize,
    /// Default claim template (JSON) for POST /api/v1/encounters/{id}/claim.
    #[arg(long)]
    pub claim_template: Option<PathBuf>,
    /// Payer profiles directory (`*.toml`; default: the built-in profiles).
    #[arg(long)]
    pub payers: Option<PathBuf>,
    /// Gold-card programs (TOML, `[[program]]` tables) for the gold-card report and dashboard;
    /// default: the Texas HB 3459 model.
    #[arg(long)]
    pub gold_card_config: Option<PathBuf>,
    /// Login sessions expire after this many minutes.
    #[arg(long, default_value_t = 720)]
    pub session_minutes: u64,
    /// Seconds shutdown waits for in-flight requests.
    #[arg(long, default_value_t = 20)]
    pub shutdown_grace_secs: u64,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Subcommand)]
pub enum TokenCmd {
    /// Create an API token for a user (printed once; only its hash is stored).
    Create {
        /// The user.
        username: String,
        /// What the token is for.
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

pub fn serve(args: &ServeArgs, data_dir: &Path, o: &LedgerOpts, json: bool) -> Result<()> {
    init_tracing(json);
    // First open through the CLI path: creates keys and runs migrations
    // with the usual messages.
    drop(open_ledger(data_dir, o, true)?);
    let mut opts = ServerOptions::new(data_dir);
    opts.db = o.db.clone();
    opts.master_key_file = o.master_key_file.clone();
    opts.default_org = o.org.clone();
    opts.model = if args.model.no_model {
        None
    } else {
        args.model.model.clone().or_else(|| {
            let p = default_model_path(data_dir);
            p.exists().then_some(p)
        })
    };
    opts.ledger_pool = args.db_pool.max(1);
    opts.workers = args.workers.unwrap_or(0);
    opts.max_body_bytes = args.max_body_bytes;
    opts.request_timeout = Duration::from_secs(args.request_timeout_secs.max(1));
    opts.session_ttl = Duration::from_secs(args.session_minutes.max(1) * 60);
    opts.claim_template = args.claim_template.clone();
    opts.payers = args.payers.clone();
    opts.gold_card_config = args.gold_card_config.clone();
    opts.shutdown_grace = Duration::from_secs(args.shutdown_grace_secs);
    let workers = if opts.workers == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        opts.workers
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .max_blocking_threads(opts.ledger_pool * 4 + 8)
        .thread_name("medledger-http")
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let state = AppState::open(opts)?;
    state.warm_up();
    let addr = args.addr;
    rt.block_on(async move {
        medledger_server::serve(state, addr, |bound| {
            if json {
                println!("{}", json!({"listening": bound.to_string()}));
            } else {
                println!("medledger serve: listening on http://{bound}");
            }
            use std::io::Write as _;
            let _ = std::io::stdout().flush();
        })
        .await
    })
    .with_context(|| format!("serving on {addr}"))?;
    Ok(())
}

fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("MEDLEDGER_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        b.json().try_init()
    } else {
        b.try_init()
    };
}

pub fn token(cmd: &TokenCmd, data_dir: &Path, o: &LedgerOpts, json: bool) -> Result<()> {
    let TokenCmd::Create { username, label } = cmd;
    let mut l = open_ledger(data_dir, o, json)?;
    let p = principal(&mut l, o)?;
    let t = l.issue_token(&p, username, label)?;
    use secrecy::ExposeSecret as _;
    if json {
        println!(
            "{}",
            json!({"token": t.expose_secret(), "username": username, "label": label})
        );
    } else {
        println!(
            "token for {username} ({label}; shown once, store it now):\n{}",
            t.expose_secret()
        );
    }
    Ok(())
}
