/* Browser checks of Settings > Channels (a channel's publishing panel, the file channel's
 * hint) and of the API tokens' scopes; see README.md in this folder for the contract.
 *
 * The publishing panel: the weekly grid of posting times clicked and driven by keyboard
 * (what was saved read back with the CLI), a time off the hour, the next times; the caps,
 * saved and refused at their field with the server's words; pausing the queue (a post due
 * on the paused channel waits, in the composer's answer and the calendar, and goes out once
 * publishing is on again). The file channel's hint: its example is accepted, an absolute
 * path refused. Every scope the server knows (src/core/auth.c) shown by what it allows.
 * In English and in bokmål, at desktop and phone width (no sideways scrolling).
 */

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export default async function (t) {
  const { page, base, check, assert, byId, waitText, cli, channelId, apiStatus, pickLanguage, newContext, watch,
    openComposer, chooseChannels, submitPost, occurrenceOf, loginAs, confirm, tmp, OUT, OWNER_EMAIL, OWNER_PASSWORD } = t;

  const api = (p) => new URL('api/v1/workspaces/1' + p, base).href;
  const row = (pg, name) => byId(pg, 'channel-row').filter({ has: pg.getByTestId('channel-name').getByText(name, { exact: true }) });
  const cell = (pg, name) => byId(pg, 'publishing-panel').getByRole('button', { name, exact: true });
  const slotsOf = (id) => JSON.parse(cli(['--json', 'channel', 'slots', String(id), '--days', '14']));
  const channelOf = (id) => JSON.parse(cli(['--json', 'channel', 'show', String(id)]));
  const isPatch = (id) => (r) => r.request().method() === 'PATCH' && new URL(r.url()).pathname.endsWith(`/channels/${id}`);
  const wide = (pg) => pg.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  const publishLines = (file) => {
    const f = path.join(tmp, 'files', file);
    return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((l) => l.type === 'publish') : [];
  };
  // Waits for a condition the server reaches by itself (the publisher), asking again and
  // again until a deadline; fails saying what it waited for.
  async function until(fn, what, ms = 15_000) {
    const end = Date.now() + ms;
    let last;
    while (Date.now() < end) {
      last = await fn();
      if (last) return last;
      await page.waitForTimeout(100);
    }
    throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
  }
  const postOf = async (pg, id) => (await pg.request.get(api(`/posts/${id}`))).json();

  // Goes to a section by the navigation, through the menu button where the screen is narrow.
  async function nav(pg, id) {
    const menu = byId(pg, 'menu-button');
    if (await menu.isVisible()) await menu.click();
    await byId(pg, id).click();
  }

  // Opens the channel's panel on a fresh channels page (channels made by the CLI show).
  async function openPanel(pg, name) {
    await nav(pg, 'nav-channels');
    await byId(pg, 'section-channels').waitFor();
    await pg.reload();
    const r = row(pg, name);
    await r.waitFor();
    await r.getByTestId('channel-publishing').click();
    const panel = byId(pg, 'publishing-panel');
    await panel.waitFor();
    await byId(pg, 'next-time').first().or(byId(pg, 'next-none')).waitFor();
    return panel;
  }

  async function closePanel(pg) {
    await byId(pg, 'publishing-close').click();
    await byId(pg, 'publishing-panel').waitFor({ state: 'detached' });
  }

  cli(['channel', 'add', '--workspace', 'Acme', '--kind', 'file', '--name', 'Grid file', '--setting', 'path=grid-e2e.jsonl',
    '--slot', 'mon 09:00', '--slot', 'tue 09:30', '--slot', 'sun 03:15']);
  const gridId = channelId('Grid file');

  await t.check('publishing panel: the weekly grid shows every posting time, on the hour or not, in the channel\'s time zone', async () => {
    await openPanel(page, 'Grid file');
    await waitText(byId(page, 'publishing-title'), 'Publishing on \u201cGrid file\u201d');
    await waitText(byId(page, 'slots-zone'), 'Europe/Oslo');
    assert((await cell(page, 'Monday 09:00').getAttribute('aria-pressed')) === 'true', 'Monday 09:00 is not shown as a posting time');
    // Off the hour: in its hour's box, named and shown by its own time.
    const tue = cell(page, 'Tuesday 09:30');
    assert((await tue.getAttribute('aria-pressed')) === 'true', 'Tuesday 09:30 is not shown');
    await waitText(tue, '09:30');
    // A slot in the night shows the night hours, which otherwise fold away.
    await cell(page, 'Sunday 03:15').waitFor();
    assert(await byId(page, 'slot-night').isHidden(), 'the night hours can be folded away over a slot');
    assert((await cell(page, 'Wednesday 14:00').getAttribute('aria-pressed')) === 'false', 'Wednesday 14:00 shows as a slot');
    await waitText(byId(page, 'slots-count'), '3 posting times a week');
    // The next times are the server's.
    const first = await byId(page, 'next-time').first().getAttribute('data-at');
    assert(first === slotsOf(gridId).upcoming[0].at, `the next time shown is ${first}, the server says ${slotsOf(gridId).upcoming[0].at}`);
    assert(await wide(page) <= 0, `the page scrolls sideways by ${await wide(page)} px`);
  }, { page });

  await t.check('publishing panel: posting times are added and removed by clicking and by keyboard, and saved (read back with the CLI)', async () => {
    await cell(page, 'Wednesday 14:00').click();
    assert((await cell(page, 'Wednesday 14:00').getAttribute('aria-pressed')) === 'true', 'a click did not add Wednesday 14:00');
    await byId(page, 'slots-unsaved').waitFor();
    await byId(page, 'next-unsaved').waitFor();
    await cell(page, 'Tuesday 09:30').click();                 // a filled box: its time goes
    assert((await cell(page, 'Tuesday 09:00').getAttribute('aria-pressed')) === 'false', 'Tuesday 09:30 was not removed');
    // The keyboard: one box in the tab order, arrows move, Space toggles.
    await cell(page, 'Monday 09:00').focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    const focused = await page.evaluate(() => document.activeElement.getAttribute('aria-label'));
    assert(focused === 'Tuesday 10:00', `the arrows went to "${focused}", not Tuesday 10:00`);
    await page.keyboard.press('Space');
    assert((await cell(page, 'Tuesday 10:00').getAttribute('aria-pressed')) === 'true', 'Space did not add Tuesday 10:00');
    const tabbable = await byId(page, 'slot-cell').evaluateAll((els) => els.filter((e) => e.tabIndex === 0).length);
    assert(tabbable === 1, `${tabbable} boxes are in the tab order`);
    // A time off the hour.
    await byId(page, 'slot-add-day').selectOption({ label: 'Friday' });
    await byId(page, 'slot-add-time').fill('16:45');
    await byId(page, 'slot-add').click();
    assert((await cell(page, 'Friday 16:45').getAttribute('aria-pressed')) === 'true', 'Friday 16:45 was not added');
    await byId(page, 'slot-add').click();                      // the same again: said at the field
    await waitText(byId(page, 'slot-add-time-error'), 'already');
    const [res] = await Promise.all([page.waitForResponse(isPatch(gridId)), byId(page, 'slots-save').click()]);
    await apiStatus(res, 200);
    assert(JSON.stringify(JSON.parse(res.request().postData()).slots) === JSON.stringify(['mon 09:00', 'tue 10:00', 'wed 14:00', 'fri 16:45', 'sun 03:15']),
      `the page sent ${res.request().postData()}`);
    await waitText(byId(page, 'slots-message'), 'Saved: 5 posting times a week');
    await byId(page, 'slots-unsaved').waitFor({ state: 'hidden' });
    const saved = slotsOf(gridId);
    assert(JSON.stringify(saved.slots) === JSON.stringify(['mon 09:00', 'tue 10:00', 'wed 14:00', 'fri 16:45', 'sun 03:15']),
      `the CLI reads ${JSON.stringify(saved.slots)}`);
    await until(async () => (await byId(page, 'next-time').first().getAttribute('data-at')) === saved.upcoming[0].at,
      `the next times to follow the saved slots (${saved.upcoming[0].at})`);
    // Undo gives back what is saved; closing with unsaved changes asks first.
    await cell(page, 'Sunday 03:15').click();
    await byId(page, 'slots-undo').click();
    assert((await cell(page, 'Sunday 03:15').getAttribute('aria-pressed')) === 'true', 'Undo did not bring Sunday 03:15 back');
    await cell(page, 'Saturday 11:00').click();
    await byId(page, 'publishing-close').click();
    await byId(page, 'confirm-dialog').waitFor();
    await byId(page, 'confirm-cancel').click();
    await byId(page, 'confirm-dialog').waitFor({ state: 'detached' });
    await byId(page, 'slots-undo').click();
    await closePanel(page);
  }, { page });

  await t.check('publishing panel: caps are saved, say why they exist, and a bad value is refused at its field in the server\'s words', async () => {
    await openPanel(page, 'Grid file');
    await waitText(byId(page, 'caps-why'), 'mute');
    await byId(page, 'cap-hour').fill('3');
    await byId(page, 'cap-day').fill('20');
    let [res] = await Promise.all([page.waitForResponse(isPatch(gridId)), byId(page, 'caps-save').click()]);
    await apiStatus(res, 200);
    await waitText(byId(page, 'caps-message'), 'at most 3 an hour and 20 a day');
    let ch = channelOf(gridId);
    assert(ch.max_per_hour === 3 && ch.max_per_day === 20, `the CLI reads ${ch.max_per_hour} an hour, ${ch.max_per_day} a day`);
    // Fewer a day than an hour: the server says so, under "a day".
    await byId(page, 'cap-day').fill('2');
    [res] = await Promise.all([page.waitForResponse(isPatch(gridId)), byId(page, 'caps-save').click()]);
    await apiStatus(res, 422);
    const said = (await res.json()).error.message;
    await waitText(byId(page, 'cap-day-error'), said);
    assert((await byId(page, 'cap-day').getAttribute('aria-invalid')) === 'true', 'the day field is not marked invalid');
    assert(await byId(page, 'cap-hour-error').isHidden(), 'the hour field shows an error too');
    // Out of range an hour: under "an hour".
    await byId(page, 'cap-day').fill('20');
    await byId(page, 'cap-hour').fill('0');
    [res] = await Promise.all([page.waitForResponse(isPatch(gridId)), byId(page, 'caps-save').click()]);
    await apiStatus(res, 422);
    await waitText(byId(page, 'cap-hour-error'), (await res.json()).error.message);
    assert(await byId(page, 'cap-day-error').isHidden(), 'the day field still shows the old error');
    // Not a number at all: said here, nothing sent.
    let sent = 0;
    const count = (r) => { if (r.method() === 'PATCH' && new URL(r.url()).pathname.endsWith(`/channels/${gridId}`)) sent++; };
    page.on('request', count);
    await byId(page, 'cap-hour').fill('');
    await byId(page, 'caps-save').click();
    await waitText(byId(page, 'cap-hour-error'), 'whole number');
    page.off('request', count);
    assert(sent === 0, `${sent} requests were sent for an empty cap`);
    ch = channelOf(gridId);
    assert(ch.max_per_hour === 3 && ch.max_per_day === 20, `a refused value changed the caps to ${ch.max_per_hour}/${ch.max_per_day}`);
    await byId(page, 'cap-hour').fill('3');
    await closePanel(page);
  }, { page });

  cli(['channel', 'add', '--workspace', 'Acme', '--kind', 'file', '--name', 'Pause file', '--setting', 'path=pause-e2e.jsonl']);
  cli(['channel', 'add', '--workspace', 'Acme', '--kind', 'file', '--name', 'Pause neighbour', '--setting', 'path=pause-other-e2e.jsonl']);
  const pauseId = channelId('Pause file');
  let heldPost = null;

  await t.check('pausing publishing: a post due on the paused channel waits (composer, calendar, panel) and nothing is published', async () => {
    await openPanel(page, 'Pause file');
    const sw = byId(page, 'channel-pause');
    assert((await sw.getAttribute('aria-checked')) === 'false', 'a new channel starts paused');
    await waitText(byId(page, 'pause-state'), 'Publishing is on');
    const [res] = await Promise.all([page.waitForResponse(isPatch(pauseId)), sw.click()]);
    await apiStatus(res, 200);
    assert(JSON.parse(res.request().postData()).paused === true, `the switch sent ${res.request().postData()}`);
    await until(async () => (await sw.getAttribute('aria-checked')) === 'true', 'the switch to show paused');
    await waitText(byId(page, 'pause-state'), 'Paused since');
    await waitText(byId(page, 'pause-state'), 'Nothing from this channel is published');
    await row(page, 'Pause file').getByTestId('channel-paused').waitFor();
    assert(channelOf(pauseId).paused === true, 'the CLI does not see the channel paused');
    await closePanel(page);
    // A post for now on it, from the composer: it says it cannot go out now, and why.
    await openComposer(page);
    await waitText(page.locator('[data-testid="composer-channel"][data-channel-name="Pause file"]').locator('xpath=..'), 'Paused');
    await chooseChannels(page, ['Pause file']);
    await byId(page, 'schedule-now').check();
    await byId(page, 'composer-text').fill('Held back while publishing is paused.');
    const sent = await submitPost(page);
    await apiStatus(sent, 201);
    heldPost = await sent.json();
    assert(heldPost.occurrences[0].waiting && heldPost.occurrences[0].waiting.reason === 'paused', `the answer does not say it waits: ${JSON.stringify(heldPost.occurrences[0])}`);
    await waitText(byId(page, 'composer-done'), 'cannot go out now');
    await waitText(byId(page, 'composer-done-waiting'), 'paused');
    // A later post on another channel goes out: the publisher has passed the held one by.
    const other = JSON.parse(cli(['--json', 'post', 'add', '--workspace', 'Acme', '--text', 'The neighbour goes out.', '--channel', String(channelId('Pause neighbour')), '--now']));
    await until(async () => (await postOf(page, other.id)).state === 'published', 'the neighbour\'s post to go out');
    const held = (await postOf(page, heldPost.id)).occurrences[0];
    assert(held.state === 'scheduled' && held.attempts === 0 && held.waiting.reason === 'paused', `the held post is ${JSON.stringify(held)}`);
    assert(publishLines('pause-e2e.jsonl').length === 0, 'the paused channel published');
    // In the calendar: a wait, not a failure.
    await byId(page, 'composer-calendar-link').click();
    const card = occurrenceOf(page, heldPost.id);
    await card.getByTestId('occurrence-waiting').waitFor();
    await waitText(card.getByTestId('occurrence-waiting'), 'channel paused');
    assert(await card.getByTestId('occurrence-error').count() === 0, 'the held post shows an error');
    await card.click();
    await waitText(byId(page, 'details-waiting'), 'publishing on the channel is paused');
    await page.keyboard.press('Escape');
    await byId(page, 'occurrence-details').waitFor({ state: 'hidden' });
    // The panel counts what waits.
    await openPanel(page, 'Pause file');
    await waitText(byId(page, 'pause-waiting'), '1 post has become due');
  }, { page });

  await t.check('pausing publishing: turned back on, the waiting post goes out once', async () => {
    assert(heldPost, 'no held post from the check before');
    const sw = byId(page, 'channel-pause');
    const [res] = await Promise.all([page.waitForResponse(isPatch(pauseId)), sw.click()]);
    await apiStatus(res, 200);
    await waitText(byId(page, 'pause-state'), 'Publishing is on');
    assert((await sw.getAttribute('aria-checked')) === 'false', 'the switch still shows paused');
    await row(page, 'Pause file').getByTestId('channel-paused').waitFor({ state: 'detached' });
    await until(async () => (await postOf(page, heldPost.id)).state === 'published', 'the held post to go out after resuming');
    const lines = publishLines('pause-e2e.jsonl');
    assert(lines.length === 1 && lines[0].text === 'Held back while publishing is paused.', `the file has ${JSON.stringify(lines)}`);
    await closePanel(page);
  }, { page });

  await t.check('the composer\'s "no free slot" leads to the channel\'s posting times', async () => {
    cli(['channel', 'add', '--workspace', 'Acme', '--kind', 'file', '--name', 'No times file', '--setting', 'path=no-times-e2e.jsonl']);
    const id = channelId('No times file');
    t.sql(`UPDATE channels SET slots = '[]' WHERE id = ${id}`);
    await openComposer(page);
    await page.reload();
    await byId(page, 'composer-channel').first().waitFor();
    await chooseChannels(page, ['No times file']);
    await byId(page, 'schedule-next-slot').check();
    const link = byId(page, 'next-slot-set');
    await waitText(link, 'Set posting times');
    await link.click();
    const panel = byId(page, 'publishing-panel');
    await panel.waitFor();
    assert(await panel.getAttribute('data-channel-id') === String(id), `the link opened the panel of channel ${await panel.getAttribute('data-channel-id')}`);
    await waitText(byId(page, 'slots-count'), 'No posting times yet');
    await byId(page, 'next-none').waitFor();
    await closePanel(page);
  }, { page });

  await t.check('the file channel\'s hint tells the truth: its example is accepted, an absolute path refused (English and bokmål)', async () => {
    await byId(page, 'nav-channels').click();
    await byId(page, 'channel-kind').selectOption('file');
    const input = byId(page, 'channel-setting-path');
    const hint = page.locator('#ch-setting-path-hint');
    await waitText(hint, 'demo.jsonl');
    const said = await hint.textContent();
    assert(!/\/var|\/etc|\/home|\/tmp/.test(said), `the hint still suggests an absolute path: ${said}`);
    const example = await input.getAttribute('placeholder');
    assert(example && !example.startsWith('/'), `the placeholder is "${example}"`);
    await byId(page, 'channel-name-input').fill('Absolute file');
    await input.fill('/var/lib/samtale/demo.jsonl');
    let res = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST' && /\/channels$/.test(new URL(r.url()).pathname)), byId(page, 'channel-submit').click()]);
    await apiStatus(res[0], 422);
    await waitText(byId(page, 'channel-setting-path-error'), 'relative path');
    await input.fill(example);
    await byId(page, 'channel-name-input').fill('Hint example file');
    res = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST' && /\/channels$/.test(new URL(r.url()).pathname)), byId(page, 'channel-submit').click()]);
    await apiStatus(res[0], 201);
    await row(page, 'Hint example file').waitFor();
    await pickLanguage(page, 'nb');
    await byId(page, 'channel-kind').selectOption('file');
    await waitText(hint, 'filmappen på serveren');
    assert(!/\/var/.test(await hint.textContent()), 'the bokmål hint suggests an absolute path');
    await pickLanguage(page, 'en');
  }, { page });

  // The scopes the server knows, read from its source: a scope added there and not here fails.
  const authC = fs.readFileSync(path.join(ROOT, 'src', 'core', 'auth.c'), 'utf8');
  const known = [...(/scope_names\[\]\s*=\s*\{([^}]*)\}/.exec(authC) || [null, ''])[1].matchAll(/"([a-z]+:[a-z]+)"/g)].map((m) => m[1]);

  await t.check('API tokens: every scope the server knows is offered by what it allows, grouped, the API\'s name small beside it', async () => {
    assert(known.length >= 11 && known.includes('posts:read') && known.includes('posts:write'), `read ${JSON.stringify(known)} from src/core/auth.c`);
    await byId(page, 'nav-tokens').click();
    await byId(page, 'token-form').waitFor();
    const offered = await byId(page, 'scope-label').evaluateAll((els) => els.map((e) => ({
      scope: e.getAttribute('data-scope'), name: e.querySelector('.scope-name').textContent,
      about: e.querySelector('.scope-about').textContent, code: e.querySelector('code').textContent,
      group: e.closest('[data-testid="scope-group"]') ? e.closest('[data-testid="scope-group"]').getAttribute('data-group') : null })));
    for (const s of known) {
      const o = offered.find((x) => x.scope === s);
      assert(o, `the form does not offer ${s}`);
      assert(o.name && !o.name.includes(':') && o.name !== s, `${s} is named "${o.name}"`);
      assert(o.about.length > o.code.length + 10 && o.code === s, `${s}: "${o.about}" / ${o.code}`);
      assert(o.group, `${s} is in no group`);
    }
    assert(offered.length === known.length + 1, `${offered.length} choices for ${known.length} scopes and "everything"`);
    const names = Object.fromEntries(offered.map((o) => [o.scope, o.name]));
    assert(names['posts:read'] === 'Read posts and the calendar' && names['posts:write'] === 'Write and schedule posts', JSON.stringify(names));
    // A token for posts: the list names its scopes in words, the API's name as the tooltip.
    await byId(page, 'token-name').fill('Post scheduler');
    await byId(page, 'scope-posts:read').check();
    await byId(page, 'scope-posts:write').check();
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().includes('/tokens') && r.request().method() === 'POST'),
      byId(page, 'token-submit').click(),
    ]);
    await apiStatus(res, 201);
    assert(JSON.stringify((await res.json()).scopes) === JSON.stringify(['posts:read', 'posts:write']), 'the token does not have the two post scopes');
    const tr = byId(page, 'token-row').filter({ hasText: 'Post scheduler' });
    await waitText(tr.getByTestId('token-scopes'), 'Read posts and the calendar');
    assert(await tr.locator('[data-scope="posts:write"]').getAttribute('title') === 'posts:write', 'the raw scope is not kept for developers');
    await byId(page, 'token-created-done').click();
    await tr.getByTestId('token-revoke').click();
    await confirm(page);
    await waitText(tr.getByTestId('token-status'), 'Revoked');
    await pickLanguage(page, 'nb');
    await waitText(page.locator('[data-testid="scope-label"][data-scope="posts:read"] .scope-name'), 'Lese innlegg og kalenderen');
    await waitText(page.locator('[data-testid="scope-group"][data-group="posts"] legend'), 'Innlegg og kalender');
    await pickLanguage(page, 'en');
  }, { page });

  await t.check('bokmål at phone width: the publishing panel and the tokens fit the screen and work (tests/e2e/output/publishing-nb.png, tokens-nb.png)', async () => {
    const phone = await newContext({ viewport: { width: 390, height: 844 }, locale: 'nb-NO', timezoneId: 'Europe/Oslo' });
    try {
      const p = await phone.newPage();
      watch(p);
      await p.goto(base + '#/login');
      await loginAs(p, OWNER_EMAIL, OWNER_PASSWORD);
      await byId(p, 'app-header').waitFor();
      await p.locator('html[lang="nb"]').waitFor({ state: 'attached' });
      const panel = await openPanel(p, 'Grid file');
      await waitText(byId(p, 'publishing-title'), 'Publisering på');
      await waitText(panel, 'Publiseringstider');
      await waitText(byId(p, 'caps-why'), 'Følgere demper');
      await waitText(p.locator('label[for="pub-pause"]'), 'Sett publiseringen på pause');
      assert(await wide(p) <= 0, `the channels page with its panel is ${await wide(p)} px too wide at 390`);
      // Tapping works here too, named in bokmål.
      await cell(p, 'Lørdag 08:00').click();
      const [res] = await Promise.all([p.waitForResponse(isPatch(gridId)), byId(p, 'slots-save').click()]);
      await apiStatus(res, 200);
      await waitText(byId(p, 'slots-message'), 'Lagret: 6 publiseringstider i uken');
      assert(slotsOf(gridId).slots.includes('sat 08:00'), 'the CLI does not read sat 08:00');
      await p.screenshot({ path: path.join(OUT, 'publishing-nb.png'), fullPage: true });
      await nav(p, 'nav-tokens');
      await byId(p, 'token-form').waitFor();
      await waitText(p.locator('[data-testid="scope-label"][data-scope="channels:write"] .scope-name'), 'Administrere kanaler');
      assert(await wide(p) <= 0, `the tokens page is ${await wide(p)} px too wide at 390`);
      await p.screenshot({ path: path.join(OUT, 'tokens-nb.png'), fullPage: true });
    } finally {
      await phone.close();
    }
  }, { page });

  await t.check('screenshot of the publishing panel in English (tests/e2e/output/publishing-en.png)', async () => {
    await openPanel(page, 'Grid file');
    assert(await wide(page) <= 0, `the channels page is ${await wide(page)} px too wide`);
    await byId(page, 'publishing-panel').screenshot({ path: path.join(OUT, 'publishing-en.png') });
    await closePanel(page);
  }, { page });
}
