//! Sender authentication for a source: none, HTTP Basic or Bearer, compared in constant time.

use crate::event::AuthKind;
use crate::pipeline::Auth;
use base64::Engine as _;
use hyper::HeaderMap;

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No or wrong credentials (401); carries the `WWW-Authenticate` challenge.
    Unauthorized {
        /// What was wrong.
        reason: &'static str,
        /// The challenge header value.
        challenge: &'static str,
    },
    /// The source's own secret is missing (503).
    Unavailable(String),
}

/// Compares without an early exit, so timing does not reveal how much of a secret matched.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        diff |= usize::from(a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0xff));
    }
    diff == 0
}

/// Checks a request's `Authorization` header against a source's auth.
pub fn check(auth: &Auth, headers: &HeaderMap) -> Result<AuthKind, Refusal> {
    let header = headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::trim);
    let scheme = |prefix: &str| {
        header.and_then(|h| {
            let (s, rest) = h.split_once(' ')?;
            s.eq_ignore_ascii_case(prefix).then(|| rest.trim())
        })
    };
    match auth {
        Auth::None => Ok(AuthKind::None),
        Auth::Unavailable { reason } => Err(Refusal::Unavailable(reason.clone())),
        Auth::Basic { username, password } => {
            const CHALLENGE: &str = "Basic realm=\"switchyard\", charset=\"UTF-8\"";
            let Some(encoded) = scheme("Basic") else {
                return Err(Refusal::Unauthorized {
                    reason: "missing Basic credentials",
                    challenge: CHALLENGE,
                });
            };
            let expected = format!("{username}:{password}");
            let given = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .unwrap_or_default();
            if constant_time_eq(&given, expected.as_bytes()) {
                Ok(AuthKind::Basic)
            } else {
                Err(Refusal::Unauthorized {
                    reason: "wrong user name or password",
                    challenge: CHALLENGE,
                })
            }
        }
        Auth::Bearer { token } => {
            const CHALLENGE: &str = "Bearer realm=\"switchyard\"";
            match scheme("Bearer") {
                None => Err(Refusal::Unauthorized {
                    reason: "missing Bearer token",
                    challenge: CHALLENGE,
                }),
                Some(given) if constant_time_eq(given.as_bytes(), token.as_bytes()) => Ok(AuthKind::Bearer),
                Some(_) => Err(Refusal::Unauthorized {
                    reason: "wrong Bearer token",
                    challenge: CHALLENGE,
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::{AUTHORIZATION, HeaderValue};

    fn headers(value: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(v) = value {
            h.insert(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn basic_and_bearer() {
        let basic = Auth::Basic {
            username: "noah".into(),
            password: "s3cret".into(),
        };
        let good = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("noah:s3cret")
        );
        assert_eq!(check(&basic, &headers(Some(&good))), Ok(AuthKind::Basic));
        assert!(matches!(
            check(&basic, &headers(None)),
            Err(Refusal::Unauthorized { .. })
        ));
        assert!(matches!(
            check(&basic, &headers(Some("Basic bm9haDp3cm9uZw=="))),
            Err(Refusal::Unauthorized {
                reason: "wrong user name or password",
                ..
            })
        ));
        let bearer = Auth::Bearer { token: "t0k".into() };
        assert_eq!(check(&bearer, &headers(Some("bearer t0k"))), Ok(AuthKind::Bearer));
        assert!(matches!(
            check(&bearer, &headers(Some("Bearer t0"))),
            Err(Refusal::Unauthorized { .. })
        ));
        assert!(matches!(
            check(&Auth::Unavailable { reason: "x".into() }, &headers(None)),
            Err(Refusal::Unavailable(_))
        ));
    }

    #[test]
    fn constant_time_compare() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
