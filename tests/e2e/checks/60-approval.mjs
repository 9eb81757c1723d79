// Browser checks of approval (PRODUCT.md P12): the owner turns it on for agents' posts in
// Settings > Members; an agent writes a post in the composer and is told it went for
// approval; the calendar marks it; the owner sees the count in the navigation, reads it in
// the queue and approves it, and it goes out; a post sent back with a note shows the note to
// its author, whose change sends it back; the queue and the author's page at phone width;
// the agent's page in Norwegian. Every wait is on a condition (the page, or the database).

import fs from 'node:fs';
import path from 'node:path';

const AGENT_EMAIL = 'agnes.agent@example.com';
const AGENT_NAME = 'Agnes Agent';
const AGENT_PASSWORD = 'agents write posts too';
const CHANNEL = 'Approval file';
const FILE = 'approval-e2e.jsonl';

// Calls fn until it returns a true value (the database or a file reached a state the server
// gets to by itself); fails after ms saying what was awaited.
async function until(fn, what, ms = 15_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export default async function (t) {
  const { page, base, check, assert, byId, waitText, cli, sql, openComposer, chooseChannels, submitPost,
    apiStatus, pickLanguage, newContext, watch, loginAs, assertIsolated, tmp, OUT } = t;
  let agentCtx = null;
  let agent = null;
  let firstId = 0;
  let secondId = 0;
  const postState = (id) => sql(`SELECT state FROM occurrences WHERE post_id = ${Number(id)}`);
  const noSideways = async (pg, where) => {
    const [sw, cw] = await pg.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    assert(sw <= cw, `${where} scrolls sideways at phone width: ${sw}px of content in ${cw}px`);
  };
  const queueItem = (pg, id) => pg.locator(`[data-testid="approval-item"][data-post-id="${id}"]`);
  // A section by its navigation link; below 860 px the navigation waits behind the menu
  // button, which closes again once a section is chosen.
  const go = async (pg, id) => {
    const menu = byId(pg, 'menu-button');
    if (await menu.isVisible() && await menu.getAttribute('aria-expanded') !== 'true') await menu.click();
    await byId(pg, `nav-${id}`).click();
  };
  // The language, from the top bar, or on a narrow screen from the menu (closed again).
  const pickLang = async (pg, code) => {
    const menu = byId(pg, 'menu-button');
    if (!(await menu.isVisible())) return pickLanguage(pg, code);
    if (await menu.getAttribute('aria-expanded') !== 'true') await menu.click();
    await byId(pg, 'menu-lang-switch').selectOption(code);
    await pg.locator(`html[lang="${code}"]`).waitFor({ state: 'attached' });
    await pg.keyboard.press('Escape');
    await byId(pg, 'app-menu').locator('.nav-link').first().waitFor({ state: 'hidden' });
  };

  await check('approval: an owner lets agents\' posts wait for an approver (Settings > Members)', async () => {
    cli(['user', 'add', '--email', AGENT_EMAIL, '--name', AGENT_NAME, '--workspace', 'Acme', '--role', 'agent', '--password-stdin'],
      AGENT_PASSWORD + '\n');
    cli(['channel', 'add', '--workspace', 'Acme', '--kind', 'file', '--name', CHANNEL, '--setting', `path=${FILE}`]);
    await byId(page, 'nav-members').click();
    const card = byId(page, 'workspace-approval');
    await card.waitFor();
    assert(await byId(page, 'approval-mode-off').isChecked(), 'approval is not off in a new workspace');
    const [res] = await Promise.all([
      page.waitForResponse((r) => /\/workspaces\/\d+$/.test(new URL(r.url()).pathname) && r.request().method() === 'PATCH'),
      card.getByText("Agents' posts", { exact: true }).click(),
    ]);
    await apiStatus(res, 200);
    assert(JSON.parse(res.request().postData()).approval === 'agents', `sent ${res.request().postData()}`);
    await waitText(byId(page, 'approval-setting-message'), 'From now on');
    assert(await byId(page, 'approval-mode-agents').isChecked(), 'the choice is not shown as made');
  }, { page });

  await check('approval: an agent writes a post; it is sent for approval and waits, marked in the calendar', async () => {
    agentCtx = await newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB', timezoneId: 'Europe/Oslo' });
    agent = await agentCtx.newPage();
    watch(agent);
    await agent.goto(base);
    await loginAs(agent, AGENT_EMAIL, AGENT_PASSWORD);
    if (await byId(agent, 'password-form').isVisible()) {
      await byId(agent, 'password-new').fill(AGENT_PASSWORD + ' again');
      await byId(agent, 'password-repeat').fill(AGENT_PASSWORD + ' again');
      await byId(agent, 'password-submit').click();
    }
    await byId(agent, 'app-header').waitFor();
    await openComposer(agent);
    await chooseChannels(agent, [CHANNEL]);
    await byId(agent, 'composer-text').fill('Our spring bulbs are in: come and see the tulips!');
    await byId(agent, 'schedule-now').check();
    const res = await submitPost(agent);
    await apiStatus(res, 201);
    const post = await res.json();
    firstId = post.id;
    assert(post.approval && post.approval.state === 'pending', `the post's approval is ${JSON.stringify(post.approval)}`);
    await waitText(byId(agent, 'composer-done'), 'Sent for approval');
    await byId(agent, 'composer-done-approval').waitFor();
    // Due now, and held: the calendar says so.
    await byId(agent, 'nav-calendar').click();
    const occ = agent.locator(`[data-testid="occurrence"][data-post-id="${firstId}"]`);
    await waitText(occ.getByTestId('occurrence-approval'), 'Awaiting approval');
    await occ.click();
    await waitText(byId(agent, 'details-approval'), 'waiting for approval');
    await byId(agent, 'details-close').click();
    assert(postState(firstId) === 'scheduled', `the agent's post is ${postState(firstId)} before approval`);
  }, { page: agent || page });

  await check('approval: the owner sees the count in the navigation and approves the post in the queue; it goes out', async () => {
    await byId(page, 'nav-approvals').click();
    await waitText(byId(page, 'page-title'), 'Approvals');
    await waitText(byId(page, 'nav-count-approvals'), '1');
    const item = queueItem(page, firstId);
    await waitText(item.getByTestId('approval-text'), 'spring bulbs');
    await waitText(item.getByTestId('approval-author'), AGENT_NAME);
    await waitText(item.getByTestId('approval-where'), CHANNEL);
    await waitText(item.getByTestId('approval-due'), 'due now');
    await assertIsolated(page, AGENT_NAME, 'the approval queue', '[data-testid="approval-queue"]');
    // Keyboard: the note and the decision are reached and used without a mouse.
    await item.getByTestId('approval-note').focus();
    await page.keyboard.type('Lovely, go ahead');
    await item.getByTestId('approval-approve').focus();
    const [res] = await Promise.all([
      page.waitForResponse((r) => /\/posts\/\d+\/approve$/.test(new URL(r.url()).pathname)),
      page.keyboard.press('Enter'),
    ]);
    await apiStatus(res, 200);
    assert(JSON.parse(res.request().postData()).note === 'Lovely, go ahead', 'the note was not sent');
    await waitText(page.locator(`[data-testid="approval-decided"][data-post-id="${firstId}"]`), 'approved');
    await byId(page, 'nav-count-approvals').waitFor({ state: 'hidden' });
    await until(() => postState(firstId) === 'published', `post ${firstId} to go out`);
    const file = path.join(tmp, 'files', FILE);
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((l) => l.type === 'publish');
    assert(lines.length === 1 && lines[0].post_id === firstId, `the file channel wrote ${JSON.stringify(lines)}`);
  }, { page });

  await check('approval: changes requested with a note reach the author, whose change sends the post back', async () => {
    await byId(agent, 'nav-composer').click();
    await openComposer(agent);
    await chooseChannels(agent, [CHANNEL]);
    await byId(agent, 'composer-text').fill('BUY NOW!!! Tulips!!!');
    await byId(agent, 'schedule-next-slot').check();
    const res = await submitPost(agent);
    await apiStatus(res, 201);
    secondId = (await res.json()).id;
    await waitText(byId(agent, 'composer-done'), 'Sent for approval');

    await byId(page, 'nav-calendar').click();
    await byId(page, 'nav-approvals').click();
    const item = queueItem(page, secondId);
    await waitText(item.getByTestId('approval-text'), 'BUY NOW');
    // A request for changes needs a note: refused at the form without one.
    await item.getByTestId('approval-request-changes').click();
    await item.getByTestId('approval-note-error').waitFor();
    await item.getByTestId('approval-note').fill('Less shouting, please, and say what a bag costs.');
    const [rc] = await Promise.all([
      page.waitForResponse((r) => /\/request-changes$/.test(new URL(r.url()).pathname)),
      item.getByTestId('approval-request-changes').click(),
    ]);
    await apiStatus(rc, 200);
    await waitText(page.locator(`[data-testid="approval-decided"][data-post-id="${secondId}"]`), 'went back');

    // The author: a notice on the next page, and the note on the post.
    await byId(agent, 'nav-approvals').click();
    await waitText(byId(agent, 'approval-notice'), 'asked for changes');
    await waitText(byId(agent, 'approval-notice-note'), 'Less shouting');
    await assertIsolated(agent, 'Less shouting', 'the notice', '[data-testid="approval-notice"]');
    const mine = agent.locator(`[data-testid="my-approval"][data-post-id="${secondId}"][data-state="changes_requested"]`);
    await mine.waitFor();
    await waitText(mine.getByTestId('my-approval-note'), 'say what a bag costs');
    await mine.getByTestId('my-approval-text').fill('New spring tulips: 49 kr a bag of ten.');
    const [patch] = await Promise.all([
      agent.waitForResponse((r) => /\/posts\/\d+$/.test(new URL(r.url()).pathname) && r.request().method() === 'PATCH'),
      mine.getByTestId('my-approval-save').click(),
    ]);
    await apiStatus(patch, 200);
    await agent.locator(`[data-testid="my-approval"][data-post-id="${secondId}"][data-state="pending"]`).waitFor();
    await byId(agent, 'approval-notice-dismiss').click();
    await byId(agent, 'approval-notice').waitFor({ state: 'detached' });

    // Back in the owner's queue, with its history.
    await byId(page, 'nav-calendar').click();
    await byId(page, 'nav-approvals').click();
    const again = queueItem(page, secondId);
    await waitText(again.getByTestId('approval-text'), '49 kr');
    await again.locator('[data-testid="approval-step"][data-action="changes_requested"]').waitFor();
    await again.locator('[data-testid="approval-step"][data-action="resubmitted"]').waitFor();
    assert(postState(secondId) === 'scheduled', `post ${secondId} is ${postState(secondId)}`);
  }, { page });

  await check('approval: the queue and the author\'s page fit a phone (390x844) without sideways scrolling; the menu button shows the count', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await go(page, 'calendar');
      await waitText(byId(page, 'menu-count'), '1');
      await go(page, 'approvals');
      await queueItem(page, secondId).getByTestId('approval-approve').waitFor();
      await noSideways(page, 'the approval queue');
      await page.screenshot({ path: path.join(OUT, 'approvals-phone.png'), fullPage: true });
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
    await agent.setViewportSize({ width: 390, height: 844 });
    await go(agent, 'calendar');
    await go(agent, 'approvals');
    await agent.locator(`[data-testid="my-approval"][data-post-id="${secondId}"]`).waitFor();
    await noSideways(agent, 'the author\'s approvals');
  }, { page });

  await check('approval: the author\'s page in Norwegian bokmål', async () => {
    await pickLang(agent, 'nb');
    try {
      await waitText(byId(agent, 'page-title'), 'Godkjenning');
      await waitText(agent.locator(`[data-testid="my-approval"][data-post-id="${secondId}"]`).getByTestId('approval-state'),
        'Venter på godkjenning');
      await waitText(byId(agent, 'header-section'), 'Godkjenning');
      await byId(agent, 'menu-button').click();
      await waitText(byId(agent, 'nav-approvals'), 'Godkjenning');
      await agent.keyboard.press('Escape');
      await noSideways(agent, 'the Norwegian approvals page');
      await agent.screenshot({ path: path.join(OUT, 'approvals-nb-phone.png'), fullPage: true });
    } finally {
      await pickLang(agent, 'en');
    }
  }, { page: agent || page });

  await check('approval: the owner turns approval off again; the agent\'s last post is rejected with a note and cancelled', async () => {
    await byId(page, 'nav-approvals').click();
    const item = queueItem(page, secondId);
    await item.getByTestId('approval-note').fill('Not this week after all.');
    const [res] = await Promise.all([
      page.waitForResponse((r) => /\/reject$/.test(new URL(r.url()).pathname)),
      item.getByTestId('approval-reject').click(),
    ]);
    await apiStatus(res, 200);
    await until(() => postState(secondId) === 'cancelled', `post ${secondId} to be cancelled`);
    const audit = sql(`SELECT action FROM audit_log WHERE action IN ('post.approve', 'post.request_changes', 'post.reject') ORDER BY id`);
    assert(audit.split('\n').join(',') === 'post.approve,post.request_changes,post.reject', `the audit log holds ${audit}`);
    await byId(page, 'nav-members').click();
    const [off] = await Promise.all([
      page.waitForResponse((r) => /\/workspaces\/\d+$/.test(new URL(r.url()).pathname) && r.request().method() === 'PATCH'),
      byId(page, 'workspace-approval').getByText("Nobody's", { exact: true }).click(),
    ]);
    await apiStatus(off, 200);
    await waitText(byId(page, 'approval-setting-message'), 'Approval is off');
    if (agentCtx) await agentCtx.close();
    agentCtx = null;
  }, { page });
  if (agentCtx) await agentCtx.close().catch(() => {});
}
