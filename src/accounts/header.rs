//! Reading the value of an HTTP `Authorization` header: `Basic base64(user:password)`
//! (RFC 7617, what QGIS's authentication configurations send) or `Bearer <token>` (RFC 6750).
//!
//! The scheme name is case-insensitive; one or more spaces or tabs separate it from the
//! credentials, and space around the whole value is ignored. Basic credentials are decoded as
//! standard base64 (padding optional) and then as UTF-8; the user name ends at the first `:`,
//! so user names cannot contain one and passwords can.
//!
//! Cost: O(length of the header), which is at most [`MAX_HEADER_BYTES`].

use std::fmt;

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

/// The longest header value read; longer ones are malformed.
pub const MAX_HEADER_BYTES: usize = 4096;

/// Why a header value could not be read. The texts never quote the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("it is empty")]
    Empty,
    #[error("it is longer than {MAX_HEADER_BYTES} bytes")]
    TooLong,
    #[error("no credentials follow the scheme")]
    NoCredentials,
    #[error("the Basic credentials are not base64")]
    NotBase64,
    #[error("the decoded Basic credentials are not UTF-8")]
    NotUtf8,
    #[error("the decoded Basic credentials have no ':' between user name and password")]
    NoColon,
    #[error("the user name is empty")]
    EmptyUser,
    #[error("the bearer token contains spaces")]
    SpaceInToken,
}

/// The credentials of a header.
#[derive(PartialEq, Eq)]
pub(crate) enum Credentials<'a> {
    Basic { user: String, password: String },
    Bearer(&'a str),
}

impl fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Basic { user, .. } => f
                .debug_struct("Basic")
                .field("user", user)
                .field("password", &"<hidden>")
                .finish(),
            Credentials::Bearer(_) => f.write_str("Bearer(<hidden>)"),
        }
    }
}

/// Why a header is refused before any credential is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderError {
    Malformed(Malformed),
    UnsupportedScheme,
}

const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Reads the value of an `Authorization` header.
pub(crate) fn parse(value: &str) -> Result<Credentials<'_>, HeaderError> {
    use HeaderError::{Malformed as M, UnsupportedScheme};
    if value.len() > MAX_HEADER_BYTES {
        return Err(M(Malformed::TooLong));
    }
    let value = value.trim_matches([' ', '\t']);
    if value.is_empty() {
        return Err(M(Malformed::Empty));
    }
    let (scheme, rest) = match value.find([' ', '\t']) {
        Some(i) => (&value[..i], value[i..].trim_start_matches([' ', '\t'])),
        None => (value, ""),
    };
    let basic = scheme.eq_ignore_ascii_case("basic");
    if !basic && !scheme.eq_ignore_ascii_case("bearer") {
        return Err(UnsupportedScheme);
    }
    if rest.is_empty() {
        return Err(M(Malformed::NoCredentials));
    }
    if !basic {
        if rest.contains([' ', '\t']) {
            return Err(M(Malformed::SpaceInToken));
        }
        return Ok(Credentials::Bearer(rest));
    }
    let bytes = BASE64.decode(rest).map_err(|_| M(Malformed::NotBase64))?;
    let text = String::from_utf8(bytes).map_err(|_| M(Malformed::NotUtf8))?;
    let (user, password) = text.split_once(':').ok_or(M(Malformed::NoColon))?;
    if user.is_empty() {
        return Err(M(Malformed::EmptyUser));
    }
    Ok(Credentials::Basic {
        user: user.to_string(),
        password: password.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(text: impl AsRef<[u8]>) -> String {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(text)
        )
    }

    fn user_password(value: &str) -> (String, String) {
        match parse(value) {
            Ok(Credentials::Basic { user, password }) => (user, password),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_basic_credentials() {
        // RFC 7617 section 2: "Aladdin:open sesame".
        let (u, p) = user_password("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert_eq!((u.as_str(), p.as_str()), ("Aladdin", "open sesame"));
        // Any case of the scheme, several blanks, blanks around, padding left out.
        for value in [
            "basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
            "BASIC \t QWxhZGRpbjpvcGVuIHNlc2FtZQ",
            "  bAsIc QWxhZGRpbjpvcGVuIHNlc2FtZQ==  ",
        ] {
            assert_eq!(user_password(value).0, "Aladdin", "{value}");
        }
        // The password may contain ':' and be empty; the name ends at the first ':'.
        let (u, p) = user_password(&basic("anna:a:b:c"));
        assert_eq!((u.as_str(), p.as_str()), ("anna", "a:b:c"));
        assert_eq!(user_password(&basic("anna:")).1, "");
        // UTF-8 (RFC 7617's charset).
        let (u, p) = user_password(&basic("Niccolò:perché è così"));
        assert_eq!((u.as_str(), p.as_str()), ("Niccolò", "perché è così"));
    }

    #[test]
    fn reads_bearer_tokens() {
        assert_eq!(parse("Bearer abc").unwrap(), Credentials::Bearer("abc"));
        assert_eq!(parse("bearer   abc ").unwrap(), Credentials::Bearer("abc"));
    }

    #[test]
    fn says_what_is_wrong() {
        use HeaderError::{Malformed as M, UnsupportedScheme as U};
        let cases: Vec<(String, HeaderError)> = vec![
            (String::new(), M(Malformed::Empty)),
            ("  \t ".into(), M(Malformed::Empty)),
            ("Basic".into(), M(Malformed::NoCredentials)),
            ("Basic   ".into(), M(Malformed::NoCredentials)),
            ("Bearer".into(), M(Malformed::NoCredentials)),
            ("Basic !!!!".into(), M(Malformed::NotBase64)),
            ("Basic QWxh ZGRp".into(), M(Malformed::NotBase64)),
            ("Basic QWxh=ZGRp".into(), M(Malformed::NotBase64)),
            (basic(b"no colon here"), M(Malformed::NoColon)),
            (basic(b":password"), M(Malformed::EmptyUser)),
            (basic(b"anna:\xff\xfe"), M(Malformed::NotUtf8)),
            ("Bearer a b".into(), M(Malformed::SpaceInToken)),
            ("Digest username=\"anna\"".into(), U),
            ("Negotiate abc".into(), U),
            ("QWxhZGRpbjpvcGVuIHNlc2FtZQ==".into(), U),
            ("Basicx QWxhZGRpbjpvcGVuIHNlc2FtZQ==".into(), U),
            (
                format!("Basic {}", "A".repeat(MAX_HEADER_BYTES)),
                M(Malformed::TooLong),
            ),
        ];
        for (value, want) in cases {
            assert_eq!(parse(&value).unwrap_err(), want, "{value:?}");
        }
    }

    #[test]
    fn debug_hides_the_secrets() {
        let header = basic(b"anna:s3cret-pw");
        let c = parse(&header).unwrap();
        let debug = format!("{c:?}");
        assert!(
            debug.contains("anna") && !debug.contains("s3cret-pw"),
            "{debug}"
        );
        let c = parse("Bearer tt_0123abcd_secret").unwrap();
        assert!(!format!("{c:?}").contains("secret"));
    }
}
