//! `GET /admin/api/v1/events/stream`: the live tail as server-sent events. Each normalized
//! event is one `event: event` message whose `id` is its place in the tail and whose data is
//! the list row (`live::LiveEvent::summary`); with `after=<id>` the stream starts with the
//! kept events after that one, so a reconnecting page misses nothing the tail still holds.
//! A reader too slow for the flow gets `event: lagged` with how many it missed.

use super::context::Admin;
use super::live::{Filter, LiveEvent};
use super::reply::Body;
use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::Response;
use hyper::body::Frame;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// A comment line this often keeps proxies and the browser from timing the stream out.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Kept events replayed at most on (re)connect.
const BACKLOG: usize = 500;

struct State {
    backlog: VecDeque<Arc<LiveEvent>>,
    live: tokio::sync::broadcast::Receiver<Arc<LiveEvent>>,
    last: u64,
    filter: Filter,
    keep_alive: tokio::time::Interval,
    shutdown: crate::shutdown::Shutdown,
}

fn message(e: &LiveEvent) -> Bytes {
    Bytes::from(format!("id: {}\nevent: event\ndata: {}\n\n", e.seq, e.summary()))
}

/// The stream's response.
pub(crate) fn events(admin: &Arc<Admin>, query: &[(String, String)]) -> Response<Body> {
    let filter = Filter::from_query(query);
    let tail = &admin.console.tail;
    // Subscribed before the backlog is read: nothing falls between the two.
    let live = tail.subscribe();
    let after = query
        .iter()
        .find(|(k, _)| k == "after")
        .and_then(|(_, v)| v.parse::<u64>().ok());
    let backlog: VecDeque<_> = match after {
        Some(after) => tail.recent(&filter, after, BACKLOG).into(),
        None => VecDeque::new(),
    };
    let mut keep_alive = tokio::time::interval(KEEP_ALIVE);
    keep_alive.reset();
    let state = State {
        last: after.unwrap_or(0),
        backlog,
        live,
        filter,
        keep_alive,
        shutdown: admin.router.shutdown(),
    };
    let opening =
        futures_util::stream::once(async { Bytes::from_static(b"retry: 2000\n: switchyard live events\n\n") });
    let rest = futures_util::stream::unfold(state, |mut s| async move {
        if let Some(e) = s.backlog.pop_front() {
            s.last = e.seq;
            return Some((message(&e), s));
        }
        loop {
            tokio::select! {
                _ = s.shutdown.cancelled() => return None,
                _ = s.keep_alive.tick() => return Some((Bytes::from_static(b": keep-alive\n\n"), s)),
                received = s.live.recv() => match received {
                    Ok(e) if e.seq > s.last && s.filter.matches(&e) => {
                        s.last = e.seq;
                        return Some((message(&e), s));
                    }
                    Ok(_) => continue,
                    Err(RecvError::Lagged(missed)) => {
                        return Some((Bytes::from(format!("event: lagged\ndata: {missed}\n\n")), s));
                    }
                    Err(RecvError::Closed) => return None,
                },
            }
        }
    });
    use futures_util::StreamExt;
    let body = StreamBody::new(
        opening
            .chain(rest)
            .map(|b| Ok::<_, std::convert::Infallible>(Frame::data(b))),
    );
    let mut response = Response::new(BodyExt::boxed(body));
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(
        hyper::header::CACHE_CONTROL,
        hyper::header::HeaderValue::from_static("no-cache"),
    );
    headers.insert(
        hyper::header::HeaderName::from_static("x-accel-buffering"),
        hyper::header::HeaderValue::from_static("no"),
    );
    response
}
