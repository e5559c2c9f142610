//! What the pipeline calls on a plugin: one stage of a request, each on the plugin threads
//! (see `pool`) in a [`Session`] of its own, and the probe run before a plugin serves.

use super::error::Error;
use super::instance::Plugin;
use super::session::Session;
use super::types::{Filtered, Normalized, Reply, Request, Ruling, Verdict};
use crate::event::Event;
use std::sync::Arc;

impl Plugin {
    /// Proves the plugin works before it serves: instantiates it once in a fresh store (its
    /// imports link, its exports have this host's types) and has it check its settings
    /// (`setup-api.validate-settings`). Returns whether the settings were checked. Run at
    /// `switchyard check`, startup and every reload.
    pub async fn probe(self: &Arc<Self>) -> Result<bool, Error> {
        let plugin = self.clone();
        super::pool::run(self.id(), async move {
            let mut session = Session::open_fresh(&plugin).await?;
            session.validate_settings().await
        })
        .await
    }

    /// Normalizes one request in a fresh instance, on the plugin threads (see `pool`).
    pub async fn normalize_request(self: &Arc<Self>, request: &Request) -> Result<Normalized, Error> {
        self.normalize_request_at(request, super::pool::Place::Pool).await
    }

    /// [`Plugin::normalize_request`] at `place`.
    pub async fn normalize_request_at(
        self: &Arc<Self>,
        request: &Request,
        place: super::pool::Place,
    ) -> Result<Normalized, Error> {
        let (plugin, request) = (self.clone(), request.clone());
        super::pool::run_at(place, self.id(), async move {
            #[cfg(feature = "native-plugins")]
            if let Some(native) = plugin.native {
                plugin.health.call();
                let started = std::time::Instant::now();
                let result = super::native::call(plugin.id(), native, &request);
                let outcome = result
                    .as_ref()
                    .map_or_else(super::stats::Outcome::of, |_| super::stats::Outcome::Ok);
                plugin.stats.call("normalize", outcome, started.elapsed());
                return result;
            }
            plugin.session().await?.normalize(&request).await
        })
        .await
    }

    /// Filters a request's events in one instance at `place`: the kept events in order, and
    /// the reasons of the dropped ones (with their event uids).
    pub async fn filter_events(
        self: &Arc<Self>,
        events: Vec<Event>,
        place: super::pool::Place,
    ) -> Result<Filtered, Error> {
        let plugin = self.clone();
        super::pool::run_at(place, self.id(), async move {
            let mut session = plugin.session().await?;
            let mut filtered = Filtered {
                kept: Vec::with_capacity(events.len()),
                dropped: Vec::new(),
            };
            for event in events {
                match session.filter(&event).await? {
                    Verdict::Keep => filtered.kept.push(event),
                    Verdict::Drop(reason) => filtered.dropped.push((event.event_uid, reason)),
                }
            }
            Ok(filtered)
        })
        .await
    }

    /// Transforms a request's events in one instance at `place`.
    pub async fn transform_events(
        self: &Arc<Self>,
        events: Vec<Event>,
        place: super::pool::Place,
    ) -> Result<Vec<Event>, Error> {
        let plugin = self.clone();
        super::pool::run_at(place, self.id(), async move {
            let mut session = plugin.session().await?;
            let mut out = Vec::with_capacity(events.len());
            for event in &events {
                out.extend(session.transform(event).await?);
            }
            Ok(out)
        })
        .await
    }

    /// Rules on a request's event in one instance at `place`, with the site's clock in
    /// `zone`. The call is cut off at `deadline` (wall-clock, from now) wherever it is —
    /// waiting for a plugin thread, instantiating, or in the guest (at its next epoch yield) —
    /// and then reports [`Error::Late`]; the instance is not reused.
    pub async fn decide_event(
        self: &Arc<Self>,
        event: &Event,
        zone: &jiff::tz::TimeZone,
        deadline: std::time::Duration,
        place: super::pool::Place,
    ) -> Result<Ruling, Error> {
        let (plugin, event, zone) = (self.clone(), event.clone(), zone.clone());
        let until = tokio::time::Instant::now() + deadline;
        // The guest itself is interrupted at the deadline by the epoch callback, wherever it
        // runs and whatever the executor does with timers; this timeout covers the time
        // outside the guest (waiting for a plugin thread, instantiating).
        let work = async move {
            let mut session = plugin.session().await?;
            session.decide(&event, &zone, Some(until.into_std())).await
        };
        tokio::time::timeout_at(until, super::pool::run_at(place, self.id(), work))
            .await
            .unwrap_or_else(|_| {
                Err(Error::Late {
                    plugin: self.id().to_string(),
                    deadline_ms: deadline.as_secs_f64() * 1e3,
                })
            })
    }

    /// Renders `ruling` as the reply to `request` whose first event is `event` (a normalizer
    /// exporting `answer-api`), in one instance at `place`.
    pub async fn answer_request(
        self: &Arc<Self>,
        request: &Request,
        event: &Event,
        ruling: &Ruling,
        place: super::pool::Place,
    ) -> Result<Reply, Error> {
        let (plugin, request, event, ruling) = (self.clone(), request.clone(), event.clone(), ruling.clone());
        super::pool::run_at(place, self.id(), async move {
            plugin.session().await?.answer(&request, &event, &ruling).await
        })
        .await
    }

    /// Starts a session for one request: a fresh store and instance, or with `Reuse::Warm` an
    /// idle one when there is one.
    pub async fn session(&self) -> Result<Session<'_>, Error> {
        Session::open(self).await
    }
}
