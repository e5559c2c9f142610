// switchyard's JavaScript plugin kit (written by `switchyard plugin new`; bundled into the
// component by componentize-js). Typings: types/router-plugin.d.ts.
//
// - `guard(fn)` around every exported function: a thrown Error becomes `plugin-error.internal`
//   carrying its message and stack (the router logs it and keeps it with the quarantined
//   request), `BadSettings` and `InvalidInput` become their plugin-error cases, and a
//   `{ tag, val }` plugin-error thrown on purpose passes through unchanged.
// - `loadSettings(defaults)`: the plugin's `[plugins.<id>.settings]`, unknown keys refused (a
//   typo fails `switchyard check`), missing ones taken from `defaults`.
// - `blankEvent(vendor, category, action)`: a router.event/v1 record with every optional part
//   empty, to fill in from a vendor payload.
// - `console.log` works: stdout and stderr go to the router's log, tagged with the plugin id.

import { log as hostLog, settings as hostSettings } from 'router:plugin/host@{{wit_version}}';

/** @typedef {import('./types/router-plugin').Event} Event */
/** @typedef {import('./types/router-plugin').Subject} Subject */
/** @typedef {import('./types/router-plugin').MatchInfo} MatchInfo */
/** @typedef {import('./types/router-plugin').PluginError} PluginError */

/** The settings in router.toml are wrong: becomes `plugin-error.bad-settings`. */
export class BadSettings extends Error {}

/** The request or event is malformed: becomes `plugin-error.invalid-input` (HTTP 400). */
export class InvalidInput extends Error {}

/** @type {readonly string[]} */
const PLUGIN_ERRORS = ['invalid-input', 'unauthorized', 'unavailable', 'bad-settings', 'internal'];

/**
 * Wraps an exported function so that its failures reach the router with their message.
 * Typed as the function it wraps: the exported object's type (`FilterApi`, …) then checks
 * the parameters and the return value of the function inside.
 *
 * @template {(...args: any[]) => any} F
 * @param {F} fn
 * @returns {F}
 */
export function guard(fn) {
  /**
   * @this {unknown}
   * @param {Parameters<F>} args
   * @returns {ReturnType<F>}
   */
  function guarded(...args) {
    try {
      return fn.apply(this, args);
    } catch (e) {
      if (isPluginError(e)) throw e;
      if (e instanceof BadSettings) throw { tag: 'bad-settings', val: e.message };
      if (e instanceof InvalidInput) throw { tag: 'invalid-input', val: e.message };
      const text = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}`.trim() : String(e);
      // Not logged here: the router logs the failure (and quarantines the request) with
      // this text, so it would appear twice.
      throw { tag: 'internal', val: text };
    }
  }
  return /** @type {F} */ (guarded);
}

/**
 * A plugin-error thrown on purpose (`throw { tag: 'unauthorized', val: '…' }`).
 * @param {unknown} e
 * @returns {e is PluginError}
 */
function isPluginError(e) {
  return typeof e === 'object' && e !== null && 'tag' in e && PLUGIN_ERRORS.includes(String(e.tag));
}

/**
 * Writes a line to the router's log, tagged with the plugin id.
 * @param {string} message
 * @param {import('router:plugin/host@{{wit_version}}').Level} [level]
 */
export function log(message, level = 'info') {
  hostLog(level, message);
}

/**
 * The plugin's settings: `defaults` overridden by router.toml; unknown keys are refused.
 * (The router has already checked them against the schema in switchyard-plugin.toml and
 * filled in its defaults.)
 * @template {Record<string, unknown>} T
 * @param {T} defaults
 * @returns {T}
 */
export function loadSettings(defaults) {
  /** @type {Record<string, unknown>} */
  let given;
  try {
    given = JSON.parse(hostSettings());
  } catch (e) {
    throw new BadSettings(`settings are not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const unknown = Object.keys(given).filter((k) => !(k in defaults)).sort();
  if (unknown.length > 0) {
    const expected = Object.keys(defaults).sort().map((k) => `\`${k}\``).join(', ') || 'none';
    throw new BadSettings(`unknown setting \`${unknown[0]}\`, expected one of ${expected}`);
  }
  return /** @type {T} */ ({ ...defaults, ...given });
}

/**
 * An event with every optional part empty; the router fills `eventUid`, `receivedAt` and
 * `delivery` after normalization.
 * @param {string} vendor
 * @param {Event['category']} category
 * @param {Event['action']} action
 * @returns {Event}
 */
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

/**
 * A subject with only an id and a name; its kind is `unknown` unless given (as the Rust SDK's
 * `paths::subject`): say `'person'` when the vendor says it is one.
 * @param {string | undefined} personId
 * @param {string | undefined} displayName
 * @param {Subject['kind']} [kind]
 * @returns {Subject}
 */
export function blankSubject(personId, displayName, kind = 'unknown') {
  return { kind, personId, displayName, personType: 'unknown', groups: [] };
}

/**
 * A match result with only `matched` and `score`.
 * @param {boolean | undefined} matched
 * @param {number | undefined} score
 * @returns {MatchInfo}
 */
export function blankMatch(matched, score) {
  return { matched, score, candidates: [], liveness: 'unknown' };
}
