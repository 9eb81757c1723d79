// Browser checks of the composer: evergreen series planned before they are saved, the drafts
// panel, editing a post (?edit), copying one (?duplicate), writing for a free time from the
// calendar (?at&channel), and the checks' findings in words with links to the posts they
// name. At desktop and phone width, in English and Norwegian. See README.md in this folder.

import path from 'node:path';

const WID = 1; // Acme, the workspace run.mjs makes first
const RULE_ID = /\bP\d[a-z]?\b/; // P5, P7a ...: never on the page, only in data-rule

export default async function (t) {
  const { page, base, check, assert, byId, waitText, cli, sql, channelId, openComposer, chooseChannels,
    submitPost, apiStatus, pickLanguage, newContext, watch, loginAs, confirm, OUT, OWNER_EMAIL, OWNER_PASSWORD } = t;

  // The API as the logged-in page (its session cookie, its CSRF token).
  let csrf = null;
  async function api(method, p, body) {
    if (!csrf) csrf = (await (await page.request.get(new URL('api/v1/me', base).href)).json()).csrf_token;
    const res = await page.request.fetch(new URL('api/v1/workspaces/' + WID + p, base).href,
      { method, data: body, headers: { 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' } });
    const text = await res.text();
    assert(res.ok(), `${method} ${p} answered ${res.status()}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  }
  const go = async (hash) => {
    await page.evaluate((h) => { location.hash = h; }, hash);
    await byId(page, 'section-composer').waitFor();
  };
  // A local time days from today in the browser's time zone (Europe/Oslo): as an instant
  // (iso), as RFC 3339 with its offset (rfc), and as the date and time fields show it.
  const localTime = (pg, days, hh, mm) => pg.evaluate(([d, h, m]) => {
    const now = new Date();
    const t = new Date(now.getFullYear(), now.getMonth(), now.getDate() + d, h, m);
    const p = (n) => String(n).padStart(2, '0');
    const off = -t.getTimezoneOffset();
    const date = `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())}`;
    return { iso: t.toISOString(), date, time: `${p(h)}:${p(m)}`,
      rfc: `${date}T${p(h)}:${p(m)}:00${off >= 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}` };
  }, [days, hh, mm]);
  // A composer drawn anew (the navigation link does nothing while on the composer already).
  const freshComposer = async () => {
    await byId(page, 'nav-calendar').click();
    await byId(page, 'calendar-body').waitFor();
    await openComposer(page);
  };
  const notWider = async (pg, width, what) => {
    const w = await pg.evaluate(() => document.documentElement.scrollWidth);
    assert(w <= width, `${what} is ${w} px wide at ${width}: it scrolls sideways`);
  };
  // The text of every finding under root, which must say the rule in words, never its id.
  const assertNoRuleIds = async (root, what) => {
    const texts = await root.getByTestId('violation').allInnerTexts();
    assert(texts.length > 0, `${what}: no findings shown`);
    for (const text of texts) assert(!RULE_ID.test(text), `${what} shows a rule id: "${text.replace(/\s+/g, ' ').slice(0, 160)}"`);
  };
  // A request (or the request of an answer) with this method to an address matching re.
  const isReq = (q, method, re) => re.test(new URL(q.url()).pathname) && q.method() === method;
  const isPost = (r, method, re) => isReq(r.request(), method, re);

  // Channels of these checks alone: one with three posting slots a week (too few for a
  // series of three copies a day), one for drafts and edits, one for the checks.
  for (const [name, file] of [['Weekly tips', 'weekly.jsonl'], ['Composer file', 'composer.jsonl'], ['Checks file', 'checks.jsonl']]) {
    cli(['channel', 'add', '--workspace', 'Acme', '--kind', 'file', '--no-verify', '--name', name, '--setting', `path=${file}`]);
  }
  const weekly = channelId('Weekly tips');
  const composerFile = channelId('Composer file');
  const checksFile = channelId('Checks file');
  cli(['channel', 'slots', String(weekly), '--set', 'mon 10:00', '--set', 'wed 10:00', '--set', 'fri 10:00']);

  await check('a series with too few posting slots says "N of M fit" and why before anything is saved; saving makes that many copies', async () => {
    await openComposer(page);
    const sent = [];
    const onRequest = (r) => { if (isReq(r, 'POST', /\/series$/)) sent.push(JSON.parse(r.postData() || '{}')); };
    page.on('request', onRequest);
    const text = 'Evergreen: our guide to keeping cut tulips fresh for two weeks.';
    try {
      await chooseChannels(page, ['Weekly tips']);
      await byId(page, 'composer-text').fill(text);
      await byId(page, 'schedule-series').check();
      await byId(page, 'series-fields').waitFor();
      await byId(page, 'series-per-day').fill('3');
      await byId(page, 'series-gap').fill('4');
      await byId(page, 'series-span-days').check();
      await byId(page, 'series-days').fill('7');
      // The plan on screen is the server's last dry run for exactly this form.
      const item = page.locator(`[data-testid="plan-channel"][data-channel-id="${weekly}"]`);
      await item.waitFor();
      await page.locator('[data-testid="composer-plan"][data-state="done"]').waitFor();
      await waitText(byId(page, 'composer-submit'), 'Start the series');
      // What the server plans for this form, asked apart from the page.
      const dry = await api('POST', '/series', { text, category: 'value', channels: [weekly], per_day: 3, min_gap_hours: 4, days: 7,
        replace_previous: false, dry_run: true });
      const plan = dry.plan.find((p) => p.channel_id === weekly);
      assert(plan && plan.asked === 21, `the plan asks ${plan && plan.asked} copies, not 3 a day for 7 days`);
      assert(plan.planned > 0 && plan.planned < plan.asked, `${plan.planned} of ${plan.asked} fit: the test needs fewer than asked`);
      assert(await item.getAttribute('data-planned') === String(plan.planned), 'the plan shown is not the server\'s');
      await waitText(item.getByTestId('plan-count'), `${plan.planned} of the ${plan.asked} copies`);
      assert(plan.message && plan.message.includes('posting slot'), `the server gives no reason: ${JSON.stringify(plan)}`);
      await waitText(item.getByTestId('plan-why'), plan.message);
      await item.getByTestId('plan-when').locator(`time[datetime="${plan.first}"]`).waitFor();
      await waitText(byId(page, 'composer-submit'), `Start the series: ${plan.planned} cop`);
      // Nothing is stored by planning: every request so far was a dry run.
      assert(sent.length > 0 && sent.every((b) => b.dry_run === true), `a series was sent without dry_run: ${JSON.stringify(sent.filter((b) => !b.dry_run))}`);
      assert(sent.every((b) => b.per_day === 3 && b.min_gap_hours === 4), `the rule was sent as ${JSON.stringify(sent[sent.length - 1])}`);
      assert(!(await api('GET', '/series?limit=200')).items.some((s) => s.per_day === 3 && s.min_gap_minutes === 240 && s.days === 7),
        'a series exists before it was saved');
      await page.mouse.move(0, 0);
      await notWider(page, 1280, 'the composer with a series plan');
      await page.screenshot({ path: path.join(OUT, 'composer-series.png'), fullPage: true });
      // Saving is the explicit press of that button.
      const [res] = await Promise.all([
        page.waitForResponse((r) => isPost(r, 'POST', /\/series$/) && !JSON.parse(r.request().postData() || '{}').dry_run),
        byId(page, 'composer-submit').click(),
      ]);
      await apiStatus(res, 201);
      const made = await res.json();
      const post = await api('GET', `/posts/${made.post.id}`);
      assert(post.occurrences.length === plan.planned, `${post.occurrences.length} copies were made, the plan said ${plan.planned}`);
      assert(post.occurrences.every((o) => o.channel_id === weekly && o.state === 'scheduled'), `copies: ${JSON.stringify(post.occurrences)}`);
      const done = byId(page, 'composer-done');
      await waitText(byId(page, 'composer-done-series'), `Series started: ${plan.planned} cop`);
      await waitText(done.getByTestId('composer-done-item'), 'Weekly tips');
      await waitText(byId(page, 'composer-done-rule'), 'Up to 3 copies a day, at least 4 hours apart');
      await byId(page, 'composer-calendar-link').waitFor();
    } finally {
      page.off('request', onRequest);
    }
  }, { page });

  await check('a series plan that changed is shown again before saving, never saved unseen', async () => {
    await byId(page, 'composer-another').click();
    await chooseChannels(page, ['Weekly tips']);
    await byId(page, 'schedule-series').check();
    await byId(page, 'composer-text').fill('Evergreen: three tricks for tulips in a vase.');
    await page.locator('[data-testid="composer-plan"][data-state="done"]').waitFor();
    await waitText(byId(page, 'composer-submit'), 'Start the series');
    // Change the rule and press at once, before the live plan catches up.
    const saves = [];
    const onRequest = (r) => { if (isReq(r, 'POST', /\/series$/) && !JSON.parse(r.postData() || '{}').dry_run) saves.push(r); };
    page.on('request', onRequest);
    try {
      // The change and the press in one task of the page: the live plan cannot run between.
      const [dry] = await Promise.all([
        page.waitForResponse((r) => isPost(r, 'POST', /\/series$/) && JSON.parse(r.request().postData() || '{}').count === 1),
        page.evaluate(() => {
          const q = (id) => document.querySelector(`[data-testid="${id}"]`);
          q('series-span-count').click();
          q('series-count').value = '1';
          q('series-count').dispatchEvent(new Event('input', { bubbles: true }));
          q('composer-submit').click();
        }),
      ]);
      await apiStatus(dry, 200);
      await waitText(byId(page, 'composer-plan-status'), 'Look it over');
      await waitText(byId(page, 'composer-submit'), 'Start the series: 1 copy');
      assert(saves.length === 0, 'the series was saved with a plan nobody saw');
    } finally {
      page.off('request', onRequest);
    }
    await byId(page, 'schedule-next-slot').check();
    await byId(page, 'composer-plan').waitFor({ state: 'hidden' });
  }, { page });

  let draftId = null;
  await check('a saved draft is listed under Drafts; opened and scheduled, it keeps its id', async () => {
    await freshComposer();
    const text = 'Autumn bulbs arrive next week: crocus, snowdrops and our favourite tulips.';
    await byId(page, 'composer-text').fill(text);
    await byId(page, 'composer-add-variant').click();
    await byId(page, 'composer-variant').fill('Next week: autumn bulbs, from crocus to tulips.');
    await byId(page, 'composer-category').selectOption('share');
    await byId(page, 'schedule-draft').check();
    const res = await submitPost(page);
    await apiStatus(res, 201);
    draftId = (await res.json()).id;
    await waitText(byId(page, 'composer-done'), 'Saved as a draft');
    await byId(page, 'composer-show-drafts').click();
    const item = page.locator(`[data-testid="draft-item"][data-post-id="${draftId}"]`);
    await item.waitFor();
    assert(await byId(page, 'composer-drafts').evaluate((el) => el.open), 'the drafts panel did not open');
    await waitText(item.getByTestId('draft-text'), 'Autumn bulbs arrive next week');
    await waitText(item, '1 variant');
    // The newest draft comes first.
    assert(await byId(page, 'draft-item').first().getAttribute('data-post-id') === String(draftId), 'the new draft is not listed first');
    await item.getByTestId('draft-open').click();
    await waitText(byId(page, 'composer-mode'), 'finishing a draft');
    assert(await byId(page, 'composer-text').inputValue() === text, 'the draft\'s text is not in the form');
    assert(await byId(page, 'composer-variant').inputValue() === 'Next week: autumn bulbs, from crocus to tulips.', 'the variant is not in the form');
    assert(await byId(page, 'composer-category').inputValue() === 'share', 'the category is not the draft\'s');
    await page.locator(`[data-testid="draft-item"][data-post-id="${draftId}"].is-current`).waitFor({ state: 'attached' });
    await chooseChannels(page, ['Composer file']);
    await byId(page, 'schedule-at').check();
    const when = await localTime(page, 2, 11, 10);
    await byId(page, 'schedule-date').fill(when.date);
    await byId(page, 'schedule-time').fill(when.time);
    await waitText(byId(page, 'composer-submit'), 'Schedule');
    const [patch] = await Promise.all([
      page.waitForResponse((r) => isPost(r, 'PATCH', new RegExp(`/posts/${draftId}$`))),
      byId(page, 'composer-submit').click(),
    ]);
    await apiStatus(patch, 200);
    const sent = JSON.parse(patch.request().postData());
    assert(sent.channels.length === 1 && sent.channels[0] === composerFile && sent.schedule, `the draft was scheduled with ${JSON.stringify(sent)}`);
    await waitText(byId(page, 'composer-done'), 'Scheduled on 1 channel');
    const post = await api('GET', `/posts/${draftId}`);
    assert(post.id === draftId && post.state === 'scheduled', `the draft became ${JSON.stringify(post).slice(0, 200)}`);
    assert(post.occurrences.length === 1 && Date.parse(post.occurrences[0].planned_at) === Date.parse(when.iso), `it is planned at ${post.occurrences[0] && post.occurrences[0].planned_at}`);
    await item.waitFor({ state: 'detached' });
    assert(!/edit=/.test(page.url()), `the address still names the post: ${page.url()}`);
  }, { page });

  await check('a draft can be deleted from the list, after confirming', async () => {
    const draft = await api('POST', '/posts', { text: 'A draft we will not need: winter opening hours.' });
    await freshComposer();
    await byId(page, 'composer-drafts-toggle').click();
    const item = page.locator(`[data-testid="draft-item"][data-post-id="${draft.id}"]`);
    await item.waitFor();
    // "Schedule" opens it with the channels and the time to choose.
    await item.getByTestId('draft-schedule').click();
    await waitText(byId(page, 'composer-mode'), 'finishing a draft');
    assert(await byId(page, 'schedule-next-slot').isChecked(), '"Schedule" did not choose a time to publish');
    await byId(page, 'composer-drafts-toggle').click();
    await item.getByTestId('draft-delete').click();
    const [cancel] = await Promise.all([
      page.waitForResponse((r) => isPost(r, 'POST', new RegExp(`/posts/${draft.id}/cancel$`))),
      confirm(page),
    ]);
    await apiStatus(cancel, 200);
    await item.waitFor({ state: 'detached' });
    await byId(page, 'composer-mode').waitFor({ state: 'hidden' });
    assert(await byId(page, 'composer-text').inputValue() === '', 'the deleted draft stays in the form');
    assert((await api('GET', `/posts/${draft.id}`)).state === 'cancelled', 'the draft was not cancelled');
  }, { page });

  await check('?edit loads a scheduled post; its changes are checked without itself and saved with PATCH', async () => {
    const bsky = channelId('Acme on Bluesky');
    const at = (await localTime(page, 3, 10, 17)).rfc;
    const made = JSON.parse(cli(['--json', 'post', 'add', '--workspace', 'Acme', '--text', 'Spring workshop: pot your own tulips with us on Saturday.',
      '--channel', String(bsky), '--at', at, '--category', 'personal', '--link', 'https://example.com/workshop',
      '--campaign', 'Workshops', '--variant', 'Saturday: a tulip potting workshop in the shop.']));
    const checks = [];
    const onRequest = (r) => { if (isReq(r, 'POST', /\/check$/)) checks.push(JSON.parse(r.postData() || '{}')); };
    page.on('request', onRequest);
    try {
      await go(`#/w/${WID}/composer?edit=${made.id}`);
      await waitText(byId(page, 'composer-mode'), 'changing a scheduled post');
      assert(await byId(page, 'composer-text').inputValue() === made.text, 'the text is not the post\'s');
      assert(await byId(page, 'composer-link').inputValue() === 'https://example.com/workshop', 'the link is not the post\'s');
      assert(await byId(page, 'composer-campaign').inputValue() === 'Workshops', 'the campaign is not the post\'s');
      assert(await byId(page, 'composer-category').inputValue() === 'personal', 'the category is not the post\'s');
      assert(await byId(page, 'composer-variant').inputValue() === 'Saturday: a tulip potting workshop in the shop.', 'the variant is not the post\'s');
      // Its channel and time are shown, not offered for change.
      const placed = byId(page, 'composer-placed');
      await waitText(placed.getByTestId('composer-placed-item'), 'Acme on Bluesky');
      await placed.locator(`time[datetime="${made.occurrences[0].planned_at}"]`).waitFor();
      assert(await byId(page, 'composer-where').isHidden(), 'the channels and times of a scheduled post are offered for change');
      await waitText(byId(page, 'composer-submit'), 'Save changes');
      await notWider(page, 1280, 'the composer editing a post');
      const changed = 'Spring workshop: pot your own tulips with us on Saturday at ten.';
      const [liveRes] = await Promise.all([
        page.waitForResponse((r) => isPost(r, 'POST', /\/check$/) && JSON.parse(r.request().postData() || '{}').text === changed),
        byId(page, 'composer-text').fill(changed),
      ]);
      await apiStatus(liveRes, 200);
      const live = JSON.parse(liveRes.request().postData());
      assert(live.post_id === made.id && !('channels' in live) && !('schedule' in live), `the live check was sent as ${JSON.stringify(live)}`);
      // It is not compared with its own earlier wording, nor counted twice in its hour.
      const found = (await liveRes.json()).violations;
      assert(!found.some((v) => v.posts.includes(made.id)), `the post collides with itself: ${JSON.stringify(found)}`);
      await page.locator('[data-testid="composer-checks"][data-state="done"]').waitFor();
      assert(checks.every((b) => b.post_id === made.id), 'a live check of the edit was sent as a new post');
      await page.screenshot({ path: path.join(OUT, 'composer-edit.png'), fullPage: true });
      const [patch] = await Promise.all([
        page.waitForResponse((r) => isPost(r, 'PATCH', new RegExp(`/posts/${made.id}$`))),
        byId(page, 'composer-submit').click(),
      ]);
      await apiStatus(patch, 200);
      await waitText(byId(page, 'composer-done'), 'Changes saved');
      const post = await api('GET', `/posts/${made.id}`);
      assert(post.text === 'Spring workshop: pot your own tulips with us on Saturday at ten.', `the text is "${post.text}"`);
      assert(post.link === 'https://example.com/workshop' && post.campaign === 'Workshops' && post.variants.length === 1, `the other fields changed: ${JSON.stringify(post)}`);
      assert(post.occurrences.length === 1 && post.occurrences[0].planned_at === made.occurrences[0].planned_at, 'the time changed');
      // A change the checks block asks for a reason, like a new post.
      await go(`#/w/${WID}/composer?edit=${made.id}`);
      await waitText(byId(page, 'composer-submit'), 'Save changes');
      // Too long even for a thread of 25 posts: blocked (a text of a few posts is a thread, a warning).
      const long = 'Our spring workshop is back, and this year it is bigger than ever. '.repeat(130).trim();
      await byId(page, 'composer-text').fill(long);
      const block = page.locator('[data-testid="composer-checks"] [data-testid="violation"][data-rule="P8b"]');
      await waitText(block, 'Too long for the network');
      const [refused] = await Promise.all([
        page.waitForResponse((r) => isPost(r, 'PATCH', new RegExp(`/posts/${made.id}$`))),
        byId(page, 'composer-submit').click(),
      ]);
      await apiStatus(refused, 422);
      const panel = byId(page, 'composer-blocked');
      await waitText(panel, 'The changes were not saved');
      await waitText(panel.locator('[data-testid="violation"][data-rule="P8b"]'), 'Too long for the network');
      await byId(page, 'override-reason').fill('Our own Bluesky client shows the whole text.');
      const [again] = await Promise.all([
        page.waitForResponse((r) => isPost(r, 'PATCH', new RegExp(`/posts/${made.id}$`))),
        byId(page, 'composer-override').click(),
      ]);
      await apiStatus(again, 200);
      assert(JSON.parse(again.request().postData()).override_reason.startsWith('Our own Bluesky'), 'the reason was not sent');
      await waitText(byId(page, 'composer-done'), 'Changes saved');
      assert((await api('GET', `/posts/${made.id}`)).text === long, 'the blocked change was not saved with its reason');
      // Done: the form is a new post again, and so is the address.
      await byId(page, 'composer-where').waitFor();
      assert(!/edit=/.test(page.url()), `the address still names the post: ${page.url()}`);
    } finally {
      page.off('request', onRequest);
    }
  }, { page });

  let publishedId = null;
  await check('a post that has gone out cannot be edited: the page says so and offers Duplicate, which fills a new post', async () => {
    const made = JSON.parse(cli(['--json', 'post', 'add', '--workspace', 'Acme', '--text', 'We are open this Sunday: coffee, cake and bulbs.',
      '--channel', String(composerFile), '--now', '--campaign', 'Sundays']));
    publishedId = made.id;
    // The server publishes it by itself; wait until it has.
    for (let i = 0; i < 200 && sql(`SELECT state FROM occurrences WHERE post_id = ${made.id}`) !== 'published'; i++) await page.waitForTimeout(50);
    assert(sql(`SELECT state FROM occurrences WHERE post_id = ${made.id}`) === 'published', 'the post did not go out');
    await go(`#/w/${WID}/composer?edit=${made.id}`);
    const locked = byId(page, 'composer-locked');
    await waitText(locked, 'This post has already gone out');
    await waitText(byId(page, 'composer-locked-text'), 'We are open this Sunday');
    assert(await byId(page, 'composer-form').isHidden(), 'the form to change it is shown');
    assert(await byId(page, 'composer-locked-calendar').getAttribute('href') === `#/w/${WID}/calendar?post=${made.id}`, 'the calendar link does not open the post');
    await notWider(page, 1280, 'a post that cannot change');
    await waitText(byId(page, 'composer-duplicate'), 'Duplicate');
    await byId(page, 'composer-duplicate').click();
    await page.waitForURL((u) => u.hash === `#/w/${WID}/composer?duplicate=${made.id}`);
    await waitText(byId(page, 'composer-mode'), 'A copy of');
    assert(await byId(page, 'composer-text').inputValue() === made.text, 'the copy does not have the text');
    assert(await byId(page, 'composer-campaign').inputValue() === 'Sundays', 'the copy does not have the campaign');
    const chosen = await page.locator('[data-testid="composer-channel"]:checked').evaluateAll((els) => els.map((e) => e.getAttribute('data-channel-name')));
    assert(chosen.length === 1 && chosen[0] === 'Composer file', `the copy goes to ${JSON.stringify(chosen)}`);
    await waitText(byId(page, 'composer-submit'), 'Add to queue');
  }, { page });

  await check('?at=TIME&channel=ID, a free time the calendar offers, fills the time and the channel', async () => {
    const slot = await localTime(page, 5, 14, 45);
    const at = slot.iso;
    const date = slot.date;
    // Written as routeTo writes it (encoded), and with the offset's "+" left as it is.
    for (const value of [encodeURIComponent(at), slot.rfc]) {
      await go(`#/w/${WID}/composer`);
      await go(`#/w/${WID}/composer?at=${value}&channel=${composerFile}`);
      await byId(page, 'schedule-at-fields').waitFor();
      assert(await byId(page, 'schedule-at').isChecked(), '"At a time" is not chosen');
      assert(await byId(page, 'schedule-date').inputValue() === date, `the date is ${await byId(page, 'schedule-date').inputValue()}, not ${date} (${value})`);
      assert(await byId(page, 'schedule-time').inputValue() === '14:45', `the time is ${await byId(page, 'schedule-time').inputValue()} (${value})`);
      const chosen = await page.locator('[data-testid="composer-channel"]:checked').evaluateAll((els) => els.map((e) => e.getAttribute('data-channel-name')));
      assert(chosen.length === 1 && chosen[0] === 'Composer file', `the channels chosen are ${JSON.stringify(chosen)}`);
      await waitText(byId(page, 'composer-mode'), 'free time you picked in the calendar');
    }
    await byId(page, 'composer-text').fill('Tulip Tuesday: show us your balcony tulips!');
    const res = await submitPost(page);
    await apiStatus(res, 201);
    const post = await res.json();
    assert(Date.parse(post.occurrences[0].planned_at) === Date.parse(at), `planned at ${post.occurrences[0].planned_at}, the slot was ${at}`);
  }, { page });

  await check('findings say the rule in words, not its id, each once, and link the posts they name to the calendar', async () => {
    const at = (await localTime(page, 4, 14, 0)).rfc;
    const made = JSON.parse(cli(['--json', 'post', 'add', '--workspace', 'Acme', '--text', 'Autumn sale: 30% off every tulip bulb this weekend only.',
      '--channel', String(checksFile), '--at', at, '--category', 'promo']));
    await freshComposer();
    await chooseChannels(page, ['Checks file']);
    await byId(page, 'composer-category').selectOption('promo');
    await byId(page, 'schedule-at').check();
    const when = await localTime(page, 4, 14, 30);
    await byId(page, 'schedule-date').fill(when.date);
    await byId(page, 'schedule-time').fill(when.time);
    await byId(page, 'composer-text').fill('Autumn sale: 30% off every tulip bulb, this weekend only!');
    const card = byId(page, 'composer-checks');
    const p5 = card.locator('[data-testid="violation"][data-rule="P5"]');
    const p7c = card.locator('[data-testid="violation"][data-rule="P7c"]');
    await waitText(p5, 'Almost the same text');
    await waitText(p7c, 'Promo posts too close');
    await assertNoRuleIds(card, 'the live checks');
    // The post it collides with is a link to its details in the calendar, read by its text.
    const link = p5.locator(`[data-testid="violation-post"][data-post-id="${made.id}"]`);
    assert(await link.getAttribute('href') === `#/w/${WID}/calendar?post=${made.id}`, `the post links to ${await link.getAttribute('href')}`);
    await waitText(link, 'Autumn sale: 30% off every tulip bulb');
    assert(!/^#?\d+$/.test((await link.textContent()).trim()), 'the link reads as a bare number');
    // Blocked: the panel lists each finding once, in words; the live list steps aside.
    const res = await submitPost(page);
    await apiStatus(res, 422);
    const blocked = byId(page, 'composer-blocked');
    await blocked.getByTestId('violation').first().waitFor();
    await assertNoRuleIds(blocked, 'the blocked panel');
    const rows = await blocked.getByTestId('violation').evaluateAll((els) => els.map((e) =>
      e.getAttribute('data-rule') + ':' + [...e.querySelectorAll('[data-testid="violation-post"]')].map((a) => a.getAttribute('data-post-id')).sort().join(',')));
    assert(new Set(rows).size === rows.length, `a finding is shown twice: ${rows.join(' ')}`);
    assert(rows.includes(`P7c:${made.id}`), `the blocking finding is not listed: ${rows.join(' ')}`);
    assert(await card.isHidden(), 'the live checks show the same findings beside the blocked panel');
    await byId(page, 'override-reason').fill('Two sale reminders agreed with the shop owner.');
    const [again] = await Promise.all([
      page.waitForResponse((r) => isPost(r, 'POST', /\/posts$/)),
      byId(page, 'composer-override').click(),
    ]);
    await apiStatus(again, 201);
    // The calendar's queue checks speak the same words, and link the same way.
    const [queue] = await Promise.all([
      page.waitForResponse((r) => new URL(r.url()).pathname.endsWith('/queue/check')),
      byId(page, 'nav-calendar').click(),
    ]);
    await apiStatus(queue, 200);
    const qlist = byId(page, 'queue-violations');
    const mine = qlist.locator('[data-testid="violation"][data-rule="P7c"]').filter({ has: page.locator(`[data-testid="violation-post"][data-post-id="${made.id}"]`) });
    await waitText(mine, 'Promo posts too close');
    await assertNoRuleIds(qlist, 'the calendar\'s queue checks');
    const hrefs = await qlist.getByTestId('violation-post').evaluateAll((els) => els.map((a) => a.getAttribute('href')));
    assert(hrefs.length && hrefs.every((h) => /^#\/w\/\d+\/calendar\?post=\d+$/.test(h)), `links: ${hrefs.slice(0, 5).join(' ')}`);
    await mine.locator(`[data-testid="violation-post"][data-post-id="${made.id}"]`).click();
    await page.waitForURL((u) => u.hash === `#/w/${WID}/calendar?post=${made.id}`);
    // The calendar opens that post's details (and its week).
    await waitText(byId(page, 'details-text'), made.text.slice(0, 30));
    await byId(page, 'details-close').click();
    await byId(page, 'occurrence-details').waitFor({ state: 'hidden' });
  }, { page });

  await check('a post for Bluesky and Mastodon hears once, not once per network, that it says the same on both', async () => {
    await freshComposer();
    await chooseChannels(page, ['Acme on Bluesky', 'Acme on Mastodon']);
    const when = await localTime(page, 6, 12, 5);
    await byId(page, 'schedule-at').check();
    await byId(page, 'schedule-date').fill(when.date);
    await byId(page, 'schedule-time').fill(when.time);
    const text = 'New in the shop: parrot tulips in five colours.';
    const [res] = await Promise.all([
      page.waitForResponse((r) => isPost(r, 'POST', /\/check$/) && JSON.parse(r.request().postData() || '{}').text === text),
      byId(page, 'composer-text').fill(text),
    ]);
    await apiStatus(res, 200);
    const found = (await res.json()).violations.filter((v) => v.rule === 'P8a');
    assert(found.length >= 1, `the server finds no cross-post: ${JSON.stringify(found)}`);
    const shown = page.locator('[data-testid="composer-checks"] [data-testid="violation"][data-rule="P8a"]');
    await waitText(shown, 'Same text on two networks');
    await page.locator('[data-testid="composer-checks"][data-state="done"]').waitFor();
    assert(await shown.count() === 1, `the same cross-post is shown ${await shown.count()} times (the server found it ${found.length} times)`);
    await byId(page, 'composer-text').fill('');
    await byId(page, 'composer-checks').waitFor({ state: 'hidden' });
  }, { page });

  await check('the preview shows each channel its own way: a thread with numbered parts and marks on Bluesky, one status on Mastodon', async () => {
    await freshComposer();
    await chooseChannels(page, ['Acme on Bluesky', 'Acme on Mastodon']);
    const text = 'Hei @acme.test! Vårsalget starter nå #vår. ' + 'Tulipaner og blåbær til alle som kommer innom butikken. '.repeat(6);
    const [res] = await Promise.all([
      page.waitForResponse((r) => isPost(r, 'POST', /\/preview$/) && JSON.parse(r.request().postData() || '{}').text === text),
      byId(page, 'composer-text').fill(text),
    ]);
    await apiStatus(res, 200);
    const pv = byId(page, 'composer-preview');
    await pv.waitFor();
    const tabs = byId(page, 'preview-tab');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="preview-tab"]').length === 2);
    assert(await tabs.first().getAttribute('aria-selected') === 'true', 'the first channel is not chosen');
    await tabs.filter({ hasText: 'Acme on Bluesky' }).click();
    const parts = byId(page, 'preview-part');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="preview-part"]').length === 2);
    await waitText(parts.first(), 'Post 1 of 2');
    await waitText(byId(page, 'preview-count'), 'thread of 2 posts');
    const kinds = await parts.first().getByTestId('preview-mark').evaluateAll((els) => els.map((e) => e.dataset.kind + ':' + e.textContent));
    assert(kinds.includes('mention:@acme.test') && kinds.includes('tag:#vår'), `marks in the first part: ${kinds}`);
    await tabs.filter({ hasText: 'Acme on Mastodon' }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="preview-part"]').length === 1);
    await waitText(byId(page, 'preview-count'), 'of 500 characters');
    await byId(page, 'composer-text').fill('');
    await pv.waitFor({ state: 'hidden' });
  }, { page });

  await check('a new post almost the same as a series is warned once, not once for each of its copies', async () => {
    await freshComposer();
    await chooseChannels(page, ['Weekly tips']);
    await byId(page, 'schedule-at').check();
    const when = await localTime(page, 3, 18, 0);
    await byId(page, 'schedule-date').fill(when.date);
    await byId(page, 'schedule-time').fill(when.time);
    const text = 'Evergreen: our guide to keeping cut tulips fresh for two weeks.'; // the series' text, above
    const [res] = await Promise.all([
      page.waitForResponse((r) => isPost(r, 'POST', /\/check$/) && JSON.parse(r.request().postData() || '{}').text === text),
      byId(page, 'composer-text').fill(text),
    ]);
    await apiStatus(res, 200);
    const found = (await res.json()).violations.filter((v) => v.rule === 'P5');
    const about = new Set(found.map((v) => v.posts.join()));
    assert(found.length >= 2 && about.size === 1, `the test needs the server to find one post several times: ${JSON.stringify(found)}`);
    const shown = page.locator('[data-testid="composer-checks"] [data-testid="violation"][data-rule="P5"]');
    await waitText(shown, 'Almost the same text');
    await page.locator('[data-testid="composer-checks"][data-state="done"]').waitFor();
    assert(await shown.count() === 1, `one near-duplicate is shown ${await shown.count()} times (the server found it ${found.length} times)`);
    await byId(page, 'composer-text').fill('');
    await byId(page, 'composer-checks').waitFor({ state: 'hidden' });
  }, { page });

  await check('the composer at phone width in Norwegian: a series plan, the drafts and a post that cannot change fit the screen', async () => {
    const phone = await newContext({ viewport: { width: 390, height: 844 }, locale: 'nb-NO', timezoneId: 'Europe/Oslo' });
    try {
      const p = await phone.newPage();
      watch(p);
      await p.goto(base);
      await p.evaluate(() => { localStorage.setItem('samtale.lang', 'nb'); });
      await p.reload();
      await loginAs(p, OWNER_EMAIL, OWNER_PASSWORD);
      await byId(p, 'app-header').waitFor();
      await p.evaluate((h) => { location.hash = h; }, `#/w/${WID}/composer`);
      await waitText(byId(p, 'page-title'), 'Skriv innlegg');
      await p.locator(`[data-testid="composer-channel"][data-channel-name="Weekly tips"]`).check();
      await byId(p, 'composer-text').fill('Tidløst: slik holder tulipanene seg friske i to uker.');
      await byId(p, 'schedule-series').check();
      await byId(p, 'series-per-day').fill('1');
      await byId(p, 'series-days').fill('30');
      const item = p.locator(`[data-testid="plan-channel"][data-channel-id="${weekly}"]`);
      await waitText(item.getByTestId('plan-count'), 'av de 30 kopiene får plass');
      await waitText(item.getByTestId('plan-why'), 'publiseringstider');
      await waitText(byId(p, 'composer-submit'), 'Start serien');
      await notWider(p, 390, 'the series plan in Norwegian');
      await p.screenshot({ path: path.join(OUT, 'composer-series-nb.png'), fullPage: true });
      await byId(p, 'composer-drafts-toggle').click();
      await waitText(byId(p, 'composer-drafts'), 'Skriv videre');
      await notWider(p, 390, 'the drafts in Norwegian');
      await p.screenshot({ path: path.join(OUT, 'composer-drafts-nb.png'), fullPage: true });
      await p.evaluate((h) => { location.hash = h; }, `#/w/${WID}/composer?edit=${publishedId}`);
      await waitText(byId(p, 'composer-locked'), 'allerede publisert');
      await waitText(byId(p, 'composer-duplicate'), 'Dupliser');
      await notWider(p, 390, 'a post that cannot change, in Norwegian');
      await p.screenshot({ path: path.join(OUT, 'composer-locked-nb.png'), fullPage: true });
      // The findings in Norwegian words, at phone width.
      await p.evaluate((h) => { location.hash = h; }, `#/w/${WID}/composer`);
      await p.locator(`[data-testid="composer-channel"][data-channel-name="Checks file"]`).check();
      // Near the two promo posts of the checks above: too close, and too much promotion.
      const when = await localTime(p, 4, 16, 0);
      await byId(p, 'schedule-at').check();
      await byId(p, 'schedule-date').fill(when.date);
      await byId(p, 'schedule-time').fill(when.time);
      await byId(p, 'composer-category').selectOption('promo');
      await byId(p, 'composer-text').fill('Høstsalg: 30 % på alle tulipanløker i helgen!');
      const checks = byId(p, 'composer-checks');
      await waitText(checks.locator('[data-testid="violation"][data-rule="P7c"]').first(), 'Reklameinnlegg for tett');
      await assertNoRuleIds(checks, 'the Norwegian live checks');
      await notWider(p, 390, 'the live checks in Norwegian');
      await p.screenshot({ path: path.join(OUT, 'composer-checks-nb.png'), fullPage: true });
    } finally {
      await phone.close();
    }
  }, { page });
}
