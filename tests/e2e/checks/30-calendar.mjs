// Browser checks of the calendar as a marketer uses it: a post opened by its address, edit
// and duplicate, moving in the details panel and by dragging (through the checks, "Move
// anyway" with a reason), free posting slots, a colour per channel, filters, the list with
// bulk moves and cancels, failed and retrying posts on a phone, series families, and the
// phone layouts in English and Norwegian. Run by ../run.mjs (see README.md).
//
// The posts live in a week of their own (a Monday at least a week ahead whose Monday to
// Sunday fall in one month), on two channels made here; their times are the browser's
// (Europe/Oslo), worked out in the page.

import path from 'node:path';

export default async function (t) {
  const { page, base, check, assert, byId, waitText, cli, sql, sqlText, pickLanguage, confirm, OUT, tmp } = t;
  const WID = Number(sql("SELECT id FROM workspaces WHERE name = 'Acme'"));
  const ch = {};
  const post = {};   // name -> { id, occ }
  let days = null;   // the week's days: keys (YYYY-MM-DD) and instants

  const card = (occ) => page.locator(`[data-testid="occurrence"][data-occurrence-id="${occ}"]`);
  const hourCell = (day, hour) => page.locator(`[data-testid="calendar-hour"][data-date="${days.key[day]}"][data-hour="${hour}"]`);
  const plannedAt = (occ) => Number(sql(`SELECT planned_at FROM occurrences WHERE id = ${occ}`));
  const stateOf = (occ) => sql(`SELECT state FROM occurrences WHERE id = ${occ}`);
  const secs = (iso) => Math.floor(Date.parse(iso) / 1000);
  const isPatch = (occ) => (r) => r.request().method() === 'PATCH' && new URL(r.url()).pathname.endsWith(`/occurrences/${occ}`);
  const panel = byId(page, 'occurrence-details');
  const wide = () => page.evaluate(() => document.documentElement.scrollWidth);

  // Opens the calendar on a post (#/w/ID/calendar?post=ID): its week, and its details.
  async function openPost(id) {
    await page.evaluate((h) => { location.hash = h; }, `#/w/${WID}/calendar?post=${id}`);
    await panel.waitFor({ state: 'visible' });
  }
  async function closePanel() {
    if (await panel.isVisible()) await byId(page, 'details-close').click();
    await panel.waitFor({ state: 'hidden' });
  }
  async function clearFilters() {
    const clearBtn = byId(page, 'calendar-filter-clear');
    if (await clearBtn.isVisible()) await clearBtn.click();
    await byId(page, 'filter-chip').first().waitFor({ state: 'detached' });
  }
  function add(name, text, channel, at, extra = []) {
    const p = JSON.parse(cli(['--json', 'post', 'add', '--workspace', 'Acme', '--text', text, '--channel', String(ch[channel]),
      '--at', at, ...extra]));
    post[name] = { id: p.id, occ: p.occurrences[0].id };
    return post[name];
  }

  await check('calendar: a post\'s address (?post=ID) opens its week and its details', async () => {
    for (const [name, file] of [['shop', 'cal-shop.jsonl'], ['blog', 'cal-blog.jsonl']]) {
      ch[name] = JSON.parse(cli(['--json', 'channel', 'add', '--workspace', 'Acme', '--kind', 'file', '--no-verify',
        '--name', `Cal ${name}`, '--setting', `path=${file}`])).id;
    }
    // One post an hour on the shop: a second in the same hour is blocked (P7a).
    sql(`UPDATE channels SET max_per_hour = 1 WHERE id = ${ch.shop}`);
    days = await page.evaluate(() => {
      const now = new Date();
      let mon = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 7 + ((8 - now.getDay()) % 7));
      while (mon.getDate() > 24) mon = new Date(mon.getFullYear(), mon.getMonth(), mon.getDate() + 7);
      const p = (n) => String(n).padStart(2, '0');
      const key = [];
      for (let k = 0; k < 7; k++) {
        const d = new Date(mon.getFullYear(), mon.getMonth(), mon.getDate() + k);
        key.push(`${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`);
      }
      return { key, y: mon.getFullYear(), m: mon.getMonth(), d: mon.getDate() };
    });
    days.iso = async (day, hour, min = 0) => page.evaluate(([y, m, d, k, h, mi]) =>
      new Date(y, m, d + k, h, mi).toISOString().replace(/\.\d{3}Z$/, 'Z'), [days.y, days.m, days.d, day, hour, min]);
    add('A', 'Cal A: the autumn sale, 20% off all bulbs this week', 'shop', await days.iso(0, 10), ['--category', 'promo', '--campaign', 'Autumn sale']);
    add('B', 'Cal B: how deep to plant tulip bulbs', 'shop', await days.iso(0, 12, 30)); // in a posting slot
    add('C', 'Cal C: meet Ingrid at the nursery', 'blog', await days.iso(1, 10), ['--category', 'personal']);
    add('D', 'Cal D: watering bulbs in pots', 'shop', await days.iso(2, 10));
    add('F', 'Cal F: this one failed to go out', 'shop', await days.iso(3, 15));
    add('R', 'Cal R: this one waits for another try', 'blog', await days.iso(3, 16));
    add('X1', 'Cal X1: crocus in the lawn', 'blog', await days.iso(4, 9));
    add('X2', 'Cal X2: daffodils that come back', 'shop', await days.iso(4, 11));
    add('X3', 'Cal X3: snowdrops in the shade', 'shop', await days.iso(4, 13));
    add('E', 'Cal E: Saturday opening hours', 'shop', await days.iso(5, 13));
    sql(`UPDATE occurrences SET state = 'failed', attempts = 3, last_error = 'Cal: the file could not be written (it is a folder).' WHERE id = ${post.F.occ}`);
    sql(`UPDATE posts SET state = 'failed' WHERE id = ${post.F.id}`);
    sql(`UPDATE occurrences SET attempts = 1, last_error = 'Cal: the network answered 503; trying again.', next_attempt_at = planned_at + 900 WHERE id = ${post.R.occ}`);

    await byId(page, 'nav-calendar').click();
    await byId(page, 'calendar-week').waitFor();
    await openPost(post.A.id);
    await waitText(byId(page, 'details-text'), 'Cal A: the autumn sale');
    await waitText(byId(page, 'details-campaign'), 'Autumn sale');
    await page.locator(`[data-testid="calendar-day"][data-date="${days.key[0]}"]`).waitFor();
    await card(post.A.occ).waitFor();
    assert(await card(post.A.occ).evaluate((el) => el.classList.contains('is-open')), 'the open post is not marked in the week');
    await closePanel();
  }, { page });

  await check('calendar: each channel has its own colour, named in the legend', async () => {
    const colour = (loc) => loc.evaluate((el) => getComputedStyle(el).borderLeftColor);
    const shop = await colour(card(post.A.occ));
    const blog = await colour(card(post.C.occ));
    assert(shop !== blog, `both channels are ${shop}`);
    const legend = byId(page, 'calendar-channel-legend');
    const dot = (id) => legend.locator(`[data-channel-id="${id}"] .chan-dot`).evaluate((el) => getComputedStyle(el).backgroundColor);
    await waitText(legend.locator(`[data-channel-id="${ch.shop}"]`), 'Cal shop');
    await waitText(legend.locator(`[data-channel-id="${ch.blog}"]`), 'Cal blog');
    assert(await dot(ch.shop) === shop && await dot(ch.blog) === blog,
      `the legend's colours (${await dot(ch.shop)}, ${await dot(ch.blog)}) are not the cards' (${shop}, ${blog})`);
  }, { page });

  await check('calendar: Edit and Duplicate in the details open the composer on the post', async () => {
    await card(post.A.occ).getByTestId('occurrence-open').click();
    const edit = panel.getByTestId('details-edit');
    const dup = panel.getByTestId('details-duplicate');
    assert(await edit.getAttribute('href') === `#/w/${WID}/composer?edit=${post.A.id}`, `Edit goes to ${await edit.getAttribute('href')}`);
    assert(await dup.getAttribute('href') === `#/w/${WID}/composer?duplicate=${post.A.id}`, `Duplicate goes to ${await dup.getAttribute('href')}`);
    await edit.click();
    await waitText(byId(page, 'page-title'), 'Composer');
    await openPost(post.A.id);
    await panel.getByTestId('details-duplicate').click();
    await waitText(byId(page, 'page-title'), 'Composer');
    // A failed post offers to schedule it again (a copy), on its card too.
    await openPost(post.F.id);
    const again = card(post.F.occ).getByTestId('occurrence-fix-again');
    assert(await again.getAttribute('href') === `#/w/${WID}/composer?duplicate=${post.F.id}`, `"Schedule it again" goes to ${await again.getAttribute('href')}`);
    await closePanel();
  }, { page });

  await check('calendar: a free posting slot shows in the week and opens the composer for it', async () => {
    const at = await days.iso(0, 9);
    const slot = hourCell(0, 9).locator(`[data-testid="free-slot"][data-channel-id="${ch.shop}"]`);
    await waitText(hourCell(0, 9).getByTestId('free-slot-group'), 'Free slot');
    // Many channels free at one time fold behind one line ("+ Free slot 09:00 · 12 channels").
    const fold = hourCell(0, 9).getByTestId('free-slot-more');
    if (await fold.count()) {
      assert(!(await slot.isVisible()), 'a folded group shows its channels');
      await waitText(fold, 'channels');
      await fold.click();
    }
    await slot.waitFor();
    assert((await slot.getAttribute('aria-label')).includes('Cal shop'), `the slot says "${await slot.getAttribute('aria-label')}"`);
    const href = await slot.getAttribute('href');
    const q = new URLSearchParams(href.split('?')[1] || '');
    assert(href.startsWith(`#/w/${WID}/composer?`) && Date.parse(q.get('at')) === Date.parse(at) && q.get('channel') === String(ch.shop),
      `the slot links to ${href}, not to the composer at ${at} on channel ${ch.shop}`);
    // A slot a post holds is not free (the shop's 12:30 holds B; the blog's is free).
    await hourCell(0, 12).locator(`[data-testid="free-slot"][data-channel-id="${ch.blog}"]`).waitFor({ state: 'attached' });
    assert(await hourCell(0, 12).locator(`[data-testid="free-slot"][data-channel-id="${ch.shop}"]`).count() === 0, 'a held slot shows as free');
    // Showing one channel shows only its slots, each said in full.
    await byId(page, 'calendar-filter-channel').selectOption(String(ch.shop));
    await hourCell(0, 9).locator(`[data-testid="free-slot"][data-channel-id="${ch.blog}"]`).waitFor({ state: 'detached' });
    assert(await hourCell(0, 9).getByTestId('free-slot').count() === 1, 'a channel filter shows the slots of other channels');
    assert(await hourCell(0, 9).getByTestId('free-slot-more').count() === 0, 'one free channel is folded away');
    await slot.click();
    await waitText(byId(page, 'page-title'), 'Composer');
    await openPost(post.A.id);
    await closePanel();
    await clearFilters();
  }, { page });

  await page.setViewportSize({ width: 1280, height: 2400 }); // the whole week in view: a drag does not scroll
  try {
    await check('calendar: Move in the details panel moves the post through the checks', async () => {
      await card(post.A.occ).getByTestId('occurrence-open').click();
      await panel.getByTestId('move-date').fill(days.key[1]);
      await panel.getByTestId('move-time').fill('16:00');
      const [res] = await Promise.all([page.waitForResponse(isPatch(post.A.occ)), panel.getByTestId('move-submit').click()]);
      assert(res.status() === 200, `the move answered ${res.status()}`);
      await waitText(panel.getByTestId('details-notice'), 'Moved to');
      const want = secs(await days.iso(1, 16));
      assert(plannedAt(post.A.occ) === want, `planned at ${plannedAt(post.A.occ)}, not ${want}`);
      await hourCell(1, 16).locator(`[data-occurrence-id="${post.A.occ}"]`).waitFor();
      await closePanel();
    }, { page });

    await check('calendar: a move the checks block says why in words, and "Move anyway" needs a reason', async () => {
      await card(post.B.occ).getByTestId('occurrence-open').click();
      await panel.getByTestId('move-date').fill(days.key[1]);
      await panel.getByTestId('move-time').fill('16:30');
      const [res] = await Promise.all([page.waitForResponse(isPatch(post.B.occ)), panel.getByTestId('move-submit').click()]);
      assert(res.status() === 422, `the blocked move answered ${res.status()}`);
      const blocked = panel.getByTestId('move-blocked');
      await blocked.waitFor();
      const v = blocked.locator('[data-testid="violation"][data-rule="P7a"]');
      await v.waitFor();
      const words = (await v.getByTestId('violation-message').textContent()).trim();
      const server = (await res.json()).error.violations.find((x) => x.rule === 'P7a').message;
      assert(words.length > 20 && words === server, `the block says "${words}", the server "${server}"`);
      assert(plannedAt(post.B.occ) === secs(await days.iso(0, 12, 30)), 'the blocked post moved');
      await panel.getByTestId('move-anyway').click();
      await waitText(panel.locator('#move-reason-error'), 'Write a reason');
      await panel.getByTestId('move-reason').fill('The spring guide has to go out with the sale');
      const [over] = await Promise.all([page.waitForResponse(isPatch(post.B.occ)), panel.getByTestId('move-anyway').click()]);
      assert(over.status() === 200, `"Move anyway" answered ${over.status()}`);
      assert(JSON.parse(over.request().postData()).override_reason === 'The spring guide has to go out with the sale', 'the reason was not sent');
      await waitText(panel.getByTestId('details-notice'), 'past the checks');
      assert(plannedAt(post.B.occ) === secs(await days.iso(1, 16, 30)), 'the post did not move anyway');
      const audit = sql(`SELECT count(*) FROM audit_log WHERE action = 'occurrence.move.override' AND detail LIKE '%The spring guide has to go out%'`);
      assert(audit === '1', `${audit} audit entries of the override`);
      await closePanel();
    }, { page });

    await check('calendar: a card dragged to another day and hour moves there', async () => {
      const target = hourCell(2, 11);
      const [res] = await Promise.all([page.waitForResponse(isPatch(post.C.occ)), card(post.C.occ).dragTo(target)]);
      assert(res.status() === 200, `the drop answered ${res.status()}`);
      await waitText(byId(page, 'calendar-move-notice'), 'Moved to');
      const want = secs(await days.iso(2, 11));
      assert(plannedAt(post.C.occ) === want, `planned at ${plannedAt(post.C.occ)} after the drop, not ${want}`);
      await target.locator(`[data-occurrence-id="${post.C.occ}"]`).waitFor();
    }, { page });

    await check('calendar: a drop the checks block goes back, and the details say why with "Move anyway"', async () => {
      // Onto Friday 13:00, the hour of X3 on the same channel (one post an hour).
      const [res] = await Promise.all([page.waitForResponse(isPatch(post.D.occ)), card(post.D.occ).dragTo(hourCell(4, 13))]);
      assert(res.status() === 422, `the blocked drop answered ${res.status()}`);
      await panel.getByTestId('move-blocked').waitFor();
      await panel.locator('[data-testid="violation"][data-rule="P7a"]').waitFor();
      await panel.getByTestId('move-anyway').waitFor();
      assert(await panel.getByTestId('move-date').inputValue() === days.key[4] && await panel.getByTestId('move-time').inputValue() === '13:00',
        'the panel does not hold the time it was dropped on');
      await closePanel();
      await hourCell(2, 10).locator(`[data-occurrence-id="${post.D.occ}"]`).waitFor();
      assert(plannedAt(post.D.occ) === secs(await days.iso(2, 10)), 'the blocked post moved');
    }, { page });
  } finally {
    await page.setViewportSize({ width: 1280, height: 800 });
  }

  await check('calendar: filters by channel, campaign, category and state combine, show as chips and stay between weeks', async () => {
    const shown = () => page.locator('[data-testid="calendar-week"] [data-testid="occurrence"]').evaluateAll((els) =>
      els.map((e) => ({ occ: Number(e.getAttribute('data-occurrence-id')), ch: Number(e.getAttribute('data-channel-id')), look: e.getAttribute('data-look') })));
    const mine = new Set(Object.values(post).map((p) => p.occ));
    try {
      await byId(page, 'calendar-filter-channel').selectOption(String(ch.blog));
      await waitText(byId(page, 'filter-chip'), 'Cal blog');
      await card(post.A.occ).waitFor({ state: 'detached' });
      let list = await shown();
      assert(list.length && list.every((x) => x.ch === ch.blog), `a channel filter shows ${JSON.stringify(list)}`);
      await byId(page, 'calendar-filter-category').selectOption('personal');
      await card(post.R.occ).waitFor({ state: 'detached' });
      list = await shown();
      assert(list.length === 1 && list[0].occ === post.C.occ, `blog + personal shows ${JSON.stringify(list)}`);
      assert(await byId(page, 'filter-chip').count() === 2, 'two filters, not two chips');
      // Kept while moving through the weeks.
      await byId(page, 'calendar-next').click();
      await card(post.C.occ).waitFor({ state: 'detached' });
      await byId(page, 'calendar-prev').click();
      await card(post.C.occ).waitFor();
      assert(await byId(page, 'filter-chip').count() === 2, 'the filters were dropped on the way');
      await clearFilters();
      await card(post.A.occ).waitFor();
      await byId(page, 'calendar-filter-campaign').selectOption('Autumn sale');
      await card(post.B.occ).waitFor({ state: 'detached' });
      list = (await shown()).filter((x) => mine.has(x.occ));
      assert(list.length === 1 && list[0].occ === post.A.occ, `the campaign shows ${JSON.stringify(list)}`);
      await clearFilters();
      await byId(page, 'calendar-filter-state').selectOption('failed');
      await card(post.A.occ).waitFor({ state: 'detached' });
      list = await shown();
      assert(list.length && list.every((x) => x.look === 'failed') && list.some((x) => x.occ === post.F.occ), `"Failed" shows ${JSON.stringify(list)}`);
      await byId(page, 'calendar-filter-state').selectOption('retrying');
      await card(post.R.occ).waitFor();
      await waitText(byId(page, 'filter-summary'), 'Showing');
      // A chip takes its filter away.
      await byId(page, 'filter-chip').filter({ hasText: 'Failed' }).click();
      await card(post.F.occ).waitFor({ state: 'detached' });
    } finally {
      await clearFilters();
    }
    await card(post.A.occ).waitFor();
  }, { page });

  await check('calendar: the list shows the month by date, in time order', async () => {
    await byId(page, 'calendar-view-list').click();
    await byId(page, 'calendar-list').waitFor();
    await card(post.X1.occ).waitFor();
    const dates = await byId(page, 'calendar-list-day').evaluateAll((els) => els.map((e) => e.getAttribute('data-date')));
    assert(dates.length && dates.every((d, i) => i === 0 || dates[i - 1] < d), `the days are out of order: ${dates.join(', ')}`);
    const times = await page.locator('[data-testid="calendar-list"] [data-testid="occurrence"] time').evaluateAll((els) => els.map((e) => Date.parse(e.getAttribute('datetime'))));
    assert(times.every((x, i) => i === 0 || times[i - 1] <= x), 'the posts are out of time order');
    await waitText(page.locator(`[data-testid="calendar-list-day"][data-date="${days.key[4]}"] .cal-list-head`), 'Friday');
  }, { page });

  await check('calendar: several posts moved a day later at once; the blocked one is reported with why, then moved anyway', async () => {
    for (const name of ['X1', 'X2', 'X3']) await page.locator(`[data-testid="occurrence-select"][data-occurrence-id="${post[name].occ}"]`).check();
    await waitText(byId(page, 'bulk-count'), '3 posts selected');
    await byId(page, 'bulk-offset').selectOption('1');
    const patches = [];
    const seen = (r) => { if (r.request().method() === 'PATCH' && /\/occurrences\/\d+$/.test(new URL(r.url()).pathname)) patches.push(r.status()); };
    page.on('response', seen);
    try {
      await byId(page, 'bulk-move').click();
      await byId(page, 'bulk-report').waitFor();
    } finally { page.off('response', seen); }
    assert(patches.length === 3, `${patches.length} moves were asked for`);
    await waitText(byId(page, 'bulk-report-ok'), 'Moved 2 posts');
    await waitText(byId(page, 'bulk-report-failed'), '1 post was not moved');
    const problem = page.locator(`[data-testid="bulk-problem"][data-occurrence-id="${post.X3.occ}"]`);
    await problem.locator('[data-testid="violation"][data-rule="P7a"]').waitFor();
    assert((await problem.getByTestId('violation-message').textContent()).trim().length > 20, 'the report does not say why');
    assert(plannedAt(post.X1.occ) === secs(await days.iso(5, 9)) && plannedAt(post.X2.occ) === secs(await days.iso(5, 11)), 'X1 and X2 did not move a day');
    assert(plannedAt(post.X3.occ) === secs(await days.iso(4, 13)), 'the blocked post moved');
    await byId(page, 'bulk-anyway').click();
    await waitText(page.locator('#bulk-reason-error'), 'Write a reason');
    await byId(page, 'bulk-reason').fill('Saturday is the big day in the shop');
    const [res] = await Promise.all([page.waitForResponse(isPatch(post.X3.occ)), byId(page, 'bulk-anyway').click()]);
    assert(res.status() === 200, `moving anyway answered ${res.status()}`);
    await waitText(byId(page, 'bulk-report-ok'), 'Moved 1 post');
    assert(plannedAt(post.X3.occ) === secs(await days.iso(5, 13)), 'X3 did not move anyway');
  }, { page });

  await check('calendar: several posts cancelled at once, each alone; what could not be is reported with the server\'s words', async () => {
    await card(post.X1.occ).waitFor();
    await byId(page, 'bulk-dock').waitFor({ state: 'detached' });
    for (const name of ['X1', 'X2']) await page.locator(`[data-testid="occurrence-select"][data-occurrence-id="${post[name].occ}"]`).check();
    await waitText(byId(page, 'bulk-count'), '2 posts selected');
    await byId(page, 'bulk-cancel').click();
    await byId(page, 'confirm-dialog').waitFor();
    // Meanwhile X2 goes out: it can no longer be cancelled.
    sql(`UPDATE occurrences SET state = 'published', published_at = planned_at WHERE id = ${post.X2.occ}`);
    await confirm(page);
    await waitText(byId(page, 'bulk-report-ok'), 'Cancelled 1 post');
    await waitText(byId(page, 'bulk-report-failed'), '1 post was not cancelled');
    await waitText(page.locator(`[data-testid="bulk-problem"][data-occurrence-id="${post.X2.occ}"]`).getByTestId('bulk-problem-message'), 'only a scheduled post can be cancelled');
    assert(stateOf(post.X1.occ) === 'cancelled', `X1 is ${stateOf(post.X1.occ)}`);
    // One delivery alone: the post stays as it was on its other deliveries (it has none here), X3 too.
    assert(stateOf(post.X3.occ) === 'scheduled', `X3 is ${stateOf(post.X3.occ)}`);
    await card(post.X1.occ).locator('[data-testid="occurrence-state"]').filter({ hasText: 'Cancelled' }).waitFor();
  }, { page });

  await check('calendar: series copies show as one family, "Series · 1 of 3", marked together when one is open', async () => {
    cli(['series', 'add', '--workspace', 'Acme', '--text', 'Cal S: plant bulbs before the frost', '--channel', String(ch.blog), '--count', '3', '--per-day', '3']);
    const sid = Number(sql(`SELECT id FROM posts WHERE text = ${sqlText('Cal S: plant bulbs before the frost')}`));
    const occs = sql(`SELECT id FROM occurrences WHERE post_id = ${sid} ORDER BY planned_at, id`).split('\n').map(Number);
    assert(occs.length === 3, `the series has ${occs.length} copies`);
    await byId(page, 'calendar-view-week').click();
    await openPost(sid);
    await waitText(byId(page, 'details-series-badge'), 'Series · 1 of 3');
    await waitText(byId(page, 'details-series-position'), 'Copy 1 of 3 on Cal blog');
    const fam = panel.getByTestId('family-item');
    await fam.nth(2).waitFor(); // the post with every copy is asked for when the panel opens
    assert(await fam.count() === 3, `the family lists ${await fam.count()} copies`);
    await waitText(card(occs[0]).getByTestId('occurrence-series'), 'Series · 1 of 3');
    for (let k = 1; k < 3; k++) {
      if (!(await card(occs[k]).count())) continue; // in another week
      await waitText(card(occs[k]).getByTestId('occurrence-series'), `Series · ${k + 1} of 3`);
      assert(await card(occs[k]).evaluate((el) => el.classList.contains('is-family')), `copy ${k + 1} is not marked with the open one`);
    }
    // A copy in the family list opens that copy.
    await fam.nth(2).click();
    await waitText(byId(page, 'details-series-badge'), 'Series · 3 of 3');
    // Cancelling one copy leaves the others planned.
    await panel.getByTestId('details-cancel-one').click();
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith(`/occurrences/${occs[2]}/cancel`)),
      confirm(page)]);
    assert(res.status() === 200, `cancelling one copy answered ${res.status()}`);
    assert(stateOf(occs[2]) === 'cancelled' && stateOf(occs[0]) === 'scheduled' && stateOf(occs[1]) === 'scheduled',
      `the copies are ${occs.map(stateOf).join(', ')}`);
    await waitText(panel.getByTestId('details-notice'), 'the others stay planned');
    await closePanel();
  }, { page });

  await check('calendar: a draft\'s address says it is not in the calendar and links to it', async () => {
    const draft = JSON.parse(cli(['--json', 'post', 'add', '--workspace', 'Acme', '--text', 'Cal: a draft without a time']));
    await page.evaluate((h) => { location.hash = h; }, `#/w/${WID}/calendar?post=${draft.id}`);
    await waitText(byId(page, 'calendar-deep-link'), 'is a draft');
    assert(await byId(page, 'calendar-deep-link-edit').getAttribute('href') === `#/w/${WID}/composer?edit=${draft.id}`, 'the draft is not linked');
  }, { page });

  await check('calendar at phone width: failed and retrying show why without hover; week, month (as a list) and list fit (tests/e2e/output/calendar-phone-*.png)', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await openPost(post.F.id);
      await closePanel();
      const failed = card(post.F.occ);
      await waitText(failed.getByTestId('occurrence-state'), 'Failed');
      const reason = failed.getByTestId('occurrence-reason');
      assert(await reason.isVisible(), 'the failed card hides its reason');
      assert((await reason.textContent()).trim() === 'Cal: the file could not be written (it is a folder).', `the failed card says "${await reason.textContent()}"`);
      await failed.getByTestId('occurrence-fix-channel').waitFor({ state: 'visible' });
      await failed.getByTestId('occurrence-fix-again').waitFor({ state: 'visible' });
      const retry = card(post.R.occ);
      await waitText(retry.getByTestId('occurrence-state'), 'Retrying');
      assert(await retry.getByTestId('occurrence-reason').isVisible(), 'the retrying card hides its reason');
      await waitText(retry, 'Next try at');
      const colours = await Promise.all([failed, retry].map((c) => c.evaluate((el) => getComputedStyle(el).borderTopColor)));
      assert(colours[0] !== colours[1], `failed and retrying look the same (${colours[0]})`);
      // A wait for the channel's cap is neither: it keeps its own note.
      assert(await retry.getByTestId('occurrence-waiting').count() === 0, 'a retry reads as a wait');
      assert(await wide() <= 390, `the week is ${await wide()} px wide at 390`);
      await page.screenshot({ path: path.join(OUT, 'calendar-phone-week.png'), fullPage: true });
      await byId(page, 'calendar-view-month').click();
      await byId(page, 'calendar-list').waitFor();
      assert(await byId(page, 'calendar-month').count() === 0, 'the month is a grid at phone width');
      await card(post.F.occ).waitFor();
      assert(await wide() <= 390, `the month is ${await wide()} px wide at 390`);
      await byId(page, 'calendar-view-list').click();
      await page.locator('[data-testid="calendar-body"][data-view="list"]').waitFor();
      await page.locator(`[data-testid="occurrence-select"][data-occurrence-id="${post.D.occ}"]`).check();
      await byId(page, 'bulk-dock').waitFor();
      assert(await wide() <= 390, `the list is ${await wide()} px wide at 390`);
      await page.screenshot({ path: path.join(OUT, 'calendar-phone-list.png') });
      await byId(page, 'bulk-clear').click();
      await pickLanguage(page, 'nb');
      await waitText(byId(page, 'calendar-view-list'), 'Liste');
      await waitText(card(post.F.occ).getByTestId('occurrence-state'), 'Feilet');
      await waitText(card(post.R.occ).getByTestId('occurrence-state'), 'Prøver igjen');
      await byId(page, 'calendar-view-week').click();
      await waitText(byId(page, 'calendar-filters'), 'Vis bare');
      await waitText(card(post.F.occ), 'Planlegg det på nytt');
      assert(await wide() <= 390, `the week in Norwegian is ${await wide()} px wide at 390`);
      await page.screenshot({ path: path.join(OUT, 'calendar-phone-week-nb.png'), fullPage: true });
    } finally {
      await pickLanguage(page, 'en');
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  }, { page });

  await check('calendar: English and Norwegian on a wide screen (tests/e2e/output/calendar-week-en.png, calendar-week-nb.png, calendar-list-en.png)', async () => {
    await page.setViewportSize({ width: 1366, height: 900 });
    try {
      await openPost(post.A.id);
      await closePanel();
      await waitText(hourCell(0, 9).getByTestId('free-slot-group'), 'Free slot');
      await page.screenshot({ path: path.join(OUT, 'calendar-week-en.png'), fullPage: true });
      await pickLanguage(page, 'nb');
      await waitText(byId(page, 'calendar-view-week'), 'Uke');
      await waitText(hourCell(0, 9).getByTestId('free-slot-group'), 'Ledig tid');
      await waitText(card(post.A.occ).getByTestId('occurrence-state'), 'Planlagt');
      await waitText(byId(page, 'calendar-drag-hint'), 'Dra et innlegg');
      await card(post.A.occ).getByTestId('occurrence-open').click();
      await waitText(panel.getByTestId('details-edit'), 'Rediger');
      await waitText(panel.locator('#move-title'), 'Flytt til et annet tidspunkt');
      await page.screenshot({ path: path.join(OUT, 'calendar-week-nb.png') });
      await closePanel();
      await pickLanguage(page, 'en');
      await byId(page, 'calendar-view-list').click();
      await byId(page, 'calendar-list').waitFor();
      await page.screenshot({ path: path.join(OUT, 'calendar-list-en.png') });
    } finally {
      await pickLanguage(page, 'en');
      await page.setViewportSize({ width: 1280, height: 800 });
      // Leave the calendar as the checks after these expect it: this week, no filters.
      if (await panel.isVisible()) await byId(page, 'details-close').click();
      await byId(page, 'calendar-view-week').click();
      await byId(page, 'calendar-today').click();
      await byId(page, 'calendar-week').waitFor();
    }
  }, { page });
}
