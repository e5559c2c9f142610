// switchyard console. Plain JavaScript, no build step, no dependencies: it is embedded in the
// router binary and reads only the admin API (/admin/api/v1). Everything vendors send is
// untrusted: the page builds DOM nodes with textContent, never HTML strings.
'use strict';

const API = '/admin/api/v1';
const state = { csrf: null, auth: null, view: null, stop: [] };

// ---- small helpers -------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) el.setAttribute(k, v);
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function fmtRate(r) {
  if (!r) return '0/s';
  return (r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2)) + '/s';
}
function fmtMs(ms) { return ms === null || ms === undefined ? '–' : (ms < 1 ? ms.toFixed(3) : ms.toFixed(1)) + ' ms'; }
function fmtBytes(n) {
  if (n === null || n === undefined) return '–';
  if (n < 1024) return n + ' B';
  if (n < 1 << 20) return (n / 1024).toFixed(1) + ' KiB';
  return (n / (1 << 20)).toFixed(1) + ' MiB';
}
function short(sha) { return sha ? sha.slice(0, 12) : '–'; }
function time(t) { return t ? t.replace('T', ' ').replace(/\.\d+Z$|Z$/, '') : '–'; }

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function api(path, options = {}) {
  const init = { method: options.method || 'GET', credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (options.body !== undefined) {
    init.body = JSON.stringify(options.body);
    init.headers['Content-Type'] = 'application/json';
  }
  if (init.method !== 'GET' && state.csrf) init.headers['X-CSRF-Token'] = state.csrf;
  let response;
  try {
    response = await fetch(API + path, init);
  } catch (e) {
    throw new ApiError(0, 'the router does not answer (' + e.message + ')');
  }
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = { error: text }; }
  if (response.status === 401 || (response.status === 403 && path !== '/session')) {
    if (path !== '/session') showLogin();
  }
  if (!response.ok) throw new ApiError(response.status, (body && body.error) || response.statusText);
  return body;
}

function banner(message) {
  const b = document.getElementById('banner');
  if (!message) { b.hidden = true; b.textContent = ''; return; }
  b.hidden = false;
  b.textContent = message;
}

let toastTimer = null;
function toast(message) {
  const t = document.getElementById('toast');
  t.textContent = message;
  t.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove('show'), 4000);
}

function empty(text) { return h('p', { class: 'empty' }, text); }

function every(ms, fn) {
  let stopped = false;
  let timer = null;
  const tick = async () => {
    if (stopped) return;
    try { await fn(); banner(null); } catch (e) { if (e.status !== 401) banner(e.message); }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  tick();
  state.stop.push(() => { stopped = true; clearTimeout(timer); });
}

function table(headers, rows, options = {}) {
  const t = h('table', { class: options.class || '' },
    options.caption ? h('caption', { class: 'sr-only' }, options.caption) : null,
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, rows));
  return h('div', { class: 'table-wrap' }, t);
}

function openRow(tr, fn) {
  tr.tabIndex = 0;
  tr.classList.add('clickable');
  tr.addEventListener('click', fn);
  tr.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); fn(); } });
  return tr;
}

function showDetail(title, ...content) {
  document.getElementById('detail-title').textContent = title;
  const body = document.getElementById('detail-body');
  body.replaceChildren(...content);
  const d = document.getElementById('detail');
  if (!d.open) d.showModal();
}

function confirmAction(title, text, label) {
  const d = document.getElementById('confirm');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-yes').textContent = label;
  d.showModal();
  return new Promise((resolve) => {
    const done = (v) => () => { d.close(); resolve(v); };
    document.getElementById('confirm-yes').onclick = done(true);
    document.getElementById('confirm-no').onclick = done(false);
    d.oncancel = done(false);
  });
}

function pre(text, cls) { return h('pre', { class: 'code ' + (cls || '') }, text); }

function requestView(r) {
  if (!r) return empty('The raw request is no longer kept (the console keeps the last 16 MiB of request bodies).');
  const head = `${r.method} ${r.path}${r.query ? '?' + r.query : ''}\n` +
    r.headers.map(([k, v]) => `${k}: ${v}`).join('\n');
  let body = r.body;
  if (r.body_encoding === 'utf-8') {
    try { body = JSON.stringify(JSON.parse(r.body), null, 2); } catch { /* not JSON: as sent */ }
  }
  return h('div', {},
    h('p', { class: 'muted' }, `${fmtBytes(r.body_bytes)} from ${r.remote_addr || '–'}` +
      (r.body_truncated ? ` (first ${fmtBytes(r.body.length)} shown)` : '') +
      (r.body_encoding === 'base64' ? ' — binary, shown as base64' : '')),
    pre(head + '\n\n' + body));
}

function sparkline(points, failed, width, height) {
  const n = Math.max(points.length, 2);
  const max = Math.max(1, ...points, ...failed);
  const line = (vals) => vals.map((v, i) => `${((i / (n - 1)) * width).toFixed(1)},${(height - (v / max) * height).toFixed(1)}`).join(' ');
  return s('svg', { class: 'spark', width, height, viewBox: `0 0 ${width} ${height}`, 'aria-hidden': 'true' },
    points.length ? s('polyline', { points: line(points), class: 'spark-ok' }) : null,
    failed.some((v) => v > 0) ? s('polyline', { points: line(failed), class: 'spark-err' }) : null);
}

// ---- views ---------------------------------------------------------------------------------

const views = {};

views.flow = (main) => {
  const graph = h('div', { class: 'graph', id: 'flow-graph' });
  const list = h('div', {});
  main.append(h('h1', {}, 'Flow'),
    h('p', { class: 'muted' }, 'Sources → plugins → routes → sinks. Rates are over the last 5 s; sparklines show 15 minutes.'),
    graph, h('h2', {}, 'Nodes'), list);
  every(2000, async () => {
    const flow = await api('/flow');
    drawFlow(graph, flow);
    list.replaceChildren(table(['Node', 'Kind', 'Rate', 'Error rate', 'Total', 'Failed'],
      flow.nodes.map((n) => h('tr', { 'data-node': n.id },
        h('td', {}, n.label), h('td', {}, n.kind + (n.detail ? ` (${n.detail})` : '')),
        h('td', {}, fmtRate(n.stats.rate)), h('td', { class: n.stats.error_rate > 0 ? 'bad' : '' }, fmtRate(n.stats.error_rate)),
        h('td', {}, n.stats.ok), h('td', { class: n.stats.failed > 0 ? 'bad' : '' }, n.stats.failed))),
      { caption: 'Flow nodes' }));
  });
};

function drawFlow(container, flow) {
  // Columns: sources, then each plugin at its depth in its source's chain, routes, sinks.
  const depth = {};
  for (const n of flow.nodes) if (n.kind === 'source') depth[n.id] = 0;
  let changed = true;
  for (let guard = 0; changed && guard < 50; guard++) {
    changed = false;
    for (const e of flow.edges) {
      const to = flow.nodes.find((n) => n.id === e.to);
      if (!to || to.kind !== 'plugin' || depth[e.from] === undefined) continue;
      const d = depth[e.from] + 1;
      if (depth[e.to] === undefined || depth[e.to] < d) { depth[e.to] = d; changed = true; }
    }
  }
  const pluginDepth = Math.max(0, ...Object.values(depth));
  for (const n of flow.nodes) {
    if (n.kind === 'route') depth[n.id] = pluginDepth + 1;
    if (n.kind === 'sink') depth[n.id] = pluginDepth + 2;
    if (depth[n.id] === undefined) depth[n.id] = n.kind === 'plugin' ? 1 : 0;
  }
  const columns = pluginDepth + 3;
  const W = 164, H = 74, GX = 40, GY = 14;
  const rows = {};
  const pos = {};
  for (const n of flow.nodes) {
    const c = depth[n.id];
    rows[c] = (rows[c] || 0) + 1;
    pos[n.id] = { x: 10 + c * (W + GX), y: 10 + (rows[c] - 1) * (H + GY) };
  }
  const width = 20 + columns * (W + GX) - GX;
  const height = 20 + Math.max(...Object.values(rows)) * (H + GY) - GY;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': 'Pipeline flow graph' });
  for (const e of flow.edges) {
    const a = pos[e.from], b = pos[e.to];
    if (!a || !b) continue;
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
    const bad = e.stats.error_rate > 0;
    svg.append(s('path', { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`, class: 'edge' + (bad ? ' bad' : '') + (e.stats.rate > 0 ? ' busy' : '') }));
    if (e.stats.rate > 0 || bad) {
      svg.append(s('text', { x: mx, y: (y1 + y2) / 2 - 4, class: 'edge-label', 'text-anchor': 'middle' },
        fmtRate(e.stats.rate) + (bad ? ` · ${fmtRate(e.stats.error_rate)} err` : '')));
    }
  }
  for (const n of flow.nodes) {
    const p = pos[n.id];
    const bad = n.stats.error_rate > 0 || (n.stats.failed > 0 && n.stats.ok === 0);
    const g = s('g', { transform: `translate(${p.x},${p.y})`, class: `node ${n.kind}${bad ? ' bad' : ''}`, 'data-node': n.id });
    g.append(s('rect', { width: W, height: H, rx: 8 }));
    const clip = (t, n) => (t.length > n ? t.slice(0, n - 1) + '…' : t);
    g.append(s('text', { x: 10, y: 17, class: 'node-label' }, clip(n.label, 20)));
    g.append(s('text', { x: 10, y: 31, class: 'node-kind' }, clip(n.kind + (n.detail ? ' · ' + n.detail : ''), 26)));
    g.append(s('text', { x: 10, y: 47, class: 'node-rate' + (n.stats.error_rate > 0 ? ' bad' : '') }, fmtRate(n.stats.rate) +
      (n.stats.error_rate > 0 ? ` · ${fmtRate(n.stats.error_rate)} err` : '') + ` · ${n.stats.ok}` + (n.stats.failed ? ` / ${n.stats.failed} failed` : '')));
    const spark = sparkline(n.stats.spark, n.stats.spark_failed, W - 20, 16);
    spark.setAttribute('x', 10);
    spark.setAttribute('y', 53);
    g.append(spark);
    g.append(s('title', {}, `${n.kind} ${n.label}: ${n.stats.ok} ok, ${n.stats.failed} failed`));
    svg.append(g);
  }
  container.replaceChildren(svg);
}

views.events = (main) => {
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const fields = ['vendor', 'source', 'action', 'device', 'person'];
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter events' },
    fields.map((f) => h('label', {}, f, h('input', { name: f, value: params.get(f) || '', placeholder: 'any' }))),
    h('button', { type: 'submit' }, 'Apply'));
  const live = h('span', { id: 'live-state', class: 'pill' }, 'connecting…');
  const tbody = h('tbody', { id: 'events-body' });
  const emptyState = empty('No events yet. Events appear here the moment a source accepts them.');
  main.append(h('div', { class: 'row' }, h('h1', {}, 'Live events'), live), form,
    h('div', { class: 'table-wrap' }, h('table', {},
      h('caption', { class: 'sr-only' }, 'Recent normalized events, newest first'),
      h('thead', {}, h('tr', {}, ['Received', 'Vendor', 'Source', 'Action', 'Device', 'Person', 'Decision', ''].map((x) => h('th', { scope: 'col' }, x)))),
      tbody)), emptyState);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const f of fields) if (form.elements[f].value) q.set(f, form.elements[f].value);
    location.hash = '#/events' + (q.toString() ? '?' + q : '');
  });
  const filter = new URLSearchParams();
  for (const f of fields) if (params.get(f)) filter.set(f, params.get(f));
  let last = 0;
  const add = (ev) => {
    last = Math.max(last, ev.seq);
    emptyState.hidden = true;
    const tr = openRow(h('tr', { 'data-event': ev.event_uid },
      h('td', {}, time(ev.received_at)), h('td', {}, ev.vendor), h('td', {}, ev.source),
      h('td', {}, ev.action), h('td', {}, ev.device_name || ev.device_id || '–'),
      h('td', {}, ev.person_name || ev.person_id || '–'),
      h('td', { class: ev.decision === 'denied' ? 'bad' : '' }, ev.decision || ''),
      h('td', {}, ev.image ? h('img', { class: 'thumb', alt: 'best shot', src: `${API}/blobs/${ev.image}`, loading: 'lazy' }) : '')),
    () => eventDetail(ev.event_uid));
    tbody.prepend(tr);
    while (tbody.children.length > 500) tbody.lastChild.remove();
  };
  api('/events?limit=200&' + filter).then((r) => {
    r.events.forEach(add);
    const q = new URLSearchParams(filter);
    q.set('after', String(last));
    const source = new EventSource(`${API}/events/stream?${q}`);
    source.addEventListener('open', () => { live.textContent = 'live'; live.className = 'pill ok'; });
    source.addEventListener('error', () => { live.textContent = 'reconnecting…'; live.className = 'pill warn'; });
    source.addEventListener('event', (m) => add(JSON.parse(m.data)));
    source.addEventListener('lagged', (m) => toast(`${m.data} events went by faster than this page could show them`));
    state.stop.push(() => source.close());
  }).catch((e) => banner(e.message));
};

async function eventDetail(uid) {
  let d;
  try { d = await api('/events/' + encodeURIComponent(uid)); } catch (e) { toast(e.message); return; }
  const ev = d.summary;
  const image = ev.image ? h('figure', { class: 'shot' },
    h('img', { src: `${API}/blobs/${ev.image}`, alt: 'best shot of the event' }),
    h('figcaption', {}, 'best shot · ' + short(ev.image))) : null;
  const timings = d.timings.length ? table(['Plugin', 'Call', 'Time'],
    d.timings.map((t) => h('tr', {}, h('td', {}, t.plugin), h('td', {}, t.call), h('td', {}, fmtMs(t.ms)))),
    { caption: 'Plugin timings' }) : empty('No plugin timings.');
  showDetail(`${ev.vendor} · ${ev.action} · ${time(ev.received_at)}`,
    h('div', { class: 'detail-grid' },
      h('div', {}, image, h('h3', {}, 'Plugin timings'), h('p', { class: 'muted' }, 'total ' + fmtMs(d.plugin_ms)), timings),
      h('div', {}, h('h3', {}, 'Event'), pre(JSON.stringify(d.event, null, 2), 'event-json'))),
    h('h3', {}, 'Raw request'), requestView(d.request));
}

views.plugins = (main) => {
  const body = h('div', {});
  main.append(h('h1', {}, 'Plugins'), body);
  every(3000, async () => {
    const r = await api('/plugins');
    if (!r.plugins.length) { body.replaceChildren(empty('No plugins loaded.')); return; }
    const c = (p, k) => p.calls[k] || 0;
    // Who signed the loaded version: the [trust] id it matched (or "unknown key"), its claimed version.
    const signer = (p) => p.signer
      ? h('td', { title: p.signer.fingerprint + (p.signer.claims.vendor ? ' · ' + p.signer.claims.vendor : '') },
        (p.signer.trusted_as || 'unknown key') + (p.signer.claims.version ? ' · ' + p.signer.claims.version : ''))
      : h('td', { class: 'muted' }, String(p.path).startsWith('builtin:') ? 'built in' : 'unsigned');
    body.replaceChildren(table(['Plugin', 'Kind', 'Version', 'Signed by', 'Calls', 'Drops', 'Errors', 'Traps', 'Timeouts', 'p50', 'p99', 'Rollbacks'],
      r.plugins.map((p) => h('tr', { 'data-plugin': p.id },
        h('td', {}, p.id), h('td', {}, p.kind), h('td', { title: p.sha256 }, h('code', {}, short(p.sha256))), signer(p),
        h('td', {}, c(p, 'ok') + c(p, 'drop') + c(p, 'error') + c(p, 'trap') + c(p, 'timeout')),
        h('td', {}, c(p, 'drop')),
        h('td', { class: c(p, 'error') ? 'bad' : '' }, c(p, 'error')),
        h('td', { class: c(p, 'trap') ? 'bad' : '' }, c(p, 'trap')),
        h('td', { class: c(p, 'timeout') ? 'bad' : '' }, c(p, 'timeout')),
        h('td', {}, fmtMs(p.p50_ms)), h('td', {}, fmtMs(p.p99_ms)), h('td', {}, p.rollbacks))),
      { caption: 'Plugins' }),
    ...r.plugins.filter((p) => p.last_errors.length).map((p) => h('details', { class: 'errors' },
      h('summary', {}, `${p.id}: last ${p.last_errors.length} error(s)`),
      h('ul', {}, p.last_errors.map((e) => h('li', {}, h('span', { class: 'muted' }, time(e.at) + ' · ' + e.kind + ' · '), e.message))))));
  });
};

views.sinks = (main) => {
  const sinks = h('div', {});
  const letters = h('div', {});
  const progress = h('div', { class: 'progress', hidden: true, role: 'progressbar', 'aria-label': 'Replay progress', 'aria-valuemin': 0 },
    h('div', { class: 'bar' }), h('span', { class: 'progress-text' }));
  const sinkFilter = h('select', { 'aria-label': 'Sink' }, h('option', { value: '' }, 'all sinks'));
  const replaySelected = h('button', { type: 'button', disabled: true }, 'Replay selected');
  const replayAll = h('button', { type: 'button', class: 'primary' }, 'Replay all');
  const purgeSelected = h('button', { type: 'button', class: 'danger', disabled: true }, 'Purge selected');
  main.append(h('h1', {}, 'Sinks'), sinks,
    h('div', { class: 'row' }, h('h2', {}, 'Dead letters'), sinkFilter),
    h('div', { class: 'toolbar' }, replaySelected, replayAll, purgeSelected), progress, letters);
  const chosen = new Set();
  const syncButtons = () => { replaySelected.disabled = purgeSelected.disabled = chosen.size === 0; };
  const body = (extra) => {
    const b = Object.assign({}, extra);
    if (sinkFilter.value) b.sink = sinkFilter.value;
    return b;
  };
  const runJob = async (payload) => {
    const started = await api('/dead-letters/replay', { method: 'POST', body: payload });
    progress.hidden = false;
    const bar = progress.querySelector('.bar');
    const text = progress.querySelector('.progress-text');
    for (;;) {
      const job = await api('/jobs/' + started.job);
      const pct = job.total ? Math.round((job.done / job.total) * 100) : 100;
      bar.style.width = pct + '%';
      progress.setAttribute('aria-valuemax', job.total);
      progress.setAttribute('aria-valuenow', job.done);
      text.textContent = `${job.done} / ${job.total}` + (job.message ? ' — ' + job.message : '');
      if (job.state !== 'running') {
        toast(job.message || job.state);
        if (job.state === 'done') progress.classList.add('done');
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    chosen.clear();
    syncButtons();
    refresh();
  };
  replaySelected.addEventListener('click', () => runJob({ ids: [...chosen] }).catch((e) => banner(e.message)));
  replayAll.addEventListener('click', () => runJob(body({ all: true })).catch((e) => banner(e.message)));
  purgeSelected.addEventListener('click', async () => {
    const ok = await confirmAction('Purge dead letters', `Delete ${chosen.size} dead letter(s) for good? They cannot be replayed afterwards.`, 'Purge');
    if (!ok) return;
    try {
      const r = await api('/dead-letters/purge', { method: 'POST', body: { ids: [...chosen], confirm: 'purge' } });
      toast(`purged ${r.purged} dead letter(s)`);
      chosen.clear();
      syncButtons();
      refresh();
    } catch (e) { banner(e.message); }
  });
  sinkFilter.addEventListener('change', () => { chosen.clear(); syncButtons(); refresh(); });
  const refresh = async () => {
    const r = await api('/sinks');
    if (sinkFilter.options.length - 1 !== r.sinks.length) {
      sinkFilter.replaceChildren(h('option', { value: '' }, 'all sinks'), ...r.sinks.map((x) => h('option', { value: x.id }, x.id)));
    }
    sinks.replaceChildren(r.sinks.length ? table(['Sink', 'Type', 'Outbox depth', 'Oldest', 'Attempts', 'Delivered', 'Dead letters', 'Last error'],
      r.sinks.map((x) => h('tr', { 'data-sink': x.id },
        h('td', {}, x.id), h('td', {}, x.type),
        h('td', {}, x.type === 'webhook' ? x.queued : '–'),
        h('td', {}, x.oldest_age_seconds === null ? '–' : x.oldest_age_seconds.toFixed(1) + ' s'),
        h('td', {}, x.type === 'webhook' ? x.attempts : '–'),
        h('td', { class: 'delivered' }, x.type === 'webhook' ? x.delivered : (x.flow ? x.flow.ok : 0)),
        h('td', { class: x.dead_letters ? 'bad dead' : 'dead' }, x.dead_letters),
        h('td', { class: 'wrap' }, x.last_error ? `${time(x.last_error.at)}: ${x.last_error.message}` : '–'))),
      { caption: 'Sinks' }) : empty('No sinks configured.'));
    const q = sinkFilter.value ? '?sink=' + encodeURIComponent(sinkFilter.value) : '';
    const d = await api('/dead-letters' + q);
    if (!d.dead_letters.length) { letters.replaceChildren(empty('No dead letters. Events a sink refused for good, or that ran out of attempts, would be listed here.')); return; }
    letters.replaceChildren(h('p', { class: 'muted' }, `${d.total} dead letter(s)` + (d.total > d.dead_letters.length ? `, newest ${d.dead_letters.length} shown` : '')),
      table(['', 'Sink', 'Failed', 'Attempts', 'Webhook id', 'Error'],
        d.dead_letters.map((x) => {
          const box = h('input', { type: 'checkbox', 'aria-label': `select dead letter ${x.id}`, checked: chosen.has(x.id) });
          box.addEventListener('change', () => { if (box.checked) chosen.add(x.id); else chosen.delete(x.id); syncButtons(); });
          const tr = h('tr', { 'data-dead': x.id },
            h('td', {}, box), h('td', {}, x.sink), h('td', {}, time(x.failed_at)), h('td', {}, x.attempts),
            h('td', {}, h('code', {}, x.webhook_id)), h('td', { class: 'wrap' }, x.last_error));
          tr.addEventListener('dblclick', () => showDetail('Dead letter ' + x.id, h('p', {}, x.last_error), pre(x.payload)));
          return tr;
        }), { caption: 'Dead letters' }));
  };
  every(3000, refresh);
};

views.quarantine = (main) => {
  const list = h('div', {});
  main.append(h('h1', {}, 'Quarantine'),
    h('p', { class: 'muted' }, 'Requests that could not be processed, kept as they arrived. Fix the cause (a plugin, a secret, the config), then replay.'),
    list);
  const refresh = async () => {
    const r = await api('/quarantine');
    if (!r.entries.length) { list.replaceChildren(empty('The quarantine is empty.')); return; }
    list.replaceChildren(h('p', { class: 'muted' }, `${r.pending} pending, ${fmtBytes(r.bytes)}`),
      table(['Received', 'Source', 'Status', 'Reason', 'Size'],
        r.entries.map((e) => openRow(h('tr', { 'data-quarantine': e.delivery_id },
          h('td', {}, time(e.received_at)), h('td', {}, e.source || '–'), h('td', {}, e.status),
          h('td', { class: 'wrap' }, e.reason), h('td', {}, fmtBytes(e.bytes) + (e.truncated ? ' (cut)' : ''))),
        () => quarantineDetail(e.delivery_id, refresh))), { caption: 'Quarantined requests' }));
  };
  every(3000, refresh);
};

async function quarantineDetail(id, refresh) {
  let e;
  try { e = await api('/quarantine/' + encodeURIComponent(id)); } catch (err) { toast(err.message); return; }
  const result = h('p', { role: 'status' });
  const replay = h('button', { type: 'button', class: 'primary', disabled: e.truncated }, 'Replay');
  replay.addEventListener('click', async () => {
    replay.disabled = true;
    replay.textContent = 'Replaying…';
    try {
      const r = await api(`/quarantine/${encodeURIComponent(id)}/replay`, { method: 'POST' });
      result.textContent = `Replayed: ${r.events} event(s) delivered to their sinks.`;
      result.className = 'ok';
      refresh();
    } catch (err) {
      result.textContent = err.message;
      result.className = 'error';
      replay.disabled = false;
    }
    replay.textContent = 'Replay';
  });
  showDetail('Quarantined ' + id,
    h('p', {}, h('strong', {}, `${e.status} `), e.reason),
    h('div', { class: 'toolbar' }, replay, e.truncated ? h('span', { class: 'muted' }, 'cut at a size cap: cannot be replayed') : null),
    result,
    requestView({ method: e.method, path: e.path, query: e.query, headers: e.headers, remote_addr: e.remote_addr,
      body: e.body, body_encoding: e.body_encoding, body_bytes: e.body_bytes, body_truncated: e.body_shown < e.body_bytes }));
}

views.config = (main) => {
  const head = h('div', {});
  const history = h('div', { id: 'reloads' });
  const text = h('div', {});
  const button = h('button', { type: 'button', class: 'primary', id: 'reload-now' }, 'Reload now');
  button.addEventListener('click', async () => {
    button.disabled = true;
    button.textContent = 'Reloading…';
    try {
      const r = await api('/reload', { method: 'POST' });
      toast(`Reload ${r.outcome}`);
    } catch (e) {
      toast(e.status === 409 ? 'Reload rejected: the running config keeps serving' : e.message);
    }
    button.disabled = false;
    button.textContent = 'Reload now';
    refresh();
  });
  main.append(h('div', { class: 'row' }, h('h1', {}, 'Config & reloads'), button), head,
    h('h2', {}, 'Reload history'), history, h('h2', {}, 'Active router.toml'), text);
  const refresh = async () => {
    const [c, r] = await Promise.all([api('/config'), api('/reloads')]);
    head.replaceChildren(h('p', {}, h('code', {}, c.path), ' · sha256 ', h('code', { title: c.sha256 }, short(c.sha256))));
    const lines = c.text.split('\n');
    text.replaceChildren(h('pre', { class: 'code numbered' }, lines.map((l, i) => h('span', { class: 'line', 'data-line': i + 1 }, l + '\n'))));
    history.replaceChildren(r.reloads.length ? h('ol', { class: 'history' }, r.reloads.map((x) => h('li', { class: 'reload ' + x.outcome },
      h('div', {}, h('span', { class: 'pill ' + (x.outcome === 'applied' ? 'ok' : x.outcome === 'rejected' ? 'bad' : 'warn') }, x.outcome),
        ` ${time(x.at)} · ${x.trigger} · ${x.duration_ms.toFixed(0)} ms`, x.line ? h('strong', { class: 'line-ref' }, ` · line ${x.line}`) : null),
      x.reason ? pre(x.reason, 'reason') : null,
      x.diff.length ? h('details', { open: x.outcome === 'rejected' }, h('summary', {}, 'diff against the config running before'),
        h('pre', { class: 'code diff' }, x.diff.map((l) => h('span', { class: l[0] === '+' ? 'add' : l[0] === '-' ? 'del' : l[0] === '@' ? 'hunk' : '' }, l + '\n')))) : null)))
      : empty('No reloads since the router started. Edit router.toml (it is watched) or press Reload now.'));
  };
  every(3000, refresh);
};

views.decisions = (main) => {
  const summary = h('div', { class: 'cards' });
  const list = h('div', {});
  main.append(h('h1', {}, 'Door decisions'), summary, list);
  every(2000, async () => {
    const r = await api('/decisions');
    summary.replaceChildren(
      h('div', { class: 'card stat' }, h('span', {}, 'recent'), h('strong', {}, r.recent)),
      h('div', { class: 'card stat' }, h('span', {}, 'fallback share'), h('strong', {}, (r.fallback_share * 100).toFixed(1) + ' %')),
      h('div', { class: 'card stat' }, h('span', {}, 'p50'), h('strong', {}, fmtMs(r.p50_ms))),
      h('div', { class: 'card stat' }, h('span', {}, 'p99'), h('strong', {}, fmtMs(r.p99_ms))));
    list.replaceChildren(r.decisions.length ? table(['At', 'Source', 'Person', 'Device', 'Decision', 'By', 'Outcome', 'Latency', 'Reason'],
      r.decisions.map((d) => h('tr', {},
        h('td', {}, time(d.at)), h('td', {}, d.source), h('td', {}, d.person_id || '–'), h('td', {}, d.device_id || '–'),
        h('td', { class: d.decision === 'denied' ? 'bad' : 'good' }, d.decision), h('td', {}, d.decided_by),
        h('td', { class: d.outcome !== 'plugin' ? 'warn' : '' }, d.outcome), h('td', {}, fmtMs(d.latency_ms)),
        h('td', { class: 'wrap' }, d.reason || ''))), { caption: 'Recent door decisions' })
      : empty('No door decisions yet. Sources with a `decider` record every decision here.'));
  });
};

// ---- routing and login ---------------------------------------------------------------------

function route() {
  for (const stop of state.stop.splice(0)) stop();
  banner(null);
  const name = (location.hash.replace(/^#\/?/, '').split('?')[0]) || 'flow';
  const view = views[name] ? name : 'flow';
  state.view = view;
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.view === view) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const main = document.getElementById('main');
  main.replaceChildren();
  document.title = `${document.querySelector(`#nav a[data-view="${view}"]`).textContent} · switchyard`;
  views[view](main);
}

function showLogin(message) {
  for (const stop of state.stop.splice(0)) stop();
  document.getElementById('main').replaceChildren();
  document.getElementById('login').hidden = false;
  document.getElementById('nav').hidden = true;
  const err = document.getElementById('login-error');
  err.hidden = !message;
  err.textContent = message || '';
  document.getElementById('token').focus();
}

async function boot() {
  try {
    const session = await api('/session');
    state.csrf = session.csrf;
    state.auth = session.auth;
    document.getElementById('login').hidden = true;
    document.getElementById('nav').hidden = false;
    const who = document.getElementById('whoami');
    who.replaceChildren(session.auth === 'session'
      ? h('button', { type: 'button', id: 'logout', onclick: async () => { await api('/session', { method: 'DELETE' }); showLogin(); } }, 'Sign out')
      : h('span', { class: 'muted' }, session.auth === 'peer' ? 'trusted address' : 'token'));
    route();
  } catch (e) {
    if (e.status === 401 || e.status === 403) showLogin(e.status === 403 ? e.message : null);
    else banner(e.message);
  }
}

document.addEventListener('DOMContentLoaded', () => {
  window.addEventListener('hashchange', () => { if (document.getElementById('login').hidden) route(); });
  document.getElementById('detail-close').addEventListener('click', () => document.getElementById('detail').close());
  document.getElementById('login-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = document.getElementById('token');
    try {
      await api('/session', { method: 'POST', body: { token: input.value } });
      input.value = '';
      await boot();
    } catch (err) {
      showLogin(err.status === 401 ? 'Wrong token.' : err.message);
    }
  });
  boot();
});
