// Drives the operator console in headless Chromium (Debian's, through playwright-core) against
// a running router. Called by tests/it/console.rs, one scenario per run:
//
//   node console.mjs <scenario>
//
// Environment: CONSOLE (the console's base URL), INGEST (the router's ingest URL),
// PLAYWRIGHT_MODULES (node_modules holding playwright-core), CHROMIUM (the executable),
// TOKEN (the admin token, `login`), EXPECT_LINE (`reload`), SHOTS (a directory: save
// screenshots of the views there). Exits non-zero with a message on the first failed check.
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';

const require = createRequire(process.env.PLAYWRIGHT_MODULES + '/');
const { chromium } = require('playwright-core');

const CONSOLE = process.env.CONSOLE;
const INGEST = process.env.INGEST;
const SHOTS = process.env.SHOTS || '';

function check(condition, message) {
  if (!condition) throw new Error('check failed: ' + message);
}

async function shot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${name}.png` });
}

async function post(path, body, contentType = 'application/json') {
  const r = await fetch(INGEST + path, { method: 'POST', headers: { 'content-type': contentType }, body });
  check(r.ok, `POST ${path} answered ${r.status}: ${await r.text()}`);
  return r;
}

const scenarios = {};

// Events appear within a second of a POST; a row opens (keyboard) to the event, its raw
// request, its plugin timings and its best shot.
scenarios.live = async (page) => {
  await page.goto(CONSOLE + '/ui#/events');
  await page.locator('#live-state', { hasText: 'live' }).waitFor({ timeout: 10000 });
  const device = 'door-' + Date.now();
  const posted = Date.now();
  await post('/in', JSON.stringify({ id: 'ev-' + device, device }));
  await page.locator('#events-body tr', { hasText: device }).waitFor({ timeout: 1000 });
  const shown = Date.now() - posted;
  console.log(`event shown ${shown} ms after its POST was answered`);
  check(shown <= 1000, `event shown after ${shown} ms`);

  // A filter narrows the list and the stream.
  await page.fill('input[name=device]', device);
  await page.click('form.filters button[type=submit]');
  await page.locator('#live-state', { hasText: 'live' }).waitFor({ timeout: 10000 });
  await post('/in', JSON.stringify({ id: 'other-' + device, device: 'elsewhere' }));
  await post('/in', JSON.stringify({ id: 'again-' + device, device }));
  await page.locator('#events-body tr', { hasText: device }).nth(1).waitFor({ timeout: 2000 });
  check(await page.locator('#events-body tr', { hasText: 'elsewhere' }).count() === 0, 'the filter lets other devices through');

  // The SenseNebula push carries an inline face image: it is shown from the blob store.
  if (process.env.IMAGE_SAMPLE) {
    await page.goto(CONSOLE + '/ui#/events');
    await page.locator('#live-state', { hasText: 'live' }).waitFor({ timeout: 10000 });
    const { readFileSync } = await import('node:fs');
    await post(process.env.IMAGE_PATH, readFileSync(process.env.IMAGE_SAMPLE));
    const row = page.locator('#events-body tr').filter({ has: page.locator('img.thumb') }).first();
    await row.waitFor({ timeout: 2000 });
    await row.focus();
    await page.keyboard.press('Enter');
    const dialog = page.locator('dialog#detail');
    await dialog.waitFor({ state: 'visible', timeout: 3000 });
    const img = dialog.locator('figure.shot img');
    await img.waitFor({ timeout: 3000 });
    await page.waitForFunction(() => document.querySelector('figure.shot img').complete);
    check(await img.evaluate((i) => i.naturalWidth > 0), 'the best shot did not load');
    check((await dialog.locator('pre.event-json').textContent()).includes('"blob_ref"'), 'the event JSON lacks its blob_ref');
    check((await dialog.textContent()).includes('normalize'), 'no plugin timing for the normalizer');
    check((await dialog.textContent()).includes('POST '), 'no raw request');
    await shot(page, 'event-detail');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden', timeout: 3000 });
  }
  await shot(page, 'events');
};

// A dead letter replays once its sink is fixed, with a progress bar to the end.
scenarios.dlq = async (page) => {
  await page.goto(CONSOLE + '/ui#/sinks');
  const row = page.locator('tr[data-dead]').first();
  await row.waitFor({ timeout: 10000 });
  check((await row.textContent()).includes('400'), 'the dead letter does not show its error');
  await shot(page, 'dead-letters');
  await page.getByRole('button', { name: 'Replay all' }).click();
  await page.locator('.progress.done').waitFor({ timeout: 10000 });
  check((await page.locator('.progress-text').textContent()).includes('requeued'), 'the progress bar does not say what it did');
  await page.locator('p.empty', { hasText: 'No dead letters' }).waitFor({ timeout: 10000 });
  // Delivered: the sink's count goes up once the requeued event went out.
  await page.waitForFunction(() => {
    const cell = document.querySelector('tr[data-sink="hook"] td.delivered');
    return cell && Number(cell.textContent) >= 1;
  }, null, { timeout: 10000 });
};

// A broken config shows as rejected, with the line it broke at and its diff.
scenarios.reload = async (page) => {
  await page.goto(CONSOLE + '/ui#/config');
  await page.locator('#reload-now').click();
  const entry = page.locator('#reloads li.reload.rejected').first();
  await entry.waitFor({ timeout: 10000 });
  const text = await entry.textContent();
  check(text.includes(`line ${process.env.EXPECT_LINE}`), `the rejected reload does not name line ${process.env.EXPECT_LINE}: ${text}`);
  check(await entry.locator('pre.diff .add').count() > 0, 'the rejected reload shows no diff');
  await shot(page, 'config-rejected');
};

// Away from loopback the console asks for the token; a wrong one gets nothing.
scenarios.login = async (page) => {
  await page.goto(CONSOLE + '/ui');
  await page.locator('#login').waitFor({ state: 'visible', timeout: 10000 });
  check(await page.locator('#nav').isHidden(), 'the views are offered before login');
  await page.fill('#token', 'not-the-token');
  await page.click('#login-form button[type=submit]');
  await page.locator('#login-error', { hasText: 'Wrong token' }).waitFor({ timeout: 5000 });
  const refused = await page.evaluate(async () => (await fetch('/admin/api/v1/flow')).status);
  check(refused === 401, `the API answered ${refused} without a login`);
  await shot(page, 'login');
  await page.fill('#token', process.env.TOKEN);
  await page.click('#login-form button[type=submit]');
  await page.locator('h1', { hasText: 'Flow' }).waitFor({ timeout: 10000 });
  check(!(await page.evaluate(() => document.cookie)).includes('switchyard_session'), 'the login cookie is readable by scripts');
  const url = page.url();
  check(!url.includes(process.env.TOKEN), 'the token is in the URL');
  // A change without the session's CSRF token is refused; with it, it goes through.
  const bare = await page.evaluate(async () => (await fetch('/admin/api/v1/reload', { method: 'POST' })).status);
  check(bare === 403, `a reload without the CSRF token answered ${bare}`);
  const csrf = await page.evaluate(async () => (await (await fetch('/admin/api/v1/session')).json()).csrf);
  const withToken = await page.evaluate(async (t) => (await fetch('/admin/api/v1/reload', { method: 'POST', headers: { 'X-CSRF-Token': t } })).status, csrf);
  check(withToken === 200, `a reload with the CSRF token answered ${withToken}`);
  await page.click('#logout');
  await page.locator('#login').waitFor({ state: 'visible', timeout: 5000 });
};

// Every view renders against live traffic, at 1280 px and on a tablet, without errors.
scenarios.views = async (page, browser) => {
  const views = ['flow', 'events', 'plugins', 'sinks', 'quarantine', 'config', 'decisions'];
  for (const view of views) {
    await page.goto(CONSOLE + '/ui#/' + view);
    await page.locator('main h1').waitFor({ timeout: 10000 });
    await page.waitForTimeout(700);
    check(await page.locator('#banner').isHidden(), `${view}: error banner: ${await page.locator('#banner').textContent()}`);
    await shot(page, view);
  }
  await page.goto(CONSOLE + '/ui#/decisions');
  await page.locator('main tbody tr', { hasText: 'door-policy' }).first().waitFor({ timeout: 10000 });
  await page.goto(CONSOLE + '/ui#/flow');
  await page.locator('[data-node="source:in"]').first().waitFor({ timeout: 10000 });
  await page.locator('tr[data-node="source:in"]').waitFor({ timeout: 10000 });
  await page.goto(CONSOLE + '/ui#/plugins');
  await page.locator('tr[data-plugin="normalize-json"]').waitFor({ timeout: 10000 });
  await page.goto(CONSOLE + '/ui#/quarantine');
  const entry = page.locator('tr[data-quarantine]').first();
  await entry.waitFor({ timeout: 10000 });
  await entry.click();
  await page.locator('dialog#detail pre.code').waitFor({ timeout: 5000 });
  await shot(page, 'quarantine-entry');
  await page.keyboard.press('Escape');

  const tablet = await browser.newPage({ viewport: { width: 768, height: 1024 } });
  for (const view of views) {
    await tablet.goto(CONSOLE + '/ui#/' + view);
    await tablet.locator('main h1').waitFor({ timeout: 10000 });
    const overflow = await tablet.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, `${view} overflows a tablet's width by ${overflow} px`);
  }
  // Keyboard: Tab reaches the navigation and Enter follows it.
  await tablet.goto(CONSOLE + '/ui#/flow');
  await tablet.locator('main h1').waitFor({ timeout: 10000 });
  for (let i = 0; i < 4; i++) await tablet.keyboard.press('Tab');
  await tablet.keyboard.press('Enter');
  await tablet.waitForFunction(() => location.hash !== '#/flow', null, { timeout: 3000 });
};

const name = process.argv[2];
if (!scenarios[name]) {
  console.error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  // Root in CI: Chromium's sandbox needs an unprivileged user.
  args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (e) => errors.push(e.message));
  await scenarios[name](page, browser);
  check(errors.length === 0, 'errors in the page: ' + errors.join('; '));
  console.log(`scenario ${name}: ok`);
} catch (e) {
  console.error(`scenario ${name}: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
