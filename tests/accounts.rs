//! `territorio accounts`: the binary edits the accounts file, and an [`Accounts`] opened on the
//! file (as the server keeps one) sees each edit while it is open.

use std::io::Write;
use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use base64::Engine;
use territorio::accounts::{Accounts, AuthError, Options};

/// Runs `territorio accounts --file FILE ARGS...` with `stdin` as standard input.
fn accounts(file: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_territorio"))
        .arg("accounts")
        .arg("--file")
        .arg(file)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the territorio binary runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Runs a command that must succeed; returns its standard output.
fn ok(file: &Path, args: &[&str], stdin: &str) -> String {
    let out = accounts(file, args, stdin);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs a command that must fail with status 2; returns its standard error.
fn fails(file: &Path, args: &[&str], stdin: &str) -> String {
    let out = accounts(file, args, stdin);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    assert!(stderr.starts_with("territorio: "), "{stderr}");
    stderr
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

const CLIENT: Option<IpAddr> = None;

#[test]
fn users_rights_and_tokens_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("accounts.toml");
    // add-user creates the file; the password is one line of standard input.
    ok(
        &file,
        &["add-user", "anna", "--edit", "projects", "--password-stdin"],
        "anna-password\n",
    );
    // Without --password-stdin, a standard input that is not a terminal is read the same way
    // (a Windows line end too).
    ok(&file, &["add-user", "bruno"], "bruno:pass word\r\n");
    ok(&file, &["grant", "bruno", "zones", "projects"], "");
    ok(&file, &["grant", "anna", "zones"], "");
    ok(&file, &["revoke", "anna", "projects"], "");

    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");

    let token = ok(
        &file,
        &["issue-token", "anna", "--label", "nightly import"],
        "",
    );
    // Alone on its line.
    let token = token.strip_suffix('\n').unwrap();
    assert!(!token.contains('\n'));
    assert!(token.starts_with("tt_"), "{token}");
    assert_eq!(token.len(), 3 + 8 + 1 + 43, "{token}");
    let id = &token[3..11];

    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(token), "{text}");
    assert!(!text.contains("anna-password"), "{text}");
    assert!(text.contains("$argon2id$v=19$m=19456,t=2,p=1$"), "{text}");

    let list = ok(&file, &["list"], "");
    assert_eq!(
        list,
        format!(
            "anna: may edit zones\n  token {id} \"nightly import\", issued {}\nbruno: may edit zones, projects\n",
            list.split("issued ").nth(1).unwrap().lines().next().unwrap()
        )
    );
    assert!(
        !list.contains("argon2") && !list.contains(&token[12..]),
        "{list}"
    );
    let sha = text
        .lines()
        .find_map(|l| l.strip_prefix("sha256 = "))
        .unwrap()
        .trim_matches('"');
    assert!(!list.contains(sha), "{list}");

    // What the file says, the library answers.
    let accounts = Accounts::open(&file).unwrap();
    let anna = accounts
        .authenticate(&format!("Bearer {token}"), CLIENT)
        .unwrap();
    assert_eq!(anna.user(), "anna");
    assert!(anna.may_edit("zones") && !anna.may_edit("projects"));
    let bruno = accounts
        .authenticate(&basic("bruno", "bruno:pass word"), CLIENT)
        .unwrap();
    assert!(bruno.may_edit("projects"));

    ok(&file, &["revoke-token", id], "");
    ok(&file, &["remove-user", "bruno"], "");
    let list = ok(&file, &["list"], "");
    assert_eq!(list, "anna: may edit zones\n");
}

#[test]
fn refusals_say_why() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("accounts.toml");
    let e = fails(&file, &["list"], "");
    assert!(e.contains("accounts.toml does not exist"), "{e}");
    let e = fails(&file, &["add-user", "anna", "--password-stdin"], "\n");
    assert!(e.contains("password refused: it is empty"), "{e}");
    let e = fails(&file, &["add-user", "anna", "--password-stdin"], "");
    assert!(e.contains("password refused: it is empty"), "{e}");
    let e = fails(
        &file,
        &["add-user", "anna", "--password-stdin"],
        "1234567\n",
    );
    assert!(e.contains("shorter than 8 characters"), "{e}");
    assert!(!file.exists());
    let e = fails(
        &file,
        &["add-user", "a:b", "--password-stdin"],
        "password-1\n",
    );
    assert!(
        e.contains("invalid user name \"a:b\": it contains ':'"),
        "{e}"
    );
    ok(
        &file,
        &["add-user", "anna", "--password-stdin"],
        "password-1\n",
    );
    let e = fails(
        &file,
        &["add-user", "anna", "--password-stdin"],
        "password-2\n",
    );
    assert!(e.contains("user \"anna\" already exists"), "{e}");
    let e = fails(&file, &["set-password", "nobody"], "password-2\n");
    assert!(e.contains("no user \"nobody\""), "{e}");
    let e = fails(&file, &["grant", "nobody", "zones"], "");
    assert!(e.contains("no user \"nobody\""), "{e}");
    let e = fails(&file, &["revoke-token", "0badc0de"], "");
    assert!(e.contains("no token with id \"0badc0de\""), "{e}");
    // The password never shows in a message.
    let e = fails(
        &file,
        &["set-password", "anna", "--password-stdin"],
        "secret7\n",
    );
    assert!(!e.contains("secret7"), "{e}");
    // A syntax error names the file and the line.
    std::fs::write(&file, "[[user]]\nname = \"anna\"\npassword = \n").unwrap();
    let e = fails(&file, &["list"], "");
    assert!(e.contains("accounts.toml, line 3"), "{e}");
}

#[test]
fn an_open_accounts_sees_what_the_command_line_changes() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("accounts.toml");
    ok(
        &file,
        &["add-user", "anna", "--edit", "projects", "--password-stdin"],
        "anna-password\n",
    );
    // The server's options, but the file looked at on every call instead of once a second.
    let accounts = Accounts::open_with(
        &file,
        Options {
            reload_interval: Duration::ZERO,
            ..Options::default()
        },
    )
    .unwrap();
    let old = basic("anna", "anna-password");
    let anna = accounts.authenticate(&old, CLIENT).unwrap();
    assert!(!anna.may_edit("zones"));

    ok(&file, &["grant", "anna", "zones"], "");
    assert!(accounts
        .authenticate(&old, CLIENT)
        .unwrap()
        .may_edit("zones"));

    let token = ok(&file, &["issue-token", "anna"], "");
    let bearer = format!("Bearer {}", token.trim_end());
    assert_eq!(
        accounts.authenticate(&bearer, CLIENT).unwrap().user(),
        "anna"
    );

    // A new password: the old one, verified and remembered a moment ago, no longer works.
    ok(
        &file,
        &["set-password", "anna", "--password-stdin"],
        "new-password\n",
    );
    assert_eq!(
        accounts.authenticate(&old, CLIENT),
        Err(AuthError::BadCredentials)
    );
    assert!(accounts
        .authenticate(&basic("anna", "new-password"), CLIENT)
        .is_ok());

    ok(&file, &["revoke-token", &token.trim_end()[3..11]], "");
    assert_eq!(
        accounts.authenticate(&bearer, CLIENT),
        Err(AuthError::UnknownToken)
    );

    ok(&file, &["remove-user", "anna"], "");
    assert_eq!(
        accounts.authenticate(&basic("anna", "new-password"), CLIENT),
        Err(AuthError::BadCredentials)
    );
    assert!(accounts.users().is_empty());
}

#[test]
fn with_the_default_options_a_change_is_seen_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("accounts.toml");
    ok(
        &file,
        &["add-user", "anna", "--password-stdin"],
        "anna-password\n",
    );
    let accounts = Accounts::open(&file).unwrap();
    let anna = basic("anna", "anna-password");
    assert!(accounts.authenticate(&anna, CLIENT).is_ok());
    ok(&file, &["remove-user", "anna"], "");
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(
        accounts.authenticate(&anna, CLIENT),
        Err(AuthError::BadCredentials)
    );
}
