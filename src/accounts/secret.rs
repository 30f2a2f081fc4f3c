//! The secrets: Argon2id password hashes, bearer tokens and the random bytes behind both.
//!
//! Passwords are hashed with Argon2id into PHC strings (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`)
//! with a random 16-byte salt; a PHC string carries its own cost, so hashes made with another
//! [`HashCost`] still verify. Tokens are 256 random bits, which no one can guess, so a plain
//! SHA-256 of the token is what the file keeps: a slow hash would add nothing but latency.
//!
//! Cost: one password hash or verification is one Argon2id run (tens of milliseconds and
//! [`HashCost::memory_kib`] of memory at the recommended cost); a token check is one SHA-256 of
//! about 60 bytes.

use std::fmt;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AccountsError;

/// The cost of new Argon2id password hashes (verification always uses the cost stored in the
/// hash itself).
///
/// [`HashCost::RECOMMENDED`] (the `argon2` crate's defaults, OWASP's first choice: 19 MiB,
/// 2 passes, 1 lane) is the default everywhere. [`HashCost::MINIMAL`] exists so that unit tests
/// can hash many passwords quickly; it protects nothing and must not be used for real accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    /// Memory, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl HashCost {
    /// The `argon2` crate's recommended parameters: m = 19456 KiB, t = 2, p = 1.
    pub const RECOMMENDED: HashCost = HashCost {
        memory_kib: Params::DEFAULT_M_COST,
        iterations: Params::DEFAULT_T_COST,
        parallelism: Params::DEFAULT_P_COST,
    };

    /// The cheapest parameters Argon2 allows (8 KiB, 1 pass): for tests only.
    pub const MINIMAL: HashCost = HashCost {
        memory_kib: Params::MIN_M_COST,
        iterations: Params::MIN_T_COST,
        parallelism: Params::MIN_P_COST,
    };

    fn hasher(self) -> Result<Argon2<'static>, AccountsError> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| AccountsError::Hash(e.to_string()))?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}

impl Default for HashCost {
    fn default() -> Self {
        HashCost::RECOMMENDED
    }
}

/// Fills `N` bytes from the operating system's random number generator.
pub(crate) fn random<const N: usize>() -> Result<[u8; N], AccountsError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AccountsError::Random(e.to_string()))?;
    Ok(bytes)
}

/// The PHC string of `password` hashed with Argon2id at `cost`, with a random salt.
pub fn hash_password(password: &str, cost: HashCost) -> Result<String, AccountsError> {
    let salt = random::<16>()?;
    let hash = cost
        .hasher()?
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|e| AccountsError::Hash(e.to_string()))?;
    Ok(hash.to_string())
}

/// Parses a PHC string and checks that it is an Argon2id hash; the error says why not (it
/// never quotes the string).
pub(crate) fn parse_phc(phc: &str) -> Result<PasswordHash, String> {
    let hash = PasswordHash::new(phc).map_err(|e| format!("not a PHC string ({e})"))?;
    if hash.algorithm.as_str() != "argon2id" {
        return Err(format!(
            "a {} hash; only argon2id is accepted",
            hash.algorithm.as_str()
        ));
    }
    if hash.salt.is_none() || hash.hash.is_none() {
        return Err("a PHC string without salt or hash".into());
    }
    // The parameters must be ones Argon2 accepts, or every verification would fail.
    Params::try_from(&hash).map_err(|e| format!("bad Argon2 parameters ({e})"))?;
    Ok(hash)
}

/// Whether `password` matches `hash` (the comparison inside is constant-time).
pub(crate) fn verify_password(password: &[u8], hash: &PasswordHash) -> bool {
    Argon2::default().verify_password(password, hash).is_ok()
}

/// How every token starts.
pub const TOKEN_PREFIX: &str = "tt_";
/// Length of a token's public id: 8 lowercase hex digits (32 random bits).
pub const TOKEN_ID_LEN: usize = 8;
/// Random bytes of a token's secret part (256 bits, 43 characters of base64url).
const TOKEN_SECRET_BYTES: usize = 32;
const TOKEN_SECRET_LEN: usize = 43;

/// A token just issued: the only time its text exists outside the client that keeps it.
///
/// Its `Debug` shows the public id only.
pub struct IssuedToken {
    id: String,
    text: String,
}

impl IssuedToken {
    /// The public id (8 hex digits), as `list` shows it and `revoke-token` takes it.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The token itself, `tt_<id>_<43 base64url characters>`: show it once, never log it.
    pub fn reveal(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("id", &self.id)
            .field("token", &"<hidden>")
            .finish()
    }
}

/// A new token with a random id and secret; `taken` says which ids are already used.
pub(crate) fn new_token(taken: impl Fn(&str) -> bool) -> Result<IssuedToken, AccountsError> {
    let id = loop {
        let id = hex(&random::<4>()?);
        if !taken(&id) {
            break id;
        }
    };
    let secret =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random::<TOKEN_SECRET_BYTES>()?);
    let text = format!("{TOKEN_PREFIX}{id}_{secret}");
    Ok(IssuedToken { id, text })
}

/// The public id of a token's text, when the text has the shape of a territorio token.
pub(crate) fn token_id(token: &str) -> Option<&str> {
    let rest = token.strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let id_ok = id.len() == TOKEN_ID_LEN && is_token_id(id);
    let secret_ok = secret.len() == TOKEN_SECRET_LEN
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    (id_ok && secret_ok).then_some(id)
}

/// Whether `id` is 8 lowercase hex digits.
pub(crate) fn is_token_id(id: &str) -> bool {
    id.len() == TOKEN_ID_LEN && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// SHA-256 of a token's text.
pub(crate) fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Constant-time equality of two digests.
pub(crate) fn same_digest(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.ct_eq(b).into()
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// The 32 bytes of 64 hex digits.
pub(crate) fn unhex32(text: &str) -> Option<[u8; 32]> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let phc = hash_password("correct horse", HashCost::MINIMAL).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{phc}");
        let parsed = parse_phc(&phc).unwrap();
        assert!(verify_password(b"correct horse", &parsed));
        assert!(!verify_password(b"correct horsf", &parsed));
        assert!(!verify_password(b"", &parsed));
        // Two hashes of one password differ by their salt.
        assert_ne!(
            phc,
            hash_password("correct horse", HashCost::MINIMAL).unwrap()
        );
    }

    #[test]
    fn the_recommended_cost_is_the_crates_default() {
        let phc = hash_password("a password", HashCost::default()).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password(b"a password", &parse_phc(&phc).unwrap()));
    }

    #[test]
    fn only_argon2id_phc_strings_are_accepted() {
        assert!(parse_phc("hunter2").is_err());
        assert!(parse_phc("").is_err());
        // An Argon2i hash (RFC 9106 test vector shape) is refused by name.
        let argon2i =
            "$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$oG0TyJ4tj+V0LuZZPd8gaHZgNfw1XJOQ4f6G0gGi4mk";
        assert!(parse_phc(argon2i).unwrap_err().contains("argon2i hash"));
        let no_hash = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ";
        assert!(parse_phc(no_hash).is_err());
    }

    #[test]
    fn tokens_have_their_shape_and_differ() {
        let a = new_token(|_| false).unwrap();
        let b = new_token(|_| false).unwrap();
        assert_ne!(a.reveal(), b.reveal());
        assert_eq!(a.reveal().len(), 3 + 8 + 1 + 43);
        assert_eq!(token_id(a.reveal()), Some(a.id()));
        assert!(is_token_id(a.id()));
        // A taken id is never given again.
        let c = new_token(|id| id == b.id() || id.starts_with('0')).unwrap();
        assert!(!c.id().starts_with('0'));
        // Shapes that are not tokens.
        let text = a.reveal();
        for bad in [
            "",
            "tt_",
            &text[..text.len() - 1],
            &text.replace("tt_", "xx_"),
            &text.to_uppercase(),
            &format!("{text}="),
        ] {
            assert_eq!(token_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn debug_of_an_issued_token_hides_it() {
        let t = new_token(|_| false).unwrap();
        let debug = format!("{t:?}");
        assert!(!debug.contains(t.reveal()), "{debug}");
        let secret = t.reveal().rsplit('_').next().unwrap();
        assert!(!debug.contains(secret), "{debug}");
        assert!(debug.contains(t.id()), "{debug}");
    }

    #[test]
    fn hex_round_trips() {
        let d = token_digest("abc");
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            hex(&d),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(unhex32(&hex(&d)), Some(d));
        assert_eq!(unhex32("zz"), None);
        assert!(same_digest(&d, &d));
        assert!(!same_digest(&d, &token_digest("abd")));
    }
}
