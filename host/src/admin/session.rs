//! Console logins: `POST session` trades the admin token for an HttpOnly session cookie,
//! `GET session` says how a client is admitted, `DELETE session` logs out.

use super::access;
use super::context::Admin;
use super::reply::{Body, json_body};
use hyper::body::Incoming;
use hyper::{Method, Response, StatusCode};
use serde_json::json;
use std::net::SocketAddr;
use std::time::Duration;

/// Login attempts per client address: 5 at once, then one every 2 s (and all addresses
/// together four times that: `ingest::limiter::Buckets::take_fair`).
const LOGIN_RATE: crate::ingest::limiter::Rate = crate::ingest::limiter::Rate {
    burst: 5,
    refill: Duration::from_secs(2),
};

/// `GET session` (how this client is admitted, and the CSRF token of a login) and
/// `DELETE session` (log out).
pub(super) fn session(admin: &Admin, req: &hyper::Request<Incoming>, admitted: &access::Admitted) -> Response<Body> {
    let pipeline = admin.router.pipeline();
    let spec = &pipeline.spec().admin;
    if req.method() == Method::DELETE {
        if let Some(id) = access::cookie(req.headers(), access::COOKIE) {
            admin.console.sessions.close(id);
        }
        let mut response = json_body(StatusCode::OK, &json!({ "logged_out": true }));
        response.headers_mut().insert(
            hyper::header::SET_COOKIE,
            hyper::header::HeaderValue::from_static(
                "switchyard_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
            ),
        );
        return response;
    }
    let (auth, csrf) = match admitted {
        access::Admitted::Peer => ("peer", None),
        access::Admitted::Token => ("token", None),
        access::Admitted::Session { csrf } => ("session", Some(csrf.clone())),
    };
    json_body(
        StatusCode::OK,
        &json!({ "auth": auth, "csrf": csrf, "token_configured": spec.expects_token() }),
    )
}

/// `POST session` with `{"token": "…"}`: a console login. The token is checked once here;
/// the browser keeps an HttpOnly, SameSite=Strict cookie naming the session, never the token.
pub(super) async fn login(admin: &Admin, req: hyper::Request<Incoming>, remote: SocketAddr) -> Response<Body> {
    let problem = |status, message: &str| json_body(status, &json!({ "error": message }));
    if let Err(denied) = access::may_change(&access::Admitted::Peer, req.headers()) {
        return problem(StatusCode::FORBIDDEN, denied.message());
    }
    if let Err(wait) = admin.edge.rate_limits.take_fair("admin-login", remote.ip(), LOGIN_RATE) {
        let mut response = problem(
            StatusCode::TOO_MANY_REQUESTS,
            "too many login attempts; wait and try again",
        );
        if let Ok(v) = hyper::header::HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            response.headers_mut().insert(hyper::header::RETRY_AFTER, v);
        }
        return response;
    }
    let spec = admin.router.pipeline().spec().admin.clone();
    if spec.token().is_none() {
        return problem(
            StatusCode::CONFLICT,
            "no admin token is configured (`admin.token_env` or `admin.token_file`); only loopback clients and `[admin] allow` reach the console",
        );
    }
    let body = match crate::body::read_capped(req.into_body(), 4096).await {
        Ok(b) => b,
        Err(_) => return problem(StatusCode::BAD_REQUEST, "the login body is larger than 4 KiB"),
    };
    let token = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("token").and_then(|t| t.as_str()).map(str::to_string));
    let Some(token) = token else {
        return problem(StatusCode::BAD_REQUEST, "send {\"token\": \"…\"} as JSON");
    };
    if !access::token_matches(&spec, token.trim()) {
        tracing::info!(%remote, "Console login refused: wrong token.");
        return problem(StatusCode::UNAUTHORIZED, "wrong token");
    }
    let id = admin.console.sessions.open();
    tracing::info!(%remote, "Console login.");
    let mut response = json_body(StatusCode::OK, &json!({ "logged_in": true }));
    let cookie = format!(
        "{}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        access::COOKIE,
        access::SESSION_TTL.as_secs()
    );
    if let Ok(v) = hyper::header::HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(hyper::header::SET_COOKIE, v);
    }
    response
}
