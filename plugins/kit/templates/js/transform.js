// {{name}}: a switchyard transform (JavaScript). It stamps every event with the site it
// comes from (`source.site`, when the vendor left it empty) and a tag in `extras`.
//
//   [plugins.{{name}}.settings]
//   site = "north-gate"
//   tag = "building-a"   # optional

import { BadSettings, InvalidInput, guard, loadSettings } from './switchyard-kit.js';

function stamp() {
  const settings = loadSettings({ site: '', tag: null });
  if (typeof settings.site !== 'string' || settings.site.trim() === '') {
    throw new BadSettings('`site` must be a non-empty string');
  }
  return settings;
}

/** @type {import('./types/router-plugin').SetupApi} */
export const setupApi = {
  // Called once when the router loads the plugin: a settings mistake stops `check`.
  validateSettings: guard(() => {
    stamp();
  }),
};

/** @type {import('./types/router-plugin').TransformApi} */
export const transformApi = {
  transform: guard((event) => {
    const settings = stamp();
    if (event.source.site === undefined || event.source.site === null) event.source.site = settings.site;
    if (settings.tag !== null) {
      let extras;
      try {
        extras = JSON.parse(event.extras);
      } catch (e) {
        throw new InvalidInput(`\`extras\` is not JSON: ${e instanceof Error ? e.message : String(e)}`);
      }
      extras.tag = settings.tag;
      event.extras = JSON.stringify(extras);
    }
    return [event];
  }),
};
