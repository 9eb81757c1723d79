// Browser checks of the dashboard at phone width (390x844), in English and bokmål: every
// page before the app and every section fits the screen (nothing wider than the window,
// no element sticking out of it, touch targets of 40 px), the top bar shows the brand, the
// section's name, the workspace switcher and the menu button without cutting any of them,
// and the menu button opens and closes the navigation as a disclosure. The data is what a
// marketing team has: a workspace with a long name, many channels with long names and
// addresses, right-to-left names, a channel to reconnect, long posts, messages, members,
// an API token and an invitation to a long address. Screenshots: output/phone-*.png.
// Also, on the owner's wide page: the navigation is still the sidebar there.

import path from 'node:path';

const PHONE = { width: 390, height: 844 };
const TZ = 'Europe/Oslo';
const LANGS = [['en', 'en-GB'], ['nb', 'nb-NO']];
const SECTIONS = ['calendar', 'composer', 'inbox', 'listening', 'people', 'goals', 'contests',
  'settings/channels', 'settings/members', 'settings/tokens', 'settings/account'];
// What shows that a section has drawn its data (besides its heading).
const READY = {
  calendar: '[data-testid="occurrence"]',
  composer: '[data-testid="composer-channel"]',
  inbox: '[data-testid="inbox-item"]',
  'settings/channels': '[data-testid="channel-row"]',
  'settings/members': '[data-testid="member-row"]',
  'settings/tokens': '[data-testid="token-row"]',
  'settings/account': '[data-testid="second-factor-card"]',
};
const WORKSPACE = 'Nordlandsbanen Reiseliv og Opplevelser AS \u2013 Markedsavdelingen Bod\u00f8';
const LONG_EMAIL = 'markedsavdelingen.kommunikasjon@nordlandsbanen-reiseliv.example.no';
const LONG_URL = 'https://www.nordlandsbanen-reiseliv.example.no/sommer-2025/togreiser-med-overnatting-over-polarsirkelen?kampanje=sommer&utm_source=samtale';
const CHANNELS = [
  'Nordlandsbanen \u2013 Instagram og Facebook for sommerkampanjen 2025',
  'Arktisk Opplevelsesturisme i Salten og Lofoten AS',
  '\u05ea\u05d9\u05d9\u05e8\u05d5\u05ea \u05e6\u05e4\u05d5\u05df \u05e0\u05d5\u05e8\u05d5\u05d5\u05d2\u05d9\u05d4',
  '\u0627\u0644\u0633\u064a\u0627\u062d\u0629 \u0641\u064a \u0634\u0645\u0627\u0644 \u0627\u0644\u0646\u0631\u0648\u064a\u062c',
  'Reiseliv Bod\u00f8',
  'Hurtigruten-samarbeidet',
];
const OTP_EMAIL = 'phone.first.login@example.com';
const ALONE_EMAIL = 'phone.no.workspace@example.com';
const ALONE_PASSWORD = 'nobody has a workspace';

// Runs in the page: what makes the page wider than the window, or sticks out of it. Each
// visible element whose box reaches beyond the window's left or right edge, unless an
// ancestor inside the window cuts it off on purpose (overflow hidden or clip, as for an
// ellipsis); content that scrolls sideways inside a box counts, for nobody sees it there.
// Only the outermost of nested offenders is named. Returns { scrollWidth, width, out }.
function overflowing() {
  const width = window.innerWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.dataset.testid ? `[data-testid=${el.dataset.testid}]` : '') +
    (typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\s+/).join('.') : '');
  const inside = (r) => r.left >= -0.5 && r.right <= width + 0.5;
  const bad = new Set();
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || inside(r) || getComputedStyle(el).visibility === 'hidden') continue;
    let cut = false;
    for (let a = el.parentElement; a && a !== document.body && !cut; a = a.parentElement) {
      cut = /hidden|clip/.test(getComputedStyle(a).overflowX) && inside(a.getBoundingClientRect());
    }
    if (cut) continue;
    bad.add(el);
    if (bad.has(el.parentElement)) continue;
    const text = (el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 50);
    out.push(`${el.parentElement ? name(el.parentElement) + ' > ' : ''}${name(el)} spans ${Math.round(r.left)}..${Math.round(r.right)} px${text ? ` ("${text}")` : ''}`);
  }
  return { scrollWidth: document.documentElement.scrollWidth, width, out };
}

// Runs in the page: the controls a finger must hit that are less than 40 px tall.
function smallTargets() {
  const sel = 'button, select, textarea, summary, a.btn, a.nav-link, label.check, label.choice, .check-row label, ' +
    'input:not([type="checkbox"]):not([type="radio"]):not([type="hidden"])';
  const out = [];
  for (const el of document.querySelectorAll(sel)) {
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1 || getComputedStyle(el).visibility === 'hidden' || el.closest('[inert]')) continue;
    if (r.height < 39.5) {
      const id = el.dataset.testid || el.id || el.className || '';
      out.push(`${el.tagName.toLowerCase()}${id ? ` (${id})` : ''} "${(el.textContent || el.value || '').replace(/\s+/g, ' ').trim().slice(0, 30)}" is ${Math.round(r.height)} px tall`);
    }
  }
  return out;
}

// Runs in the page: the top bar's visible parts that are cut by the window's edges, and
// whether the four that must show are there.
function headerState() {
  const width = window.innerWidth;
  const header = document.querySelector('[data-testid="app-header"]');
  const shown = (el) => { if (!el) return false; const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden'; };
  const cut = [];
  for (const el of header.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (!shown(el) || el.closest('.visually-hidden')) continue;
    if (r.left < -0.5 || r.right > width + 0.5 || r.top < -0.5) {
      cut.push(`${el.tagName.toLowerCase()}${el.dataset.testid ? `[${el.dataset.testid}]` : ''} at ${Math.round(r.left)}..${Math.round(r.right)} px`);
    }
  }
  const q = (s) => header.querySelector(s);
  const section = q('[data-testid="header-section"]');
  return {
    cut,
    brand: shown(q('.brand')),
    section: shown(section) ? section.textContent : null,
    sectionCut: shown(section) && (section.scrollWidth > section.clientWidth + 1 || section.scrollHeight > section.clientHeight + 1),
    workspace: shown(q('[data-testid="workspace-switcher"]')),
    menu: shown(q('[data-testid="menu-button"]')),
    height: header.getBoundingClientRect().height,
  };
}

const shotName = (what, lang) => `phone-${what.replace('settings/', '')}-${lang}.png`;

export default async function (t) {
  const { check, assert, byId, cli, sql, sqlText, base } = t;
  let wid = null;
  let invite = null;
  let otp = null;

  await check('phone: a marketing team\'s workspace: a long name, long channel names and addresses, right-to-left names', async () => {
    cli(['workspace', 'add', WORKSPACE, '--timezone', TZ]);
    cli(['user', 'add', '--email', t.OWNER_EMAIL, '--workspace', WORKSPACE, '--role', 'owner', '--password-stdin'], t.OWNER_PASSWORD + '\n');
    wid = Number(sql(`SELECT id FROM workspaces WHERE name = ${sqlText(WORKSPACE)}`));
    assert(wid > 0, 'the workspace was not made');
    CHANNELS.forEach((name, i) => cli(['channel', 'add', '--workspace', WORKSPACE, '--kind', 'file', '--name', name, '--setting', `path=phone-${i}.jsonl`]));
    cli(['channel', 'add', '--workspace', WORKSPACE, '--kind', 'feed', '--no-verify', '--name', 'Visit Norway \u2013 nyheter fra hele landsdelen',
      '--setting', 'url=https://www.visitnorway.example.com/nyheter/nordland/lofoten-og-vesteralen/feed.xml?utm_source=samtale&utm_medium=rss']);
    cli(['channel', 'add', '--workspace', WORKSPACE, '--kind', 'webhook', '--no-verify', '--name', 'Intern varsling til Slack-kanalen #markedsf\u00f8ring-og-kommunikasjon',
      '--setting', 'url=https://hooks.slack.example.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX']);
    cli(['channel', 'add', '--workspace', WORKSPACE, '--kind', 'bluesky', '--no-verify', '--name', 'Nordlandsbanen p\u00e5 Bluesky',
      '--setting', 'handle=nordlandsbanen-reiseliv-og-opplevelser.bsky.social', '--secret-stdin'], 'an-app-password\n');
    const bsky = Number(sql(`SELECT id FROM channels WHERE workspace_id = ${wid} AND kind = 'bluesky'`));
    sql(`UPDATE channels SET status = 'reconnect', status_message = ${sqlText('Bluesky refused the app password (AuthenticationRequired: Invalid identifier or password). Make a new app password at https://bsky.app/settings/app-passwords.')} WHERE id = ${bsky}`);
    const files = sql(`SELECT id FROM channels WHERE workspace_id = ${wid} AND kind = 'file' ORDER BY id`).split('\n').map(Number);
    // Posts this week: long words, a long address, right-to-left text; one goes out now.
    const soon = (min) => new Date(Date.now() + min * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const text = (i) => `Sommerens store togreise ${i}: Nordlandsbanen fra Trondheim til Bod\u00f8 gjennom fjellheimen og over polarsirkelen. Les mer: ${LONG_URL}`;
    files.slice(0, 4).forEach((ch, i) => cli(['post', 'add', '--workspace', WORKSPACE, '--channel', String(ch), '--at', soon(30 + i * 20),
      '--category', 'promo', '--text', text(i), '--override', 'phone layout check']));
    cli(['post', 'add', '--workspace', WORKSPACE, '--channel', String(files[2]), '--at', soon(140),
      '--text', '\u05de\u05e1\u05e2 \u05d1\u05e8\u05db\u05d1\u05ea \u05e6\u05e4\u05d5\u05e0\u05d4 \u2014 \u05d4\u05d6\u05de\u05d9\u05e0\u05d5 \u05e2\u05db\u05e9\u05d9\u05d5', '--override', 'phone layout check']);
    const now = Math.floor(Date.now() / 1000);
    const published = JSON.parse(cli(['--json', 'post', 'add', '--workspace', WORKSPACE, '--channel', String(files[4]), '--now', '--text', text('n\u00e5'), '--override', 'phone layout check']));
    // Its counts (the details panel shows them in a table): large numbers, one not counted yet, one failed.
    const occ = published.occurrences[0].id;
    for (const [after, due, fetched, likes, reposts, replies, quotes, error] of [[3600, now - 3600, now - 3590, 123456, 5678, 789, 12, null],
      [86400, now + 86400, null, null, null, null, null, null], [0, now - 10, now - 5, null, null, null, null, 'Bluesky does not know the post any more (deleted?).']]) {
      sql(`INSERT INTO engagement (occurrence_id, checkpoint, due_at, fetched_at, attempts, likes, reposts, replies, quotes, error)
        VALUES (${occ}, ${after}, ${due}, ${fetched ?? 'NULL'}, ${fetched ? 1 : 0}, ${likes ?? 'NULL'}, ${reposts ?? 'NULL'}, ${replies ?? 'NULL'}, ${quotes ?? 'NULL'}, ${sqlText(error)})`);
    }
    // Messages with long names, handles and addresses.
    [['mention', 'kari-nordmann-fra-bodo-og-omegn.bsky.social', 'Kari Nordmann \u{1F337}', `Hei! G\u00e5r det an \u00e5 ta med sykkel p\u00e5 nattoget i juli? ${LONG_URL}`],
      ['reply', 'reisebloggeren-i-nord.bsky.social', 'Reisebloggeren i Nord \u2013 Ingrid Marie Solheim-Kristiansen', 'Fantastisk tur! Vi s\u00e5 midnattssola fra vinduet hele veien nordover.'],
      ['direct', 'supercalifragilisticexpialidocious_traveller_account.bsky.social', '', 'Group booking for 40 people in August: who should we contact?']]
      .forEach(([kind, handle, name, body], i) => sql(`INSERT INTO messages (workspace_id, channel_id, kind, remote_id, remote_url, author_id, author_handle, author_name, text, created_at, received_at)
        VALUES (${wid}, ${bsky}, '${kind}', 'at://did:plc:phone/app.bsky.feed.post/${i}', ${sqlText(LONG_URL)}, 'did:plc:phone${i}', ${sqlText(handle)}, ${sqlText(name)}, ${sqlText(body)}, ${now - 600 * (i + 1)}, ${now})`));
    // People: long and right-to-left names, a long address; a token with a long name.
    cli(['user', 'add', '--email', 'ole-martin.kristoffersen.bakken@nordlandsbanen-reiseliv.example.no', '--name', 'Ole-Martin Kristoffersen Bakken',
      '--workspace', WORKSPACE, '--role', 'editor', '--password-stdin'], 'another good password\n');
    cli(['user', 'add', '--email', 'ahmad.alrashid@example.com', '--name', '\u0623\u062d\u0645\u062f \u0627\u0644\u0631\u0627\u0634\u062f', '--workspace', WORKSPACE, '--role', 'agent', '--password-stdin'], 'another good password\n');
    cli(['token', 'create', '--workspace', WORKSPACE, '--name', 'Rapportering til ledergruppen (m\u00e5nedlig eksport til regneark)', '--scope', '*']);
    invite = JSON.parse(cli(['--json', 'invite', 'create', '--workspace', WORKSPACE, '--email', LONG_EMAIL, '--role', 'editor', '--language', 'nb']));
    // Someone at their first login (a one-time password), and someone without a workspace.
    otp = /one-time password: (\S+)/.exec(cli(['user', 'add', '--email', OTP_EMAIL, '--name', 'F\u00f8rste Gang', '--workspace', WORKSPACE, '--role', 'editor']))[1];
    cli(['user', 'add', '--email', ALONE_EMAIL, '--workspace', WORKSPACE, '--role', 'viewer', '--password-stdin'], ALONE_PASSWORD + '\n');
    sql(`DELETE FROM members WHERE user_id = (SELECT id FROM users WHERE email = ${sqlText(ALONE_EMAIL)})`);
  });

  // Looks at the page as it is: fits, targets, a screenshot. Returns the problems found.
  async function look(page, what, lang, fullPage = true) {
    await page.mouse.move(0, 0);
    const o = await page.evaluate(overflowing);
    const problems = [];
    if (o.scrollWidth > o.width) problems.push(`${what}: the page is ${o.scrollWidth} px wide in a ${o.width} px window`);
    for (const line of o.out.slice(0, 8)) problems.push(`${what}: ${line}`);
    if (o.out.length > 8) problems.push(`${what}: and ${o.out.length - 8} more`);
    for (const line of (await page.evaluate(smallTargets)).slice(0, 8)) problems.push(`${what}: ${line}`);
    await page.screenshot({ path: path.join(t.OUT, shotName(what, lang)), fullPage });
    return problems;
  }

  for (const [lang, locale] of LANGS) {
    const ctx = await t.newContext({ viewport: PHONE, locale, timezoneId: TZ, hasTouch: true });
    const page = await ctx.newPage();
    t.watch(page);
    try {
      await check(`phone (${lang}): the login, first password, invitation and no-workspace pages fit 390 px (output/phone-login-${lang}.png ...)`, async () => {
        assert(invite && otp, 'the data was not made');
        const problems = [];
        await page.goto(base);
        await byId(page, 'login-form').waitFor();
        await page.locator(`html[lang="${lang}"]`).waitFor({ state: 'attached' });
        problems.push(...await look(page, 'login', lang));
        await page.goto(base + new URL(invite.link).hash);
        await byId(page, 'invite-form').waitFor();
        problems.push(...await look(page, 'invite', lang));
        await page.goto(base + '#/login');
        await t.loginAs(page, OTP_EMAIL, otp);
        await byId(page, 'password-form').waitFor();
        problems.push(...await look(page, 'password', lang));
        await byId(page, 'password-logout').click();
        await byId(page, 'login-form').waitFor();
        await byId(page, 'login-email').fill(ALONE_EMAIL);
        await byId(page, 'login-password').fill(ALONE_PASSWORD);
        await byId(page, 'login-submit').click();
        await byId(page, 'no-workspace').waitFor();
        problems.push(...await look(page, 'no-workspace', lang));
        await byId(page, 'logout').click();
        await byId(page, 'login-form').waitFor();
        assert(!problems.length, `${problems.length} problem(s) at 390x844:\n${problems.join('\n')}`);
      }, { page });

      await check(`phone (${lang}): every section fits 390 px, with touch targets of 40 px and the whole top bar on screen (output/phone-SECTION-${lang}.png)`, async () => {
        assert(wid, 'the workspace was not made');
        await t.loginAs(page, t.OWNER_EMAIL, t.OWNER_PASSWORD);
        await byId(page, 'app-header').waitFor();
        const problems = [];
        for (const section of SECTIONS) {
          await page.goto(`${base}#/w/${wid}/${section}`);
          await byId(page, 'page-title').waitFor();
          if (READY[section]) await page.locator(READY[section]).first().waitFor();
          await page.waitForLoadState('networkidle');
          await page.locator('[data-i18n="list.loading"]:visible').first().waitFor({ state: 'detached' }).catch(() => {});
          problems.push(...await look(page, section, lang));
          if (section === 'calendar') {
            // The details panel of the post that went out, with its counts.
            await page.locator('[data-testid="occurrence"][data-state="published"]').first().click();
            await byId(page, 'occurrence-details').waitFor();
            await byId(page, 'engagement-row').first().waitFor();
            problems.push(...await look(page, 'calendar-details', lang, false));
            await byId(page, 'details-close').click();
            await byId(page, 'occurrence-details').waitFor({ state: 'hidden' });
          }
          const hs = await page.evaluate(headerState);
          const title = (await byId(page, 'page-title').textContent()).trim();
          for (const c of hs.cut) problems.push(`${section}: the top bar's ${c} is cut by the window`);
          if (!hs.brand) problems.push(`${section}: the top bar does not show the brand`);
          if (!hs.workspace) problems.push(`${section}: the top bar does not show the workspace switcher`);
          if (!hs.menu) problems.push(`${section}: the top bar does not show the menu button`);
          if (hs.section === null) problems.push(`${section}: the top bar does not show the section's name`);
          else if (hs.section.trim() !== title) problems.push(`${section}: the top bar names the section "${hs.section}", the page "${title}"`);
          if (hs.sectionCut) problems.push(`${section}: the top bar cuts the section's name "${hs.section}"`);
          if (hs.height > 120) problems.push(`${section}: the top bar is ${Math.round(hs.height)} px tall`);
        }
        assert(!problems.length, `${problems.length} problem(s) at 390x844:\n${problems.join('\n')}`);
      }, { page });

      await check(`phone (${lang}): the menu button opens the navigation, Escape closes it, and choosing a section goes there and closes it (output/phone-menu-${lang}.png)`, async () => {
        await page.goto(`${base}#/w/${wid}/calendar`);
        await byId(page, 'page-title').waitFor();
        const button = byId(page, 'menu-button');
        const menu = page.locator('#app-menu');
        await button.waitFor();
        assert(await button.getAttribute('aria-expanded') === 'false', 'the menu button does not say it is closed');
        assert(await button.getAttribute('aria-controls') === 'app-menu', `the menu button controls "${await button.getAttribute('aria-controls')}"`);
        assert(await byId(page, 'nav-members').isHidden(), 'the navigation shows before the menu is opened');
        await button.click();
        await byId(page, 'nav-members').waitFor();
        assert(await button.getAttribute('aria-expanded') === 'true', 'the open menu\'s button does not say it is open');
        assert(await menu.evaluate((m) => m.contains(document.activeElement)), 'the focus did not move into the open menu');
        assert(await byId(page, 'main').evaluate((m) => m.inert), 'the page behind the open menu can still be used');
        await byId(page, 'menu-logout').waitFor();
        const problems = await look(page, 'menu', lang, false);
        assert(!problems.length, `the open menu:\n${problems.join('\n')}`);
        await page.keyboard.press('Escape');
        await byId(page, 'nav-members').waitFor({ state: 'hidden' });
        assert(await button.getAttribute('aria-expanded') === 'false', 'Escape closed the menu but the button says it is open');
        assert(await button.evaluate((b) => b === document.activeElement), 'after Escape the focus is not on the menu button');
        assert(!(await byId(page, 'main').evaluate((m) => m.inert)), 'the page stays inert after the menu closed');
        await button.click();
        await byId(page, 'nav-members').click();
        await page.waitForURL(/#\/w\/\d+\/settings\/members$/);
        await byId(page, 'member-row').first().waitFor();
        await byId(page, 'nav-members').waitFor({ state: 'hidden' });
        assert(await button.getAttribute('aria-expanded') === 'false', 'the menu stays open after choosing a section');
        assert(await byId(page, 'page-title').evaluate((h1) => h1 === document.activeElement), 'the new section\'s heading does not have the focus');
        const title = (await byId(page, 'page-title').textContent()).trim();
        assert((await byId(page, 'header-section').textContent()).trim() === title, 'the top bar does not name the chosen section');
        // The backdrop closes it too.
        await button.click();
        await byId(page, 'nav-members').waitFor();
        await page.mouse.click(PHONE.width - 10, PHONE.height - 10);
        await byId(page, 'nav-members').waitFor({ state: 'hidden' });
        assert(await button.getAttribute('aria-expanded') === 'false', 'the backdrop closed the menu but the button says it is open');
      }, { page });
    } finally {
      await ctx.close();
    }
  }

  await check('wide screen: the navigation is still the sidebar, without a menu button', async () => {
    const page = t.page;
    assert(await byId(page, 'nav-calendar').isVisible(), 'the navigation is not shown at 1280 px');
    assert(await byId(page, 'menu-button').isHidden(), 'the menu button shows at 1280 px');
    assert(await byId(page, 'header-section').isHidden(), 'the top bar repeats the section\'s name at 1280 px');
    assert(await byId(page, 'logout').isVisible(), 'Log out is not in the top bar at 1280 px');
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert(wide <= 0, `the page is ${wide} px wider than the window at 1280 px`);
  }, { page: t.page });
}
