/* samtale dashboard, section Inbox: mentions, replies, quotes and direct messages that the
 * reading channels (Bluesky, Mastodon) bring in, filtered by channel and kind, with a button
 * that asks the networks for new ones now.
 */

import { READING_KINDS } from '../core/state.js';
import { setT, dateEl, onLanguage } from '../core/lang.js';
import { h, userText, checkedUrl, isExternal, link, append, clear, icon, messageBox, button,
  pageHeader, showError } from '../core/dom.js';
import { call, pager, allChannels } from '../core/api.js';
import { kindChip } from '../core/post_util.js';

var MESSAGE_KINDS = ['mention', 'reply', 'quote', 'direct'];

export function inboxView(ctx) {
  var wid = ctx.wid;
  var base = '/workspaces/' + wid + '/messages';
  var channels = null;        // every channel of the workspace, once loaded
  var messages = [];
  var loaded = false;
  var listMsg = messageBox('inbox-message');

  var channelSel = h('select', { id: 'inbox-channel', testid: 'inbox-channel' }, h('option', { value: '', t: 'inbox.allChannels' }));
  var kindSel = h('select', { id: 'inbox-kind', testid: 'inbox-kind' }, h('option', { value: '', t: 'inbox.allKinds' }),
    MESSAGE_KINDS.map(function (k) { return h('option', { value: k, t: 'message.kind.' + k }); }));
  var checkBtn = button('inbox.check', { kind: 'primary', small: true, testid: 'inbox-check' });
  var checkStatus = h('div', { class: 'inbox-check-status', testid: 'inbox-check-status', role: 'status', 'aria-live': 'polite', hidden: true });
  var listEl = h('ol', { class: 'inbox-list', testid: 'inbox-list', 'aria-labelledby': 'inbox-list-title' });
  var empty = h('div', { class: 'inbox-empty', testid: 'inbox-empty', hidden: true });
  var more = button('list.more', { testid: 'inbox-more' });
  var count = h('span', { class: 'count', testid: 'inbox-count' });

  var page = h('section', { class: 'page', testid: 'section-inbox', 'aria-labelledby': 'page-title' },
    pageHeader('nav.inbox', 'inbox.lead'),
    h('div', { class: 'card inbox-card' },
      h('div', { class: 'inbox-toolbar' },
        h('div', { class: 'inbox-filters' },
          h('div', { class: 'field' }, h('label', { for: 'inbox-channel', class: 'label', t: 'inbox.filterChannel' }), channelSel),
          h('div', { class: 'field' }, h('label', { for: 'inbox-kind', class: 'label', t: 'inbox.filterKind' }), kindSel)),
        checkBtn),
      checkStatus,
      h('div', { class: 'card-head' }, h('h2', { id: 'inbox-list-title', t: 'inbox.listHeading' }), count),
      listMsg.el,
      listEl, empty,
      h('div', { class: 'list-foot' }, more)));

  function path() {
    var q = [];
    if (channelSel.value) q.push('channel=' + encodeURIComponent(channelSel.value));
    if (kindSel.value) q.push('kind=' + encodeURIComponent(kindSel.value));
    return base + (q.length ? '?' + q.join('&') : '');
  }

  function messageItem(m) {
    var kind = MESSAGE_KINDS.indexOf(m.kind) >= 0 ? m.kind : null;
    var author = m.author || {};
    var handle = typeof author.handle === 'string' ? author.handle.replace(/^@/, '') : '';
    var name = typeof author.name === 'string' ? author.name.trim() : '';
    var url = checkedUrl(m.remote_url);
    if (url && !isExternal(url)) url = null; // a network's address, never one of our routes
    var textId = 'msg-text-' + m.id;
    var text = h('p', { class: 'msg-text is-clamped', id: textId, testid: 'inbox-text', user: m.text || '' });
    var toggle = h('button', { type: 'button', class: 'btn btn-link msg-toggle', testid: 'inbox-text-toggle', 'aria-controls': textId,
      'aria-expanded': 'false', t: 'inbox.showMore', hidden: true });
    toggle.addEventListener('click', function () {
      var open = !text.classList.toggle('is-clamped');
      toggle.setAttribute('aria-expanded', String(open));
      setT(toggle, open ? 'inbox.showLess' : 'inbox.showMore');
    });
    return h('li', { class: 'msg msg-' + (kind || 'other'), testid: 'inbox-item', 'data-message-id': String(m.id), 'data-kind': String(m.kind || ''),
      'data-channel-id': String(m.channel_id) },
      h('div', { class: 'msg-head' },
        h('span', { class: 'mkind mkind-' + (kind || 'other'), testid: 'inbox-kind-badge', t: kind ? 'message.kind.' + kind : null, user: kind ? null : String(m.kind || '') }),
        h('span', { class: 'msg-author', testid: 'inbox-author' },
          name ? userText(name, { class: 'msg-name', testid: 'inbox-author-name' }) : null,
          handle ? userText('@' + handle, { class: 'msg-handle', testid: 'inbox-author-handle' }) : null,
          !name && !handle ? h('span', { class: 'muted', t: 'inbox.unknownAuthor' }) : null),
        h('span', { class: 'msg-where' },
          h('span', { class: 'visually-hidden', t: 'inbox.via' }), ' ',
          userText(m.channel || ('#' + m.channel_id), { class: 'msg-channel', testid: 'inbox-channel-name' }), ' ',
          m.channel_kind ? kindChip(m.channel_kind) : null),
        m.created_at ? dateEl(m.created_at) : null),
      text, toggle,
      url ? h('p', { class: 'msg-foot' }, link(url, { testid: 'inbox-open', t: 'inbox.open' })) : null);
  }

  // Long texts stop after a few lines, with "Show more" where that hides something.
  function measure() {
    if (!ctx.alive()) return;
    listEl.querySelectorAll('.msg-text.is-clamped').forEach(function (text) {
      var toggle = text.nextSibling;
      if (toggle && toggle.classList.contains('msg-toggle')) toggle.hidden = text.scrollHeight <= text.clientHeight + 1;
    });
  }
  function onResize() {
    if (!ctx.alive()) { window.removeEventListener('resize', onResize); return; }
    measure();
  }
  window.addEventListener('resize', onResize);

  function readable() {
    return (channels || []).filter(function (ch) { return READING_KINDS.indexOf(ch.kind) >= 0; });
  }

  function renderEmpty() {
    clear(empty);
    empty.hidden = !loaded || messages.length > 0;
    if (empty.hidden) return;
    if (channelSel.value || kindSel.value) {
      append(empty, [
        h('p', { class: 'inbox-empty-title', t: 'inbox.emptyFiltered' }),
        button('inbox.clearFilters', { small: true, testid: 'inbox-clear-filters', onClick: function () {
          channelSel.value = '';
          kindSel.value = '';
          list.reload();
        } })
      ]);
      return;
    }
    var none = channels !== null && !readable().length;
    append(empty, [
      h('div', { class: 'later-icon' }, icon('inbox')),
      h('div', null,
        h('p', { class: 'inbox-empty-title', t: 'inbox.empty.title' }),
        h('p', { t: 'inbox.empty.what' }),
        h('p', { t: 'inbox.empty.when' }),
        none ? h('p', { testid: 'inbox-empty-connect' }, h('span', { t: 'inbox.empty.noChannels' }), ' ',
          h('a', { href: '#/w/' + wid + '/settings/channels', t: 'later.meanwhileLink' })) : null)
    ]);
  }

  function renderList() {
    clear(listEl);
    messages.forEach(function (m) { listEl.appendChild(messageItem(m)); });
    listEl.hidden = !messages.length;
    setT(count, 'inbox.count', { n: messages.length });
    count.hidden = !messages.length;
    renderEmpty();
    window.requestAnimationFrame(measure);
  }

  var list = pager(path, more, function (items, reset) {
    if (reset) messages = [];
    messages = messages.concat(items);
    loaded = true;
    listMsg.clear();
    renderList();
  }, function (err) { showError(listMsg, err); });

  channelSel.addEventListener('change', function () { list.reload(); });
  kindSel.addEventListener('change', function () { list.reload(); });

  /* "Check now": every active Bluesky and Mastodon channel is read at once */
  checkBtn.addEventListener('click', function () {
    var all = readable();
    var active = all.filter(function (ch) { return (ch.status || 'active') === 'active'; });
    clear(checkStatus);
    checkStatus.className = 'inbox-check-status';
    checkStatus.hidden = false;
    if (!active.length) {
      checkStatus.appendChild(h('p', { testid: 'inbox-check-result', t: all.length ? 'inbox.check.allWaiting' : 'inbox.check.noChannels' }));
      return;
    }
    checkBtn.disabled = true;
    checkStatus.appendChild(h('p', { t: 'inbox.check.busy', tp: { n: active.length } }));
    Promise.all(active.map(function (ch) {
      return call('POST', '/workspaces/' + wid + '/channels/' + ch.id + '/read').then(
        function (res) { return { ch: ch, res: res || {} }; },
        function (err) { return { ch: ch, err: err }; });
    })).then(function (results) {
      checkBtn.disabled = false;
      if (!ctx.alive()) return;
      var fresh = 0;
      var problems = [];
      results.forEach(function (r) {
        if (r.err) { if (!r.err.handled) problems.push({ ch: r.ch, message: r.err.message }); return; }
        fresh += Number(r.res.new_messages) || 0;
        if (r.res.ok === false) problems.push({ ch: r.ch, message: (r.res.channel && r.res.channel.status_message) || null });
      });
      clear(checkStatus);
      checkStatus.className = 'inbox-check-status ' + (problems.length ? 'has-problems' : 'is-ok');
      append(checkStatus, [
        h('p', { testid: 'inbox-check-result' },
          h('span', { t: 'inbox.check.checked', tp: { n: active.length } }), ' ',
          h('strong', { t: 'inbox.check.new', tp: { n: fresh } })),
        problems.length ? h('ul', { class: 'inbox-check-problems', testid: 'inbox-check-problems' }, problems.map(function (p) {
          return h('li', { testid: 'inbox-check-problem', 'data-channel-id': String(p.ch.id) },
            h('span', { class: 'name', user: p.ch.name }), h('span', { 'aria-hidden': 'true', text: ': ' }),
            p.message ? h('span', { user: p.message }) : h('span', { t: 'inbox.check.failed' }));
        })) : null,
        all.length > active.length ? h('p', { class: 'hint', t: 'inbox.check.skipped', tp: { n: all.length - active.length } }) : null
      ]);
      list.reload();
    });
  });

  onLanguage(ctx, function () { window.requestAnimationFrame(measure); });

  listEl.hidden = true;
  list.reload();
  allChannels(wid).then(function (all) {
    if (!ctx.alive()) return;
    channels = all;
    all.slice().sort(function (a, b) { return String(a.name).localeCompare(String(b.name)); }).forEach(function (ch) {
      channelSel.appendChild(h('option', { value: String(ch.id), user: ch.name }));
    });
    renderEmpty();
  }, function (err) {
    if (!ctx.alive()) return;
    channels = [];
    showError(listMsg, err);
  });

  return page;
}
