//! The accounts file: reading it, checking it, editing it and writing it back atomically.
//!
//! The file is TOML, one `[[user]]` table per user:
//!
//! ```toml
//! [[user]]
//! name = "anna"
//! password = "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>"
//! edit = ["projects", "zones"]        # collection ids; ["*"] is every collection
//!
//! [[user.token]]
//! id = "3fa4c2d1"                     # public: `list` shows it, `revoke-token` takes it
//! label = "nightly import"
//! created = "2026-05-04T09:30:00Z"
//! sha256 = "<64 hex digits: SHA-256 of the whole token text>"
//! ```
//!
//! Unknown keys are errors (a misspelt `edit` must not silently take rights away), and so are
//! two users with one name, two tokens with one id, and a password that is not an Argon2id
//! PHC string. Syntax errors name the line.
//!
//! Writes go to a temporary file in the same folder (mode 0600), which is flushed to disk and
//! renamed over the file, and then the folder is flushed: a reader (the server) sees the old
//! file or the new one, never half of one. The file is rewritten whole, with a fixed header
//! comment: comments added by hand are not kept. An edit re-reads the file first and refuses to
//! write when the file changed in between ([`AccountsError::Changed`]), so two edits at once do
//! not silently lose one; a small window remains between that check and the rename (no lock is
//! taken).

use std::collections::HashSet;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::secret::{self, HashCost, IssuedToken};
use super::AccountsError;

/// The first lines of every file written.
const HEADER: &str = "\
# territorio accounts: who may edit which collections (OGC API - Features Part 4).
# Edit with `territorio accounts --file FILE ...`; a running server re-reads this file when
# it changes. Each [[user]] has a name, an Argon2id password hash (PHC string), `edit` = the
# collection ids the user may edit (\"*\" = every collection) and [[user.token]] bearer tokens,
# kept as SHA-256 hashes. Keep this file private (mode 0600). Comments are not kept.

";

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Longest password accepted, in bytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest user name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest token label, in characters.
pub const MAX_LABEL_CHARS: usize = 200;

/// The whole file.
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    #[serde(default, rename = "user")]
    users: Vec<User>,
}

/// One user.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    name: String,
    /// The Argon2id PHC string.
    password: String,
    #[serde(default)]
    edit: Vec<String>,
    /// May run the server's administration (reload).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    admin: bool,
    #[serde(default, rename = "token", skip_serializing_if = "Vec::is_empty")]
    tokens: Vec<Token>,
}

impl User {
    /// The user name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The collection ids the user may edit, as written (`"*"` is every collection).
    pub fn edit(&self) -> &[String] {
        &self.edit
    }

    /// Whether the user may edit `collection`.
    pub fn may_edit(&self, collection: &str) -> bool {
        self.edit.iter().any(|c| c == "*" || c == collection)
    }

    /// The user's bearer tokens.
    /// Whether the user may run the server's administration.
    pub fn is_admin(&self) -> bool {
        self.admin
    }

    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    pub(crate) fn password_hash(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("name", &self.name)
            .field("password", &"<hidden>")
            .field("edit", &self.edit)
            .field("tokens", &self.tokens)
            .finish()
    }
}

/// One bearer token as the file keeps it: no way back to the token itself.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Token {
    id: String,
    #[serde(default)]
    label: String,
    created: String,
    sha256: String,
}

impl Token {
    /// The public id: 8 hex digits, also the start of the token text.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// What the token is for, as given when it was issued (may be empty).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// When it was issued, RFC 3339 UTC.
    pub fn created(&self) -> &str {
        &self.created
    }

    /// SHA-256 of the token text (checked at load: 64 hex digits).
    pub(crate) fn digest(&self) -> [u8; 32] {
        secret::unhex32(&self.sha256).unwrap_or([0; 32])
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("id", &self.id)
            .field("label", &self.label)
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

/// What identifies one version of the file on disk: a rename gives a new inode, an edit in
/// place a new modification time or size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    inode: u64,
}

impl Stamp {
    pub(crate) fn of(path: &Path) -> std::io::Result<Stamp> {
        let meta = std::fs::metadata(path)?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&meta);
        #[cfg(not(unix))]
        let inode = 0;
        Ok(Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            inode,
        })
    }
}

/// The accounts file, read and checked, ready to look at or edit.
///
/// Its `Debug` shows user names, rights and token ids, never hashes.
#[derive(Clone)]
pub struct AccountsFile {
    path: PathBuf,
    document: Document,
    /// The version read (`None`: the file did not exist).
    stamp: Option<Stamp>,
}

impl fmt::Debug for AccountsFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountsFile")
            .field("path", &self.path)
            .field("users", &self.document.users)
            .finish()
    }
}

impl AccountsFile {
    /// Reads and checks the file at `path`.
    pub fn read(path: &Path) -> Result<AccountsFile, AccountsError> {
        // The stamp comes first: if the file changes while it is read, the next look sees a
        // stamp that differs and reads it again.
        let stamp = Stamp::of(path).map_err(|e| read_error(path, e))?;
        let text = std::fs::read_to_string(path).map_err(|e| read_error(path, e))?;
        let document = parse(&text, path)?;
        Ok(AccountsFile {
            path: path.to_path_buf(),
            document,
            stamp: Some(stamp),
        })
    }

    /// Reads the file, or starts an empty one if there is no file at `path` (it is created by
    /// [`AccountsFile::save`]).
    pub fn read_or_new(path: &Path) -> Result<AccountsFile, AccountsError> {
        match AccountsFile::read(path) {
            Err(AccountsError::NotFound { .. }) => Ok(AccountsFile {
                path: path.to_path_buf(),
                document: Document::default(),
                stamp: None,
            }),
            other => other,
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The version of the file that was read (`None`: there was no file).
    pub(crate) fn stamp(&self) -> Option<Stamp> {
        self.stamp
    }

    /// The users, in file order.
    pub fn users(&self) -> &[User] {
        &self.document.users
    }

    /// The user called `name`.
    pub fn user(&self, name: &str) -> Option<&User> {
        self.document.users.iter().find(|u| u.name == name)
    }

    fn user_mut(&mut self, name: &str) -> Result<&mut User, AccountsError> {
        let path = self.path.clone();
        self.document
            .users
            .iter_mut()
            .find(|u| u.name == name)
            .ok_or_else(|| AccountsError::UnknownUser {
                path,
                name: name.to_string(),
            })
    }

    /// Adds a user with a password (hashed at `cost`) and the collections they may edit.
    pub fn add_user(
        &mut self,
        name: &str,
        password: &str,
        edit: &[String],
        cost: HashCost,
    ) -> Result<(), AccountsError> {
        check_name(name)?;
        if self.user(name).is_some() {
            return Err(AccountsError::UserExists {
                path: self.path.clone(),
                name: name.to_string(),
            });
        }
        for c in edit {
            check_collection(c)?;
        }
        check_password(password)?;
        let mut rights = Vec::new();
        add_rights(&mut rights, edit);
        self.document.users.push(User {
            name: name.to_string(),
            password: secret::hash_password(password, cost)?,
            edit: rights,
            admin: false,
            tokens: Vec::new(),
        });
        Ok(())
    }

    /// Replaces a user's password.
    pub fn set_password(
        &mut self,
        name: &str,
        password: &str,
        cost: HashCost,
    ) -> Result<(), AccountsError> {
        self.user_mut(name)?;
        check_password(password)?;
        let hash = secret::hash_password(password, cost)?;
        self.user_mut(name)?.password = hash;
        Ok(())
    }

    /// Lets a user edit more collections (`"*"`: every collection).
    /// Gives or takes the right to run the server's administration (reload).
    pub fn set_admin(&mut self, name: &str, admin: bool) -> Result<(), AccountsError> {
        self.user_mut(name)?.admin = admin;
        Ok(())
    }

    pub fn grant(&mut self, name: &str, collections: &[String]) -> Result<(), AccountsError> {
        for c in collections {
            check_collection(c)?;
        }
        add_rights(&mut self.user_mut(name)?.edit, collections);
        Ok(())
    }

    /// Takes collections from what a user may edit. Revoking `"*"` removes the right to edit
    /// every collection, not the collections named one by one.
    pub fn revoke(&mut self, name: &str, collections: &[String]) -> Result<(), AccountsError> {
        self.user_mut(name)?
            .edit
            .retain(|c| !collections.contains(c));
        Ok(())
    }

    /// Removes a user and their tokens.
    pub fn remove_user(&mut self, name: &str) -> Result<(), AccountsError> {
        self.user_mut(name)?;
        self.document.users.retain(|u| u.name != name);
        Ok(())
    }

    /// Issues a bearer token to a user. The returned token is the only copy of its text.
    pub fn issue_token(&mut self, name: &str, label: &str) -> Result<IssuedToken, AccountsError> {
        if label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
            return Err(AccountsError::BadLabel);
        }
        self.user_mut(name)?;
        let taken: HashSet<String> = self
            .document
            .users
            .iter()
            .flat_map(|u| u.tokens.iter().map(|t| t.id.clone()))
            .collect();
        let token = secret::new_token(|id| taken.contains(id))?;
        self.user_mut(name)?.tokens.push(Token {
            id: token.id().to_string(),
            label: label.to_string(),
            created: crate::time::now_rfc3339(),
            sha256: secret::hex(&secret::token_digest(token.reveal())),
        });
        Ok(token)
    }

    /// Revokes the token with public id `id` (a whole token's text is also accepted); returns
    /// the name of the user it belonged to.
    pub fn revoke_token(&mut self, id: &str) -> Result<String, AccountsError> {
        let id = secret::token_id(id).unwrap_or(id);
        for user in &mut self.document.users {
            if let Some(i) = user.tokens.iter().position(|t| t.id == id) {
                user.tokens.remove(i);
                return Ok(user.name.clone());
            }
        }
        Err(AccountsError::UnknownTokenId {
            path: self.path.clone(),
            id: id.to_string(),
        })
    }

    /// The file's text as it would be written.
    pub fn to_toml(&self) -> Result<String, AccountsError> {
        let body = toml::to_string(&self.document).map_err(|e| AccountsError::Write {
            path: self.path.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        Ok(format!("{HEADER}{body}"))
    }

    /// Writes the file atomically with mode 0600, unless it changed on disk since it was read
    /// ([`AccountsError::Changed`]: read it again and redo the edit).
    pub fn save(&mut self) -> Result<(), AccountsError> {
        let now = match Stamp::of(&self.path) {
            Ok(s) => Some(s),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(read_error(&self.path, e)),
        };
        if now != self.stamp {
            return Err(AccountsError::Changed {
                path: self.path.clone(),
            });
        }
        let text = self.to_toml()?;
        write_atomically(&self.path, text.as_bytes()).map_err(|source| AccountsError::Write {
            path: self.path.clone(),
            source,
        })?;
        self.stamp = Some(Stamp::of(&self.path).map_err(|e| read_error(&self.path, e))?);
        Ok(())
    }

    /// Reads the file (or starts a new one when `create`), applies `edit` and saves, starting
    /// over up to three times when the file changes in between.
    pub fn update<T>(
        path: &Path,
        create: bool,
        mut edit: impl FnMut(&mut AccountsFile) -> Result<T, AccountsError>,
    ) -> Result<T, AccountsError> {
        let mut tries = 0;
        loop {
            let mut file = if create {
                AccountsFile::read_or_new(path)?
            } else {
                AccountsFile::read(path)?
            };
            let out = edit(&mut file)?;
            match file.save() {
                Err(AccountsError::Changed { .. }) if tries < 3 => tries += 1,
                Err(e) => return Err(e),
                Ok(()) => return Ok(out),
            }
        }
    }
}

fn read_error(path: &Path, e: std::io::Error) -> AccountsError {
    if e.kind() == std::io::ErrorKind::NotFound {
        AccountsError::NotFound {
            path: path.to_path_buf(),
        }
    } else {
        AccountsError::Read {
            path: path.to_path_buf(),
            source: e,
        }
    }
}

/// Parses and checks the text of an accounts file; `path` only names it in errors.
fn parse(text: &str, path: &Path) -> Result<Document, AccountsError> {
    let document: Document = toml::from_str(text).map_err(|e| AccountsError::Syntax {
        path: path.to_path_buf(),
        line: e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1),
        // The message alone: toml's full text quotes the line, which may hold a hash.
        message: e.message().trim_end().to_string(),
    })?;
    let invalid = |message: String| AccountsError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let mut names = HashSet::new();
    let mut ids = HashSet::new();
    for (i, user) in document.users.iter().enumerate() {
        let which = format!("user #{} ({:?})", i + 1, user.name);
        check_name(&user.name).map_err(|e| invalid(format!("{which}: {e}")))?;
        if !names.insert(user.name.as_str()) {
            return Err(invalid(format!("{which}: a second user with this name")));
        }
        secret::parse_phc(&user.password)
            .map_err(|e| invalid(format!("{which}: the password is {e}")))?;
        for c in &user.edit {
            check_collection(c).map_err(|e| invalid(format!("{which}: {e}")))?;
        }
        for token in &user.tokens {
            if !secret::is_token_id(&token.id) {
                return Err(invalid(format!(
                    "{which}: token id {:?} is not 8 lowercase hex digits",
                    token.id
                )));
            }
            if !ids.insert(token.id.as_str()) {
                return Err(invalid(format!(
                    "{which}: a second token with id {}",
                    token.id
                )));
            }
            if secret::unhex32(&token.sha256).is_none() {
                return Err(invalid(format!(
                    "{which}: token {}: sha256 is not 64 hex digits",
                    token.id
                )));
            }
        }
    }
    Ok(document)
}

/// User names: 1 to 64 characters, no ':' (Basic authentication splits there), no spaces or
/// control characters, not starting with '-' (it would read as an option).
fn check_name(name: &str) -> Result<(), AccountsError> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.chars().count() > MAX_NAME_CHARS {
        Some("it is longer than 64 characters")
    } else if name.contains(':') {
        Some("it contains ':'")
    } else if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Some("it contains spaces or control characters")
    } else if name.starts_with('-') {
        Some("it starts with '-'")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(AccountsError::BadName {
            name: name.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Collection ids: not empty, no spaces or control characters. Whether a collection of that
/// id exists is not checked: the file outlives catalogues.
fn check_collection(id: &str) -> Result<(), AccountsError> {
    if id.is_empty() || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AccountsError::BadCollection { id: id.to_string() });
    }
    Ok(())
}

/// Whether a new password is acceptable: at least 8 characters, at most 1024 bytes.
pub fn check_password(password: &str) -> Result<(), AccountsError> {
    if password.is_empty() {
        Err(AccountsError::WeakPassword("it is empty"))
    } else if password.chars().count() < MIN_PASSWORD_CHARS {
        Err(AccountsError::WeakPassword(
            "it is shorter than 8 characters",
        ))
    } else if password.len() > MAX_PASSWORD_BYTES {
        Err(AccountsError::WeakPassword("it is longer than 1024 bytes"))
    } else {
        Ok(())
    }
}

fn add_rights(rights: &mut Vec<String>, new: &[String]) {
    for c in new {
        if !rights.contains(c) {
            rights.push(c.clone());
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder: create (mode 0600),
/// write, fsync, rename, fsync the folder.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("the path names no file"))?
        .to_string_lossy();
    let suffix = secret::random::<6>()
        .map(|b| secret::hex(&b))
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let temp = folder.join(format!(".{name}.{suffix}.tmp"));
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&temp, path)?;
        #[cfg(unix)]
        std::fs::File::open(&folder)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: HashCost = HashCost::MINIMAL;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn edits_round_trip_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts.toml");
        let mut file = AccountsFile::read_or_new(&path).unwrap();
        file.add_user("anna", "password-1", &strings(&["projects"]), CHEAP)
            .unwrap();
        file.add_user("bruno", "password-2", &[], CHEAP).unwrap();
        file.grant("bruno", &strings(&["*", "zones", "*"])).unwrap();
        let token = file.issue_token("anna", "nightly import").unwrap();
        file.save().unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# territorio accounts"), "{text}");
        assert!(!text.contains(token.reveal()), "{text}");
        let read = AccountsFile::read(&path).unwrap();
        let anna = read.user("anna").unwrap();
        assert_eq!(anna.edit(), ["projects"]);
        assert!(anna.may_edit("projects") && !anna.may_edit("zones"));
        assert_eq!(anna.tokens().len(), 1);
        assert_eq!(anna.tokens()[0].id(), token.id());
        assert_eq!(anna.tokens()[0].label(), "nightly import");
        assert_eq!(
            anna.tokens()[0].digest(),
            secret::token_digest(token.reveal())
        );
        let bruno = read.user("bruno").unwrap();
        assert_eq!(bruno.edit(), ["*", "zones"]);
        assert!(bruno.may_edit("anything"));
    }

    #[test]
    fn revoking_rights_tokens_and_users() {
        let mut file = AccountsFile::read_or_new(Path::new("/nonexistent/a.toml")).unwrap();
        file.add_user("anna", "password-1", &strings(&["a", "b", "*"]), CHEAP)
            .unwrap();
        file.revoke("anna", &strings(&["*", "b"])).unwrap();
        assert_eq!(file.user("anna").unwrap().edit(), ["a"]);
        let t = file.issue_token("anna", "").unwrap();
        assert_eq!(file.revoke_token(t.id()).unwrap(), "anna");
        assert!(matches!(
            file.revoke_token(t.id()),
            Err(AccountsError::UnknownTokenId { .. })
        ));
        // The whole token text names its id too.
        let t = file.issue_token("anna", "").unwrap();
        assert_eq!(file.revoke_token(t.reveal()).unwrap(), "anna");
        file.remove_user("anna").unwrap();
        assert!(file.users().is_empty());
        assert!(matches!(
            file.remove_user("anna"),
            Err(AccountsError::UnknownUser { .. })
        ));
    }

    #[test]
    fn bad_names_passwords_and_duplicates_are_refused() {
        let mut file = AccountsFile::read_or_new(Path::new("/nonexistent/a.toml")).unwrap();
        for name in ["", "a:b", "a b", "-x", &"n".repeat(65), "tab\there"] {
            assert!(
                matches!(
                    file.add_user(name, "password-1", &[], CHEAP),
                    Err(AccountsError::BadName { .. })
                ),
                "{name:?}"
            );
        }
        for (password, reason) in [("", "empty"), ("1234567", "shorter than 8")] {
            match file.add_user("anna", password, &[], CHEAP) {
                Err(AccountsError::WeakPassword(r)) => assert!(r.contains(reason), "{r}"),
                other => panic!("{other:?}"),
            }
        }
        // Eight characters, not bytes.
        file.add_user("anna", "àèìòùàèì", &[], CHEAP).unwrap();
        assert!(matches!(
            file.add_user("anna", "password-1", &[], CHEAP),
            Err(AccountsError::UserExists { .. })
        ));
        assert!(matches!(
            file.grant("anna", &strings(&[""])),
            Err(AccountsError::BadCollection { .. })
        ));
        assert!(matches!(
            file.issue_token("anna", "two\nlines"),
            Err(AccountsError::BadLabel)
        ));
    }

    #[test]
    fn files_are_written_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts.toml");
        let mut file = AccountsFile::read_or_new(&path).unwrap();
        file.add_user("anna", "password-1", &[], CHEAP).unwrap();
        file.save().unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        // No temporary file is left beside it.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["accounts.toml"]);
    }

    #[test]
    fn an_edit_refuses_to_overwrite_a_change_made_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts.toml");
        AccountsFile::update(&path, true, |f| {
            f.add_user("anna", "password-1", &[], CHEAP)
        })
        .unwrap();
        let mut first = AccountsFile::read(&path).unwrap();
        AccountsFile::update(&path, false, |f| {
            f.add_user("bruno", "password-2", &[], CHEAP)
        })
        .unwrap();
        first.remove_user("anna").unwrap();
        assert!(matches!(first.save(), Err(AccountsError::Changed { .. })));
        let names: Vec<_> = AccountsFile::read(&path)
            .unwrap()
            .users()
            .iter()
            .map(|u| u.name().to_string())
            .collect();
        assert_eq!(names, ["anna", "bruno"]);
    }

    #[test]
    fn errors_name_the_file_and_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("accounts.toml");
        match AccountsFile::read(&path) {
            Err(e @ AccountsError::NotFound { .. }) => {
                assert!(e.to_string().contains("accounts.toml"), "{e}")
            }
            other => panic!("{other:?}"),
        }
        let hash = secret::hash_password("password-1", CHEAP).unwrap();
        let cases = [
            // (text, line, part of the message)
            (
                "[[user]]\nname = \"anna\"\npassword = \"x\nedit = []\n".to_string(),
                Some(3),
                "",
            ),
            (
                format!("[[user]]\nname = \"anna\"\npassword = \"{hash}\"\nedits = [\"a\"]\n"),
                Some(4),
                "edits",
            ),
            (
                format!("\n\n[[user]]\nname = \"anna\"\npassword = \"{hash}\"\nedit = \"a\"\n"),
                Some(6),
                "",
            ),
        ];
        for (text, line, part) in cases {
            std::fs::write(&path, &text).unwrap();
            match AccountsFile::read(&path) {
                Err(e @ AccountsError::Syntax { .. }) => {
                    let AccountsError::Syntax { line: l, .. } = &e else {
                        unreachable!()
                    };
                    assert_eq!(*l, line, "{e}\n{text}");
                    let shown = e.to_string();
                    assert!(shown.contains("accounts.toml"), "{shown}");
                    assert!(shown.contains(part), "{shown}");
                    assert!(!shown.contains(&hash), "{shown}");
                }
                other => panic!("{other:?}\n{text}"),
            }
        }
        let invalid = [
            (
                format!(
                    "[[user]]\nname = \"anna\"\npassword = \"{hash}\"\n[[user]]\nname = \"anna\"\npassword = \"{hash}\"\n"
                ),
                "second user",
            ),
            (
                "[[user]]\nname = \"anna\"\npassword = \"hunter2\"\n".to_string(),
                "not a PHC string",
            ),
            (
                format!("[[user]]\nname = \"a:b\"\npassword = \"{hash}\"\n"),
                "contains ':'",
            ),
            (
                format!(
                    "[[user]]\nname = \"anna\"\npassword = \"{hash}\"\n[[user.token]]\nid = \"XYZ\"\ncreated = \"\"\nsha256 = \"\"\n"
                ),
                "8 lowercase hex",
            ),
        ];
        for (text, part) in invalid {
            std::fs::write(&path, &text).unwrap();
            match AccountsFile::read(&path) {
                Err(e @ AccountsError::Invalid { .. }) => {
                    let shown = e.to_string();
                    assert!(
                        shown.contains(part) && shown.contains("accounts.toml"),
                        "{shown}"
                    );
                    assert!(!shown.contains(&hash), "{shown}");
                }
                other => panic!("{other:?}\n{text}"),
            }
        }
        // An empty file is an empty list of users.
        std::fs::write(&path, "").unwrap();
        assert!(AccountsFile::read(&path).unwrap().users().is_empty());
    }

    #[test]
    fn debug_shows_no_hash() {
        let mut file = AccountsFile::read_or_new(Path::new("/nonexistent/a.toml")).unwrap();
        file.add_user("anna", "password-1", &strings(&["p"]), CHEAP)
            .unwrap();
        let t = file.issue_token("anna", "script").unwrap();
        let debug = format!("{file:?}");
        let user = file.user("anna").unwrap();
        assert!(!debug.contains(user.password_hash()), "{debug}");
        assert!(!debug.contains("argon2"), "{debug}");
        assert!(!debug.contains(&user.tokens()[0].sha256), "{debug}");
        assert!(!debug.contains(t.reveal()), "{debug}");
        assert!(debug.contains("anna") && debug.contains(t.id()), "{debug}");
    }
}
