#!/usr/bin/env node
// Browser test of the samtale dashboard.
//
//   cd tests/e2e && npm ci && node run.mjs
//
// Prepares a fresh database with the samtale CLI, starts `samtale serve` on a free port,
// drives Debian's Chromium through playwright-core, and prints one line per check
// ("ok - name" / "not ok - name: reason") and a closing "e2e: N passed, N failed".
// Exits 1 on any failure. Environment:
//   SAMTALE_BIN       the binary (default: build/samtale in the repository)
//   CHROMIUM_PATH     the browser (default: /usr/bin/chromium)
//   SAMTALE_E2E_KEEP  set to keep the temporary directory (database, server log)
// Screenshots go to tests/e2e/output/; the English channels page also to docs/img/dashboard.png.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const BIN = process.env.SAMTALE_BIN ? path.resolve(process.env.SAMTALE_BIN) : path.join(ROOT, 'build', 'samtale');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const OUT = path.join(HERE, 'output');
const DOC_IMG = path.join(ROOT, 'docs', 'img', 'dashboard.png');

const OWNER_EMAIL = 'owner@example.com';
const OWNER_PASSWORD = 'correct horse battery';
const OWNER_NEW_PASSWORD = 'correct horse battery staple';
const MEMBER_EMAIL = 'eva@example.com';
const MEMBER_PASSWORD = 'a brand new password';
const BETA_CHANNELS = 52; // one more page than the API's default of 50
const STEP_TIMEOUT = 10_000;
const EXPECTED_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

let tmp = null;
let server = null;
let serverLog = '';
let browser = null;
let cleaning = null;
let passed = 0;
let failed = 0;
let skipped = 0;
let aborted = null;
let interrupted = false;
let finished = false;
const problems = []; // console errors, CSP violations and page errors seen by the browser

function comment(text) {
  for (const line of String(text).replace(/\x1b\[[0-9;]*m/g, '').split('\n')) console.log('# ' + line);
}

function reasonOf(err) {
  const msg = (err && err.message) ? err.message : String(err);
  return msg.split('\n').map((l) => l.trim()).filter(Boolean)[0] || 'failed';
}

// Runs one named check. A failed critical check skips the rest (they all depend on it).
async function check(name, fn, { critical = false, page = null } = {}) {
  if (aborted) {
    skipped++;
    console.log(`# skipped - ${name} (after: ${aborted})`);
    return false;
  }
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
    return true;
  } catch (err) {
    if (interrupted) return false; // the browser went away because of the signal
    failed++;
    console.log(`not ok - ${name}: ${reasonOf(err)}`);
    const detail = (err && err.message ? err.message : String(err)).split('\n').slice(1, 12).join('\n').trim();
    if (detail) comment(detail);
    if (page) {
      const shot = path.join(OUT, `failure-${passed + failed}.png`);
      await page.screenshot({ path: shot }).then(() => comment(`screenshot: ${path.relative(ROOT, shot)}`), () => {});
    }
    if (critical) aborted = name;
    return false;
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

function childEnv() {
  // The test names the database itself; a developer's own samtale settings must not leak in.
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('SAMTALE_')) delete env[k];
  return env;
}

function cli(args, input) {
  try {
    return execFileSync(BIN, ['--db', path.join(tmp, 's.db'), ...args], {
      cwd: tmp, env: childEnv(), input: input ?? '', stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000,
    }).toString();
  } catch (err) {
    const out = [err.stdout, err.stderr].filter(Boolean).map(String).join('').trim();
    throw new Error(`samtale ${args.join(' ')} failed (${err.status ?? err.signal ?? err.code})${out ? ': ' + out : ''}`);
  }
}

// Starts `samtale serve` and resolves with its base URL once it prints "listening on ...".
function startServer() {
  return new Promise((resolve, reject) => {
    let done = false;
    let buf = '';
    const finish = (fn, value) => { if (!done) { done = true; clearTimeout(timer); fn(value); } };
    const child = spawn(BIN, ['--db', path.join(tmp, 's.db'), 'serve', '--listen', '127.0.0.1:0'], {
      cwd: tmp, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'],
    });
    server = child;
    const timer = setTimeout(() => finish(reject, new Error('no "listening on http://127.0.0.1:PORT/" line within 10 s')), 10_000);
    child.stdout.on('data', (d) => {
      const s = d.toString();
      serverLog += s;
      buf += s;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(line);
        if (m) finish(resolve, m[1]);
      }
    });
    child.stderr.on('data', (d) => { serverLog += d.toString(); });
    child.on('error', (err) => finish(reject, err));
    child.on('exit', (code, signal) => finish(reject, new Error(`the server exited (${code ?? signal}) before listening`)));
  });
}

async function stopServer() {
  const child = server;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try { process.kill(child.pid, 'SIGTERM'); } catch { return; }
  const killer = setTimeout(() => { try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ } }, 5_000);
  await exited;
  clearTimeout(killer);
}

function cleanup() {
  if (!cleaning) {
    cleaning = (async () => {
      if (browser) { await browser.close().catch(() => {}); browser = null; }
      await stopServer();
      if (tmp) {
        if (process.env.SAMTALE_E2E_KEEP) {
          fs.writeFileSync(path.join(tmp, 'server.log'), serverLog);
          comment(`kept ${tmp}`);
        } else {
          fs.rmSync(tmp, { recursive: true, force: true });
        }
      }
    })();
  }
  return cleaning;
}

// Prints the closing line once and exits.
function finish(code) {
  if (finished) return;
  finished = true;
  if (failed && serverLog) {
    comment('last lines of the server output:');
    comment(serverLog.trimEnd().split('\n').slice(-30).join('\n'));
  }
  if (skipped) comment(`${skipped} check(s) skipped after a failure`);
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  process.exit(code);
}

for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    aborted = `interrupted by ${sig}`;
    failed++;
    console.log(`not ok - run interrupted by ${sig}`);
    cleanup().finally(() => finish(code));
  });
}
// Last resort: whatever way this process ends, it does not leave the server running.
process.on('exit', () => {
  if (server && server.exitCode === null && server.signalCode === null) {
    try { process.kill(server.pid, 'SIGKILL'); } catch { /* gone */ }
  }
});

/* ---------------------------------------------------------------- page helpers */

const byId = (page, id) => page.getByTestId(id);

async function waitText(locator, text) {
  await locator.filter({ hasText: text }).first().waitFor({ state: 'visible' });
}

async function loginAs(page, email, password) {
  await byId(page, 'login-email').fill(email);
  await byId(page, 'login-password').fill(password);
  await byId(page, 'login-submit').click();
  await page.locator('[data-testid="app-header"], [data-testid="password-form"], [data-testid="login-error"]:visible').first().waitFor();
}

async function pickLanguage(page, code) {
  await byId(page, 'lang-switch').selectOption(code);
  await page.locator(`html[lang="${code}"]`).waitFor({ state: 'attached' });
}

function channelRow(page, name) {
  return byId(page, 'channel-row').filter({ has: page.getByTestId('channel-name').getByText(name, { exact: true }) });
}

async function fillChannelForm(page, { kind, name, timezone, path: filePath, url, secret }) {
  if (kind) await byId(page, 'channel-kind').selectOption(kind);
  await byId(page, 'channel-name-input').fill(name);
  if (timezone !== undefined) await byId(page, 'channel-timezone').fill(timezone);
  if (filePath !== undefined) await byId(page, 'channel-setting-path').fill(filePath);
  if (url !== undefined) await byId(page, 'channel-setting-url').fill(url);
  if (secret !== undefined) await byId(page, 'channel-secret').fill(secret);
}

async function submitChannel(page, method) {
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/channels') && r.request().method() === method),
    byId(page, 'channel-submit').click(),
  ]);
  return res;
}

async function apiStatus(res, want) {
  if (res.status() !== want) {
    let body = '';
    try { body = await res.text(); } catch { /* none */ }
    throw new Error(`${res.request().method()} ${new URL(res.url()).pathname} answered ${res.status()}, expected ${want}: ${body.slice(0, 300)}`);
  }
}

async function confirm(page) {
  await byId(page, 'confirm-dialog').waitFor();
  await byId(page, 'confirm-ok').click();
  await byId(page, 'confirm-dialog').waitFor({ state: 'detached' });
}

/* ---------------------------------------------------------------- the test */

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  comment(`binary: ${BIN}`);
  let base = null;
  let page = null;
  let context = null;

  await check('the samtale binary exists', async () => {
    assert(fs.existsSync(BIN), `${BIN} not found (build it, or set SAMTALE_BIN)`);
  }, { critical: true });

  await check('prepare a database with the CLI', async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'samtale-e2e-'));
    cli(['workspace', 'add', 'Acme', '--timezone', 'Europe/Oslo']);
    cli(['user', 'add', '--email', OWNER_EMAIL, '--name', 'Owner', '--workspace', 'Acme', '--role', 'owner', '--password-stdin'], OWNER_PASSWORD + '\n');
    // A second workspace with more channels than one page of the list holds.
    cli(['workspace', 'add', 'Beta Agency', '--timezone', 'Europe/Stockholm']);
    cli(['user', 'add', '--email', OWNER_EMAIL, '--workspace', 'Beta Agency', '--role', 'owner', '--password-stdin'], OWNER_PASSWORD + '\n');
    for (let i = 1; i <= BETA_CHANNELS; i++) {
      cli(['channel', 'add', '--workspace', 'Beta Agency', '--kind', 'feed', '--name', `Feed ${i}`, '--setting', `url=https://news.example.com/${i}.xml`]);
    }
  }, { critical: true });

  await check('start the server', async () => {
    base = await startServer();
    comment(`server: ${base}`);
  }, { critical: true });

  await check('launch Chromium', async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // This script handles the signals itself, so that the server is stopped too.
      handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', timezoneId: 'Europe/Oslo' });
    // Chromium reports CSP violations through this event; make each one a console error.
    await context.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
      });
    });
    page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT);
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const text = msg.text();
      const url = (msg.location() && msg.location().url) || '';
      // Answers like 401 (not logged in) or 409 (duplicate name) are part of the tests: the
      // browser logs them as failed resources, which is not an error of the page.
      if (/Failed to load resource: the server responded with a status of 4\d\d/.test(text) && url.includes('/api/v1/')) return;
      problems.push(`console error: ${text}${url ? ` (${url})` : ''}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  }, { critical: true });

  let firstResponse = null;
  await check('open the dashboard: the login page is shown', async () => {
    firstResponse = await page.goto(base);
    assert(firstResponse && firstResponse.status() === 200, `GET / answered ${firstResponse && firstResponse.status()}`);
    await byId(page, 'login-form').waitFor();
    assert((await page.title()) === 'samtale', `title is "${await page.title()}"`);
  }, { critical: true, page });

  await check('the dashboard is served under the strict Content-Security-Policy', async () => {
    const csp = firstResponse.headers()['content-security-policy'] || '';
    assert(csp, 'GET / has no Content-Security-Policy header');
    const parse = (text) => new Map(text.split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0])
      .map(([name, ...values]) => [name.toLowerCase(), values.join(' ')]));
    const got = parse(csp);
    for (const [name, value] of parse(EXPECTED_CSP)) {
      assert(got.get(name) === value, `${name} is "${got.get(name) ?? '(missing)'}", expected "${value}" in: ${csp}`);
    }
    // Directives beyond the expected ones may only narrow what is allowed.
    for (const [name, value] of got) {
      assert(!/unsafe-|\*|https?:|data:/.test(value) || name === 'img-src', `${name} "${value}" loosens the policy`);
    }
  }, { page });

  await check('a wrong password is refused with a clear message', async () => {
    await loginAs(page, OWNER_EMAIL, 'not the password');
    await waitText(byId(page, 'login-error'), 'wrong');
  }, { page });

  await check('log in', async () => {
    await loginAs(page, OWNER_EMAIL, OWNER_PASSWORD);
    if (await byId(page, 'password-form').isVisible()) {
      await byId(page, 'password-new').fill(OWNER_NEW_PASSWORD);
      await byId(page, 'password-repeat').fill(OWNER_NEW_PASSWORD);
      await byId(page, 'password-submit').click();
    }
    await byId(page, 'app-header').waitFor();
    await waitText(byId(page, 'user-email'), OWNER_EMAIL);
    const ws = await byId(page, 'workspace-switcher').locator('option:checked').textContent();
    assert(ws === 'Acme', `the workspace switcher shows "${ws}"`);
    const all = await byId(page, 'workspace-switcher').locator('option').allTextContents();
    assert(all.includes('Beta Agency'), `the workspace switcher offers ${JSON.stringify(all)}`);
    await waitText(byId(page, 'workspace-role'), 'Owner');
  }, { critical: true, page });

  await check('the navigation has every section; unbuilt ones say so honestly', async () => {
    for (const id of ['calendar', 'composer', 'inbox', 'listening', 'people', 'goals', 'contests', 'settings', 'channels', 'members', 'tokens']) {
      await byId(page, `nav-${id}`).waitFor();
    }
    await byId(page, 'nav-inbox').click();
    await waitText(byId(page, 'page-title'), 'Inbox');
    await waitText(byId(page, 'later'), 'later version');
  }, { page });

  await check('open Settings > Channels', async () => {
    await byId(page, 'nav-channels').click();
    await waitText(byId(page, 'page-title'), 'Channels');
    await waitText(byId(page, 'channels-count'), '0 channels');
    const tz = await byId(page, 'channel-timezone').inputValue();
    assert(tz === 'Europe/Oslo', `the time zone defaults to "${tz}", not the workspace's Europe/Oslo`);
  }, { critical: true, page });

  await check('add a channel (kind file, "Demo file", with a path)', async () => {
    await fillChannelForm(page, { kind: 'file', name: 'Demo file', path: 'demo-posts.jsonl' });
    await apiStatus(await submitChannel(page, 'POST'), 201);
  }, { page });

  await check('see it listed', async () => {
    const row = channelRow(page, 'Demo file');
    await row.waitFor();
    await waitText(row, 'File');
    await waitText(row, 'Europe/Oslo');
    await waitText(row, 'demo-posts.jsonl');
    await waitText(byId(page, 'channels-message'), 'added');
  }, { page });

  await check('a duplicate name is refused, with the server\'s message shown at the form', async () => {
    await fillChannelForm(page, { kind: 'file', name: 'Demo file', path: 'other.jsonl' });
    const res = await submitChannel(page, 'POST');
    await apiStatus(res, 409);
    const body = await res.json();
    const message = body && body.error && body.error.message;
    assert(message, 'the 409 answer has no error.message');
    const where = body.error.field === 'name' ? 'channel-name-error' : 'channel-form-error';
    await waitText(byId(page, where), message);
  }, { page });

  await check('an unknown time zone is refused next to its field', async () => {
    await fillChannelForm(page, { kind: 'file', name: 'Mars file', timezone: 'Mars/Olympus_Mons', path: 'mars.jsonl' });
    const res = await submitChannel(page, 'POST');
    await apiStatus(res, 422);
    const body = await res.json();
    assert(body.error && body.error.field === 'timezone', `the 422 answer names field ${JSON.stringify(body.error && body.error.field)}, not "timezone"`);
    await waitText(byId(page, 'channel-timezone-error'), body.error.message);
    assert(await byId(page, 'channel-timezone').getAttribute('aria-invalid') === 'true', 'the field is not marked invalid');
    await byId(page, 'channel-timezone').fill('Europe/Oslo');
  }, { page });

  await check('add a feed channel with a URL', async () => {
    await fillChannelForm(page, { kind: 'feed', name: 'Company blog', url: 'https://blog.example.com/feed.xml' });
    await apiStatus(await submitChannel(page, 'POST'), 201);
    const row = channelRow(page, 'Company blog');
    await row.waitFor();
    await waitText(row, 'https://blog.example.com/feed.xml');
  }, { page });

  await check('add a webhook channel with a secret', async () => {
    await fillChannelForm(page, { kind: 'webhook', name: 'Shop webhook', url: 'https://shop.example.com/hooks/samtale', secret: 'hush-hush-123' });
    await apiStatus(await submitChannel(page, 'POST'), 201);
    const row = channelRow(page, 'Shop webhook');
    await row.waitFor();
    await waitText(row, 'Stored');
    const html = await page.content();
    assert(!html.includes('hush-hush-123'), 'the secret is visible in the page');
  }, { page });

  await check('edit a channel', async () => {
    await channelRow(page, 'Shop webhook').getByTestId('channel-edit').click();
    await waitText(byId(page, 'channel-form-title'), 'Shop webhook');
    assert(await byId(page, 'channel-kind').isDisabled(), 'the kind can be changed while editing');
    await byId(page, 'channel-name-input').fill('Order webhook');
    await apiStatus(await submitChannel(page, 'PATCH'), 200);
    const row = channelRow(page, 'Order webhook');
    await row.waitFor();
    await waitText(row, 'Stored');
    await channelRow(page, 'Shop webhook').waitFor({ state: 'detached' });
  }, { page });

  await check('remove a channel after confirming', async () => {
    await fillChannelForm(page, { kind: 'file', name: 'Scratch file', path: 'scratch.jsonl' });
    await apiStatus(await submitChannel(page, 'POST'), 201);
    await channelRow(page, 'Scratch file').getByTestId('channel-remove').click();
    await byId(page, 'confirm-dialog').waitFor();
    await byId(page, 'confirm-cancel').click();
    await byId(page, 'confirm-dialog').waitFor({ state: 'detached' });
    await channelRow(page, 'Scratch file').waitFor();
    await channelRow(page, 'Scratch file').getByTestId('channel-remove').click();
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/channels/') && r.request().method() === 'DELETE'),
      confirm(page),
    ]);
    await apiStatus(res, 204);
    await channelRow(page, 'Scratch file').waitFor({ state: 'detached' });
    await waitText(byId(page, 'channels-count'), '3 channels');
  }, { page });

  await check('a reload keeps the session and the page', async () => {
    await page.reload();
    await byId(page, 'app-header').waitFor();
    await waitText(byId(page, 'page-title'), 'Channels');
    await channelRow(page, 'Demo file').waitFor();
    await channelRow(page, 'Company blog').waitFor();
    await channelRow(page, 'Order webhook').waitFor();
  }, { page });

  await check('screenshot of the channels page in English (docs/img/dashboard.png)', async () => {
    await page.mouse.move(0, 0);
    const shot = path.join(OUT, 'dashboard-en.png');
    await page.screenshot({ path: shot });
    fs.mkdirSync(path.dirname(DOC_IMG), { recursive: true });
    fs.copyFileSync(shot, DOC_IMG);
  }, { page });

  await check('switch language to Norsk bokmål', async () => {
    await pickLanguage(page, 'nb');
    await waitText(byId(page, 'nav-settings'), 'Innstillinger');
    await waitText(byId(page, 'page-title'), 'Kanaler');
    await waitText(byId(page, 'logout'), 'Logg ut');
    await waitText(byId(page, 'channel-submit'), 'Legg til kanal');
    await waitText(channelRow(page, 'Demo file'), 'Fil');
  }, { page });

  await check('switch language to Svenska', async () => {
    await pickLanguage(page, 'sv');
    await waitText(byId(page, 'nav-settings'), 'Inställningar');
    await waitText(byId(page, 'logout'), 'Logga ut');
    await waitText(byId(page, 'channel-submit'), 'Lägg till kanal');
  }, { page });

  await check('screenshot of the channels page (tests/e2e/output/dashboard.png)', async () => {
    await page.screenshot({ path: path.join(OUT, 'dashboard.png') });
    await pickLanguage(page, 'en');
    await waitText(byId(page, 'logout'), 'Log out');
  }, { page });

  await check('switch workspace and page through a long channel list', async () => {
    await byId(page, 'workspace-switcher').selectOption({ label: 'Beta Agency' });
    await waitText(byId(page, 'channels-count'), '50 channels');
    const tz = await byId(page, 'channel-timezone').inputValue();
    assert(tz === 'Europe/Stockholm', `the time zone defaults to "${tz}", not Beta Agency's Europe/Stockholm`);
    await byId(page, 'channels-more').click();
    await waitText(byId(page, 'channels-count'), `${BETA_CHANNELS} channels`);
    await channelRow(page, `Feed ${BETA_CHANNELS}`).waitFor();
    await byId(page, 'channels-more').waitFor({ state: 'hidden' });
    await byId(page, 'workspace-switcher').selectOption({ label: 'Acme' });
    await waitText(byId(page, 'channels-count'), '3 channels');
  }, { page });

  let oneTimePassword = null;
  await check('add a member and see the one-time password once', async () => {
    await byId(page, 'nav-members').click();
    await waitText(byId(page, 'page-title'), 'Members');
    await byId(page, 'member-row').filter({ hasText: OWNER_EMAIL }).waitFor();
    await byId(page, 'member-email-input').fill(MEMBER_EMAIL);
    await byId(page, 'member-name-input').fill('Eva Editor');
    await byId(page, 'member-role-input').selectOption('editor');
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/members') && r.request().method() === 'POST'),
      byId(page, 'member-submit').click(),
    ]);
    await apiStatus(res, 201);
    await byId(page, 'member-otp').waitFor();
    oneTimePassword = await byId(page, 'member-otp-value').inputValue();
    assert(oneTimePassword.length >= 6, `one-time password "${oneTimePassword}" looks wrong`);
    await byId(page, 'member-row').filter({ hasText: MEMBER_EMAIL }).waitFor();
  }, { page });

  await check('change a member\'s role', async () => {
    const row = byId(page, 'member-row').filter({ hasText: MEMBER_EMAIL });
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/members/') && r.request().method() === 'PATCH'),
      row.getByTestId('member-role').selectOption('viewer'),
    ]);
    await apiStatus(res, 200);
    await waitText(byId(page, 'members-message'), 'Viewer');
  }, { page });

  await check('removing the last owner is refused with the server\'s message', async () => {
    const row = byId(page, 'member-row').filter({ hasText: OWNER_EMAIL });
    await row.getByTestId('member-remove').click();
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/members/') && r.request().method() === 'DELETE'),
      confirm(page),
    ]);
    await apiStatus(res, 409);
    const body = await res.json();
    await waitText(page.locator('[data-testid="members-message"].message-error'), body.error.message);
    await byId(page, 'member-row').filter({ hasText: OWNER_EMAIL }).waitFor();
  }, { page });

  await check('create an API token, shown once, then revoke it', async () => {
    await byId(page, 'nav-tokens').click();
    await waitText(byId(page, 'page-title'), 'API tokens');
    await byId(page, 'token-name').fill('CI export');
    await byId(page, 'scope-channels:read').check();
    await byId(page, 'scope-audit:read').check();
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/tokens') && r.request().method() === 'POST'),
      byId(page, 'token-submit').click(),
    ]);
    await apiStatus(res, 201);
    const token = await byId(page, 'token-value').inputValue();
    assert(token.startsWith('smt_'), `the token shown is "${token}"`);
    const row = byId(page, 'token-row').filter({ hasText: 'CI export' });
    await waitText(row, token.slice(0, 12));
    await waitText(row, 'channels:read');
    await waitText(row, 'Never');
    await row.getByTestId('token-revoke').click();
    const [del] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/tokens/') && r.request().method() === 'DELETE'),
      confirm(page),
    ]);
    await apiStatus(del, 204);
    await waitText(row.getByTestId('token-status'), 'Revoked');
  }, { page });

  await check('log out: the login page is shown and the session is gone', async () => {
    await byId(page, 'logout').click();
    await byId(page, 'login-form').waitFor();
    await waitText(byId(page, 'login-error'), 'logged out');
    const res = await page.request.get(new URL('api/v1/me', base).href);
    assert(res.status() === 401, `GET /api/v1/me after logout answered ${res.status()}`);
  }, { page });

  await check('a new member logs in with the one-time password and chooses a password', async () => {
    assert(oneTimePassword, 'no one-time password from the earlier step');
    await loginAs(page, MEMBER_EMAIL, oneTimePassword);
    await byId(page, 'password-form').waitFor();
    await byId(page, 'password-new').fill('too short');
    await byId(page, 'password-repeat').fill('too short');
    await byId(page, 'password-submit').click();
    await waitText(byId(page, 'password-new-error'), '10');
    await byId(page, 'password-new').fill(MEMBER_PASSWORD);
    await byId(page, 'password-repeat').fill(MEMBER_PASSWORD);
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/me/password')),
      byId(page, 'password-submit').click(),
    ]);
    await apiStatus(res, 204);
    await byId(page, 'app-header').waitFor();
    await waitText(byId(page, 'user-email'), MEMBER_EMAIL);
  }, { page });

  await check('a viewer sees channels but cannot change them', async () => {
    await waitText(byId(page, 'workspace-role'), 'Viewer');
    await byId(page, 'nav-channels').click();
    await channelRow(page, 'Demo file').waitFor();
    await byId(page, 'role-note').waitFor();
    assert(await byId(page, 'channel-form').count() === 0, 'a viewer is offered the channel form');
    await byId(page, 'logout').click();
    await byId(page, 'login-form').waitFor();
  }, { page });

  await check('no console errors, CSP violations or page errors', async () => {
    assert(problems.length === 0, `${problems.length} problem(s):\n${problems.join('\n')}`);
  });
}

try {
  await main();
} catch (err) {
  if (!interrupted) {
    failed++;
    console.log(`not ok - test harness: ${reasonOf(err)}`);
    comment(String((err && err.stack) || err));
  }
} finally {
  await cleanup();
  if (!interrupted) finish(failed || skipped ? 1 : 0);
}
