// Browser checks of Settings > Import and export (web/js/sections/csv.js; docs/csv.md):
// a file with a problem shows the row's line and the problem in words and offers no
// import; the corrected file imports; the export downloads the posts as CSV; the page fits
// a phone's width; the problems come in Norwegian when the page is in Norwegian.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

// A picture made by tests/tools/image_tool (built beside samtale).
function picture(w, h) {
  const bin = path.join(path.dirname(process.env.SAMTALE_BIN || path.resolve('../../build/samtale')), 'image_tool');
  return execFileSync(bin, ['make', String(w), String(h), 'jpeg'], { timeout: 30_000, maxBuffer: 64 << 20 });
}

const CHANNEL = 'CSV blog';

// A spreadsheet's way of writing it: BOM, semicolons, CRLF, a text over two lines.
function file(rows) {
  return {
    name: 'plan.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from('\ufefftext;channels;time;category\r\n' + rows.join('\r\n') + '\r\n', 'utf8'),
  };
}

const WITH_PROBLEM = file([
  `CSV e2e first: spring is here;${CHANNEL};next slot;value`,
  `"CSV e2e second:\r\nour opening hours";CSV blogg;next slot;value`,
]);
const FIXED = file([
  `CSV e2e first: spring is here;${CHANNEL};next slot;value`,
  `"CSV e2e second:\r\nour opening hours";${CHANNEL};next slot;value`,
]);

export default async function (t) {
  const { page, check, assert, byId, waitText, cli, sql, pickLanguage } = t;

  async function openPage() {
    await byId(page, 'nav-import').click();
    await waitText(byId(page, 'page-title'), 'Import and export posts');
    await byId(page, 'csv-file').waitFor();
  }

  async function choose(f) {
    const [res] = await Promise.all([
      page.waitForResponse((r) => /\/posts\/import$/.test(new URL(r.url()).pathname)),
      byId(page, 'csv-file').setInputFiles(f),
    ]);
    await byId(page, 'csv-report').waitFor();
    return res;
  }

  await check('CSV import: a row with a problem is shown with its line and the problem in words', async () => {
    cli(['channel', 'add', '--workspace', 'Acme', '--kind', 'file', '--no-verify', '--name', CHANNEL,
      '--setting', 'path=csv-e2e.jsonl', '--slot', 'mon 10:00', '--slot', 'wed 10:00', '--slot', 'fri 10:00']);
    await openPage();
    const res = await choose(WITH_PROBLEM);
    assert(res.status() === 200, `the dry run answered ${res.status()}`);
    const sent = JSON.parse(res.request().postData() || '{}');
    assert(sent.dry_run === true, 'the first request is not a dry run');
    const row = page.locator('[data-testid="csv-row"][data-line="3"]');
    await row.waitFor();
    const problem = row.getByTestId('csv-problem');
    await waitText(problem, 'no channel is named');
    assert((await problem.getAttribute('data-field')) === 'channels', 'the problem does not name the channels column');
    assert((await problem.textContent()).includes('CSV blogg'), 'the problem does not quote the unknown name');
    await waitText(byId(page, 'csv-count-problems'), '1 with a problem');
    await byId(page, 'csv-fix-first').waitFor();
    assert(await byId(page, 'csv-import').count() === 0, 'an import is offered for a file with a problem');
    assert(sql(`SELECT count(*) FROM posts WHERE text LIKE 'CSV e2e%'`) === '0', 'a dry run stored posts');
  }, { page });

  await check('CSV import: the page fits a phone (390 x 844) without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.locator('[data-testid="csv-row"][data-line="3"]').waitFor();
      const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      assert(widths[0] <= widths[1], `the page is ${widths[0]} px wide in a ${widths[1]} px window`);
      const box = await page.locator('[data-testid="csv-row"][data-line="3"]').boundingBox();
      assert(box && box.x >= 0 && box.x + box.width <= 390, `the row's box ${JSON.stringify(box)} leaves the screen`);
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  }, { page });

  await check('CSV import: in Norwegian the problems are in Norwegian', async () => {
    await pickLanguage(page, 'nb');
    try {
      await waitText(byId(page, 'page-title'), 'Importer og eksporter innlegg');
      // The page asks again in the new language (the server words the problems).
      await waitText(page.locator('[data-testid="csv-row"][data-line="3"]').getByTestId('csv-problem'), 'ingen kanal heter');
      await waitText(page.locator('[data-testid="csv-row"][data-line="3"]'), 'Linje 3');
      await waitText(byId(page, 'csv-fix-first'), 'Ingenting importeres');
    } finally {
      await pickLanguage(page, 'en');
    }
  }, { page });

  await check('CSV import: the corrected file imports, once', async () => {
    await choose(FIXED);
    await byId(page, 'csv-all-good').waitFor();
    const imp = byId(page, 'csv-import');
    await waitText(imp, 'Import 2 posts');
    const [res] = await Promise.all([
      page.waitForResponse((r) => /\/posts\/import$/.test(new URL(r.url()).pathname)),
      imp.click(),
    ]);
    assert(res.status() === 201, `the import answered ${res.status()}`);
    const sent = JSON.parse(res.request().postData() || '{}');
    assert(!sent.dry_run && /^web-[0-9a-f]{32}$/.test(sent.import_id || ''), `the import was sent as ${JSON.stringify(sent).slice(0, 120)}`);
    await waitText(byId(page, 'csv-done'), 'Imported 2 posts');
    assert(sql(`SELECT count(*) FROM posts WHERE text LIKE 'CSV e2e%'`) === '2', 'the posts are not there');
    // The same request again (a retry): nothing is made twice.
    const again = await page.evaluate(async (body) => {
      const me = await (await fetch('/api/v1/me')).json();
      const wid = me.memberships[0].workspace_id;
      const r = await fetch(`/api/v1/workspaces/${wid}/posts/import`, {
        method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token }, body,
      });
      return [r.status, await r.json()];
    }, res.request().postData());
    assert(again[0] === 200 && again[1].already_imported === true, `a retry answered ${again[0]} ${JSON.stringify(again[1]).slice(0, 200)}`);
    assert(sql(`SELECT count(*) FROM posts WHERE text LIKE 'CSV e2e%'`) === '2', 'a retry made the posts twice');
  }, { page });

  await check('CSV import: images the file names are chosen beside it, uploaded, and go with their posts', async () => {
    await openPage();
    const rows = file([`CSV e2e image: the fjord;${CHANNEL};next slot;value;fjord.jpg;The fjord at dawn`]);
    rows.buffer = Buffer.from(rows.buffer.toString('utf8').replace('category\r\n', 'category;images;alt\r\n'), 'utf8');
    // Without the image the row says which one is missing.
    await choose(rows);
    const problem = page.locator('[data-testid="csv-row"][data-line="2"] [data-testid="csv-problem"]');
    await waitText(problem, 'fjord.jpg');
    assert((await problem.getAttribute('data-field')) === 'images', 'the problem does not name the images column');
    // Chosen beside the file, it is uploaded and the file is read again with it.
    const [res] = await Promise.all([
      page.waitForResponse((r) => /\/posts\/import$/.test(new URL(r.url()).pathname) &&
        JSON.parse(r.request().postData() || '{}').images),
      byId(page, 'csv-images').setInputFiles({ name: 'fjord.jpg', mimeType: 'image/jpeg', buffer: picture(800, 600) }),
    ]);
    assert(res.status() === 200, `the dry run with the image answered ${res.status()}`);
    await waitText(byId(page, 'csv-images-status'), '1 image ready');
    await byId(page, 'csv-all-good').waitFor();
    const [done] = await Promise.all([
      page.waitForResponse((r) => /\/posts\/import$/.test(new URL(r.url()).pathname) && !JSON.parse(r.request().postData() || '{}').dry_run),
      byId(page, 'csv-import').click(),
    ]);
    assert(done.status() === 201, `the import answered ${done.status()}`);
    await waitText(byId(page, 'csv-done'), 'Imported 1 post');
    const alt = sql(`SELECT pm.alt FROM post_media pm JOIN posts p ON p.id = pm.post_id WHERE p.text = 'CSV e2e image: the fjord'`);
    assert(alt === 'The fjord at dawn', `the post's image has the alt text ${JSON.stringify(alt)}`);
  }, { page });

  await check('CSV export: the download is the workspace\'s posts in the same format', async () => {
    await openPage();
    await byId(page, 'csv-export-separator').selectOption('comma');
    await byId(page, 'csv-export-state').selectOption('scheduled');
    const href = await byId(page, 'csv-export-link').getAttribute('href');
    assert(/\/posts\/export\?state=scheduled$/.test(href || ''), `the export link is ${href}`);
    const [dl] = await Promise.all([page.waitForEvent('download'), byId(page, 'csv-export-link').click()]);
    assert(/^samtale-posts-\d+-\d{4}-\d\d-\d\d\.csv$/.test(dl.suggestedFilename()), `the file is named ${dl.suggestedFilename()}`);
    const text = fs.readFileSync(await dl.path(), 'utf8');
    assert(text.startsWith('\ufefftext,channels,time,category,campaign,link,images'), `the file starts ${JSON.stringify(text.slice(0, 60))}`);
    assert(text.includes(`CSV e2e first: spring is here,${CHANNEL},`), 'the first imported post is not in the export');
    assert(text.includes('"CSV e2e second:\nour opening hours"'), 'the two-line text is not quoted whole');
  }, { page });
}
