// Images on posts (P16) in the composer: two pictures chosen through the file field, each
// uploaded at once and shown from what the server stored (no blob: URL; the CSP stays
// img-src 'self' data:); with the workspace requiring alt text the post is held until each
// has one; the post goes out to a file channel whose line names each image's alt text and
// SHA-256; on a phone (390x844) in Norwegian the picker fits without sideways scrolling.
// The pictures are made by tests/tools/image_tool (built beside samtale).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const FILE = 'media-e2e.jsonl';
const CHANNEL = 'Media file';

function tool(...args) {
  const bin = path.join(path.dirname(process.env.SAMTALE_BIN || path.resolve('../../build/samtale')), 'image_tool');
  return execFileSync(bin, args.map(String), { timeout: 30_000, maxBuffer: 64 << 20 });
}

export default async function (t) {
  const { page, check, assert, byId, waitText, cli, sql, openComposer, chooseChannels, submitPost, apiStatus,
    pickLanguage, newContext, watch, loginAs, tmp, OUT, OWNER_EMAIL, OWNER_PASSWORD } = t;
  const photo = path.join(tmp, 'fjord.jpg');
  const chart = path.join(tmp, 'chart.png');
  let picked = [];
  const wid = () => Number(sql("SELECT id FROM workspaces WHERE name = 'Acme'"));

  await check('two images are uploaded from the composer and shown as the server stored them', async () => {
    fs.writeFileSync(photo, tool('make', 1200, 800, 'jpeg', 'gps'));
    fs.writeFileSync(chart, tool('make', 300, 300, 'png'));
    cli(['channel', 'add', '--workspace', 'Acme', '--kind', 'file', '--no-verify', '--name', CHANNEL, '--setting', `path=${FILE}`]);
    sql('UPDATE workspaces SET require_alt_text = 1');
    await page.reload();
    await byId(page, 'app-header').waitFor();
    await openComposer(page);
    await byId(page, 'composer-media').waitFor();
    await byId(page, 'media-input').setInputFiles([photo, chart]);
    const items = byId(page, 'media-item');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="media-item"][data-media-id]').length === 2);
    assert(await items.count() === 2, `${await items.count()} images listed`);
    for (const item of await items.all()) {
      const src = await item.getByTestId('media-thumb').getAttribute('src');
      assert(/^\/api\/v1\/workspaces\/\d+\/media\/\d+$/.test(src || ''), `a thumbnail comes from ${src}`);
      const thumb = await item.getByTestId('media-thumb').elementHandle();
      const loaded = await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, thumb, { timeout: 10_000 })
        .then(() => true, () => false);
      assert(loaded, `the thumbnail ${src} did not load`);
      picked.push({ id: Number(await item.getAttribute('data-media-id')), sha: await item.getAttribute('data-sha256') });
    }
    assert(picked.every((p) => /^[0-9a-f]{64}$/.test(p.sha)), `sha256s ${JSON.stringify(picked)}`);
    // The thumbnail is what the server stored: the photo's location is gone from it.
    const res = await page.request.get(new URL(`api/v1/workspaces/${wid()}/media/${picked[0].id}`, t.base).href);
    await apiStatus(res, 200);
    assert(res.headers()['content-type'] === 'image/jpeg' && res.headers()['x-content-type-options'] === 'nosniff',
      `the image answers ${JSON.stringify(res.headers())}`);
    assert(!(await res.body()).includes('Exif'), 'the stored photo still has an EXIF block');
  }, { page });

  await check('alt text is required when the workspace asks for it, then the post publishes the images', async () => {
    await byId(page, 'composer-text').fill('Fjorden i morgenlys, og kartet over turen');
    await chooseChannels(page, [CHANNEL]);
    await byId(page, 'schedule-now').check();
    const alts = byId(page, 'media-alt');
    assert(await alts.first().evaluate((el) => el.required), 'the alt field is not marked required');
    await waitText(byId(page, 'composer-media'), 'required');
    await byId(page, 'composer-submit').click();
    await waitText(byId(page, 'media-item-error').first(), 'requires alt text');
    assert(await alts.first().evaluate((el) => el === document.activeElement), 'the first alt field is not focused');
    await alts.nth(0).fill('Fjord at sunrise, mist over the water');
    await alts.nth(1).fill('Map of the hike, red square marks the cabin');
    const res = await submitPost(page);
    await apiStatus(res, 201);
    const post = await res.json();
    assert(post.media.length === 2 && post.media[0].alt.startsWith('Fjord at sunrise'), JSON.stringify(post.media));
    await byId(page, 'composer-done').waitFor();
    assert(await byId(page, 'media-item').count() === 0, 'the images stay after the post was sent');
    const file = path.join(tmp, 'files', FILE);
    let line = null;
    for (let i = 0; i < 200 && !line; i++) {
      if (fs.existsSync(file)) {
        line = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
          .find((l) => l.post_id === post.id) || null;
      }
      if (!line) await new Promise((r) => setTimeout(r, 100));
    }
    assert(line, `no line for post ${post.id} in ${FILE}`);
    assert(JSON.stringify(line.media.map((m) => [m.sha256, m.alt])) === JSON.stringify([
      [picked[0].sha, 'Fjord at sunrise, mist over the water'], [picked[1].sha, 'Map of the hike, red square marks the cabin']]),
    `the file channel wrote ${JSON.stringify(line.media)}`);
    sql('UPDATE workspaces SET require_alt_text = 0');
  }, { page });

  await check('on a phone in Norwegian the image picker fits without sideways scrolling', async () => {
    const ctx = await newContext({ viewport: { width: 390, height: 844 }, timezoneId: 'Europe/Oslo', locale: 'nb-NO' });
    const phone = await ctx.newPage();
    watch(phone);
    try {
      sql('UPDATE workspaces SET require_alt_text = 1');
      await phone.goto(t.base);
      await loginAs(phone, OWNER_EMAIL, OWNER_PASSWORD);
      await byId(phone, 'app-header').waitFor();
      await pickLanguage(phone, 'nb');
      await phone.goto(new URL(`#/w/${wid()}/composer`, t.base).href);
      await byId(phone, 'composer-media').waitFor();
      await waitText(byId(phone, 'composer-media'), 'Bilder');
      await byId(phone, 'media-input').setInputFiles([photo, chart]);
      await phone.waitForFunction(() => document.querySelectorAll('[data-testid="media-item"][data-media-id]').length === 2);
      await waitText(byId(phone, 'composer-media'), 'Alt-tekst for bilde 2');
      await waitText(byId(phone, 'composer-media'), 'påkrevd');
      const wide = await phone.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      assert(wide[0] <= wide[1], `the page is ${wide[0]} px wide on a ${wide[1]} px screen`);
      for (const box of await byId(phone, 'media-item').all()) {
        const b = await box.boundingBox();
        assert(b && b.x >= 0 && b.x + b.width <= 390 + 0.5, `an image row reaches ${b && b.x + b.width} px`);
      }
      await byId(phone, 'media-remove').first().click();
      assert(await byId(phone, 'media-item').count() === 1, 'Fjern did not remove the image');
      await phone.screenshot({ path: path.join(OUT, 'composer-media-phone.png'), fullPage: false });
    } finally {
      sql('UPDATE workspaces SET require_alt_text = 0');
      await ctx.close();
    }
  }, { page });
}
