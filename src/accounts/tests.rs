//! Tests of [`Accounts`]: the file is written with [`AccountsFile`] as the CLI writes it.

use super::*;

use base64::Engine;

const CHEAP: HashCost = HashCost::MINIMAL;

/// Options for tests: cheap hashes, the file looked at on every call.
fn options() -> Options {
    Options {
        cost: CHEAP,
        reload_interval: Duration::ZERO,
        ..Options::default()
    }
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().unwrap())
}

/// A file with anna (may edit `projects`) and bruno (every collection), and anna's token.
fn setup(cost: HashCost) -> (tempfile::TempDir, PathBuf, IssuedToken) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("accounts.toml");
    let token = AccountsFile::update(&path, true, |f| {
        f.add_user("anna", "anna-password", &["projects".to_string()], cost)?;
        f.add_user("bruno", "bruno:pass:word", &["*".to_string()], cost)?;
        f.issue_token("anna", "import script")
    })
    .unwrap();
    (dir, path, token)
}

#[test]
fn basic_credentials_give_the_user_and_their_rights() {
    let (_dir, path, _) = setup(CHEAP);
    let accounts = Accounts::open_with(&path, options()).unwrap();
    let anna = accounts
        .authenticate(&basic("anna", "anna-password"), ip("192.0.2.1"))
        .unwrap();
    assert_eq!(anna.user(), "anna");
    assert!(anna.may_edit("projects"));
    assert!(!anna.may_edit("zones"));
    assert_eq!(anna.token_id(), None);
    // A password may contain ':'.
    let bruno = accounts
        .authenticate(&basic("bruno", "bruno:pass:word"), None)
        .unwrap();
    assert!(bruno.may_edit("zones") && bruno.may_edit("projects"));
    assert_eq!(accounts.users(), ["anna", "bruno"]);
}

#[test]
fn wrong_passwords_and_unknown_users_give_one_answer() {
    let (_dir, path, _) = setup(CHEAP);
    let accounts = Accounts::open_with(&path, options()).unwrap();
    for header in [
        basic("anna", "anna-passwore"),
        basic("anna", ""),
        basic("anna", "bruno:pass:word"),
        basic("Anna", "anna-password"),
        basic("nobody", "anna-password"),
        basic("anna:anna-password", ""),
    ] {
        assert_eq!(
            accounts.authenticate(&header, None),
            Err(AuthError::BadCredentials),
            "{header}"
        );
    }
}

#[test]
fn an_unknown_user_costs_an_argon2_run() {
    // At the recommended cost an Argon2 run takes milliseconds even in an optimised build;
    // the dummy check must take about as long as a real one.
    let (_dir, path, _) = setup(HashCost::RECOMMENDED);
    let accounts = Accounts::open_with(
        &path,
        Options {
            reload_interval: Duration::ZERO,
            cache_ttl: Duration::ZERO,
            ..Options::default()
        },
    )
    .unwrap();
    let time = |header: &str| {
        let started = Instant::now();
        let _ = accounts.authenticate(header, None);
        started.elapsed()
    };
    // The fastest of five runs each: the machine may be busy with other work.
    let wrong = (0..5)
        .map(|_| time(&basic("anna", "wrong-password")))
        .min()
        .unwrap();
    let unknown = (0..5)
        .map(|_| time(&basic("nobody", "wrong-password")))
        .min()
        .unwrap();
    assert!(
        unknown * 3 > wrong && wrong * 3 > unknown,
        "wrong password {wrong:?}, unknown user {unknown:?}"
    );
}

#[test]
fn malformed_headers_get_their_reason() {
    let (_dir, path, _) = setup(CHEAP);
    let accounts = Accounts::open_with(&path, options()).unwrap();
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let cases = [
        (String::new(), AuthError::Malformed(Malformed::Empty)),
        (
            "Basic".into(),
            AuthError::Malformed(Malformed::NoCredentials),
        ),
        (
            "Basic not*base64".into(),
            AuthError::Malformed(Malformed::NotBase64),
        ),
        (
            format!("Basic {}", b64(b"anna")),
            AuthError::Malformed(Malformed::NoColon),
        ),
        (
            format!("Basic {}", b64(b"anna:\xc3\x28")),
            AuthError::Malformed(Malformed::NotUtf8),
        ),
        (
            format!("Basic {}", b64(b":anna-password")),
            AuthError::Malformed(Malformed::EmptyUser),
        ),
        ("Digest username=anna".into(), AuthError::UnsupportedScheme),
        ("anna-password".into(), AuthError::UnsupportedScheme),
        (
            "Bearer".into(),
            AuthError::Malformed(Malformed::NoCredentials),
        ),
        ("Bearer nope".into(), AuthError::UnknownToken),
    ];
    for (header, want) in cases {
        assert_eq!(
            accounts.authenticate(&header, ip("192.0.2.9")),
            Err(want),
            "{header:?}"
        );
    }
}

#[test]
fn random_and_mutated_headers_never_panic() {
    // Valid headers with bytes changed, cut or appended, and plain noise: every input gets a
    // principal or an error, never a panic. No throttling and a cheap hash keep it quick.
    let (_dir, path, token) = setup(CHEAP);
    let accounts = Accounts::open_with(
        &path,
        Options {
            max_failures: 0,
            ..options()
        },
    )
    .unwrap();
    let valid = [
        basic("anna", "anna-password"),
        format!("Bearer {}", token.reveal()),
    ];
    let alphabet: Vec<char> = "ABCabc019+/=_-: \t:éü\u{0}\u{7f}".chars().collect();
    let mut state = 11u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let mut accepted = 0;
    for round in 0..4_000 {
        let mut chars: Vec<char> = valid[round % 2].chars().collect();
        match next() % 4 {
            0 => {
                let i = next() % chars.len();
                chars[i] = alphabet[next() % alphabet.len()];
            }
            1 => chars.truncate(next() % chars.len()),
            2 => chars.extend((0..next() % 16).map(|_| alphabet[next() % alphabet.len()])),
            _ => {
                chars = (0..next() % 64)
                    .map(|_| alphabet[next() % alphabet.len()])
                    .collect()
            }
        }
        let header: String = chars.into_iter().collect();
        if accounts.authenticate(&header, ip("192.0.2.3")).is_ok() {
            accepted += 1;
        }
    }
    // Some mutations leave the credentials whole (trailing blanks, a changed padding byte
    // cut off...), most do not.
    assert!(accepted < 2_000, "{accepted}");
}

#[test]
fn tokens_are_checked_and_revoked() {
    let (_dir, path, token) = setup(CHEAP);
    let accounts = Accounts::open_with(&path, options()).unwrap();
    let header = format!("Bearer {}", token.reveal());
    let anna = accounts.authenticate(&header, None).unwrap();
    assert_eq!(anna.user(), "anna");
    assert_eq!(anna.token_id(), Some(token.id()));
    assert!(anna.may_edit("projects"));
    // The scheme in any case.
    assert!(accounts
        .authenticate(&format!("bearer {}", token.reveal()), None)
        .is_ok());
    // The right id with another secret, a changed character, the id alone.
    let text = token.reveal();
    let last = if text.ends_with('A') { "B" } else { "A" };
    let forged = format!("{}{last}", &text[..text.len() - 1]);
    for bad in [
        forged,
        format!("tt_{}_", token.id()),
        token.id().to_string(),
    ] {
        assert_eq!(
            accounts.authenticate(&format!("Bearer {bad}"), None),
            Err(AuthError::UnknownToken),
            "{bad}"
        );
    }
    // A token is not a password.
    assert_eq!(
        accounts.authenticate(&basic("anna", token.reveal()), None),
        Err(AuthError::BadCredentials)
    );
    AccountsFile::update(&path, false, |f| f.revoke_token(token.id())).unwrap();
    assert_eq!(
        accounts.authenticate(&header, None),
        Err(AuthError::UnknownToken)
    );
}

/// What needs no password check and no look at the file is answered at once, as
/// [`Accounts::authenticate`] answers it; the rest is left to it.
#[test]
fn signed_in_clients_and_tokens_are_answered_at_once() {
    let (_dir, path, token) = setup(CHEAP);
    let hour = Options {
        reload_interval: Duration::from_secs(3600),
        ..options()
    };
    let accounts = Accounts::open_with(&path, hour).unwrap();
    let anna = basic("anna", "anna-password");
    let client = ip("192.0.2.7");
    // Not in the cache yet: a password check is needed.
    assert!(accounts.authenticate_at_once(&anna, client).is_none());
    accounts.authenticate(&anna, client).unwrap();
    let at_once = accounts
        .authenticate_at_once(&anna, client)
        .unwrap()
        .unwrap();
    assert_eq!(at_once.user(), "anna");
    assert!(at_once.may_edit("projects") && !at_once.may_edit("zones"));
    // Another password for anna is not in the cache: left to the password check, which refuses.
    let wrong = basic("anna", "not-her-password");
    assert!(accounts.authenticate_at_once(&wrong, client).is_none());
    assert_eq!(
        accounts.authenticate(&wrong, client),
        Err(AuthError::BadCredentials)
    );
    // A token, good or not; a malformed header; a scheme it does not know.
    let bearer = accounts
        .authenticate_at_once(&format!("Bearer {}", token.reveal()), None)
        .unwrap()
        .unwrap();
    assert_eq!(
        (bearer.user(), bearer.token_id()),
        ("anna", Some(token.id()))
    );
    assert_eq!(
        accounts.authenticate_at_once(&format!("Bearer tt_{}_", token.id()), None),
        Some(Err(AuthError::UnknownToken))
    );
    assert!(matches!(
        accounts.authenticate_at_once("Basic !!!", None),
        Some(Err(AuthError::Malformed(_)))
    ));
    assert_eq!(
        accounts.authenticate_at_once("Digest username=\"anna\"", None),
        Some(Err(AuthError::UnsupportedScheme))
    );
    // When the file is due to be looked at (every call here), nothing is answered at once,
    // not even what is in the cache.
    let every_call = Accounts::open_with(&path, options()).unwrap();
    every_call.authenticate(&anna, client).unwrap();
    assert!(every_call.authenticate_at_once(&anna, client).is_none());
}

#[test]
fn changes_of_the_file_are_seen_and_a_bad_file_keeps_the_last_good_one() {
    let (_dir, path, _) = setup(CHEAP);
    let accounts = Accounts::open_with(&path, options()).unwrap();
    let carla = basic("carla", "carla-password");
    assert_eq!(
        accounts.authenticate(&carla, None),
        Err(AuthError::BadCredentials)
    );
    AccountsFile::update(&path, false, |f| {
        f.add_user("carla", "carla-password", &["zones".into()], CHEAP)?;
        f.grant("anna", &["zones".into()])
    })
    .unwrap();
    assert!(accounts
        .authenticate(&carla, None)
        .unwrap()
        .may_edit("zones"));
    let anna = accounts
        .authenticate(&basic("anna", "anna-password"), None)
        .unwrap();
    assert!(anna.may_edit("zones"));

    // A broken file: the last good version stays.
    let good = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, "[[user]\nname = ").unwrap();
    assert!(accounts.authenticate(&carla, None).is_ok());
    // So does a missing one.
    std::fs::remove_file(&path).unwrap();
    assert!(accounts.authenticate(&carla, None).is_ok());
    // A good file again is read again.
    std::fs::write(&path, &good).unwrap();
    AccountsFile::update(&path, false, |f| f.remove_user("carla")).unwrap();
    assert_eq!(
        accounts.authenticate(&carla, None),
        Err(AuthError::BadCredentials)
    );
}

#[test]
fn changes_are_seen_within_the_reload_interval() {
    let (_dir, path, _) = setup(CHEAP);
    let accounts = Accounts::open_with(
        &path,
        Options {
            cost: CHEAP,
            ..Options::default()
        },
    )
    .unwrap();
    let anna = basic("anna", "anna-password");
    assert!(accounts.authenticate(&anna, None).is_ok());
    AccountsFile::update(&path, false, |f| f.remove_user("anna")).unwrap();
    // Looked at no more than once a second: at first the old version still answers.
    assert!(accounts.authenticate(&anna, None).is_ok());
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(
        accounts.authenticate(&anna, None),
        Err(AuthError::BadCredentials)
    );
}

#[test]
fn the_cache_answers_quickly_and_forgets_on_a_change() {
    let (_dir, path, _) = setup(HashCost::RECOMMENDED);
    let accounts = Accounts::open_with(
        &path,
        Options {
            reload_interval: Duration::ZERO,
            ..Options::default()
        },
    )
    .unwrap();
    let header = basic("anna", "anna-password");
    let started = Instant::now();
    accounts.authenticate(&header, None).unwrap();
    let first = started.elapsed();
    assert_eq!(accounts.cache.len(), 1);
    // The fastest of three cache hits (the machine may be busy with other work).
    let second = (0..3)
        .map(|_| {
            let started = Instant::now();
            accounts.authenticate(&header, None).unwrap();
            started.elapsed()
        })
        .min()
        .unwrap();
    assert!(second * 10 < first, "first {first:?}, second {second:?}");
    // Failures are not cached.
    let wrong = basic("anna", "wrong-password");
    assert!(accounts.authenticate(&wrong, None).is_err());
    assert_eq!(accounts.cache.len(), 1);

    // A new password: the remembered check is dropped with the old file.
    AccountsFile::update(&path, false, |f| {
        f.set_password("anna", "new-password", HashCost::MINIMAL)
    })
    .unwrap();
    assert_eq!(
        accounts.authenticate(&header, None),
        Err(AuthError::BadCredentials)
    );
    assert_eq!(accounts.cache.len(), 0);
    assert!(accounts
        .authenticate(&basic("anna", "new-password"), None)
        .is_ok());
}

#[test]
fn repeated_failures_from_one_address_are_throttled() {
    let (_dir, path, token) = setup(CHEAP);
    let accounts = Accounts::open_with(
        &path,
        Options {
            max_failures: 3,
            failure_window: Duration::from_millis(600),
            ..options()
        },
    )
    .unwrap();
    let good = basic("anna", "anna-password");
    let attacker = ip("198.51.100.7");
    assert!(accounts.authenticate(&good, attacker).is_ok());
    for _ in 0..2 {
        assert_eq!(
            accounts.authenticate(&basic("anna", "guess"), attacker),
            Err(AuthError::BadCredentials)
        );
    }
    // Malformed headers test no password and are not counted.
    for _ in 0..5 {
        assert!(matches!(
            accounts.authenticate("Basic !", attacker),
            Err(AuthError::Malformed(_))
        ));
    }
    assert_eq!(
        accounts.authenticate("Bearer tt_nope", attacker),
        Err(AuthError::UnknownToken)
    );
    // Three failures: now even the right password and a good token are refused at once.
    let started = Instant::now();
    for header in [good.clone(), format!("Bearer {}", token.reveal())] {
        match accounts.authenticate(&header, attacker) {
            Err(AuthError::Throttled { retry_after }) => {
                assert!(retry_after <= Duration::from_millis(600), "{retry_after:?}")
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(started.elapsed() < Duration::from_millis(50));
    // Other addresses, and calls without an address, are not affected.
    assert!(accounts.authenticate(&good, ip("198.51.100.8")).is_ok());
    assert!(accounts.authenticate(&good, None).is_ok());
    // The same /64 is the same client.
    for _ in 0..3 {
        let _ = accounts.authenticate(&basic("x", "y"), ip("2001:db8::1"));
    }
    assert!(matches!(
        accounts.authenticate(&good, ip("2001:db8::2")),
        Err(AuthError::Throttled { .. })
    ));
    // Once the window has passed, the address may try again.
    std::thread::sleep(Duration::from_millis(700));
    assert!(accounts.authenticate(&good, attacker).is_ok());
}

#[test]
fn attempts_at_once_from_one_client_are_counted_one_after_another() {
    let (_dir, path, _token) = setup(CHEAP);
    let accounts = Accounts::open_with(
        &path,
        Options {
            max_failures: 3,
            failure_window: Duration::from_secs(60),
            ..options()
        },
    )
    .unwrap();
    // Sixteen connections opened at once with the right password (QGIS opens several): every
    // one is let in, none counted as a failure.
    let client = ip("192.0.2.10");
    let good = basic("anna", "anna-password");
    std::thread::scope(|s| {
        let all: Vec<_> = (0..16)
            .map(|_| s.spawn(|| accounts.authenticate(&good, client)))
            .collect();
        for a in all {
            assert!(a.join().unwrap().is_ok());
        }
    });
    // Sixteen guesses at once: checked one after another, so only three are wrong answers and
    // the rest are refused as throttled.
    let attacker = ip("192.0.2.20");
    let (wrong, throttled) = std::thread::scope(|s| {
        let all: Vec<_> = (0..16)
            .map(|i| {
                let accounts = &accounts;
                s.spawn(move || {
                    accounts.authenticate(&basic("anna", &format!("guess{i}")), attacker)
                })
            })
            .collect();
        let answers: Vec<_> = all.into_iter().map(|a| a.join().unwrap()).collect();
        (
            answers
                .iter()
                .filter(|a| **a == Err(AuthError::BadCredentials))
                .count(),
            answers
                .iter()
                .filter(|a| matches!(a, Err(AuthError::Throttled { .. })))
                .count(),
        )
    });
    assert_eq!((wrong, throttled), (3, 13));
}

#[test]
fn texts_and_debug_output_hold_no_secret() {
    let (_dir, path, token) = setup(CHEAP);
    let accounts = Accounts::open_with(
        &path,
        Options {
            max_failures: 2,
            ..options()
        },
    )
    .unwrap();
    let password = "anna-password";
    // tt_<id>_<secret>; the secret's base64url alphabet has '_' too: split after the id.
    let secret_part = token.reveal().splitn(3, '_').nth(2).unwrap().to_string();
    assert_eq!(secret_part.len(), 43, "32 random bytes in base64url");
    let good = basic("anna", password);
    let b64 = good.strip_prefix("Basic ").unwrap().to_string();
    let headers = [
        good.clone(),
        basic("anna", "wrong-secret-pw"),
        basic("ghost", password),
        format!("Bearer {}", token.reveal()),
        format!("Bearer {}x", token.reveal()),
        format!("Bearer {} {password}", token.reveal()),
        format!("Basic {b64}!"),
        format!("Token {}", token.reveal()),
        password.to_string(),
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(password)
        ),
    ];
    let secrets = [
        password,
        "wrong-secret-pw",
        token.reveal(),
        &secret_part,
        &b64,
    ];
    let mut texts = vec![format!("{accounts:?}"), format!("{token:?}")];
    for header in &headers {
        for client in [None, ip("192.0.2.77")] {
            match accounts.authenticate(header, client) {
                Ok(p) => texts.push(format!("{p:?}")),
                Err(e) => {
                    texts.push(e.to_string());
                    texts.push(format!("{e:?}"));
                }
            }
        }
    }
    let file = AccountsFile::read(&path).unwrap();
    texts.push(format!("{file:?}"));
    texts.push(format!("{:?}", file.users()));
    let hash = file.user("anna").unwrap().password_hash().to_string();
    for text in &texts {
        for secret in secrets.iter().chain([&hash.as_str()]) {
            assert!(!text.contains(secret), "{text:?} contains {secret:?}");
        }
        assert!(!text.contains("argon2id$"), "{text}");
    }
    // Every kind of answer was seen.
    let all = texts.join("\n");
    for part in [
        "wrong user name or password",
        "unknown or revoked token",
        "malformed Authorization header",
        "unsupported authorization scheme",
        "too many failed attempts",
        "Principal",
    ] {
        assert!(all.contains(part), "{part} not in {all}");
    }
}

#[test]
fn opening_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.toml");
    let e = Accounts::open(&path).unwrap_err();
    assert!(matches!(e, AccountsError::NotFound { .. }));
    assert!(e.to_string().contains("missing.toml"), "{e}");
    std::fs::write(&path, "\n[[user]]\nname = 3\n").unwrap();
    let e = Accounts::open(&path).unwrap_err();
    assert!(
        matches!(e, AccountsError::Syntax { line: Some(3), .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("missing.toml, line 3"), "{e}");
}

/// The cost of one Argon2 verification at the recommended cost, printed (run with
/// `cargo test --release --lib accounts::tests::argon2_cost -- --ignored --nocapture`).
#[test]
#[ignore = "a measurement, not a test"]
fn argon2_cost() {
    let phc = hash_password("a password", HashCost::RECOMMENDED).unwrap();
    let hash = secret::parse_phc(&phc).unwrap();
    let runs = 20;
    let started = Instant::now();
    for _ in 0..runs {
        assert!(secret::verify_password(b"a password", &hash));
    }
    println!(
        "one Argon2id verification (m=19456 KiB, t=2, p=1): {:.1} ms",
        started.elapsed().as_secs_f64() * 1000.0 / f64::from(runs)
    );
}
