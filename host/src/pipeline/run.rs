//! Driving one request through its source's chain: normalize → host-owned fields → decide (a
//! source with a `decider`) → media → filters → transforms → routes → sinks. One plugin
//! instance per stage per request. [`Pipeline::front`] ends where the reply is final, so a
//! terminal waiting on a door decision can be answered before the rest runs.

use super::payloads::{self, Payloads};
use super::{Pipeline, Source, matches};
use crate::blobs::sniff_mime;
use crate::dedup::Seen;
use crate::event::{AuthKind, Delivery, Event, SCHEMA, Transport};
use crate::plugin::{self, Place, Reply, Request};
use crate::queue::NewRow;
use crate::sink::Sink;
use bytes::Bytes;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The result of a processed request.
#[derive(Debug)]
pub struct Processed {
    /// The normalizer's reply, if it chose one.
    pub reply: Option<Reply>,
    /// Events the normalizer produced.
    pub normalized: usize,
    /// Events dropped by filters.
    pub dropped: usize,
    /// Events after transforms.
    pub emitted: usize,
    /// Events that matched at least one route.
    pub routed: usize,
    /// Repeats of events already seen within the dedup window (dropped).
    pub duplicates: usize,
    /// The final events (after transforms), in order.
    pub events: Vec<Arc<Event>>,
    /// Each of `events` as JSON in the full encoding, made once when the last stage's output
    /// was checked and shared by the outbox and every sink.
    pub encoded: Vec<Bytes>,
    /// The reply carries a MAC of request data (see `plugin::Normalized`).
    pub reply_carries_mac: bool,
    /// The door decision, on a source with a `decider`.
    pub decision: Option<crate::decision::Record>,
    /// How long each plugin call of the request took, in order.
    pub timings: Vec<Timing>,
    /// Events each route matched, indexed like the config's routes (after `commit`).
    pub route_hits: Vec<u32>,
    /// Events handed to each sink (after `commit`).
    pub sink_events: BTreeMap<String, u32>,
}

/// One plugin call of a request and how long it took (the console's per-event timings).
#[derive(Debug, Clone)]
pub struct Timing {
    /// Plugin id.
    pub plugin: String,
    /// The export called (`normalize`, `decide`, `filter`, `transform`).
    pub call: &'static str,
    /// Wall-clock milliseconds.
    pub ms: f64,
}

impl Timing {
    fn since(plugin: &str, call: &'static str, started: std::time::Instant) -> Timing {
        Timing {
            plugin: plugin.to_string(),
            call,
            ms: started.elapsed().as_secs_f64() * 1000.0,
        }
    }
}

/// A request after its normalizer and decider: the reply is final from here on.
#[derive(Debug)]
pub struct Front {
    normalized: crate::plugin::Normalized,
    /// The door decision (a source with a `decider`, a request with an event).
    pub decision: Option<crate::pipeline::Decided>,
    timings: Vec<Timing>,
    /// The request body's size: what can explain a big output (`validate`).
    input_bytes: usize,
}

impl Front {
    /// The reply the sender gets, if the normalizer chose one.
    pub fn reply(&self) -> Option<&Reply> {
        self.normalized.reply.as_ref()
    }

    /// The reply carries a MAC of request data (see `plugin::Normalized`).
    pub fn reply_carries_mac(&self) -> bool {
        self.normalized.reply_carries_mac
    }
}

/// Why a request could not be processed.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// A plugin failed or rejected the input.
    #[error(transparent)]
    Plugin(#[from] plugin::Error),
    /// A sink could not accept the events (e.g. the file sink's disk is full).
    #[error("sink `{sink}` failed: {source:#}")]
    Sink {
        /// Sink id.
        sink: String,
        /// Cause.
        source: anyhow::Error,
    },
    /// The outbox could not commit the events (e.g. the disk is full).
    #[error("the outbox could not commit the events: {0:#}")]
    Outbox(anyhow::Error),
    /// Storing decoded media failed.
    #[error("storing media failed: {0:#}")]
    Media(anyhow::Error),
}

fn transport(method: &str) -> Transport {
    match method {
        "GET" => Transport::HttpGet,
        "PUT" => Transport::HttpPut,
        // Frames from websocket feeds are handed over with this pseudo-method.
        "WEBSOCKET" => Transport::Websocket,
        _ => Transport::HttpPost,
    }
}

/// Sets the host-owned fields of freshly normalized events (schema, uid, receive time,
/// delivery), replacing whatever the normalizer put there.
pub fn stamp(events: &mut [Event], request: &Request, auth: AuthKind) {
    let total = events.len();
    for (index, event) in events.iter_mut().enumerate() {
        event.schema = SCHEMA.to_string();
        event.event_uid = crate::clock::new_ulid();
        event.received_at = request.received_at.clone();
        // A synchronous decision request (a terminal waiting on the answer) is the plugin's to
        // recognise; otherwise the transport follows the HTTP method.
        let transport = match event.delivery.transport {
            Transport::SyncAuth => Transport::SyncAuth,
            _ => transport(&request.method),
        };
        event.delivery = Delivery {
            transport,
            delivery_id: request.delivery_id.clone(),
            batch_index: Some(index as u32),
            batch_size: Some(total as u32),
            // A normalizer that verified a signature says so; nothing else is its to set.
            auth: if event.delivery.signature_valid == Some(true) {
                AuthKind::Hmac
            } else {
                auth
            },
            signature_valid: event.delivery.signature_valid,
            duplicate_of: None,
            replay_suspected: false,
        };
    }
}

impl Pipeline {
    /// Runs the normalizer, filters and transforms of `source` on a request: no sink is touched,
    /// so this is also what `switchyard plugin test` and reload self-tests use.
    pub async fn transform_request(
        &self,
        source: &Source,
        request: &Request,
        auth: AuthKind,
    ) -> Result<Processed, ProcessError> {
        self.transform_request_with(source, request, auth, true).await
    }

    /// Like [`Pipeline::transform_request`]; with `store_media` false, inline media are hashed
    /// but not written, so a self-test leaves no trace.
    pub async fn transform_request_with(
        &self,
        source: &Source,
        request: &Request,
        auth: AuthKind,
        store_media: bool,
    ) -> Result<Processed, ProcessError> {
        let front = self.front(source, request, auth, std::time::Instant::now()).await?;
        self.rest(source, front, store_media).await
    }

    /// The normalizer and, on a source with a `decider`, the decision and its reply; the
    /// decision deadline counts from `started` (when the request was complete). Touches no
    /// disk and no network.
    pub async fn front(
        &self,
        source: &Source,
        request: &Request,
        auth: AuthKind,
        started: std::time::Instant,
    ) -> Result<Front, ProcessError> {
        let limits = &self.spec().server.limits;
        let place = if source.decider.is_some() {
            super::decide::DECISION_PLACE
        } else {
            crate::plugin::Place::for_input(request.body.len())
        };
        let called = std::time::Instant::now();
        let mut normalized = source.normalizer.normalize_request_at(request, place).await?;
        let mut timings = vec![Timing::since(source.normalizer.id(), "normalize", called)];
        super::validate::normalized(source.normalizer.id(), &normalized, limits, request.body.len())?;
        stamp(&mut normalized.events, request, auth);
        let called = std::time::Instant::now();
        let decision = self.decide(source, request, &mut normalized, started).await?;
        if let (Some(decider), Some(_)) = (&source.decider, &decision) {
            timings.push(Timing::since(decider.plugin.id(), "decide", called));
        }
        Ok(Front {
            normalized,
            decision,
            timings,
            input_bytes: request.body.len(),
        })
    }

    /// What follows the reply: media stored (or only hashed, with `store_media` false),
    /// filters, transforms; the decision written again into the decided event.
    pub async fn rest(&self, source: &Source, front: Front, store_media: bool) -> Result<Processed, ProcessError> {
        let limits = &self.spec().server.limits;
        let Front {
            mut normalized,
            decision,
            mut timings,
            input_bytes,
        } = front;
        let decision = decision.map(|d| d.record);
        let total = normalized.events.len();
        for (event_index, media_index, bytes) in std::mem::take(&mut normalized.media_content) {
            let hash = if store_media {
                self.blobs.put(&bytes).await.map_err(ProcessError::Media)?
            } else {
                crate::digest::sha256(&bytes)
            };
            if let Some(media) = normalized
                .events
                .get_mut(event_index)
                .and_then(|e| e.media.get_mut(media_index))
            {
                media.blob_ref = Some(hash);
                media.bytes = Some(bytes.len() as u64);
                if media.mime.is_none() {
                    media.mime = sniff_mime(&bytes).map(str::to_string);
                }
            }
        }
        let mut events = normalized.events;
        let mut dropped = 0;
        for filter in &source.filters {
            if events.is_empty() {
                break;
            }
            let called = std::time::Instant::now();
            let filtered = filter.filter_events(events, Place::for_input(input_bytes)).await?;
            timings.push(Timing::since(filter.id(), "filter", called));
            for (event_uid, reason) in &filtered.dropped {
                tracing::debug!(plugin = filter.id(), %event_uid, %reason, "Event dropped by filter.");
            }
            dropped += filtered.dropped.len();
            events = filtered.kept;
        }
        // Each stage's output is checked (and its JSON made) where it comes out; the last
        // check's bytes are what the outbox and the sinks carry.
        let mut encoded = None;
        for transform in &source.transforms {
            if events.is_empty() {
                break;
            }
            let called = std::time::Instant::now();
            events = transform
                .transform_events(events, Place::for_input(input_bytes))
                .await?;
            timings.push(Timing::since(transform.id(), "transform", called));
            encoded = Some(super::validate::events(transform.id(), &events, limits, input_bytes)?);
        }
        let mut encoded = match encoded {
            Some(encoded) => encoded,
            // Stamped by the host, so only the sizes can be wrong.
            None => super::validate::events(source.normalizer.id(), &events, limits, input_bytes)?,
        };
        if let Some(record) = &decision
            && !source.transforms.is_empty()
        {
            // Plugins see a decider's id as `router` and no reason or latency: the host's
            // record is what the event keeps, whatever a transform did to its copy.
            for (event, json) in events.iter_mut().zip(&mut encoded) {
                if event.event_uid == record.event_uid {
                    record.apply(event);
                    *json = super::payloads::full(event)?;
                }
            }
        }
        Ok(Processed {
            reply_carries_mac: normalized.reply_carries_mac,
            reply: normalized.reply,
            normalized: total,
            dropped,
            emitted: events.len(),
            routed: 0,
            duplicates: 0,
            events: events.into_iter().map(Arc::new).collect(),
            encoded,
            decision,
            timings,
            route_hits: Vec::new(),
            sink_events: BTreeMap::new(),
        })
    }

    /// What follows the reply of a request answered early: [`Pipeline::rest`], then
    /// [`Pipeline::commit`].
    pub async fn finish(&self, source: &Source, front: Front) -> Result<Processed, ProcessError> {
        let processed = self.rest(source, front, true).await?;
        self.commit(source, processed).await
    }

    /// Processes a request end to end and hands the events to their sinks.
    pub async fn process(&self, source: &Source, request: &Request, auth: AuthKind) -> Result<Processed, ProcessError> {
        let processed = self.transform_request(source, request, auth).await?;
        self.commit(source, processed).await
    }

    /// Drops repeats, routes the events and commits them to their sinks (the outbox first).
    pub async fn commit(&self, source: &Source, mut processed: Processed) -> Result<Processed, ProcessError> {
        let mut fresh = Vec::with_capacity(processed.events.len());
        let mut fresh_json = Vec::with_capacity(processed.events.len());
        // Content fingerprints of the kept events, computed once for dedup and webhook-ids.
        let mut prints = Vec::with_capacity(processed.events.len());
        // Classified now, remembered only once everything below is stored (see `dedup`).
        let mut pending = crate::dedup::Pending::default();
        let mut encoded = std::mem::take(&mut processed.encoded);
        if encoded.len() != processed.events.len() {
            // A `Processed` not made by `rest` (its JSON missing): made here, never skipped.
            encoded = processed
                .events
                .iter()
                .map(|e| payloads::full(e))
                .collect::<Result<_, _>>()?;
        }
        for (event, json) in std::mem::take(&mut processed.events).into_iter().zip(encoded) {
            let print = self.dedup.applies_to(&event).then(|| crate::dedup::fingerprint(&event));
            let seen = match print {
                Some(p) => self.dedup.classify(&mut pending, &event, p),
                None => Seen::New,
            };
            match seen {
                Seen::New => {
                    fresh.push(event);
                    fresh_json.push(json);
                    prints.push(print);
                }
                Seen::Update(first) => {
                    let mut update = Arc::unwrap_or_clone(event);
                    update.delivery.duplicate_of = Some(first);
                    fresh_json.push(super::payloads::full(&update)?);
                    fresh.push(Arc::new(update));
                    prints.push(print);
                }
                Seen::Repeat(first) => {
                    processed.duplicates += 1;
                    tracing::debug!(dedup_key = ?event.dedup_key, first_uid = %first, "Repeat dropped.");
                }
            }
        }
        processed.events = fresh;
        // Sinks written before the answer besides the outbox: files and NATS subjects.
        let mut lines: BTreeMap<&str, Vec<Bytes>> = BTreeMap::new();
        let mut messages: BTreeMap<&str, Vec<crate::sink::NatsMessage>> = BTreeMap::new();
        let mut rows = Vec::new();
        let mut payloads = Payloads::new(prints, fresh_json);
        let committed_ms = crate::clock::now_ms();
        let mut route_hits = vec![0u32; self.routes().len()];
        let mut sink_events: BTreeMap<&str, u32> = BTreeMap::new();
        for (index, event) in processed.events.iter().enumerate() {
            let mut hit = false;
            let mut sinks_for_event: Vec<&str> = Vec::new();
            for (route_index, route) in self.routes().iter().enumerate() {
                if matches(&route.matcher, event, &source.spec.id) {
                    hit = true;
                    route_hits[route_index] += 1;
                    for sink in &route.sinks {
                        // One delivery per sink even when several routes name it.
                        if !sinks_for_event.contains(&sink.as_str()) {
                            sinks_for_event.push(sink);
                        }
                    }
                }
            }
            for sink_id in sinks_for_event {
                *sink_events.entry(sink_id).or_default() += 1;
                match self.sink(sink_id).map(|s| s.as_ref()) {
                    Some(Sink::File(f)) => {
                        let line = payloads.json(index, event, f.encoding())?;
                        lines.entry(sink_id).or_default().push(line);
                    }
                    Some(Sink::Nats(n)) => {
                        let payload = payloads.json(index, event, n.encoding())?;
                        let id = payloads.webhook_id(index, event);
                        let fields = if n.names_fields() {
                            Some(payloads.fields(index)?)
                        } else {
                            None
                        };
                        messages
                            .entry(sink_id)
                            .or_default()
                            .push(n.message(payload, id, fields));
                    }
                    Some(Sink::Webhook(w)) => {
                        let payload = payloads.json(index, event, w.encoding())?;
                        let webhook_id = payloads.webhook_id(index, event);
                        let ordering_key = match w.spec().ordering_key.as_deref() {
                            Some(pointer) => crate::event::field_text(payloads.fields(index)?, pointer),
                            None => None,
                        };
                        rows.push(NewRow {
                            sink: sink_id.to_string(),
                            webhook_id,
                            ordering_key,
                            created_ms: committed_ms,
                            payload,
                        });
                    }
                    None => {}
                }
            }
            if hit {
                processed.routed += 1;
            } else {
                tracing::debug!(event_uid = %event.event_uid, source = %source.spec.id, "Event matched no route.");
            }
        }
        // The outbox first: if it cannot commit, nothing was written anywhere and the request is
        // quarantined whole; a webhook repeat after a later file-sink failure is recognisable by
        // its webhook-id.
        self.queue
            .enqueue(rows, self.spec.server.dedup_window_secs > 0)
            .await
            .map_err(ProcessError::Outbox)?;
        let failed = |sink: &str| {
            let sink = sink.to_string();
            move |source| ProcessError::Sink { sink, source }
        };
        for (sink_id, lines) in lines {
            if let Some(Sink::File(f)) = self.sink(sink_id).map(|s| s.as_ref()) {
                f.append(&lines).await.map_err(failed(sink_id))?;
            }
        }
        for (sink_id, messages) in messages {
            if let Some(Sink::Nats(n)) = self.sink(sink_id).map(|s| s.as_ref()) {
                n.publish(messages).await.map_err(failed(sink_id))?;
            }
        }
        self.dedup.remember(pending);
        processed.route_hits = route_hits;
        processed.sink_events = sink_events.into_iter().map(|(k, n)| (k.to_string(), n)).collect();
        Ok(processed)
    }
}
