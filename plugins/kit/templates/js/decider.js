// {{name}}: a switchyard decider (JavaScript). It grants access to the people listed in
// `allow` or in the operator's roster (`roster = { path = "roster.csv" }` in router.toml) and
// denies everyone else, with the tip text the terminal shows.
//
//   [plugins.{{name}}.settings]
//   allow = ["p-17"]
//   grant_tip = "Welcome"
//   deny_tip = "Not registered"

import { rosterLookup } from 'router:plugin/site@{{wit_version}}';
import { BadSettings, guard, loadSettings } from './switchyard-kit.js';

function policy() {
  const settings = loadSettings({ allow: /** @type {string[]} */ ([]), grant_tip: 'Welcome', deny_tip: 'Not registered' });
  if (!Array.isArray(settings.allow) || !settings.allow.every((p) => typeof p === 'string' && p.trim() !== '')) {
    throw new BadSettings('`allow` must be a list of non-empty person ids');
  }
  return settings;
}

/** @type {import('./types/router-plugin').SetupApi} */
export const setupApi = {
  // Called once when the router loads the plugin: a settings mistake stops `check`.
  validateSettings: guard(() => {
    policy();
  }),
};

/** @type {import('./types/router-plugin').DecideApi} */
export const decideApi = {
  decide: guard((event) => {
    const settings = policy();
    const person = event.subject?.personId;
    let granted;
    let reason;
    if (person === undefined || person === null) [granted, reason] = [false, 'no person id'];
    else if (settings.allow.includes(person)) [granted, reason] = [true, 'in allow'];
    else if (rosterLookup(person) !== undefined) [granted, reason] = [true, 'in roster'];
    else [granted, reason] = [false, 'not listed'];
    return {
      decision: granted ? 'granted' : 'denied',
      customTip: granted ? settings.grant_tip : settings.deny_tip,
      details: JSON.stringify({ reason }),
    };
  }),
};
