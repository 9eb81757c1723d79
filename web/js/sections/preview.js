/* samtale dashboard: the composer's previews of a post (P2), one per channel chosen.
 *
 * previewPane(ctx, opts) builds a card that shows the post as each channel will publish
 * it, from POST .../preview (the server cuts the text exactly as the publisher does): the
 * count and the network's limit, the numbered parts of a thread, the links, mentions and
 * tags each part marks, which part carries the images (shown from GET .../media/{id}) and
 * which the link's card (its title, description and site; the page's own image is not
 * loaded, so the page's CSP stays img-src 'self'). opts: { wid, read() -> {text, link,
 * channels: [{id, name, kind}], media: [{id, alt}]} }. update() asks again after a pause;
 * nothing is asked while the text or the channels are empty.
 */

import { API } from '../core/state.js';
import { t, setT } from '../core/lang.js';
import { h, append, clear } from '../core/dom.js';
import { call } from '../core/api.js';
import { kindChip } from '../core/post_util.js';

var DELAY_MS = 700;           // after the last change; a link's page is read at most this often

// The part's text with its marks (UTF-16 offsets, as the server gives them) as spans.
function markedText(text, marks) {
  var out = [];
  var at = 0;
  (Array.isArray(marks) ? marks : []).slice().sort(function (a, b) { return a.start - b.start; }).forEach(function (m) {
    var s = Number(m.start), e = Number(m.end);
    if (!(s >= at && e > s && e <= text.length)) return;
    if (s > at) out.push(document.createTextNode(text.slice(at, s)));
    out.push(h('span', { class: 'pv-mark pv-mark-' + (['link', 'mention', 'tag'].indexOf(m.kind) >= 0 ? m.kind : 'link'),
      testid: 'preview-mark', 'data-kind': String(m.kind), user: text.slice(s, e) }));
    at = e;
  });
  if (at < text.length) out.push(document.createTextNode(text.slice(at)));
  return out;
}

export function previewPane(ctx, opts) {
  var wid = opts.wid;
  var timer = null;
  var seq = 0;
  var last = null;            // the last answer, kept while a new one is asked
  var chosenTab = null;       // the channel id whose preview shows
  var status = h('p', { class: 'hint pv-status', testid: 'preview-status', role: 'status' });
  var tabs = h('div', { class: 'pv-tabs', role: 'tablist', testid: 'preview-tabs' });
  var body = h('div', { class: 'pv-body', testid: 'preview-body' });
  var el = h('section', { class: 'pv', testid: 'composer-preview', 'aria-labelledby': 'pv-title', hidden: true },
    h('h2', { id: 'pv-title', class: 'composer-step', t: 'preview.title' }),
    h('p', { class: 'hint', t: 'preview.lead' }),
    status, tabs, body);

  function channelOf(id) {
    var chs = opts.read().channels;
    for (var i = 0; i < chs.length; i++) if (chs[i].id === id) return chs[i];
    return null;
  }

  function partView(p, k, n, media, card) {
    var images = p.images && media.length
      ? h('div', { class: 'pv-images pv-images-' + Math.min(media.length, 4), testid: 'preview-images' }, media.map(function (m) {
        return h('img', { src: API + '/workspaces/' + wid + '/media/' + Number(m.id), alt: m.alt || '', class: 'pv-image' });
      })) : null;
    var cardView = p.card && card
      ? h('div', { class: 'pv-card', testid: 'preview-card' },
        card.site ? h('span', { class: 'pv-card-site', user: card.site }) : null,
        h('strong', { class: 'pv-card-title', user: card.title || card.uri }),
        card.description ? h('span', { class: 'pv-card-desc', user: card.description }) : null,
        h('span', { class: 'pv-card-uri', user: card.uri })) : null;
    return h('li', { class: 'pv-part', testid: 'preview-part', 'data-part': String(k + 1) },
      n > 1 ? h('span', { class: 'pv-part-no', t: 'preview.part', tp: { k: k + 1, n: n } }) : null,
      h('p', { class: 'pv-text', testid: 'preview-text' }, markedText(String(p.text || ''), p.marks)),
      images, cardView);
  }

  function render() {
    clear(tabs);
    clear(body);
    if (!last) return;
    var previews = Array.isArray(last.previews) ? last.previews : [];
    if (!previews.length) return;
    if (!previews.some(function (p) { return p.channel_id === chosenTab; })) chosenTab = previews[0].channel_id;
    var media = opts.read().media;
    previews.forEach(function (p) {
      var ch = channelOf(p.channel_id) || { name: '#' + p.channel_id, kind: p.kind };
      var on = p.channel_id === chosenTab;
      var tab = h('button', { type: 'button', role: 'tab', class: 'pv-tab', testid: 'preview-tab', 'aria-selected': on ? 'true' : 'false',
        'data-channel-id': String(p.channel_id), tabindex: on ? '0' : '-1' },
        h('span', { class: 'name', user: ch.name }), ' ', kindChip(ch.kind));
      tab.addEventListener('click', function () { chosenTab = p.channel_id; render(); });
      tabs.appendChild(tab);
    });
    var p = previews.filter(function (x) { return x.channel_id === chosenTab; })[0];
    var parts = Array.isArray(p.parts) ? p.parts : [];
    var over = p.limit && parts.length > 1;
    append(body, [
      h('p', { class: 'pv-count' + (over ? ' is-thread' : ''), testid: 'preview-count' },
        p.limit ? h('span', { t: parts.length > 1 ? 'preview.countThread' : 'preview.count',
          tp: { n: Number(p.length) || 0, limit: p.limit, parts: parts.length } })
          : h('span', { t: 'preview.countPlain', tp: { n: Number(p.length) || 0 } })),
      parts.length ? h('ol', { class: 'pv-parts' }, parts.map(function (part, k) { return partView(part, k, parts.length, media, last.card); }))
        : h('p', { class: 'message message-error', t: 'preview.tooLong' }),
      p.network === 'bluesky' && last.card_error ? h('p', { class: 'hint', testid: 'preview-card-error', user: last.card_error }) : null,
      p.network === 'bluesky' && last.card && media.length && !parts.some(function (x) { return x.card; })
        ? h('p', { class: 'hint', testid: 'preview-card-moved', t: 'preview.cardWithImages' }) : null,
      p.network === 'mastodon' && opts.read().link ? h('p', { class: 'hint', t: 'preview.mastodonCard' }) : null
    ]);
  }

  function ask() {
    timer = null;
    var s = opts.read();
    var chs = s.channels;
    if (!s.text.trim() || !chs.length) { el.hidden = true; last = null; return; }
    var mine = ++seq;
    var req = { text: s.text, channels: chs.map(function (c) { return c.id; }), images: s.media.length };
    if (s.link) req.link = s.link;
    setT(status, 'preview.loading');
    el.hidden = false;
    el.setAttribute('aria-busy', 'true');
    call('POST', '/workspaces/' + wid + '/preview', req).then(function (doc) {
      if (!ctx.alive() || mine !== seq) return;
      last = doc || null;
      status.textContent = '';
      el.removeAttribute('aria-busy');
      render();
    }, function (err) {
      if (!ctx.alive() || mine !== seq) return;
      el.removeAttribute('aria-busy');
      // A field the form already marks (an empty text, a bad link) needs no second word here.
      setT(status, 'preview.failed', { message: (err && err.message) || '' });
    });
  }

  return {
    el: el,
    update: function () {
      if (timer) window.clearTimeout(timer);
      timer = window.setTimeout(ask, DELAY_MS);
    },
    // Drawn again in the page's language, or when the images changed (no new request).
    redraw: render,
    reset: function () {
      if (timer) window.clearTimeout(timer);
      timer = null;
      seq++;
      last = null;
      el.hidden = true;
      clear(tabs);
      clear(body);
    }
  };
}
