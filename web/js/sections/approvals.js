/* samtale dashboard, section Approvals (PRODUCT.md P12): the posts that wait for an
 * approver before they go out.
 *
 * An approver reads each post where it would go (text, variants, link, author, channels and
 * times, what the checks find there, its history) and approves it, asks for changes with a
 * note, or rejects it with a note; a copy more than an hour past its time asks what to do
 * first. An author whose posts need approval sees their own waiting posts and the notes, and
 * changes a post sent back right here, which sends it back to the queue. Also, for the shell:
 * the navigation's count (what waits for the approver; for an author, what needs changes),
 * the notice of decisions on the author's posts, and, for the Members page, the owner's
 * setting of whose posts need approval.
 */

import { state } from '../core/state.js';
import { t, setT, dateEl } from '../core/lang.js';
import { h, link, userText, append, clear, field, setFieldError, messageBox, button, pageHeader, showError } from '../core/dom.js';
import { call, allChannels } from '../core/api.js';
import { refreshBadges } from '../core/shell.js';
import { approvalOf, canWritePosts } from '../core/approval_util.js';
import { kindChip, categoryChip, violationItem, blocksFirst, excerpt } from '../core/post_util.js';

var PAGE = 20;                 // posts a page of the queue (each carries its checks)
var LATE_MS = 3600 * 1000;     // a copy later than this after its time asks first (as the server)
var NOTE_MAX = 1000;
var MODES = ['off', 'agents', 'editors_and_agents'];

function base(wid) { return '/workspaces/' + wid; }

function statePill(st) {
  var known = ['pending', 'changes_requested', 'approved', 'rejected'].indexOf(st) >= 0;
  return h('span', { class: 'pill appr-state appr-state-' + (known ? st : 'other'), testid: 'approval-state', 'data-state': st,
    t: known ? 'approval.state.' + st : null, user: known ? null : st });
}

function authorName(item) {
  var a = item.author;
  return a ? (a.name || a.email) : null;
}

function stepWho(s) {
  return s.by && s.by.name ? s.by.name : s.actor;
}

// The latest step of a history with this action, or null.
function lastStep(p, action) {
  var hist = p.approval && Array.isArray(p.approval.history) ? p.approval.history : [];
  for (var i = hist.length - 1; i >= 0; i--) if (hist[i].action === action) return hist[i];
  return null;
}

function historyList(p) {
  var hist = p.approval && Array.isArray(p.approval.history) ? p.approval.history : [];
  if (hist.length < 2) return null;
  return h('div', { class: 'appr-history' },
    h('h4', { t: 'approvals.history' }),
    h('ol', { class: 'appr-steps', testid: 'approval-history' }, hist.map(function (s) {
      return h('li', { class: 'appr-step', testid: 'approval-step', 'data-action': s.action },
        h('span', { class: 'appr-step-what', t: 'approval.step.' + s.action }), ' ',
        h('span', { class: 'name', user: stepWho(s) }), ' ', dateEl(s.at),
        s.note ? h('p', { class: 'appr-note', testid: 'approval-step-note', user: s.note }) : null);
    })));
}

function whereList(p, channelName) {
  var occ = Array.isArray(p.occurrences) ? p.occurrences.slice() : [];
  occ.sort(function (a, b) { return Date.parse(a.planned_at) - Date.parse(b.planned_at); });
  var now = Date.now();
  return h('ul', { class: 'appr-where', testid: 'approval-where' }, occ.map(function (o) {
    var at = Date.parse(o.planned_at);
    var due = o.state === 'scheduled' && at <= now;
    var late = due && at < now - LATE_MS;
    var ch = channelName(o.channel_id);
    return h('li', { testid: 'approval-occurrence', 'data-channel-id': String(o.channel_id) },
      h('span', { class: 'name', user: ch.name }), ch.kind ? [' ', kindChip(ch.kind)] : null, ' ', dateEl(o.planned_at),
      o.state !== 'scheduled' ? [' ', h('span', { class: 'state state-' + o.state, t: 'occ.state.' + o.state })] : null,
      due ? [' ', h('span', { class: 'appr-due' + (late ? ' is-late' : ''), testid: 'approval-due', t: late ? 'approvals.late' : 'approvals.due' })] : null);
  }));
}

function postBody(p, channelName) {
  var variants = Array.isArray(p.variants) ? p.variants : [];
  return [
    h('p', { class: 'appr-text', testid: 'approval-text', user: p.text }),
    variants.length ? h('details', { class: 'appr-variants' },
      h('summary', { t: 'approvals.variants', tp: { n: variants.length } }),
      h('ol', null, variants.map(function (v) { return h('li', { class: 'appr-text', user: v }); }))) : null,
    p.link ? h('p', { class: 'appr-link' }, link(p.link, { class: 'details-remote' }, userText(p.link))) : null,
    h('h4', { t: 'approvals.where' }),
    whereList(p, channelName)
  ];
}

export function approvalsView(ctx) {
  var wid = ctx.wid;
  var a = approvalOf(wid);
  var channels = {};
  var msg = messageBox('approvals-message');
  var page = h('section', { class: 'page page-wide', testid: 'section-approvals', 'aria-labelledby': 'page-title' },
    pageHeader('nav.approvals', 'approvals.lead'), msg.el);

  function channelName(id) {
    var ch = channels[id];
    return ch ? { name: ch.name, kind: ch.kind } : { name: t('calendar.unknownChannel', { id: id }), kind: null };
  }

  if (a.mode === 'off') {
    page.appendChild(h('p', { class: 'note', testid: 'approvals-off' }, h('span', { t: 'approvals.off' }),
      ctx.role === 'owner' ? [' ', h('a', { href: '#/w/' + wid + '/settings/members', testid: 'approvals-setting-link', t: 'approvals.toSetting' })] : null));
  } else {
    page.appendChild(h('p', { class: 'hint', testid: 'approvals-mode', t: 'approvals.mode.' + a.mode }));
  }

  var queue = queueCard(ctx, a, channelName, msg);
  var mine = a.needs || (canWritePosts(ctx) && !a.canApprove) ? mineCard(ctx, channelName) : null;
  if (mine && !a.canApprove) { page.appendChild(mine.el); page.appendChild(queue.el); }
  else { page.appendChild(queue.el); if (mine) page.appendChild(mine.el); }

  allChannels(wid).then(function (list) {
    list.forEach(function (ch) { channels[ch.id] = ch; });
  }, function () { /* names fall back to the id */ }).then(function () {
    if (!ctx.alive()) return;
    queue.reload();
    if (mine) mine.reload();
  });
  return page;
}

// The queue: every pending post, oldest first, with the decision for an approver.
function queueCard(ctx, a, channelName, pageMsg) {
  var wid = ctx.wid;
  var list = h('ol', { class: 'appr-list', testid: 'approval-queue' });
  var count = h('span', { class: 'count', testid: 'approvals-count' });
  var more = button('list.more', { testid: 'approvals-more' });
  var next = null;
  var items = [];
  var el = h('section', { class: 'card appr-card', testid: 'approvals-queue-card', 'aria-labelledby': 'appr-queue-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'appr-queue-title', t: 'approvals.queueHeading' }), count),
    a.canApprove ? null : h('p', { class: 'note', testid: 'approvals-read-only', t: 'approvals.readOnly' }),
    list, h('div', { class: 'list-foot' }, more));
  more.hidden = true;

  function load(reset) {
    more.disabled = true;
    var path = base(wid) + '/approvals?limit=' + PAGE + (!reset && next ? '&cursor=' + encodeURIComponent(next) : '');
    return call('GET', path).then(function (data) {
      more.disabled = false;
      if (!ctx.alive()) return;
      data = data || {};
      if (reset) { items = []; clear(list); }
      next = data.next_cursor || null;
      more.hidden = !next;
      setT(count, 'approvals.count', { n: Number(data.count) || 0 });
      (Array.isArray(data.items) ? data.items : []).forEach(function (item) {
        items.push(item);
        list.appendChild(queueItem(item));
      });
      if (!items.length) list.appendChild(h('li', { class: 'appr-empty muted', testid: 'approvals-empty', t: 'approvals.empty' }));
    }, function (err) {
      more.disabled = false;
      showError(pageMsg, err);
    });
  }
  more.addEventListener('click', function () { load(false); });

  function queueItem(item) {
    var p = item.post;
    var who = authorName(item);
    var titleId = 'appr-title-' + p.id;
    var box = messageBox('approval-message-' + p.id);
    var li = h('li', { class: 'appr-item', testid: 'approval-item', 'data-post-id': String(p.id), 'aria-labelledby': titleId });
    var violations = Array.isArray(item.violations) ? item.violations : [];
    append(li, [
      h('div', { class: 'appr-head' },
        h('h3', { class: 'appr-title', id: titleId, tabindex: '-1', t: 'approvals.itemTitle', tp: { id: p.id } }),
        statePill(p.approval ? p.approval.state : 'pending'), categoryChip(p.category)),
      h('p', { class: 'appr-by', testid: 'approval-author' },
        who ? h('span', { t: 'approvals.by', tp: { name: who } }) : h('span', { t: 'approvals.byUnknown' }),
        ' \u00b7 ', dateEl(p.updated_at)),
      postBody(p, channelName),
      h('h4', { t: 'approvals.checks' }),
      violations.length ? h('ul', { class: 'violations', testid: 'approval-violations' },
        blocksFirst(violations).map(function (v) { return violationItem(v, function (id) { return channelName(id).name; }); }))
        : h('p', { class: 'checks-status checks-ok', testid: 'approval-checks-none', t: 'approvals.checksNone' }),
      historyList(p),
      box.el
    ]);
    if (a.canApprove) li.appendChild(decisionForm(item, li, box));
    return li;
  }

  function decisionForm(item, li, box) {
    var p = item.post;
    var area = h('textarea', { rows: '3', maxlength: String(NOTE_MAX), testid: 'approval-note' });
    var fNote = field('appr-note-' + p.id, 'approvals.note', area, { hint: 'approvals.noteHint', testid: 'approval-note', wide: true });
    var late = h('div', { class: 'appr-late-choice', testid: 'approval-late', hidden: true, role: 'alert' });
    var buttons = [
      button('approvals.approve', { kind: 'primary', testid: 'approval-approve', onClick: function () { send('approve'); } }),
      button('approvals.requestChanges', { testid: 'approval-request-changes', onClick: function () { send('request-changes'); } }),
      button('approvals.reject', { kind: 'danger-quiet', testid: 'approval-reject', onClick: function () { send('reject'); } })
    ];
    function busy(on) { buttons.concat(Array.from(late.querySelectorAll('button'))).forEach(function (b) { b.disabled = on; }); }
    function send(what, lateChoice) {
      box.clear();
      setFieldError(fNote, null);
      var note = area.value.trim();
      if (what !== 'approve' && !note) { setFieldError(fNote, t('approvals.err.note')); area.focus(); return; }
      var body = { updated_at: p.updated_at };
      if (note) body.note = note;
      if (lateChoice) body.late = lateChoice;
      busy(true);
      call('POST', base(ctx.wid) + '/posts/' + p.id + '/' + what, body).then(function () {
        if (!ctx.alive()) return;
        decided(li, p, what);
      }, function (err) {
        busy(false);
        if (err.handled || !ctx.alive()) return;
        if (err.status === 409 && err.field === 'late') { showLate(err.message); return; }
        if (err.field === 'note') { setFieldError(fNote, err.message); area.focus(); return; }
        box.error(err.message);
      });
    }
    function showLate(message) {
      clear(late);
      append(late, [
        h('p', { class: 'appr-late-title', t: 'approvals.lateTitle' }),
        h('p', { testid: 'approval-late-message', user: message }),
        h('div', { class: 'form-actions' },
          button('approvals.publishLate', { kind: 'primary', testid: 'approval-publish-late', onClick: function () { send('approve', 'publish'); } }),
          button('approvals.skipLate', { testid: 'approval-skip-late', onClick: function () { send('approve', 'skip'); } }))
      ]);
      late.hidden = false;
      late.querySelector('button').focus();
    }
    return h('div', { class: 'appr-decide', testid: 'approval-decide' },
      fNote.wrap, late, h('div', { class: 'form-actions appr-actions' }, buttons));
  }

  // A decided post leaves the queue: its place says what was done, and the focus goes to
  // the next post (or the list's count) so a keyboard can go on.
  function decided(li, p, what) {
    var nextLi = li.nextElementSibling;
    var done = h('li', { class: 'appr-item appr-decided', testid: 'approval-decided', 'data-post-id': String(p.id), role: 'status',
      t: 'approvals.done.' + what, tp: { id: p.id } });
    li.replaceWith(done);
    var focus = nextLi && nextLi.querySelector('.appr-title');
    if (focus) focus.focus();
    call('GET', base(wid) + '/approvals?limit=1').then(function (data) {
      if (ctx.alive()) setT(count, 'approvals.count', { n: Number(data && data.count) || 0 });
    }, function () { /* the count stays */ });
    refreshBadges();
  }

  return { el: el, reload: function () { return load(true); } };
}

// The author's own posts that wait: pending ones, and those sent back with a note, which
// the author changes right here.
function mineCard(ctx, channelName) {
  var wid = ctx.wid;
  var list = h('ol', { class: 'appr-list', testid: 'my-approvals' });
  var msg = messageBox('my-approvals-message');
  var el = h('section', { class: 'card appr-card', testid: 'my-approvals-card', 'aria-labelledby': 'appr-mine-title' },
    h('div', { class: 'card-head' }, h('h2', { id: 'appr-mine-title', t: 'approvals.mineHeading' })),
    h('p', { class: 'hint', t: 'approvals.mineLead' }), msg.el, list);

  function load() {
    var q = base(wid) + '/approvals?mine=true&limit=50&state=';
    return Promise.all([call('GET', q + 'changes_requested'), call('GET', q + 'pending')]).then(function (both) {
      if (!ctx.alive()) return;
      clear(list);
      var all = [].concat((both[0] && both[0].items) || [], (both[1] && both[1].items) || []);
      all.forEach(function (item) { list.appendChild(mineItem(item)); });
      if (!all.length) list.appendChild(h('li', { class: 'appr-empty muted', testid: 'my-approvals-empty', t: 'approvals.mineEmpty' }));
    }, function (err) { showError(msg, err); });
  }

  function mineItem(item) {
    var p = item.post;
    var st = p.approval ? p.approval.state : 'pending';
    var asked = st === 'changes_requested' ? lastStep(p, 'changes_requested') : null;
    var titleId = 'my-appr-title-' + p.id;
    var li = h('li', { class: 'appr-item', testid: 'my-approval', 'data-post-id': String(p.id), 'data-state': st, 'aria-labelledby': titleId },
      h('div', { class: 'appr-head' },
        h('h3', { class: 'appr-title', id: titleId, tabindex: '-1', t: 'approvals.itemTitle', tp: { id: p.id } }), statePill(st)),
      asked ? h('div', { class: 'appr-asked', testid: 'my-approval-note' },
        h('p', { class: 'appr-asked-who', t: 'approvals.noteFrom', tp: { name: stepWho(asked) } }),
        h('p', { class: 'appr-note', user: asked.note || '' })) : null,
      postBody(p, channelName));
    if (asked) li.appendChild(editForm(p));
    return li;
  }

  function editForm(p) {
    var area = h('textarea', { rows: '5', maxlength: '10000', testid: 'my-approval-text' });
    area.value = p.text;
    var f = field('my-appr-text-' + p.id, 'approvals.editText', area, { testid: 'my-approval-text', wide: true });
    var save = button('approvals.sendBack', { kind: 'primary', testid: 'my-approval-save', onClick: function () {
      setFieldError(f, null);
      if (!area.value.trim()) { setFieldError(f, t('composer.err.text')); area.focus(); return; }
      save.disabled = true;
      call('PATCH', base(wid) + '/posts/' + p.id, { text: area.value }).then(function () {
        save.disabled = false;
        if (!ctx.alive()) return;
        msg.noticeKey('approvals.sentBack', { id: p.id });
        refreshBadges();
        load();
      }, function (err) {
        save.disabled = false;
        if (err.handled) return;
        if (err.field === 'text') { setFieldError(f, err.message); area.focus(); } else msg.error(err.message);
      });
    } });
    return h('div', { class: 'appr-decide' }, f.wrap, h('div', { class: 'form-actions' }, save));
  }

  return { el: el, reload: load };
}

/* ---- for the shell: the navigation's count and the author's notice ---- */

// What the navigation counts: for an approver the posts that wait; for an author whose
// posts need approval, theirs that need changes. Resolves { n, key } or null (no count).
export function approvalsBadge(ctx) {
  var a = approvalOf(ctx.wid);
  var path = a.canApprove ? '/approvals?limit=1' : a.needs ? '/approvals?mine=true&state=changes_requested&limit=1' : null;
  if (!path) return Promise.resolve(null);
  return call('GET', base(ctx.wid) + path).then(function (data) {
    return { n: Number(data && data.count) || 0, key: a.canApprove ? 'approvals.navWaiting' : 'approvals.navChanges' };
  }, function () { return null; });
}

function seenKey(wid) {
  return 'samtale.approvalSeen.' + (state.me ? state.me.user.id : 0) + '.' + wid;
}

// Above every page, for an author whose posts need approval: the decisions on their posts
// since they last dismissed the notice (the browser remembers which), newest first.
export function approvalsNotice(ctx) {
  if (!approvalOf(ctx.wid).needs) return null;
  var box = h('div', { class: 'notice-banner appr-notice', testid: 'approval-notice', role: 'status', hidden: true });
  var seen = 0;
  try { seen = Number(window.localStorage.getItem(seenKey(ctx.wid))) || 0; } catch (e) { seen = 0; }
  call('GET', base(ctx.wid) + '/approvals/notices?limit=20').then(function (data) {
    if (!ctx.alive()) return;
    var fresh = ((data && data.items) || []).filter(function (s) { return Number(s.id) > seen; });
    if (!fresh.length) return;
    var top = Math.max.apply(null, fresh.map(function (s) { return Number(s.id); }));
    append(box, [
      h('p', { class: 'notice-banner-title', t: 'approvals.notice.title', tp: { n: fresh.length } }),
      h('ul', { class: 'appr-notice-list' }, fresh.slice(0, 3).map(function (s) {
        return h('li', { testid: 'approval-notice-item', 'data-action': s.action, 'data-post-id': String(s.post_id) },
          h('span', { t: 'approvals.notice.' + s.action, tp: { who: stepWho(s), post: excerpt(s.text, 60) } }),
          s.note ? h('span', { class: 'appr-note', testid: 'approval-notice-note', user: s.note }) : null);
      })),
      h('p', { class: 'notice-banner-actions' },
        h('a', { class: 'btn btn-secondary btn-small', href: '#/w/' + ctx.wid + '/approvals', testid: 'approval-notice-open', t: 'approvals.notice.open' }),
        button('approvals.notice.dismiss', { small: true, testid: 'approval-notice-dismiss', onClick: function () {
          try { window.localStorage.setItem(seenKey(ctx.wid), String(top)); } catch (e) { /* private mode: shown again */ }
          box.remove();
        } }))
    ]);
    box.hidden = false;
  }, function () { /* the notice is a courtesy; the page reports its own errors */ });
  return box;
}

/* ---- for Settings > Members: the owner's setting ---- */

// Whose posts need approval (off, agents, editors_and_agents), for owners.
export function approvalSettingCard(ctx) {
  var wid = ctx.wid;
  var msg = messageBox('approval-setting-message');
  var radios = {};
  var set = h('fieldset', { class: 'fieldset', 'aria-describedby': 'approval-setting-text' },
    h('legend', { class: 'label', t: 'approval.setting.legend' }),
    h('div', { class: 'choices' }, MODES.map(function (m) {
      var id = 'approval-mode-' + m.replace(/_/g, '-');
      var r = h('input', { type: 'radio', name: 'approval-mode', id: id, value: m, testid: 'approval-mode-' + m });
      radios[m] = r;
      r.addEventListener('change', function () { if (r.checked) save(m); });
      return h('label', { class: 'choice', for: id }, r,
        h('span', { class: 'choice-text' },
          h('span', { class: 'choice-title', t: 'approval.setting.' + m }),
          h('span', { class: 'choice-hint', t: 'approval.setting.' + m + '.hint' })));
    })));
  var card = h('div', { class: 'card', testid: 'workspace-approval' },
    h('h2', { t: 'approval.setting.heading' }),
    h('p', { class: 'hint', id: 'approval-setting-text', t: 'approval.setting.text' }),
    msg.el, set);
  var current = approvalOf(wid).mode;
  if (radios[current]) radios[current].checked = true;

  function save(mode) {
    msg.clear();
    MODES.forEach(function (m) { radios[m].disabled = true; });
    call('PATCH', base(wid), { approval: mode }).then(function (w) {
      MODES.forEach(function (m) { radios[m].disabled = false; });
      current = (w && w.approval) || mode;
      if (radios[current]) radios[current].checked = true;
      if (state.workspaces) state.workspaces[wid] = null;
      msg.noticeKey(current === 'off' ? 'approval.setting.saved.off' : 'approval.setting.saved.on');
      // Memberships carry the setting: the navigation's count and the composer follow it.
      call('GET', '/me').then(function (me) { state.me = me; refreshBadges(); }, function () { /* call() reports it */ });
    }, function (err) {
      MODES.forEach(function (m) { radios[m].disabled = false; });
      if (radios[current]) radios[current].checked = true;
      showError(msg, err);
    });
  }
  return card;
}
