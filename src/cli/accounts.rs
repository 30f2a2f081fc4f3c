//! `territorio accounts --file FILE ...`: who may edit. Adds and removes users, sets passwords,
//! grants and revokes the right to edit collections, issues and revokes bearer tokens, and
//! lists it all (never a hash). The file's format is in [`crate::accounts::AccountsFile`]; a
//! running server sees every change within a second.
//!
//! Messages go to standard error; standard output carries only what a script reads: the
//! token of `issue-token` (alone on a line) and the listing of `list`.

use std::io::{BufRead, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};

use crate::accounts::{check_password, AccountsFile, HashCost, MAX_PASSWORD_BYTES};

/// Options of `territorio accounts`.
#[derive(Debug, Args)]
pub struct AccountsArgs {
    /// The accounts file (TOML; created by `add-user` when missing, written with mode 0600).
    #[arg(long)]
    pub file: PathBuf,
    #[command(subcommand)]
    pub action: AccountsAction,
}

/// What `territorio accounts` does.
#[derive(Debug, Subcommand)]
pub enum AccountsAction {
    /// Add a user, with the collections they may edit. The password is asked on the terminal
    /// (twice, without echo), or read as one line from standard input.
    AddUser {
        /// The user name (no ':' and no spaces).
        name: String,
        /// A collection id the user may edit (repeat for several; `*` for every collection).
        #[arg(long = "edit", value_name = "COLLECTION")]
        edit: Vec<String>,
        /// Read the password as one line from standard input, even from a terminal.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password (asked as for add-user).
    SetPassword {
        name: String,
        /// Read the password as one line from standard input, even from a terminal.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Let a user edit more collections (`*`: every collection).
    Grant {
        name: String,
        #[arg(required = true)]
        collections: Vec<String>,
    },
    /// Take collections from what a user may edit.
    Revoke {
        name: String,
        #[arg(required = true)]
        collections: Vec<String>,
    },
    /// Let a user run the server's administration (`POST /admin/reload`).
    GrantAdmin { name: String },
    /// Take the administration from a user.
    RevokeAdmin { name: String },
    /// Remove a user and their tokens.
    RemoveUser { name: String },
    /// Issue a bearer token for scripts: printed once on standard output, kept only as a hash.
    IssueToken {
        name: String,
        /// What the token is for (shown by `list`).
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Revoke a token by its public id (as `list` shows it).
    RevokeToken {
        #[arg(value_name = "TOKEN_ID")]
        id: String,
    },
    /// List users, what they may edit, and their tokens by id and label.
    List,
}

/// Runs `territorio accounts`; returns the exit code.
pub fn run(args: AccountsArgs) -> Result<i32> {
    let path = args.file.as_path();
    let cost = HashCost::RECOMMENDED;
    match args.action {
        AccountsAction::AddUser {
            name,
            edit,
            password_stdin,
        } => {
            if AccountsFile::read_or_new(path)?.user(&name).is_some() {
                bail!("user {name:?} already exists in {}", path.display());
            }
            let password = read_password(&name, password_stdin)?;
            AccountsFile::update(path, true, |f| f.add_user(&name, &password, &edit, cost))?;
            eprintln!(
                "added user {name} to {} (may edit: {})",
                path.display(),
                rights(&edit)
            );
        }
        AccountsAction::SetPassword {
            name,
            password_stdin,
        } => {
            if AccountsFile::read(path)?.user(&name).is_none() {
                bail!("no user {name:?} in {}", path.display());
            }
            let password = read_password(&name, password_stdin)?;
            AccountsFile::update(path, false, |f| f.set_password(&name, &password, cost))?;
            eprintln!("set the password of {name} in {}", path.display());
        }
        AccountsAction::Grant { name, collections } => {
            let edit = AccountsFile::update(path, false, |f| {
                f.grant(&name, &collections)?;
                Ok(f.user(&name).map(|u| u.edit().to_vec()).unwrap_or_default())
            })?;
            eprintln!("{name} may edit: {}", rights(&edit));
        }
        AccountsAction::Revoke { name, collections } => {
            let edit = AccountsFile::update(path, false, |f| {
                f.revoke(&name, &collections)?;
                Ok(f.user(&name).map(|u| u.edit().to_vec()).unwrap_or_default())
            })?;
            eprintln!("{name} may edit: {}", rights(&edit));
        }
        AccountsAction::GrantAdmin { name } => {
            AccountsFile::update(path, false, |f| f.set_admin(&name, true))?;
            eprintln!("{name} may run the server's administration");
        }
        AccountsAction::RevokeAdmin { name } => {
            AccountsFile::update(path, false, |f| f.set_admin(&name, false))?;
            eprintln!("{name} may no longer run the server's administration");
        }
        AccountsAction::RemoveUser { name } => {
            AccountsFile::update(path, false, |f| f.remove_user(&name))?;
            eprintln!("removed user {name} from {}", path.display());
        }
        AccountsAction::IssueToken { name, label } => {
            let token = AccountsFile::update(path, false, |f| f.issue_token(&name, &label))?;
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{}", token.reveal())?;
            stdout.flush()?;
            eprintln!(
                "issued token {} to {name}: it is shown only now, keep it (send it as \
                 `Authorization: Bearer TOKEN`)",
                token.id()
            );
        }
        AccountsAction::RevokeToken { id } => {
            let user = AccountsFile::update(path, false, |f| f.revoke_token(&id))?;
            eprintln!("revoked a token of {user}");
        }
        AccountsAction::List => list(path)?,
    }
    Ok(0)
}

/// `list`: one line per user, then one per token.
fn list(path: &Path) -> Result<()> {
    let file = AccountsFile::read(path)?;
    let mut out = std::io::stdout().lock();
    if file.users().is_empty() {
        eprintln!("no users in {}", path.display());
    }
    for user in file.users() {
        let admin = if user.is_admin() { ", administers" } else { "" };
        writeln!(
            out,
            "{}: may edit {}{admin}",
            user.name(),
            rights(user.edit())
        )?;
        for token in user.tokens() {
            let label = if token.label().is_empty() {
                String::new()
            } else {
                format!(" {:?}", token.label())
            };
            writeln!(
                out,
                "  token {}{label}, issued {}",
                token.id(),
                token.created()
            )?;
        }
    }
    Ok(())
}

fn rights(edit: &[String]) -> String {
    if edit.iter().any(|c| c == "*") {
        "every collection".to_string()
    } else if edit.is_empty() {
        "nothing".to_string()
    } else {
        edit.join(", ")
    }
}

/// A new password: from the terminal without echo (asked twice), or one line of standard input
/// when it is not a terminal or `--password-stdin` says so. Its length is checked by the edit.
fn read_password(name: &str, from_stdin: bool) -> Result<String> {
    let stdin = std::io::stdin();
    if !from_stdin && stdin.is_terminal() {
        let first = rpassword::prompt_password(format!("password for {name}: "))
            .context("reading the password from the terminal")?;
        check_password(&first)?;
        let second = rpassword::prompt_password("the same password again: ")
            .context("reading the password from the terminal")?;
        if first != second {
            bail!("the two passwords differ");
        }
        return Ok(first);
    }
    let mut line = String::new();
    stdin
        .lock()
        .take(MAX_PASSWORD_BYTES as u64 + 3)
        .read_line(&mut line)
        .context("reading the password from standard input (one line of UTF-8)")?;
    let password = line
        .strip_suffix('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .unwrap_or(&line);
    Ok(password.to_string())
}
