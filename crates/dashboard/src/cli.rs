//! The `yelp-ads` command line.

use std::io::{BufRead, Write};

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use secrecy::zeroize::Zeroize;
use secrecy::{ExposeSecret, SecretString};

use crate::auth::hash_password;
use crate::config::{Config, DatabaseConfig};
use crate::error::{Error, Result};
use crate::store::{AuditAction, AuditEvent, Role, Store, Workspace};
use crate::sync::{SyncEvent, Trigger};

/// Yelp Ads reseller dashboard. Without a subcommand it serves the dashboard (see `serve`).
#[derive(Debug, Parser)]
#[command(
    name = "yelp-ads",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// What to do; `serve` when none is given.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The options of `serve`, for `yelp-ads` alone.
    #[command(flatten)]
    pub serve: Config,
}

/// The subcommands.
// Parsed once per process: the size of `Serve`'s configuration does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the dashboard (web pages and API). In demo mode (--demo, or a database with no workspace and
    /// no --yelp-base-url) Yelp is simulated and the sign-in is demo / demo.
    Serve(Config),
    /// Sync the programs of the workspace of the given Yelp credentials (created if new) into the mirror.
    Sync(SyncArgs),
    /// Bring the database schema up to date.
    Migrate(DatabaseConfig),
    /// Manage workspaces and their Yelp partner credentials.
    Workspace {
        /// What to do with workspaces.
        #[command(subcommand)]
        command: WorkspaceCommand,
    },
    /// Manage the people who sign in.
    User {
        /// What to do with users.
        #[command(subcommand)]
        command: UserCommand,
    },
}

/// `yelp-ads workspace …`.
#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// Create a workspace for a Yelp partner account.
    Add(WorkspaceAddArgs),
    /// Replace a workspace's Yelp partner credentials.
    SetCredentials(SetCredentialsArgs),
    /// List the workspaces (never their passwords).
    List(DatabaseConfig),
}

/// `yelp-ads workspace add`.
#[derive(Debug, Args)]
pub struct WorkspaceAddArgs {
    /// The workspace's name.
    pub name: String,
    /// Root of Yelp's partner API for this account.
    #[arg(long)]
    pub yelp_base_url: String,
    /// Yelp partner username.
    #[arg(long)]
    pub yelp_username: String,
    /// Read the Yelp partner password from the first line of standard input and store it encrypted.
    #[arg(long)]
    pub yelp_password_stdin: bool,
    /// Database location (the key file is kept in the data directory too).
    #[command(flatten)]
    pub database: DatabaseConfig,
}

/// `yelp-ads workspace set-credentials`.
#[derive(Debug, Args)]
pub struct SetCredentialsArgs {
    /// The workspace's name.
    pub name: String,
    /// Root of Yelp's partner API for this account.
    #[arg(long)]
    pub yelp_base_url: String,
    /// Yelp partner username.
    #[arg(long)]
    pub yelp_username: String,
    /// Read the Yelp partner password from the first line of standard input (required).
    #[arg(long, required = true)]
    pub yelp_password_stdin: bool,
    /// Database location (the key file is kept in the data directory too).
    #[command(flatten)]
    pub database: DatabaseConfig,
}

/// `yelp-ads user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user of a workspace.
    Add(UserAddArgs),
    /// Set a user's password (ending their sessions).
    Passwd(PasswdArgs),
    /// List the users of every workspace.
    List(DatabaseConfig),
}

/// `yelp-ads user add`.
#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// The name they sign in with: 1 to 64 of A-Z a-z 0-9 _ . @ -
    pub username: String,
    /// The name of the workspace they belong to.
    #[arg(long)]
    pub workspace: String,
    /// What they may do: admin, operator or viewer.
    #[arg(long)]
    pub role: Role,
    /// Read the password from the first line of standard input (required; at least 8 characters).
    #[arg(long, required = true)]
    pub password_stdin: bool,
    /// Database location.
    #[command(flatten)]
    pub database: DatabaseConfig,
}

/// `yelp-ads user passwd`.
#[derive(Debug, Args)]
pub struct PasswdArgs {
    /// The user's name.
    pub username: String,
    /// Read the new password from the first line of standard input (required; at least 8 characters).
    #[arg(long, required = true)]
    pub password_stdin: bool,
    /// Database location.
    #[command(flatten)]
    pub database: DatabaseConfig,
}

/// `yelp-ads sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Root of Yelp's partner API.
    #[arg(long, env = "YELP_API_BASE_URL")]
    pub yelp_base_url: String,
    /// Yelp partner username.
    #[arg(long, env = "YELP_API_USERNAME")]
    pub yelp_username: String,
    /// Yelp partner password (prefer the environment variable: arguments are visible to other users).
    #[arg(long, env = "YELP_API_PASSWORD", hide_env_values = true)]
    pub yelp_password: SecretString,
    /// Database location.
    #[command(flatten)]
    pub database: DatabaseConfig,
    /// Most pages requested from Yelp at once: the ceiling of the window, which adapts to how many Yelp
    /// serves at once.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Programs per page (the API accepts up to 40; if Yelp refuses it, the sync falls back to 20).
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub page_size: u32,
    /// Requests a second the sync may send to Yelp (0: no limit).
    #[arg(long, env = "YELP_ADS_YELP_RPS", default_value_t = crate::yelp::DEFAULT_REQUESTS_PER_SECOND)]
    pub yelp_rps: f64,
    /// Requests the sync may send to Yelp at once after a quiet spell.
    #[arg(long, env = "YELP_ADS_YELP_BURST", default_value_t = crate::yelp::DEFAULT_BURST, value_parser = clap::value_parser!(u32).range(1..))]
    pub yelp_burst: u32,
    /// Print each event as one JSON object per line instead of a progress bar.
    #[arg(long)]
    pub json: bool,
    /// Allow a plain http base URL beyond a loopback address (the password then travels in the clear).
    #[arg(long, env = "YELP_ADS_ALLOW_INSECURE_YELP_URL", action = clap::ArgAction::SetTrue, value_parser = clap::builder::BoolishValueParser::new())]
    pub allow_insecure_yelp_url: bool,
}

impl SyncArgs {
    /// The dashboard's configuration as this command sets it.
    pub fn config(&self) -> Config {
        Config {
            database: self.database.clone(),
            allow_insecure_yelp_url: self.allow_insecure_yelp_url,
            sync_concurrency: self.concurrency,
            sync_page_size: self.page_size,
            yelp_rps: self.yelp_rps,
            yelp_burst: self.yelp_burst,
            ..Config::default()
        }
    }
}

/// Runs `yelp-ads sync`; answers whether the run completed.
pub async fn sync(args: SyncArgs) -> Result<bool> {
    let config = args.config();
    let store = config.database.open().await?;
    let workspace = store
        .workspace_for_credentials(&args.yelp_base_url, &args.yelp_username)
        .await?;
    let client = config.yelp_settings()?.client(
        &args.yelp_base_url,
        &args.yelp_username,
        args.yelp_password.clone(),
        None,
    )?;
    let engine = crate::app::sync_engine(&config, &store);
    let mut events = engine.sync(&workspace.id, client, Trigger::Cli, None);
    let mut bar = (!args.json).then(new_bar);
    let mut completed = false;
    let mut stdout = std::io::stdout().lock();
    while let Some(sequenced) = events.next().await {
        let event = sequenced.event;
        completed = matches!(event, SyncEvent::Complete { .. });
        if args.json {
            say(
                &mut stdout,
                &serde_json::to_string(&event).unwrap_or_default(),
            )?;
            continue;
        }
        if let Some(bar) = bar.as_mut() {
            show(bar, &event);
            if bar.is_hidden() {
                // Not a terminal (a cron job, a pipe): the outcome as a plain line instead of the bar.
                if let SyncEvent::Complete { message, .. } | SyncEvent::Error { message } = &event {
                    say(&mut stdout, message)?;
                }
            }
        }
    }
    if completed && !args.json {
        // What the agency must act on, by name: businesses for which Yelp would refuse a new program.
        for business in store.business_profiles(&workspace.id).await? {
            if let Some(reason) = business.inactive_reason() {
                let name = business
                    .display_name()
                    .unwrap_or_else(|| business.business_id.clone());
                let line = format!("{name} ({}): {reason}", business.business_id);
                say(&mut stdout, &line)?;
            }
        }
    }
    store.close().await;
    Ok(completed)
}

fn say(out: &mut impl Write, line: &str) -> Result<()> {
    writeln!(out, "{line}").map_err(|e| Error::Invalid(format!("cannot write output: {e}")))
}

fn new_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:40}] {pos}/{len} {percent}% {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

fn show(bar: &ProgressBar, event: &SyncEvent) {
    match event {
        SyncEvent::Start { message, .. } => bar.set_message(message.clone()),
        SyncEvent::Info { total_api, .. } => {
            bar.set_length(*total_api);
            bar.set_message(format!("Found {total_api} programs to sync"));
        }
        SyncEvent::Progress {
            synced,
            added,
            updated,
            ..
        } => {
            bar.set_position(*synced);
            bar.set_message(format!("{added} added, {updated} updated"));
        }
        SyncEvent::Listed { message, .. } => bar.set_message(message.clone()),
        SyncEvent::Enrich { done, total } => {
            bar.set_message(format!("business names: {done} of {total} calls"));
        }
        SyncEvent::Complete {
            message, warning, ..
        } => {
            bar.finish_with_message(format!("✅ {message}"));
            if let Some(w) = warning {
                bar.println(format!("warning: {w}"));
            }
        }
        SyncEvent::Error { message } => bar.abandon_with_message(format!("❌ {message}")),
    }
}

/// Runs `yelp-ads workspace …`, printing plain lines to stdout.
pub async fn workspace(command: WorkspaceCommand) -> Result<()> {
    let mut out = Output::stdout();
    match command {
        WorkspaceCommand::Add(args) => {
            let password_enc = if args.yelp_password_stdin {
                let password = read_secret_line("the Yelp partner password")?;
                let sealed = args.database.secrets()?;
                Some(sealed.encrypt(password.expose_secret()))
            } else {
                None
            };
            let store = args.database.open().await?;
            let created = store
                .create_workspace(
                    &args.name,
                    &args.yelp_base_url,
                    &args.yelp_username,
                    password_enc.as_deref(),
                )
                .await;
            store.close().await;
            let workspace = created?;
            out.line(&format!(
                "created workspace {} ({})",
                workspace.name, workspace.id
            ))
        }
        WorkspaceCommand::SetCredentials(args) => {
            let password = read_secret_line("the Yelp partner password")?;
            let password_enc = args.database.secrets()?.encrypt(password.expose_secret());
            let store = args.database.open().await?;
            let result = async {
                let workspace = workspace_named(&store, &args.name).await?;
                store
                    .set_workspace_credentials(
                        &workspace.id,
                        &args.yelp_base_url,
                        &args.yelp_username,
                        &password_enc,
                    )
                    .await?;
                Ok::<_, Error>(workspace)
            }
            .await;
            store.close().await;
            let workspace = result?;
            out.line(&format!(
                "updated the Yelp credentials of workspace {}",
                workspace.name
            ))
        }
        WorkspaceCommand::List(database) => {
            let store = database.open().await?;
            let result = async {
                let mut rows = Vec::new();
                for workspace in store.workspaces().await? {
                    let stored = store.workspace_password_enc(&workspace.id).await?.is_some();
                    rows.push((workspace, stored));
                }
                Ok::<_, Error>(rows)
            }
            .await;
            store.close().await;
            for (workspace, stored) in result? {
                let password = if stored {
                    "password stored"
                } else {
                    "no password stored"
                };
                out.line(&format!(
                    "{}\t{}\t{}\t{}\t{password}",
                    workspace.name, workspace.id, workspace.yelp_base_url, workspace.yelp_username
                ))?;
            }
            Ok(())
        }
    }
}

/// Who the audit log names for what `yelp-ads` does on the command line.
const COMMAND_LINE: &str = "command line";

/// Runs `yelp-ads user …`, printing plain lines to stdout.
pub async fn user(command: UserCommand) -> Result<()> {
    let mut out = Output::stdout();
    match command {
        UserCommand::Add(args) => {
            crate::store::validate_username(&args.username)?;
            let password = read_secret_line("the password")?;
            let hash = hash_password(password.expose_secret())?;
            let store = args.database.open().await?;
            let result = async {
                let workspace = workspace_named(&store, &args.workspace).await?;
                let user = store
                    .create_user(&workspace.id, &args.username, &hash, args.role)
                    .await?;
                let event = AuditEvent {
                    workspace_id: Some(workspace.id.clone()),
                    actor: Some(COMMAND_LINE.into()),
                    target: Some(user.username.clone()),
                    detail: Some(format!("added as {}", user.role)),
                    ..AuditEvent::default()
                };
                store
                    .audit(AuditAction::UserAdded, event, crate::store::now_ms())
                    .await?;
                Ok::<_, Error>((workspace, user))
            }
            .await;
            store.close().await;
            let (workspace, user) = result?;
            out.line(&format!(
                "created user {} ({}) in workspace {}",
                user.username, user.role, workspace.name
            ))
        }
        UserCommand::Passwd(args) => {
            let password = read_secret_line("the password")?;
            let hash = hash_password(password.expose_secret())?;
            let store = args.database.open().await?;
            let result = async {
                let (user, _) = store
                    .user_by_username(&args.username)
                    .await?
                    .ok_or_else(|| Error::NotFound(format!("user '{}'", args.username)))?;
                store.set_user_password_hash(&user.id, &hash).await?;
                let event = AuditEvent {
                    workspace_id: Some(user.workspace_id.clone()),
                    actor: Some(COMMAND_LINE.into()),
                    target: Some(user.username.clone()),
                    detail: Some("password changed; their sessions ended".into()),
                    ..AuditEvent::default()
                };
                store
                    .audit(AuditAction::PasswordChanged, event, crate::store::now_ms())
                    .await?;
                Ok::<_, Error>(user)
            }
            .await;
            store.close().await;
            let user = result?;
            out.line(&format!(
                "changed the password of {}; their sessions have ended",
                user.username
            ))
        }
        UserCommand::List(database) => {
            let store = database.open().await?;
            let result = async {
                let names: std::collections::HashMap<String, String> = store
                    .workspaces()
                    .await?
                    .into_iter()
                    .map(|w| (w.id, w.name))
                    .collect();
                let users = store.users().await?;
                Ok::<_, Error>((names, users))
            }
            .await;
            store.close().await;
            let (names, users) = result?;
            for user in users {
                let workspace = names.get(&user.workspace_id).map_or("?", String::as_str);
                out.line(&format!("{}\t{workspace}\t{}", user.username, user.role))?;
            }
            Ok(())
        }
    }
}

async fn workspace_named(store: &Store, name: &str) -> Result<Workspace> {
    store
        .workspace_by_name(name)
        .await?
        .ok_or_else(|| Error::NotFound(format!("workspace '{name}'")))
}

/// Reads one line of standard input as a secret, without its line ending; an empty one is refused.
fn read_secret_line(what: &str) -> Result<SecretString> {
    let mut line = String::new();
    if let Err(e) = std::io::stdin().lock().read_line(&mut line) {
        line.zeroize();
        return Err(Error::Invalid(format!(
            "cannot read {what} from standard input: {e}"
        )));
    }
    if line.ends_with('\n') {
        line.pop();
        if line.ends_with('\r') {
            line.pop();
        }
    }
    // Into the secret as it is, so that no copy is left behind.
    let secret = SecretString::from(line);
    if secret.expose_secret().is_empty() {
        return Err(Error::Invalid(format!(
            "{what} must be given on standard input and must not be empty"
        )));
    }
    Ok(secret)
}

/// Standard output for plain result lines.
struct Output(std::io::Stdout);

impl Output {
    fn stdout() -> Self {
        Self(std::io::stdout())
    }

    fn line(&mut self, line: &str) -> Result<()> {
        writeln!(self.0.lock(), "{line}")
            .map_err(|e| Error::Invalid(format!("cannot write output: {e}")))
    }
}
