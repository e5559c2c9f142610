// {{name}}: a switchyard filter (JavaScript). It keeps recognition events whose match score
// reaches `min_score` and drops the rest; events of other categories always pass.
//
//   [plugins.{{name}}.settings]
//   min_score = 0.8   # 0..1

import { BadSettings, guard, loadSettings } from './switchyard-kit.js';

/** @returns {{ min_score: number }} */
function rule() {
  const settings = loadSettings({ min_score: 0.8 });
  const score = settings.min_score;
  if (typeof score !== 'number' || score < 0 || score > 1) {
    throw new BadSettings(`\`min_score\` must be a number within 0..1, got ${JSON.stringify(score)}`);
  }
  return settings;
}

/** @type {import('./types/router-plugin').SetupApi} */
export const setupApi = {
  // Called once when the router loads the plugin: a settings mistake stops `check`.
  validateSettings: guard(() => {
    rule();
  }),
};

/** @type {import('./types/router-plugin').FilterApi} */
export const filterApi = {
  filter: guard((event) => {
    const minScore = rule().min_score;
    if (event.category !== 'recognition') return { tag: 'keep' };
    const score = event.match?.score;
    if (score === undefined || score === null) return { tag: 'drop', val: 'no match score' };
    if (score < minScore) return { tag: 'drop', val: `match score ${score} is below min_score ${minScore}` };
    return { tag: 'keep' };
  }),
};
