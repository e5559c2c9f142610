//! Who may use the admin endpoints and the console, and how a browser keeps its login.
//!
//! The rule (one for `/metrics`, `/admin/*` and `/ui`): loopback peers and the networks in
//! `[admin] allow` are admitted as they are; anyone else needs the admin token
//! (`admin.token_env` / `admin.token_file`), as `Authorization: Bearer` (the CLI, scrapers)
//! or as a login cookie the console gets once for the token (so the token never sits in a URL
//! or in the page). Requests that change something (any method but GET/HEAD) are refused when
//! they come from another origin (`Origin`, `Sec-Fetch-Site`), and a cookie's requests must
//! also carry the session's CSRF token: a page on another site cannot replay, purge or
//! reload through an operator's browser. Loopback admission also requires a loopback `Host`
//! (an IP address or `localhost`) from a browser, so a DNS-rebound name cannot read the API from
//! a page.

use crate::config::AdminSpec;
use crate::ingest::constant_time_eq;
use rand::RngCore;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The console's login cookie.
pub(crate) const COOKIE: &str = "switchyard_session";
/// The header a cookie's state-changing requests carry (the value of `GET session`'s `csrf`).
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";
/// How long a login lasts.
pub(crate) const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Logins kept at most (the oldest goes first): a token holder cannot grow the table forever.
const MAX_SESSIONS: usize = 1024;

/// Whether a peer is on this machine. On a dual-stack listener (`[::]:8080`) an IPv4 client
/// arrives as `::ffff:127.0.0.1`, which `IpAddr::is_loopback` does not count.
pub(crate) fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

/// How a request was admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Admitted {
    /// Loopback or `[admin] allow`: no credentials needed.
    Peer,
    /// The bearer token.
    Token,
    /// A console login; its CSRF token.
    Session {
        /// What its state-changing requests must carry.
        csrf: String,
    },
}

/// Why a request may not use the admin endpoints.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Denied {
    /// Not loopback, not in `admin.allow`, and no token is configured.
    Forbidden,
    /// A token is configured but was not presented, or was wrong.
    BadToken,
    /// A loopback peer naming a host that is not loopback (DNS rebinding).
    Host,
    /// A state-changing request from another origin, or without the session's CSRF token.
    CrossOrigin(&'static str),
}

impl Denied {
    /// The message the client gets.
    pub(crate) fn message(&self) -> &'static str {
        match self {
            Denied::Forbidden => "admin endpoints answer loopback clients and the addresses in `[admin] allow` only",
            Denied::BadToken => {
                "admin endpoints need `Authorization: Bearer <token>` (the token of `admin.token_env` / `admin.token_file`) or a console login from this address"
            }
            Denied::Host => {
                "the Host header must name this machine (an IP address or localhost) for a loopback client; use the address itself"
            }
            Denied::CrossOrigin(why) => why,
        }
    }
}

/// Console logins.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    live: Mutex<HashMap<String, Session>>,
}

#[derive(Debug, Clone)]
struct Session {
    csrf: String,
    expires: Instant,
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    crate::digest::hex(&bytes)
}

impl Sessions {
    /// Opens a session; returns its cookie value.
    pub(crate) fn open(&self) -> String {
        let id = random_token();
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        live.retain(|_, s| s.expires > now);
        if live.len() >= MAX_SESSIONS
            && let Some(oldest) = live.iter().min_by_key(|(_, s)| s.expires).map(|(k, _)| k.clone())
        {
            live.remove(&oldest);
        }
        live.insert(
            id.clone(),
            Session {
                csrf: random_token(),
                expires: now + SESSION_TTL,
            },
        );
        id
    }

    /// The CSRF token of a live session.
    fn csrf(&self, id: &str) -> Option<String> {
        let live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.get(id)
            .filter(|s| s.expires > Instant::now())
            .map(|s| s.csrf.clone())
    }

    /// Ends a session.
    pub(crate) fn close(&self, id: &str) {
        self.live.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a hyper::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(hyper::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

fn bearer(headers: &hyper::HeaderMap) -> Option<&str> {
    headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
}

/// Whether `token` is the admin token (constant time).
pub(crate) fn token_matches(admin: &AdminSpec, token: &str) -> bool {
    admin
        .token()
        .is_some_and(|expected| constant_time_eq(token.as_bytes(), expected.as_bytes()))
}

/// Whether a request comes from a browser: DNS rebinding needs one, and browsers mark their
/// requests with headers a page cannot leave out (`Sec-Fetch-*`, `Origin`) or, in older ones,
/// a `Mozilla/` user agent. Scripts and scrapers on this machine may name it by any host name.
fn from_a_browser(headers: &hyper::HeaderMap) -> bool {
    headers.contains_key("sec-fetch-site")
        || headers.contains_key("sec-fetch-mode")
        || headers.contains_key(hyper::header::ORIGIN)
        || headers
            .get(hyper::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ua| ua.starts_with("Mozilla/"))
}

/// Whether a `Host` header names this machine: an IP address or `localhost`, with any port.
fn loopback_host(headers: &hyper::HeaderMap) -> bool {
    let Some(host) = headers.get(hyper::header::HOST).and_then(|h| h.to_str().ok()) else {
        // HTTP/1.0 without Host: nothing a browser sends.
        return true;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok()
}

/// The admin access rule (see the module docs); `sessions` are the console's logins.
pub(crate) fn admitted(
    admin: &AdminSpec,
    sessions: &Sessions,
    headers: &hyper::HeaderMap,
    ip: IpAddr,
) -> Result<Admitted, Denied> {
    if let Some(token) = bearer(headers) {
        if token_matches(admin, token) {
            return Ok(Admitted::Token);
        }
        if !(is_loopback(ip) || admin.allow.iter().any(|net| net.contains(ip))) {
            return Err(Denied::BadToken);
        }
    }
    if let Some(csrf) = cookie(headers, COOKIE).and_then(|id| sessions.csrf(id)) {
        return Ok(Admitted::Session { csrf });
    }
    if is_loopback(ip) {
        return if !from_a_browser(headers) || loopback_host(headers) {
            Ok(Admitted::Peer)
        } else {
            Err(Denied::Host)
        };
    }
    if admin.allow.iter().any(|net| net.contains(ip)) {
        return Ok(Admitted::Peer);
    }
    if admin.token().is_some() {
        Err(Denied::BadToken)
    } else {
        Err(Denied::Forbidden)
    }
}

/// Whether a peer may load the console's page: one that is admitted as it is (loopback,
/// `allow`), or any peer when a token is configured (it logs in on that page). Anyone else
/// could never use it, so it gets nothing at all.
pub(crate) fn may_see_page(admin: &AdminSpec, ip: IpAddr) -> bool {
    is_loopback(ip) || admin.allow.iter().any(|net| net.contains(ip)) || admin.token().is_some()
}

/// For a request that changes something: refuses other origins, and a session without its
/// CSRF token.
pub(crate) fn may_change(admitted: &Admitted, headers: &hyper::HeaderMap) -> Result<(), Denied> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header("sec-fetch-site")
        && !matches!(site, "same-origin" | "none")
    {
        return Err(Denied::CrossOrigin(
            "a request from another site may not change anything here (Sec-Fetch-Site)",
        ));
    }
    if let Some(origin) = header("origin") {
        // The whole origin: scheme and host. The console speaks plain HTTP; behind a TLS proxy
        // (which says so in X-Forwarded-Proto, a header no cross-site page can set without a
        // preflight this listener never grants) the page's origin is https.
        let scheme = match header("x-forwarded-proto").map(str::trim) {
            Some(p) if p.eq_ignore_ascii_case("https") => "https",
            _ => "http",
        };
        let same = origin
            .split_once("://")
            .is_some_and(|(s, host)| s.eq_ignore_ascii_case(scheme) && header("host") == Some(host));
        if !same {
            return Err(Denied::CrossOrigin(
                "a request from another origin may not change anything here (Origin is not this console's scheme and Host)",
            ));
        }
    }
    match admitted {
        Admitted::Session { csrf } => match header(CSRF_HEADER) {
            Some(sent) if constant_time_eq(sent.as_bytes(), csrf.as_bytes()) => Ok(()),
            _ => Err(Denied::CrossOrigin(
                "a console session's changes need the X-CSRF-Token header (the `csrf` of GET /admin/api/v1/session)",
            )),
        },
        Admitted::Peer | Admitted::Token => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> hyper::HeaderMap {
        let mut h = hyper::HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    fn spec(allow: &[&str], token_env: Option<&str>) -> AdminSpec {
        AdminSpec {
            allow: allow.iter().map(|a| a.parse().unwrap()).collect(),
            token_env: token_env.map(str::to_string),
            ..AdminSpec::default()
        }
    }

    #[test]
    fn loopback_allow_list_then_token_then_cookie() {
        let sessions = Sessions::default();
        let none = spec(&[], None);
        let local = headers(&[("host", "127.0.0.1:8081")]);
        let ok = |r: Result<Admitted, Denied>| r.expect("admitted");
        assert_eq!(
            ok(admitted(&none, &sessions, &local, "::ffff:127.0.0.1".parse().unwrap())),
            Admitted::Peer
        );
        assert_eq!(
            admitted(&none, &sessions, &local, "10.1.2.3".parse().unwrap()),
            Err(Denied::Forbidden)
        );
        let listed = spec(&["10.0.0.0/8"], None);
        assert_eq!(
            ok(admitted(&listed, &sessions, &local, "10.1.2.3".parse().unwrap())),
            Admitted::Peer
        );
        // SAFETY: this variable is read only by this test.
        unsafe { std::env::set_var("SWITCHYARD_TEST_ADMIN_TOKEN_UNIT", "s3cret") };
        let token = spec(&[], Some("SWITCHYARD_TEST_ADMIN_TOKEN_UNIT"));
        let far: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(
            ok(admitted(
                &token,
                &sessions,
                &headers(&[("authorization", "Bearer s3cret")]),
                far
            )),
            Admitted::Token
        );
        assert_eq!(
            admitted(&token, &sessions, &headers(&[("authorization", "Bearer wrong")]), far),
            Err(Denied::BadToken)
        );
        assert_eq!(admitted(&token, &sessions, &local, far), Err(Denied::BadToken));
        let id = sessions.open();
        let with_cookie = headers(&[("cookie", &format!("theme=dark; {COOKIE}={id}"))]);
        assert!(matches!(
            admitted(&token, &sessions, &with_cookie, far),
            Ok(Admitted::Session { .. })
        ));
        sessions.close(&id);
        assert_eq!(admitted(&token, &sessions, &with_cookie, far), Err(Denied::BadToken));
        let unset = spec(&[], Some("SWITCHYARD_TEST_ADMIN_TOKEN_UNSET"));
        assert_eq!(
            admitted(&unset, &sessions, &headers(&[("authorization", "Bearer ")]), far),
            Err(Denied::Forbidden),
            "an unset token admits nobody"
        );
        assert_eq!(
            admitted(&unset, &sessions, &headers(&[("authorization", "Bearer x")]), far),
            Err(Denied::BadToken)
        );
    }

    #[test]
    fn a_rebound_name_is_not_loopback() {
        let sessions = Sessions::default();
        let none = spec(&[], None);
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        for host in ["localhost:8081", "127.0.0.1", "[::1]:8081", "LOCALHOST"] {
            assert!(
                admitted(&none, &sessions, &headers(&[("host", host)]), lo).is_ok(),
                "{host}"
            );
        }
        let rebound = [("host", "evil.example:8081"), ("sec-fetch-site", "same-origin")];
        assert_eq!(admitted(&none, &sessions, &headers(&rebound), lo), Err(Denied::Host));
        let old_browser = [("host", "evil.example:8081"), ("user-agent", "Mozilla/5.0 (X11)")];
        assert_eq!(
            admitted(&none, &sessions, &headers(&old_browser), lo),
            Err(Denied::Host)
        );
        // A scraper or script on this machine may use its host name (Debian maps it to 127.0.1.1).
        let script = [("host", "gate-7:8081"), ("user-agent", "curl/7.88.1")];
        assert!(admitted(&none, &sessions, &headers(&script), lo).is_ok());
    }

    #[test]
    fn changes_need_the_same_origin_and_a_sessions_csrf_token() {
        let peer = Admitted::Peer;
        assert!(may_change(&peer, &headers(&[])).is_ok(), "curl sends no Origin");
        assert!(
            may_change(
                &peer,
                &headers(&[("host", "127.0.0.1:8081"), ("origin", "http://127.0.0.1:8081")])
            )
            .is_ok()
        );
        assert!(
            may_change(
                &peer,
                &headers(&[("host", "127.0.0.1:8081"), ("origin", "https://evil.example")])
            )
            .is_err()
        );
        assert!(
            may_change(
                &peer,
                &headers(&[("host", "127.0.0.1:8081"), ("origin", "https://127.0.0.1:8081")])
            )
            .is_err(),
            "another scheme is another origin"
        );
        assert!(
            may_change(
                &peer,
                &headers(&[
                    ("host", "console.example"),
                    ("origin", "https://console.example"),
                    ("x-forwarded-proto", "https")
                ])
            )
            .is_ok(),
            "behind a TLS proxy the page is https"
        );
        assert!(may_change(&peer, &headers(&[("host", "h"), ("origin", "null")])).is_err());
        assert!(may_change(&peer, &headers(&[("sec-fetch-site", "cross-site")])).is_err());
        let session = Admitted::Session { csrf: "abc".into() };
        assert!(may_change(&session, &headers(&[])).is_err());
        assert!(may_change(&session, &headers(&[("x-csrf-token", "abd")])).is_err());
        assert!(may_change(&session, &headers(&[("x-csrf-token", "abc")])).is_ok());
    }

    #[test]
    fn ipv4_mapped_loopback_is_loopback() {
        for local in ["127.0.0.1", "127.5.6.7", "::1", "::ffff:127.0.0.1"] {
            assert!(is_loopback(local.parse().unwrap()), "{local}");
        }
        for remote in ["10.0.0.1", "::ffff:10.0.0.1", "2001:db8::1", "0.0.0.0"] {
            assert!(!is_loopback(remote.parse().unwrap()), "{remote}");
        }
    }
}
