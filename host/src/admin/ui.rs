//! The console's page: three files embedded in the binary (no CDN, nothing to install), served
//! under `/ui` with a strict content security policy (scripts, styles and connections to this
//! origin only; no framing).

use super::reply::{Body, full};
use bytes::Bytes;
use hyper::{Response, StatusCode};

const INDEX: &str = include_str!("../../ui/index.html");
const SCRIPT: &str = include_str!("../../ui/app.js");
const STYLE: &str = include_str!("../../ui/app.css");

/// What the browser may load and do on the console's pages.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The asset at `path` (`/ui`, `/ui/`, `/ui/app.js`, `/ui/app.css`), or `None`.
pub(crate) fn asset(path: &str) -> Option<Response<Body>> {
    let (body, mime) = match path {
        "/ui" | "/ui/" | "/ui/index.html" => (INDEX, "text/html; charset=utf-8"),
        "/ui/app.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        "/ui/app.css" => (STYLE, "text/css; charset=utf-8"),
        _ => return None,
    };
    let mut response = Response::new(full(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    let set = |h: &mut hyper::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(
            hyper::header::HeaderName::from_static(k),
            hyper::header::HeaderValue::from_static(v),
        );
    };
    set(headers, "content-type", mime);
    set(headers, "content-security-policy", CSP);
    set(headers, "x-frame-options", "DENY");
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "referrer-policy", "no-referrer");
    // The assets change with the binary; a reload of the page must not run an old script.
    set(headers, "cache-control", "no-cache");
    Some(response)
}
