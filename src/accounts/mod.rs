//! Who may edit: user accounts, their passwords and tokens, and the check of an HTTP
//! `Authorization` header against them. Reading the service stays open to everyone; writing
//! (OGC API - Features Part 4) needs an account whose rights name the collection.
//!
//! This module knows no HTTP type: it takes the header's value as a string and the client's
//! address, and answers a [`Principal`] or an [`AuthError`] whose text a client may see.
//!
//! - The accounts live in one TOML file ([`AccountsFile`] says its format and how it is
//!   written). `territorio accounts --file FILE ...` edits it; a server keeps one [`Accounts`]
//!   open on it and sees those edits while it runs: it looks at the file's size, modification
//!   time and inode at most once per [`Options::reload_interval`] (1 s) and re-reads it when they
//!   changed. A re-read that fails (a half-finished hand edit, a deleted file) is logged as a
//!   warning and the last good version stays in force.
//! - Passwords are Argon2id PHC strings; a `Basic` header is checked with one Argon2 run, tens
//!   of milliseconds by design. An unknown user costs the same run against a dummy hash, so
//!   timing does not tell which names exist.
//! - Since QGIS sends Basic credentials with every request, a successful check is remembered
//!   for [`Options::cache_ttl`] (5 min) under an HMAC of the whole header value (the key is
//!   random, drawn when the [`Accounts`] is opened; no password is kept). The memory is for
//!   one version of the file: any change of the file (a new password, a removed user) ends it.
//! - Bearer tokens (`tt_<id>_<secret>`, 256 random bits) are checked by SHA-256 and a
//!   constant-time comparison: no cache is needed.
//! - Failures (wrong password, unknown user, unknown token) are counted per client address in
//!   a sliding window; from [`Options::max_failures`] (5) failures in
//!   [`Options::failure_window`] (60 s) on, further attempts from that address are refused at
//!   once with [`AuthError::Throttled`], without checking anything, until the oldest of those
//!   failures leaves the window. IPv6 clients are counted by their /64. Malformed headers are
//!   not counted (they test no password). With no client address, nothing is counted.
//!
//! Limitation: behind a reverse proxy every client has the proxy's address, so one client's
//! failures throttle all of them. Reading the client's address from `X-Forwarded-For` or
//! `Forwarded` when the proxy's own address is trusted is not done here (out of scope): the
//! caller passes whatever address it trusts.
//!
//! [`Accounts::authenticate`] may block for tens of milliseconds (one Argon2 run, or waiting for
//! one of at most [`Options::max_concurrent_hashes`] runs at once): async callers run it on
//! blocking threads (`tokio::task::spawn_blocking`), never inline on an async worker.
//!
//! ```
//! use territorio::accounts::{Accounts, AccountsFile, AuthError, HashCost};
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("accounts.toml");
//! // What `territorio accounts --file accounts.toml add-user anna --edit projects` does:
//! AccountsFile::update(&path, true, |file| {
//!     file.add_user("anna", "open sesame", &["projects".into()], HashCost::RECOMMENDED)
//! })?;
//! // What the server does with the `Authorization` header of an edit (anna:open sesame):
//! let accounts = Accounts::open(&path)?;
//! let client = Some([192, 0, 2, 1].into());
//! let anna = accounts.authenticate("Basic YW5uYTpvcGVuIHNlc2FtZQ==", client).unwrap();
//! assert!(anna.may_edit("projects") && !anna.may_edit("zones"));
//! let refused = accounts.authenticate("Basic YW5uYTpvcGVuIHNlc2FtZT8=", client);
//! assert_eq!(refused, Err(AuthError::BadCredentials));
//! # Ok::<(), territorio::accounts::AccountsError>(())
//! ```

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use argon2::password_hash::phc::PasswordHash;

mod file;
mod guard;
mod header;
mod secret;

pub use file::{
    check_password, AccountsFile, Token, User, MAX_LABEL_CHARS, MAX_NAME_CHARS, MAX_PASSWORD_BYTES,
    MIN_PASSWORD_CHARS,
};
pub use header::{Malformed, MAX_HEADER_BYTES};
pub use secret::{hash_password, HashCost, IssuedToken, TOKEN_PREFIX};

use file::Stamp;
use guard::{Cache, Permits, Throttle};
use header::{Credentials, HeaderError};

/// What can go wrong with the accounts file or an edit of it. Texts name the file; none quotes
/// a password, a hash or a token.
#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("accounts file {path} does not exist")]
    NotFound { path: PathBuf },
    #[error("cannot read accounts file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("accounts file {path}{}: {message}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Syntax {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    #[error("accounts file {path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot write accounts file {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("accounts file {path} changed while it was being edited: run the command again")]
    Changed { path: PathBuf },
    #[error("no user {name:?} in {path}")]
    UnknownUser { path: PathBuf, name: String },
    #[error("user {name:?} already exists in {path}")]
    UserExists { path: PathBuf, name: String },
    #[error("no token with id {id:?} in {path}")]
    UnknownTokenId { path: PathBuf, id: String },
    #[error("invalid user name {name:?}: {reason}")]
    BadName { name: String, reason: &'static str },
    #[error("invalid collection id {id:?}: empty, or with spaces or control characters")]
    BadCollection { id: String },
    #[error(
        "invalid token label: longer than {MAX_LABEL_CHARS} characters or with control characters"
    )]
    BadLabel,
    #[error("password refused: {0}")]
    WeakPassword(&'static str),
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
}

/// Why an `Authorization` header was refused. The texts are fit to show a client: they never
/// contain the header, a password or a token, and a wrong password reads as an unknown user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("malformed Authorization header: {0}")]
    Malformed(Malformed),
    #[error("unsupported authorization scheme: use Basic or Bearer")]
    UnsupportedScheme,
    #[error("wrong user name or password")]
    BadCredentials,
    #[error("unknown or revoked token")]
    UnknownToken,
    #[error("too many failed attempts from this address: try again in {} s", retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0))]
    Throttled {
        /// When the address may try again.
        retry_after: Duration,
    },
}

/// Who made a request that [`Accounts::authenticate`] let through, and what they may edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    user: String,
    edit: Vec<String>,
    admin: bool,
    token: Option<String>,
}

impl Principal {
    /// The user name.
    pub fn user(&self) -> &str {
        &self.user
    }

    /// Whether the user may edit the collection with this id.
    pub fn may_edit(&self, collection: &str) -> bool {
        self.edit.iter().any(|c| c == "*" || c == collection)
    }

    /// Whether the user may run the server's administration (reload).
    pub fn is_admin(&self) -> bool {
        self.admin
    }

    /// The public id of the token used, when it was a bearer token (for the logs).
    pub fn token_id(&self) -> Option<&str> {
        self.token.as_deref()
    }
}

/// The knobs of an [`Accounts`]; [`Options::default`] is what the server uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Cost of the dummy hash that unknown users are checked against: the cost new passwords
    /// are hashed at, so that both take the same time ([`HashCost::RECOMMENDED`]).
    pub cost: HashCost,
    /// How often, at most, the file's metadata is looked at for changes (1 s).
    pub reload_interval: Duration,
    /// How long a successful password check is remembered (5 min; zero: never).
    pub cache_ttl: Duration,
    /// Failures from one address that make it wait (5; zero: no throttling).
    pub max_failures: u32,
    /// The window failures are counted in (60 s).
    pub failure_window: Duration,
    /// Argon2 runs at once, each taking [`HashCost::memory_kib`] (default: one per core).
    pub max_concurrent_hashes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cost: HashCost::RECOMMENDED,
            reload_interval: Duration::from_secs(1),
            cache_ttl: Duration::from_secs(5 * 60),
            max_failures: 5,
            failure_window: Duration::from_secs(60),
            max_concurrent_hashes: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// One version of the file, ready for look-ups.
struct Snapshot {
    generation: u64,
    users: HashMap<String, Account>,
    /// Token id -> (user name, SHA-256 of the token).
    tokens: HashMap<String, (String, [u8; 32])>,
}

struct Account {
    hash: PasswordHash,
    edit: Vec<String>,
    admin: bool,
}

impl Snapshot {
    fn new(file: &AccountsFile, generation: u64) -> Result<Snapshot, AccountsError> {
        let mut users = HashMap::new();
        let mut tokens = HashMap::new();
        for user in file.users() {
            // Checked when the file was read.
            let hash = secret::parse_phc(user.password_hash()).map_err(|message| {
                AccountsError::Invalid {
                    path: file.path().to_path_buf(),
                    message,
                }
            })?;
            for t in user.tokens() {
                tokens.insert(t.id().to_string(), (user.name().to_string(), t.digest()));
            }
            users.insert(
                user.name().to_string(),
                Account {
                    hash,
                    edit: user.edit().to_vec(),
                    admin: user.is_admin(),
                },
            );
        }
        Ok(Snapshot {
            generation,
            users,
            tokens,
        })
    }

    fn principal(&self, user: &str, token: Option<&str>) -> Option<Principal> {
        let account = self.users.get(user)?;
        Some(Principal {
            user: user.to_string(),
            edit: account.edit.clone(),
            admin: account.admin,
            token: token.map(str::to_string),
        })
    }
}

/// When the file was last looked at, and what it looked like.
struct Watch {
    checked: Instant,
    /// The version last seen (`None`: the file could not be looked at); a failed read is
    /// not tried again until the file changes again.
    seen: Option<Stamp>,
}

/// The accounts of a running server: the file's last good version, the cache of successful
/// checks and the failure counts. Share it (`Arc<Accounts>`); every method takes `&self`.
///
/// Its `Debug` shows the path and the number of users.
pub struct Accounts {
    path: PathBuf,
    options: Options,
    current: RwLock<Arc<Snapshot>>,
    watch: Mutex<Watch>,
    cache: Cache,
    throttle: Throttle,
    /// One password check at a time per client: its attempts are counted one after another,
    /// so attempts sent at once cannot all slip under the limit, and a client that opens
    /// several connections with the right password (QGIS does) is not counted at all.
    checking: Mutex<HashMap<IpAddr, Arc<Mutex<()>>>>,
    permits: Permits,
    dummy: PasswordHash,
}

impl fmt::Debug for Accounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accounts")
            .field("path", &self.path)
            .field("users", &self.snapshot().users.len())
            .finish_non_exhaustive()
    }
}

impl Accounts {
    /// Opens the accounts file at `path` with the default [`Options`].
    pub fn open(path: &Path) -> Result<Accounts, AccountsError> {
        Accounts::open_with(path, Options::default())
    }

    /// Opens the accounts file at `path`. A missing, unreadable or invalid file is an error
    /// naming it (and the line, for syntax errors). Takes one Argon2 run (the dummy hash).
    pub fn open_with(path: &Path, options: Options) -> Result<Accounts, AccountsError> {
        let file = AccountsFile::read(path)?;
        warn_if_readable_by_others(path);
        let snapshot = Snapshot::new(&file, 0)?;
        // The hash unknown users are checked against: of a random password no one knows.
        let dummy_password = secret::hex(&secret::random::<16>()?);
        let dummy = secret::parse_phc(&hash_password(&dummy_password, options.cost)?)
            .map_err(AccountsError::Hash)?;
        Ok(Accounts {
            path: path.to_path_buf(),
            current: RwLock::new(Arc::new(snapshot)),
            watch: Mutex::new(Watch {
                checked: Instant::now(),
                seen: file.stamp(),
            }),
            cache: Cache::new(secret::random::<64>()?, options.cache_ttl),
            throttle: Throttle::new(options.max_failures, options.failure_window),
            checking: Mutex::new(HashMap::new()),
            permits: Permits::new(options.max_concurrent_hashes),
            dummy,
            options,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks the value of an `Authorization` header (`Basic ...` or `Bearer ...`) sent from
    /// `client`, and says who sent it and what they may edit.
    ///
    /// May block for tens of milliseconds (an Argon2 run on a cache miss): call it from a
    /// blocking thread, not an async worker. The file is looked at first, at most once per
    /// [`Options::reload_interval`].
    pub fn authenticate(
        &self,
        authorization: &str,
        client: Option<IpAddr>,
    ) -> Result<Principal, AuthError> {
        self.reload_if_due();
        let now = Instant::now();
        let client = client.map(guard::client_key);
        if let Some(ip) = client {
            self.throttle
                .check(ip, now)
                .map_err(|retry_after| AuthError::Throttled { retry_after })?;
        }
        let credentials = header::parse(authorization).map_err(|e| match e {
            HeaderError::Malformed(m) => AuthError::Malformed(m),
            HeaderError::UnsupportedScheme => AuthError::UnsupportedScheme,
        })?;
        let snapshot = self.snapshot();
        match credentials {
            Credentials::Bearer(token) => self.bearer(&snapshot, token, client, now),
            Credentials::Basic { user, password } => {
                let key = self.cache.key_of(authorization);
                if let Some(cached) = self.cache.get(&key, snapshot.generation, now) {
                    if let Some(principal) = snapshot.principal(&cached, None) {
                        return Ok(principal);
                    }
                }
                // One check at a time per client; once its turn comes, the limit and the cache
                // are looked at again (the check before it may have failed, or succeeded with
                // the same header).
                let turn = client.map(|ip| self.turn_of(ip));
                let _turn = turn
                    .as_ref()
                    .map(|t| t.lock().unwrap_or_else(|e| e.into_inner()));
                let now = Instant::now();
                if let Some(ip) = client {
                    self.throttle
                        .check(ip, now)
                        .map_err(|retry_after| AuthError::Throttled { retry_after })?;
                }
                if let Some(cached) = self.cache.get(&key, snapshot.generation, now) {
                    if let Some(principal) = snapshot.principal(&cached, None) {
                        return Ok(principal);
                    }
                }
                let account = snapshot.users.get(&user);
                let hash = account.map_or(&self.dummy, |a| &a.hash);
                let matches = {
                    let _permit = self.permits.acquire();
                    secret::verify_password(password.as_bytes(), hash)
                };
                let answer = match account {
                    Some(_) if matches => {
                        self.cache
                            .insert(key, &user, snapshot.generation, Instant::now());
                        snapshot
                            .principal(&user, None)
                            .ok_or(AuthError::BadCredentials)
                    }
                    _ => {
                        if let Some(ip) = client {
                            self.throttle.fail(ip, now);
                        }
                        Err(AuthError::BadCredentials)
                    }
                };
                drop(_turn);
                if let (Some(ip), Some(turn)) = (client, turn) {
                    self.done_with_turn(ip, turn);
                }
                answer
            }
        }
    }

    /// The answer of [`Accounts::authenticate`] when it needs neither a password check nor a
    /// look at the file: a bearer token (a SHA-256 digest), HTTP Basic credentials in the cache,
    /// a malformed header, a throttled client. `None` for the rest: then call
    /// [`Accounts::authenticate`] from a blocking thread. Takes microseconds, so an async worker
    /// may call it, and spares most requests of a signed-in client the trip to another thread.
    pub fn authenticate_at_once(
        &self,
        authorization: &str,
        client: Option<IpAddr>,
    ) -> Option<Result<Principal, AuthError>> {
        if self.reload_due() {
            return None;
        }
        let now = Instant::now();
        let client = client.map(guard::client_key);
        if let Some(ip) = client {
            if let Err(retry_after) = self.throttle.check(ip, now) {
                return Some(Err(AuthError::Throttled { retry_after }));
            }
        }
        let credentials = match header::parse(authorization) {
            Ok(c) => c,
            Err(HeaderError::Malformed(m)) => return Some(Err(AuthError::Malformed(m))),
            Err(HeaderError::UnsupportedScheme) => return Some(Err(AuthError::UnsupportedScheme)),
        };
        let snapshot = self.snapshot();
        match credentials {
            Credentials::Bearer(token) => Some(self.bearer(&snapshot, token, client, now)),
            Credentials::Basic { .. } => {
                let cached =
                    self.cache
                        .get(&self.cache.key_of(authorization), snapshot.generation, now)?;
                snapshot.principal(&cached, None).map(Ok)
            }
        }
    }

    /// Who holds bearer `token`; a failure counts against `client`.
    fn bearer(
        &self,
        snapshot: &Snapshot,
        token: &str,
        client: Option<IpAddr>,
        now: Instant,
    ) -> Result<Principal, AuthError> {
        let found = secret::token_id(token)
            .and_then(|id| snapshot.tokens.get(id).map(|t| (id, t)))
            .filter(|(_, (_, digest))| secret::same_digest(digest, &secret::token_digest(token)))
            .and_then(|(id, (user, _))| snapshot.principal(user, Some(id)));
        found.ok_or_else(|| {
            if let Some(ip) = client {
                self.throttle.fail(ip, now);
            }
            AuthError::UnknownToken
        })
    }

    /// The lock that orders the password checks of one client.
    fn turn_of(&self, ip: IpAddr) -> Arc<Mutex<()>> {
        let mut checking = self.checking.lock().unwrap_or_else(|e| e.into_inner());
        checking.entry(ip).or_default().clone()
    }

    /// Forgets a client's lock when no other check of it holds or waits for it.
    fn done_with_turn(&self, ip: IpAddr, turn: Arc<Mutex<()>>) {
        let mut checking = self.checking.lock().unwrap_or_else(|e| e.into_inner());
        // Ours and the map's: nobody else.
        if Arc::strong_count(&turn) == 2 {
            checking.remove(&ip);
        }
    }

    /// The names of the users, sorted (for the logs and the landing page).
    pub fn users(&self) -> Vec<String> {
        let mut names: Vec<String> = self.snapshot().users.keys().cloned().collect();
        names.sort();
        names
    }

    fn snapshot(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether [`Accounts::reload_if_due`] would look at the file now.
    fn reload_due(&self) -> bool {
        let watch = match self.watch.try_lock() {
            Ok(w) => w,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return false,
        };
        Instant::now().saturating_duration_since(watch.checked) >= self.options.reload_interval
    }

    /// Re-reads the file when it changed, at most once per reload interval; only one thread
    /// looks at a time, the others go on with the version they have.
    fn reload_if_due(&self) {
        let mut watch = match self.watch.try_lock() {
            Ok(w) => w,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return,
        };
        let now = Instant::now();
        if now.saturating_duration_since(watch.checked) < self.options.reload_interval {
            return;
        }
        watch.checked = now;
        let stamp = match Stamp::of(&self.path) {
            Ok(s) => s,
            Err(e) => {
                if watch.seen.take().is_some() {
                    tracing::warn!(
                        "cannot look at accounts file {}: {e}; keeping the accounts read before",
                        self.path.display()
                    );
                }
                return;
            }
        };
        if watch.seen == Some(stamp) {
            return;
        }
        watch.seen = Some(stamp);
        let generation = self.snapshot().generation + 1;
        match AccountsFile::read(&self.path).and_then(|f| Snapshot::new(&f, generation)) {
            Ok(snapshot) => {
                let users = snapshot.users.len();
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(snapshot);
                self.cache.clear();
                tracing::info!(
                    "re-read accounts file {}: {users} users",
                    self.path.display()
                );
            }
            Err(e) => {
                tracing::warn!("{e}; keeping the accounts read before");
            }
        }
    }
}

/// Logs a warning when others than the owner may read the file.
fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(
                    "accounts file {} has mode {:o}: others may read its password hashes (chmod 600)",
                    path.display(),
                    mode & 0o777
                );
            }
        }
    }
}

#[cfg(test)]
mod tests;
