// {{name}}: a switchyard normalizer (JavaScript). It turns a terminal's JSON push —
// `{"events": [{"id", "time", "device", "person", "name", "score"}, ...]}` or one such object —
// into normalized router.event/v1 events. Replace the mapping with your vendor's.
//
//   [plugins.{{name}}.settings]
//   vendor = "acme"   # the `vendor` of every event

import { BadSettings, InvalidInput, blankEvent, blankMatch, blankSubject, guard, loadSettings } from './switchyard-kit.js';

function checked() {
  const settings = loadSettings({ vendor: '{{name}}' });
  if (typeof settings.vendor !== 'string' || settings.vendor.trim() === '') {
    throw new BadSettings('`vendor` must be a non-empty string');
  }
  return settings;
}

/**
 * One pushed item (the sample's shape: `{id, time, device, person, name, score}`) as an event.
 * @param {Record<string, any>} item
 * @param {string} vendor
 */
function toEvent(item, vendor) {
  const person = item.person;
  const event = blankEvent(vendor, 'recognition', person ? 'face-matched' : 'face-unmatched');
  event.vendorEventId = item.id;
  event.vendorEventType = 'push';
  if (item.time) {
    event.occurredAt = event.occurredAtRaw = item.time;
    event.occurredAtTzSource = 'explicit';
  }
  event.source.deviceId = item.device;
  if (person) event.subject = blankSubject(person, item.name, 'person');
  if (typeof item.score === 'number') event.match = blankMatch(Boolean(person), item.score);
  return event;
}

/** @type {import('./types/router-plugin').SetupApi} */
export const setupApi = {
  // Called once when the router loads the plugin: a settings mistake stops `check`.
  validateSettings: guard(() => {
    checked();
  }),
};

/** @type {import('./types/router-plugin').NormalizeApi} */
export const normalizeApi = {
  normalize: guard((request) => {
    const { vendor } = checked();
    let root;
    try {
      root = JSON.parse(new TextDecoder().decode(request.body));
    } catch (e) {
      throw new InvalidInput(`body is not JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    const items = root && typeof root === 'object' && !Array.isArray(root) ? (root.events ?? [root]) : null;
    if (!Array.isArray(items)) throw new InvalidInput('expected an object or {"events": [...]}');
    items.forEach((item, i) => {
      if (!item || typeof item !== 'object' || Array.isArray(item)) throw new InvalidInput(`events[${i}] is not an object`);
    });
    // reply undefined: the router answers 202 with the events' ids.
    return { events: items.map((item) => toEvent(item, vendor)) };
  }),
};
