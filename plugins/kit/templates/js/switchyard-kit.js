// switchyard's JavaScript plugin kit (written by `switchyard plugin new`; bundled into the
// component by componentize-js). Typings: types/router-plugin.d.ts.
//
// - `guard(fn)` around every exported function: a thrown Error becomes `plugin-error.internal`
//   carrying its message and stack (also written to the router's log), `BadSettings` and
//   `InvalidInput` become their plugin-error cases, and a `{ tag, val }` plugin-error thrown
//   on purpose passes through unchanged.
// - `loadSettings(defaults)`: the plugin's `[plugins.<id>.settings]`, unknown keys refused (a
//   typo fails `switchyard check`), missing ones taken from `defaults`.
// - `blankEvent(vendor, category, action)`: a router.event/v1 record with every optional part
//   empty, to fill in from a vendor payload.
// - `console.log` works: stdout and stderr go to the router's log, tagged with the plugin id.

import { log as hostLog, settings as hostSettings } from 'router:plugin/host@{{wit_version}}';

/** The settings in router.toml are wrong: becomes `plugin-error.bad-settings`. */
export class BadSettings extends Error {}

/** The request or event is malformed: becomes `plugin-error.invalid-input` (HTTP 400). */
export class InvalidInput extends Error {}

const PLUGIN_ERRORS = ['invalid-input', 'unauthorized', 'unavailable', 'bad-settings', 'internal'];

/** Wraps an exported function so that its failures reach the router with their message. */
export function guard(fn) {
  return function guarded(...args) {
    try {
      return fn.apply(this, args);
    } catch (e) {
      if (e && typeof e === 'object' && PLUGIN_ERRORS.includes(e.tag)) throw e;
      if (e instanceof BadSettings) throw { tag: 'bad-settings', val: e.message };
      if (e instanceof InvalidInput) throw { tag: 'invalid-input', val: e.message };
      const text = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}`.trim() : String(e);
      hostLog('error', text);
      throw { tag: 'internal', val: text };
    }
  };
}

/** Writes a line to the router's log, tagged with the plugin id. */
export function log(message, level = 'info') {
  hostLog(level, message);
}

/** The plugin's settings: `defaults` overridden by router.toml; unknown keys are refused. */
export function loadSettings(defaults) {
  let given;
  try {
    given = JSON.parse(hostSettings());
  } catch (e) {
    throw new BadSettings(`settings are not JSON: ${e.message}`);
  }
  const unknown = Object.keys(given).filter((k) => !(k in defaults)).sort();
  if (unknown.length > 0) {
    const expected = Object.keys(defaults).sort().map((k) => `\`${k}\``).join(', ') || 'none';
    throw new BadSettings(`unknown setting \`${unknown[0]}\`, expected one of ${expected}`);
  }
  return { ...defaults, ...given };
}

/** An event with every optional part empty; the router fills `eventUid`, `receivedAt` and
 * `delivery` after normalization. */
export function blankEvent(vendor, category, action) {
  return {
    schema: 'router.event/v1',
    eventUid: '',
    vendor,
    category,
    action,
    occurredAtTzSource: 'missing',
    receivedAt: '',
    source: {},
    media: [],
    delivery: { transport: 'http-post', deliveryId: '', auth: 'none', replaySuspected: false },
    extras: '{}',
    fieldsRaw: '{}',
    warnings: [],
  };
}

/** A person subject with only an id and a name. */
export function blankSubject(personId, displayName) {
  return { kind: 'person', personId, displayName, personType: 'unknown', groups: [] };
}

/** A match result with only `matched` and `score`. */
export function blankMatch(matched, score) {
  return { matched, score, candidates: [], liveness: 'unknown' };
}
