//! The `cryptolens` command line.
#![forbid(unsafe_code)]

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use cryptolens::analyze::AnalyzeOptions;
use cryptolens::auth::Role;
use cryptolens::config::{FlagOverrides, Settings};
use cryptolens::import::{run_import, ImportError, ImportOptions};
use cryptolens::server::{Server, StartOptions};
use cryptolens::store_commands;
use cryptolens::telemetry;

/// mimalloc rather than glibc's malloc: it gives the pages a burst freed (a 10,000-candle
/// batch, a snapshot round) back to the system, where glibc's per-thread arenas keep them,
/// so a symbol's memory does not depend on how its candles arrived
/// (`benches/load/memory_per_symbol.py`: 1.73 MiB per symbol with glibc, see README).
/// `--features system-allocator` leaves malloc in place for heap profilers that hook it.
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use cryptolens::user_commands::{self, UserCommand};
use cryptolens_actors::domain::market::{Symbol, Timeframe};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "cryptolens",
    version,
    about = "Crypto market scanner and paper-trading engine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server: HTTP API, symbol actors and the embedded store.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080; port 0 picks a free one).
        #[arg(long)]
        bind: Option<SocketAddr>,
        /// Directory of the embedded store (default ./data).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// A TOML file overriding config/default.toml.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Load generated demo candles for several symbols and keep them live.
        #[arg(long)]
        demo: bool,
        /// Follow symbols live from this exchange (binance, bybit, kraken): sets
        /// `exchange.kind`, with that exchange's URLs.
        #[arg(long)]
        exchange: Option<cryptolens::feed::ExchangeKind>,
        /// Symbols to follow, comma-separated (`BTCUSDT,ETHUSDT`, `bybit:ETHUSDT`): sets
        /// `exchange.symbols`.
        #[arg(long)]
        symbols: Option<String>,
    },
    /// Fetch older history of followed symbols from their exchange into a running server.
    Backfill(BackfillArgs),
    /// Check candle files (CSV or JSON) and post them to a running server.
    Import(ImportArgs),
    /// Manage users on the store of a stopped server (passwords are read from stdin).
    User {
        #[command(subcommand)]
        command: UserSubcommand,
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        #[arg(long, global = true)]
        config: Option<PathBuf>,
    },
    /// Operator commands on the store of a stopped server.
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
    /// Replay a strategy over candle files through the engine's own code (no server).
    Backtest(cryptolens::backtest::BacktestArgs),
    /// The signal study: every signal's outcome against random entries, with costs.
    Study(cryptolens::backtest::study::StudyArgs),
    /// Analyse one candle file offline and print indicators, patterns and signals as JSON.
    Analyze {
        /// A candle file in an import format (CSV or JSON).
        #[arg(long)]
        input: PathBuf,
        #[arg(long)]
        timeframe: String,
        /// Symbol the candles belong to (names signals; selects a configured tick size).
        #[arg(long, default_value = "INPUT")]
        symbol: String,
        /// Report every raw detection: no minimum size, no overlap dedupe.
        #[arg(long)]
        raw: bool,
        /// A Fair Value Gap's middle candle must close in the gap's direction.
        #[arg(long)]
        fvg_body_filter: bool,
        /// A TOML file whose [analysis] section overrides the defaults.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UserSubcommand {
    /// Add a user; the password is the first line of standard input.
    Add {
        #[arg(long)]
        username: String,
        /// admin, trader or viewer.
        #[arg(long)]
        role: Role,
    },
    /// Set a user's password (first line of standard input); ends their sessions.
    Passwd {
        #[arg(long)]
        username: String,
    },
    /// Disable a user: their sessions end and their API keys stop working.
    Disable {
        #[arg(long)]
        username: String,
    },
    /// Enable a disabled user again.
    Enable {
        #[arg(long)]
        username: String,
    },
    /// Remove a user's two-factor enrolment (lost phone and recovery codes); they enrol again.
    ResetTotp {
        #[arg(long)]
        username: String,
    },
    /// List users (never their password hashes).
    List,
}

#[derive(Subcommand)]
enum StoreCommand {
    /// Verify every stored value; exit 1 if any is damaged or quarantined.
    Check {
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Rewrite the store into a fresh database to give back disk space; prints the sizes
    /// before and after.
    Compact {
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Recover from a damaged store: move it aside, rebuild every portfolio from the ledger
    /// journal, copy whatever else still reads and verifies; prints what it saved and lost.
    Repair {
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Write a consistent copy of the store and its ledger journal into DIR (new or empty);
    /// while a server runs, it is asked for the copy (admin key in CRYPTOLENS_API_KEY).
    Backup {
        dir: PathBuf,
        /// The running server's address (default: from the settings' server.bind).
        #[arg(long)]
        server: Option<String>,
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Put the backup in DIR in place of the store (stop the server first); the store it
    /// replaces is moved aside, not deleted.
    Restore {
        dir: PathBuf,
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print one symbol's snapshot (candles, indicators, patterns, signals) as JSON.
    Export {
        #[arg(long)]
        symbol: String,
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Command::Serve {
            bind,
            data_dir,
            config,
            demo,
            exchange,
            symbols,
        } => {
            let flags = FlagOverrides { bind, data_dir };
            let feed = FeedFlags { exchange, symbols };
            report(runtime.block_on(serve(config, flags, feed, demo)))
        }
        Command::Backfill(args) => runtime.block_on(backfill(args)),
        Command::Import(args) => runtime.block_on(import(args)),
        Command::Analyze {
            input,
            timeframe,
            symbol,
            raw,
            fvg_body_filter,
            config,
        } => analyze(input, &timeframe, &symbol, raw, fvg_body_filter, config),
        Command::Store { command } => store(command),
        Command::Backtest(args) => backtest(&args),
        Command::Study(args) => bad_input_exits_2(cryptolens::backtest::study::run(&args)),
        Command::User {
            command,
            data_dir,
            config,
        } => runtime.block_on(user(command, data_dir, config)),
    }
}

/// Prints the outcome as JSON; exit 1 when refused (policy, unknown user), 2 when the store
/// cannot be used.
async fn user(
    command: UserSubcommand,
    data_dir: Option<PathBuf>,
    config: Option<PathBuf>,
) -> ExitCode {
    let flags = FlagOverrides {
        bind: None,
        data_dir,
    };
    let settings = match Settings::load(config.as_deref(), &flags) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let command = match command {
        UserSubcommand::Add { username, role } => UserCommand::Add { username, role },
        UserSubcommand::Passwd { username } => UserCommand::Passwd { username },
        UserSubcommand::Disable { username } => UserCommand::Disable { username },
        UserSubcommand::Enable { username } => UserCommand::Enable { username },
        UserSubcommand::ResetTotp { username } => UserCommand::ResetTotp { username },
        UserSubcommand::List => UserCommand::List,
    };
    match user_commands::run(command, &settings).await {
        Ok(outcome) => {
            println!("{outcome}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

/// Runs a store command; answers its JSON report and whether it found damage.
fn store_document(
    command: &StoreCommand,
    settings: &Settings,
) -> anyhow::Result<(serde_json::Value, bool)> {
    let path = cryptolens::server::store_path(settings);
    Ok(match command {
        StoreCommand::Check { .. } => {
            let report = store_commands::check(&path)?;
            let damaged = !report.problems.is_empty();
            (serde_json::to_value(&report)?, damaged)
        }
        StoreCommand::Compact { .. } => (
            serde_json::to_value(store_commands::compact(&path)?)?,
            false,
        ),
        StoreCommand::Repair { .. } => {
            (serde_json::to_value(store_commands::repair(&path)?)?, false)
        }
        StoreCommand::Backup { dir, server, .. } => {
            let bind = settings.server.bind;
            let url = match (server, bind.ip().is_unspecified()) {
                (Some(url), _) => url.trim_end_matches('/').to_owned(),
                (None, true) => format!("http://127.0.0.1:{}", bind.port()),
                (None, false) => format!("http://{bind}"),
            };
            (store_commands::backup(&path, dir, &url)?, false)
        }
        StoreCommand::Restore { dir, .. } => (
            serde_json::to_value(store_commands::restore(&path, dir)?)?,
            false,
        ),
        StoreCommand::Export { symbol, .. } => {
            let symbol = Symbol::parse(symbol)?;
            (store_commands::export(&path, symbol.as_str())?, false)
        }
    })
}

/// Exit 0 when the store is sound, 1 when values are damaged, 2 when it cannot be read.
fn store(command: StoreCommand) -> ExitCode {
    let (data_dir, config) = match &command {
        StoreCommand::Check { data_dir, config }
        | StoreCommand::Compact { data_dir, config }
        | StoreCommand::Repair { data_dir, config }
        | StoreCommand::Backup {
            data_dir, config, ..
        }
        | StoreCommand::Restore {
            data_dir, config, ..
        }
        | StoreCommand::Export {
            data_dir, config, ..
        } => (data_dir.clone(), config.clone()),
    };
    let run = || -> anyhow::Result<ExitCode> {
        let flags = FlagOverrides {
            bind: None,
            data_dir,
        };
        let settings = Settings::load(config.as_deref(), &flags)?;
        let (document, damaged) = store_document(&command, &settings)?;
        let mut out = std::io::stdout().lock();
        let written = serde_json::to_writer_pretty(&mut out, &document)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out));
        // A reader that stops early (`| head`) is not an error of ours.
        if let Err(error) = written {
            if error.kind() != std::io::ErrorKind::BrokenPipe {
                return Err(error.into());
            }
        }
        Ok(if damaged {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        })
    };
    match run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Prints the analysis as one JSON document; any error goes to stderr with exit code 2.
fn analyze(
    input: PathBuf,
    timeframe: &str,
    symbol: &str,
    raw: bool,
    fvg_body_filter: bool,
    config: Option<PathBuf>,
) -> ExitCode {
    let run = || -> anyhow::Result<()> {
        let mut settings = Settings::load(config.as_deref(), &FlagOverrides::default())?.analysis;
        settings.filters_enabled &= !raw;
        settings.fair_value_gap.require_body_direction |= fvg_body_filter;
        let options = AnalyzeOptions {
            input,
            timeframe: timeframe.parse()?,
            symbol: Symbol::parse(symbol)?,
            settings,
        };
        let report = cryptolens::analyze::analyze(&options)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
        out.flush()?;
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn backtest(args: &cryptolens::backtest::BacktestArgs) -> ExitCode {
    bad_input_exits_2(cryptolens::backtest::run(args))
}

/// Bad input exits 2 (as `analyze`), anything else 1.
fn bad_input_exits_2(result: Result<(), cryptolens::backtest::BacktestCliError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(if error.is_bad_input() { 2 } else { 1 })
        }
    }
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `serve --exchange K --symbols A,B`.
struct FeedFlags {
    exchange: Option<cryptolens::feed::ExchangeKind>,
    symbols: Option<String>,
}

async fn serve(
    config: Option<PathBuf>,
    flags: FlagOverrides,
    feed: FeedFlags,
    demo: bool,
) -> anyhow::Result<()> {
    let mut settings = Settings::load(config.as_deref(), &flags)?;
    settings
        .exchange
        .override_with(feed.exchange, feed.symbols.as_deref());
    settings
        .exchange
        .validate()
        .map_err(|message| anyhow::anyhow!("invalid --symbols: {message}"))?;
    telemetry::init(&settings.log);
    // Every file the server creates, sled's log and snapshots included, is its owner's only.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let options = StartOptions {
        demo,
        ..StartOptions::from_env()
    };
    let server = match Server::start(&settings, options).await {
        Ok(server) => server,
        Err(error) if error.is_store_damage() => {
            return Err(anyhow::anyhow!(
                "{error}\nthe store is damaged; to recover, run:\n    cryptolens store repair --data-dir {}\n\
                 (it moves the damaged store aside, rebuilds every portfolio from the ledger journal and \
                 keeps whatever else is readable; see README, Recovery)",
                settings.server.data_dir.display()
            ));
        }
        Err(error) => return Err(error.into()),
    };
    // Tests and scripts read this line to find an ephemeral port.
    println!("cryptolens listening on http://{}", server.local_addr());
    if let Some(file) = server.admin_password_file() {
        println!(
            "cryptolens: created user \"admin\"; its password is in {} (readable by you only); \
             change it with POST /api/auth/password or `cryptolens user passwd --username admin`, \
             then delete the file",
            file.display()
        );
    }
    std::io::stdout().flush().context("writing to stdout")?;
    wait_for_termination().await?;
    tracing::info!("shutdown requested");
    let report = server.shutdown().await;
    // An operator (or systemd) must see that something was lost: the exit status says so.
    if !report.is_complete() {
        anyhow::bail!("shutdown incomplete: {report}");
    }
    Ok(())
}

async fn wait_for_termination() -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate =
        signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut interrupt = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
    Ok(())
}

/// The `import` subcommand's arguments, as given.
#[derive(Args)]
struct ImportArgs {
    #[arg(long)]
    symbol: String,
    #[arg(long)]
    timeframe: String,
    /// Base URL of the running server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// Candles per request (at most 10000).
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u16).range(1..=10000))]
    batch_size: u16,
    /// Only check the files; send nothing.
    #[arg(long)]
    dry_run: bool,
    /// An API key with the admin role (create one with POST /api/keys).
    #[arg(long, env = "CRYPTOLENS_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

async fn import(args: ImportArgs) -> ExitCode {
    let ImportArgs {
        symbol,
        timeframe,
        server,
        batch_size,
        dry_run,
        api_key,
        files,
    } = args;
    let parsed = Symbol::parse(&symbol)
        .map_err(|error| error.to_string())
        .and_then(|symbol| {
            timeframe
                .parse::<Timeframe>()
                .map(|tf| (symbol, tf))
                .map_err(|error| error.to_string())
        });
    let (symbol, timeframe) = match parsed {
        Ok(pair) => pair,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let options = ImportOptions {
        symbol,
        timeframe,
        files,
        server,
        batch_size: usize::from(batch_size),
        dry_run,
        show_progress: true,
        api_key,
    };
    match run_import(&options).await {
        Ok(summary) => {
            let verb = if dry_run { "checked" } else { "imported" };
            println!(
                "{verb} {} candles: {} appended, {} replaced, {} duplicates, {} rejected out of order",
                summary.candles_read, summary.appended, summary.replaced, summary.duplicates, summary.rejected_out_of_order
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            let invalid_input = matches!(
                error,
                ImportError::InvalidRows { .. } | ImportError::Format { .. }
            );
            ExitCode::from(if invalid_input { 2 } else { 1 })
        }
    }
}

/// The `backfill` subcommand's arguments.
#[derive(Args)]
struct BackfillArgs {
    /// Followed symbols, comma-separated.
    #[arg(long, required = true, value_delimiter = ',')]
    symbols: Vec<String>,
    /// Start of the history: a UTC date (2024-01-01), an RFC 3339 time or milliseconds.
    #[arg(long)]
    since: String,
    /// Base URL of the running server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    server: String,
    /// An API key with the admin role.
    #[arg(long, env = "CRYPTOLENS_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
}

async fn backfill(args: BackfillArgs) -> ExitCode {
    if let Err(message) = cryptolens::feed::settings::parse_since_ms(&args.since) {
        eprintln!("error: --since: {message}");
        return ExitCode::from(2);
    }
    let options = cryptolens::backfill_command::BackfillOptions {
        symbols: args.symbols,
        since: args.since,
        server: args.server,
        api_key: args.api_key,
        show_progress: true,
    };
    match cryptolens::backfill_command::run_backfill(&options).await {
        Ok(stored) => {
            for (symbol, candles) in stored {
                println!("{symbol}: {candles} older candles stored");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
