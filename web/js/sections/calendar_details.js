/* samtale dashboard, section Calendar: the details panel of one occurrence, and what the
 * calendar's views share about an occurrence.
 *
 * calendar.js (the section) owns the queue it loaded; this module draws one occurrence of
 * it in a side panel: its state and, when it failed or waits for a retry, why and what to
 * do; where and when it goes; the family it belongs to (the copies of a series, or the
 * post's other channels, from GET .../posts/{id}); Edit and Duplicate (links to the
 * composer); Move (a date and time, through the checks at the new place: a block shows
 * what stops it and offers "Move anyway" with a reason, as the composer's "Publish
 * anyway"); Cancel (this delivery, or the whole post); and the engagement counts of a
 * published copy. The panel keeps what a person typed while the calendar reloads: it is
 * drawn again only when what it shows changed.
 *
 * Also shared with the views: lookOf() (an occurrence's state as a person reads it:
 * retrying and waiting are scheduled occurrences), lookPill(), moveOccurrence() (the one
 * PATCH every move goes through) and the composer's addresses (composerHref).
 */

import * as I from '../i18n.js';
import { state } from '../core/state.js';
import { t, dateEl } from '../core/lang.js';
import { h, userText, link, append, clear, messageBox, button, confirmDialog, showError, field,
  setFieldError } from '../core/dom.js';
import { approvalDetails } from '../core/approval_util.js'; // approval (P12)
import { call } from '../core/api.js';
import { rfc3339Local, dayKey, fmt, kindChip, categoryChip, stateOf, statePill, violationItem,
  blocksFirst } from '../core/post_util.js';

/* ---- what the views share ---- */

// An occurrence as a person reads it: failed; retrying (scheduled, its last attempt failed,
// another is due); waiting (scheduled, held by its channel's cap: not a failure); or its
// state.
export function lookOf(o) {
  var st = stateOf(o);
  if (st === 'scheduled' && o.waiting) return 'waiting';
  if (st === 'scheduled' && o.error) return 'retrying';
  return st;
}

// Held by its channel's pause: it waits for a person to resume the channel, not for a time.
export function isPaused(o) { return !!(o.waiting && o.waiting.reason === 'paused'); }

export function lookPill(look, testid) {
  if (look === 'retrying') return h('span', { class: 'state state-retrying', testid: testid || null, t: 'calendar.look.retrying' });
  return statePill(look === 'waiting' ? 'scheduled' : look, testid);
}

// The composer, for a post to edit, a copy to schedule, or a free slot of a channel.
export function composerHref(wid, params) {
  return '#/w/' + Number(wid) + '/composer?' + new URLSearchParams(params).toString();
}

// Moves occurrence id to the Date at (PATCH .../occurrences/{id}): resolves the server's
// { occurrence, violations }, rejects with its ApiError (422 check_blocked carries the
// violations; send a reason to move anyway).
export function moveOccurrence(wid, id, at, reason) {
  var body = { planned_at: rfc3339Local(at) };
  if (reason) body.override_reason = reason;
  return call('PATCH', '/workspaces/' + wid + '/occurrences/' + id, body);
}

export function timeOf(d) { return fmt(d, { hour: '2-digit', minute: '2-digit' }); }
export function dayAndTime(d) { return fmt(d, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }); }

function pad2(n) { return (n < 10 ? '0' : '') + n; }

/* ---- the panel ---- */

// The details panel. cal: { ctx, wid, canWrite, find(id) (an occurrence of the loaded
// queue, or null), items() (all of them), channelName(id), channelById, reload() (a
// promise), follow(date) (shows the range holding date and reloads it), onOpen(id or
// null) (the views mark the open occurrence and its family) }. Returns { el (the
// <dialog>), open(id, opts), refresh() (after the queue reloaded), openId() }.
export function detailsPanel(cal) {
  var wid = cal.wid;
  var ctx = cal.ctx;
  var details = h('dialog', { class: 'dialog drawer', testid: 'occurrence-details', 'aria-labelledby': 'details-title' });
  var openId = null;
  var drawn = null;        // what the panel shows, to draw it again only when it changed
  var engagement = {};     // post id -> { items, busy, error, note }: counts after publishing
  var family = {};         // post id -> { post, busy, error }: the post with all its occurrences
  var form = null;         // the open occurrence's move form and notices, kept across redraws

  function freshForm(o) {
    var d = new Date(o.planned_at);
    return { date: dayKey(d), time: pad2(d.getHours()) + ':' + pad2(d.getMinutes()), reason: '',
      blocked: null, blockedAt: null, notice: null, warnings: [], error: null, busy: false };
  }

  details.addEventListener('close', function () {
    var id = openId;
    openId = null;
    form = null;
    drawn = null;
    cal.onOpen(null);
    var back = id ? document.querySelector('[data-occurrence-id="' + id + '"] .occ-main') : null;
    if (back) back.focus();
  });

  // Opens the panel on occurrence id. opts.moveTo (a Date) and opts.blocked (an ApiError
  // check_blocked): a move that the checks stopped (a drop in the week view), shown with
  // "Move anyway".
  function open(id, opts) {
    var o = cal.find(id);
    if (!o) return;
    opts = opts || {};
    if (openId !== id || !form) form = freshForm(o);
    openId = id;
    if (opts.moveTo) {
      form.date = dayKey(opts.moveTo);
      form.time = pad2(opts.moveTo.getHours()) + ':' + pad2(opts.moveTo.getMinutes());
    }
    if (opts.blocked) { form.blocked = opts.blocked; form.blockedAt = opts.moveTo || null; }
    drawn = null;
    render();
    cal.onOpen(id);
    if (!details.open) details.showModal();
    var focus = opts.blocked ? details.querySelector('[data-testid="move-blocked"]') : details.querySelector('h2');
    if (focus) focus.focus();
    if (stateOf(o) === 'published') loadEngagement(o.post_id, false);
    loadFamily(o.post_id);
  }

  function refresh() {
    if (openId === null) return;
    if (!cal.find(openId)) { if (details.open) details.close(); return; }
    render();
  }

  /* the post with all its occurrences: the series' copies or its other channels */

  function loadFamily(postId) {
    var f = family[postId] || (family[postId] = { post: null, busy: false, error: null });
    if (f.busy) return;
    f.busy = true;
    call('GET', '/workspaces/' + wid + '/posts/' + postId).then(function (post) {
      f.busy = false;
      f.post = post || null;
      f.error = null;
      if (ctx.alive() && openId !== null) render();
    }, function (err) {
      f.busy = false;
      if (err.handled) return;
      f.error = err.message;
      if (ctx.alive() && openId !== null) render();
    });
  }

  // The post's other deliveries that have not gone out (known from the post when it has
  // been fetched, else from the loaded range).
  function othersPending(o) {
    var f = family[o.post_id];
    var list = f && f.post && Array.isArray(f.post.occurrences) ? f.post.occurrences : cal.items().filter(function (x) { return x.post_id === o.post_id; });
    return list.filter(function (x) { return x.id !== o.id && stateOf(x) === 'scheduled'; }).length;
  }

  function familySection(o) {
    var f = family[o.post_id];
    var occ = f && f.post && Array.isArray(f.post.occurrences) ? f.post.occurrences.slice() : null;
    var series = !!o.series_id;
    if (!series && (!occ || occ.length < 2)) return null;
    var titleKey = series ? 'calendar.family.series' : 'calendar.family.post';
    var lead = null;
    if (series && o.series_copy) lead = h('p', { class: 'family-lead', testid: 'details-series-position', t: 'calendar.family.copy',
      tp: { n: o.series_copy, total: o.series_total, channel: cal.channelName(o.channel_id) } });
    else if (!series) lead = h('p', { class: 'family-lead', t: 'calendar.family.channels', tp: { n: occ.length } });
    var body;
    if (f && f.error) body = h('p', { class: 'message message-error', user: f.error });
    else if (!occ) body = h('p', { class: 'muted', t: 'list.loading' });
    else {
      occ.sort(function (a, b) { return Date.parse(a.planned_at) - Date.parse(b.planned_at) || a.id - b.id; });
      body = h('ol', { class: 'family-list', testid: 'details-family' }, occ.map(function (x) {
        var mine = x.id === o.id;
        var when = new Date(x.planned_at);
        var row = h('button', { type: 'button', class: 'family-item' + (mine ? ' is-this' : ''), testid: 'family-item',
          'data-occurrence-id': String(x.id), 'aria-current': mine ? 'true' : null, disabled: mine },
          h('span', { class: 'family-when', text: fmt(when, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }) }),
          h('span', { class: 'family-channel', user: cal.channelName(x.channel_id) }),
          lookPill(lookOf(x)),
          mine ? h('span', { class: 'family-this', t: 'calendar.family.this' }) : null);
        if (!mine) row.addEventListener('click', function () {
          cal.follow(when).then(function () { if (ctx.alive() && cal.find(x.id)) open(x.id); });
        });
        return h('li', null, row);
      }));
    }
    return h('section', { class: 'family', testid: 'details-family-section', 'aria-labelledby': 'family-title' },
      h('h3', { id: 'family-title', t: titleKey }), lead, body);
  }

  /* what failed, and what to do about it */

  function problemBox(o, look) {
    if (look !== 'failed' && look !== 'retrying') return null;
    var fixes = [];
    if (cal.canWrite) {
      fixes.push(h('a', { class: 'btn btn-secondary btn-small', href: '#/w/' + wid + '/settings/channels', testid: 'details-fix-channel', t: 'calendar.fix.channel' }));
      if (look === 'failed') fixes.push(h('a', { class: 'btn btn-secondary btn-small', href: composerHref(wid, { duplicate: o.post_id }), testid: 'details-fix-again', t: 'calendar.fix.again' }));
    }
    return h('div', { class: 'details-error' + (look === 'retrying' ? ' is-retrying' : ''), testid: 'details-error', role: look === 'failed' ? 'alert' : null },
      h('p', { class: 'details-error-title', t: look === 'failed' ? 'calendar.failedBecause' : 'calendar.retryBecause' }),
      h('p', { class: 'details-error-text', user: o.error || '' }),
      look === 'failed' ? h('p', { class: 'hint', t: 'calendar.failedHelp' })
        : o.next_attempt_at ? h('p', { class: 'hint', t: 'calendar.retryHelp', tp: { time: dayAndTime(new Date(o.next_attempt_at)) } })
          : h('p', { class: 'hint', t: 'calendar.retryHelpSoon' }),
      fixes.length ? h('p', { class: 'details-fixes' }, fixes) : null);
  }

  /* moving: a date and a time, the checks at the new place, "Move anyway" */

  function moveSection(o) {
    var date = h('input', { type: 'date', testid: 'move-date', value: form.date });
    var time = h('input', { type: 'time', testid: 'move-time', value: form.time });
    var fDate = field('move-date', 'calendar.move.date', date, {});
    var fTime = field('move-time', 'calendar.move.time', time, {});
    var submit = button('calendar.move.submit', { kind: 'primary', small: true, testid: 'move-submit' });
    var err = h('p', { class: 'field-error', testid: 'move-error', role: 'alert', hidden: !form.error, user: form.error || '' });
    date.addEventListener('input', function () { form.date = date.value; });
    time.addEventListener('input', function () { form.time = time.value; });
    submit.disabled = form.busy;
    submit.addEventListener('click', function () {
      form.error = null;
      form.notice = null;
      var at = formTime();
      if (!at) { form.error = t('calendar.move.missing'); render(true); return; }
      if (at.getTime() < Date.now() - 60000) { form.error = t('calendar.move.past'); render(true); return; }
      send(o, at, null);
    });
    var blocked = null;
    if (form.blocked) {
      var reason = h('textarea', { rows: '2', maxlength: '500', testid: 'move-reason', value: form.reason });
      var fReason = field('move-reason', 'calendar.blocked.reason', reason, { hint: 'calendar.blocked.reasonHint' });
      reason.addEventListener('input', function () { form.reason = reason.value; });
      if (form.reasonError) setFieldError(fReason, form.reasonError);
      var list = form.blocked.violations.filter(function (v) { return v.severity === 'block'; });
      if (!list.length) list = form.blocked.violations;
      var anyway = button('calendar.blocked.anyway', { kind: 'danger', small: true, testid: 'move-anyway' });
      anyway.disabled = form.busy;
      anyway.addEventListener('click', function () {
        var why = reason.value.trim();
        form.reasonError = why ? null : t('calendar.blocked.reasonMissing');
        if (!why) { render(true); var again = details.querySelector('[data-testid="move-reason"]'); if (again) again.focus(); return; }
        send(o, form.blockedAt || formTime(), why);
      });
      var other = button('calendar.blocked.other', { small: true, testid: 'move-blocked-other', onClick: function () {
        form.blocked = null;
        form.reason = '';
        form.reasonError = null;
        render(true);
        var d = details.querySelector('[data-testid="move-date"]');
        if (d) d.focus();
      } });
      blocked = h('div', { class: 'move-blocked', testid: 'move-blocked', tabindex: '-1', role: 'group', 'aria-labelledby': 'move-blocked-title' },
        h('p', { class: 'move-blocked-title', id: 'move-blocked-title', t: 'calendar.blocked.title',
          tp: { time: form.blockedAt ? dayAndTime(form.blockedAt) : '' } }),
        h('p', { class: 'hint', t: 'calendar.blocked.text' }),
        h('ul', { class: 'violations' }, blocksFirst(list).map(function (v) { return violationItem(v, cal.channelName, wid); })),
        fReason.wrap,
        h('div', { class: 'form-actions' }, anyway, other));
    }
    return h('section', { class: 'move', testid: 'details-move', 'aria-labelledby': 'move-title' },
      h('h3', { id: 'move-title', t: 'calendar.move.title' }),
      h('p', { class: 'hint', t: 'calendar.move.lead' }),
      h('div', { class: 'move-row' }, fDate.wrap, fTime.wrap, h('div', { class: 'move-go' }, submit)),
      err,
      blocked);
  }

  function formTime() {
    var d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(form.date || '');
    var tm = /^(\d{2}):(\d{2})/.exec(form.time || '');
    if (!d || !tm) return null;
    return new Date(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(tm[1]), Number(tm[2]));
  }

  function send(o, at, reason) {
    form.busy = true;
    render(true);
    moveOccurrence(wid, o.id, at, reason).then(function (res) {
      if (!ctx.alive() || !form) return;
      var f = form;
      f.busy = false;
      f.blocked = null;
      f.reason = '';
      f.reasonError = null;
      f.notice = { key: reason ? 'calendar.move.doneAnyway' : 'calendar.move.done', time: dayAndTime(at) };
      f.warnings = (res && Array.isArray(res.violations) ? res.violations : []).filter(function (v) { return v.severity !== 'block'; });
      if (family[o.post_id]) family[o.post_id].post = null;
      var mine = cal.find(o.id);
      if (mine && res && res.occurrence) Object.keys(res.occurrence).forEach(function (k) { mine[k] = res.occurrence[k]; });
      cal.follow(at).then(function () { loadFamily(o.post_id); });
    }, function (err) {
      if (!ctx.alive() || !form) return;
      form.busy = false;
      if (err.handled) { render(true); return; }
      if (err.status === 422 && err.code === 'check_blocked') {
        form.blocked = err;
        form.blockedAt = at;
        render(true);
        var box = details.querySelector('[data-testid="move-blocked"]');
        if (box) { box.scrollIntoView({ block: 'nearest' }); box.focus(); }
        return;
      }
      if (err.field === 'override_reason') { form.reasonError = err.message; render(true); return; }
      form.error = err.message;
      render(true);
      if (err.status === 409) cal.reload();
    });
  }

  /* cancelling: this delivery, or the whole post */

  function cancelButtons(o, detailsMsg) {
    if (stateOf(o) !== 'scheduled' || !cal.canWrite) return [];
    var others = othersPending(o);
    var out = [];
    if (others > 0) {
      var one = button('calendar.cancelOne', { kind: 'danger-quiet', testid: 'details-cancel-one', onClick: function () {
        confirmDialog('calendar.cancelOneTitle', 'calendar.cancelOneText', { channel: cal.channelName(o.channel_id) }, 'calendar.cancelOne').then(function (ok) {
          if (!ok || !ctx.alive()) return;
          one.disabled = true;
          call('POST', '/workspaces/' + wid + '/occurrences/' + o.id + '/cancel').then(function (occ) {
            if (!ctx.alive()) return;
            var mine = cal.find(o.id);
            if (mine && occ) mine.state = occ.state;
            afterCancel(o, 'calendar.cancelledOne');
          }, function (err) { one.disabled = false; showError(detailsMsg, err); });
        });
      } });
      out.push(one);
    }
    var allKey = others > 0 ? (o.series_id ? 'calendar.cancelSeries' : 'calendar.cancelAll') : 'calendar.cancelPost';
    var all = button(allKey, { kind: 'danger-quiet', testid: 'details-cancel', onClick: function () {
      var text = others > 0 ? (o.series_id ? 'calendar.cancelSeriesText' : 'calendar.cancelAllText') : 'calendar.cancelText';
      confirmDialog('calendar.cancelTitle', text, { channel: cal.channelName(o.channel_id), n: others + 1 }, allKey).then(function (ok) {
        if (!ok || !ctx.alive()) return;
        all.disabled = true;
        call('POST', '/workspaces/' + wid + '/posts/' + o.post_id + '/cancel').then(function (post) {
          if (!ctx.alive()) return;
          (post && Array.isArray(post.occurrences) ? post.occurrences : []).forEach(function (p) {
            var mine = cal.find(p.id);
            if (mine) mine.state = p.state;
          });
          afterCancel(o, 'calendar.cancelled');
        }, function (err) { all.disabled = false; showError(detailsMsg, err); });
      });
    } });
    out.push(all);
    return out;
  }

  function afterCancel(o, key) {
    if (form) { form.notice = { key: key }; form.warnings = []; form.blocked = null; }
    if (family[o.post_id]) family[o.post_id].post = null;
    render(true);
    cal.reload();
    loadFamily(o.post_id);
  }

  /* engagement: likes, reposts, replies and quotes of each published copy, fetched at
     checkpoints after publishing (and on request) */

  function loadEngagement(postId, refresh) {
    var e = engagement[postId] || (engagement[postId] = { items: null, busy: false, error: null, note: null });
    if (e.busy) return;
    e.busy = true;
    e.error = null;
    e.note = null;
    if (openId !== null) render(true);
    call(refresh ? 'POST' : 'GET', '/workspaces/' + wid + '/posts/' + postId + '/engagement').then(function (data) {
      e.busy = false;
      data = data || {};
      e.items = Array.isArray(data.items) ? data.items : [];
      if (refresh) e.note = { fetched: Number(data.fetched) || 0, failed: Number(data.failed) || 0 };
      if (ctx.alive() && openId !== null) render(true);
    }, function (err) {
      e.busy = false;
      if (err.handled) return;
      e.error = err.message;
      if (ctx.alive() && openId !== null) render(true);
    });
  }

  function afterLabel(secs) {
    secs = Number(secs) || 0;
    if (secs <= 0) return h('span', { t: 'engagement.now' });
    if (secs % 86400 === 0) return h('span', { t: 'engagement.afterDays', tp: { n: secs / 86400 } });
    if (secs % 3600 === 0) return h('span', { t: 'engagement.afterHours', tp: { n: secs / 3600 } });
    return h('span', { t: 'engagement.afterMinutes', tp: { n: Math.max(1, Math.round(secs / 60)) } });
  }

  function countCell(v) {
    if (v === null || v === undefined || typeof v !== 'number') return h('td', { class: 'num muted', text: '\u2014' });
    var text;
    try { text = new Intl.NumberFormat(I.locale(state.lang)).format(v); } catch (e) { text = String(v); }
    return h('td', { class: 'num', text: text });
  }

  var ENGAGEMENT_COUNTS = ['likes', 'reposts', 'replies', 'quotes'];

  // One published copy's counts: a row per checkpoint, the on-request one last.
  function engagementTable(occId, rows) {
    rows = rows.slice().sort(function (a, b) {
      var x = Number(a.after_seconds) || Infinity;
      var y = Number(b.after_seconds) || Infinity;
      return x - y || Date.parse(a.due_at) - Date.parse(b.due_at);
    });
    return h('table', { class: 'engagement-table', testid: 'engagement-table', 'data-occurrence-id': String(occId) },
      h('caption', null, h('span', { class: 'name', user: cal.channelName(rows[0].channel_id) }),
        occId === openId ? null : h('span', { class: 'muted', text: ' #' + occId })),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden', t: 'engagement.when' })),
        ENGAGEMENT_COUNTS.map(function (k) { return h('th', { scope: 'col', class: 'num', t: 'engagement.' + k }); }))),
      h('tbody', null, rows.map(function (r) {
        var when = r.fetched_at ? h('span', { class: 'engagement-at' }, dateEl(r.fetched_at))
          : h('span', { class: 'engagement-at' }, h('span', { t: 'engagement.due' }), ' ', dateEl(r.due_at));
        var cells;
        if (r.error) cells = h('td', { colspan: '4', class: 'engagement-err', testid: 'engagement-error-text', user: r.error });
        else if (!r.fetched_at) cells = h('td', { colspan: '4', class: 'muted', t: 'engagement.pending' });
        else cells = ENGAGEMENT_COUNTS.map(function (k) { return countCell(r[k]); });
        return h('tr', { testid: 'engagement-row', 'data-after': String(Number(r.after_seconds) || 0), 'data-fetched': r.fetched_at ? '1' : '0' },
          h('th', { scope: 'row' }, afterLabel(r.after_seconds), when), cells);
      })));
  }

  function engagementSection(o) {
    var e = engagement[o.post_id] || { items: null, busy: true };
    var refreshBtn = button('engagement.refresh', { small: true, testid: 'engagement-refresh', onClick: function () { loadEngagement(o.post_id, true); } });
    var content;
    if (e.error) {
      content = h('p', { class: 'message message-error', testid: 'engagement-error', user: e.error });
    } else if (!e.items) {
      content = h('p', { class: 'muted', t: 'list.loading' });
    } else if (!e.items.length) {
      content = h('p', { class: 'muted', testid: 'engagement-none', t: 'engagement.none' });
    } else {
      var groups = {};
      var order = [];
      e.items.forEach(function (r) {
        var k = r.occurrence_id;
        if (!groups[k]) { groups[k] = []; order.push(k); }
        groups[k].push(r);
      });
      order.sort(function (a, b) { return (b === o.id) - (a === o.id) || a - b; });
      content = order.map(function (k) { return engagementTable(k, groups[k]); });
    }
    return h('section', { class: 'engagement', testid: 'details-engagement', 'aria-labelledby': 'engagement-title', 'aria-busy': e.busy ? 'true' : null },
      h('div', { class: 'engagement-head' }, h('h3', { id: 'engagement-title', t: 'engagement.title' }), refreshBtn),
      h('p', { class: 'hint', t: 'engagement.lead' }),
      content,
      e.note ? h('p', { class: 'hint engagement-note', testid: 'engagement-note', role: 'status',
        t: e.note.failed ? 'engagement.refreshedFailed' : 'engagement.refreshed', tp: { n: e.note.fetched, failed: e.note.failed } }) : null);
  }

  /* the whole panel */

  // Draws the panel; without force only when what it shows changed (the calendar reloads
  // every few seconds, and a person may be typing in it).
  function render(force) {
    var o = cal.find(openId);
    if (!o) { if (details.open) details.close(); return; }
    var f = family[o.post_id];
    var sig = JSON.stringify([o, f && f.post, f && f.error, state.lang]);
    if (!force && sig === drawn) return;
    drawn = sig;
    // The panel is drawn anew: the control that had the focus gets it back.
    var focused = details.contains(document.activeElement) ? document.activeElement.getAttribute('data-testid') : null;
    var st = stateOf(o);
    var look = lookOf(o);
    var ch = cal.channelById[o.channel_id];
    var detailsMsg = messageBox('details-message');
    var rows = [
      ['calendar.details.when', dateEl(o.planned_at)],
      ['calendar.details.channel', h('span', null, h('span', { class: 'name', testid: 'details-channel', user: cal.channelName(o.channel_id) }), ' ',
        ch ? kindChip(ch.kind) : null, ch && ch.timezone ? [' ', h('span', { class: 'muted', testid: 'details-timezone', user: ch.timezone })] : null)],
      ['calendar.details.category', categoryChip(o.category)],
      o.campaign ? ['calendar.details.campaign', h('span', { testid: 'details-campaign', user: o.campaign })] : null,
      o.published_at ? ['calendar.details.published', dateEl(o.published_at)] : null,
      isPaused(o) ? ['calendar.details.goesOut', h('span', { t: 'calendar.details.whenResumed' })]
        : o.waiting ? ['calendar.details.goesOut', dateEl(o.waiting.until)]
          : o.next_attempt_at ? ['calendar.details.retry', dateEl(o.next_attempt_at)] : null,
      o.attempts ? ['calendar.details.attempts', h('span', { text: String(o.attempts) })] : null,
      o.remote_url ? ['calendar.details.remote', link(o.remote_url, { class: 'details-remote', testid: 'details-remote' }, userText(o.remote_url))] : null,
      ['calendar.details.post', h('span', { text: '#' + o.post_id })]
    ].filter(Boolean);
    var links = [];
    if (cal.canWrite) {
      if (st === 'scheduled') links.push(h('a', { class: 'btn btn-secondary btn-small', testid: 'details-edit', href: composerHref(wid, { edit: o.post_id }), t: 'calendar.edit' }));
      // A failed one offers the same as "Schedule it again", above.
      if (look !== 'failed') links.push(h('a', { class: 'btn btn-secondary btn-small', testid: 'details-duplicate', href: composerHref(wid, { duplicate: o.post_id }), t: 'calendar.duplicate' }));
    }
    clear(details);
    append(details, [
      h('div', { class: 'drawer-head' },
        h('h2', { id: 'details-title', tabindex: '-1', t: 'calendar.details.title' }),
        h('button', { type: 'button', class: 'btn btn-secondary btn-small', testid: 'details-close', t: 'calendar.close',
          on: { click: function () { details.close(); } } })),
      h('p', { class: 'details-state' }, lookPill(look, 'details-state'),
        o.series_id ? h('span', { class: 'series-badge', testid: 'details-series-badge', t: o.series_copy ? 'calendar.seriesBadge' : 'calendar.seriesBadgeShort',
          tp: { n: o.series_copy || 0, total: o.series_total || 0 } }) : null),
      form && form.notice ? h('div', { class: 'message message-ok details-notice', role: 'status', testid: 'details-notice' },
        h('p', { t: form.notice.key, tp: form.notice.time ? { time: form.notice.time } : null }),
        form.warnings.length ? [h('p', { t: 'calendar.move.warnings', tp: { n: form.warnings.length } }),
          h('ul', { class: 'violations' }, blocksFirst(form.warnings).map(function (v) { return violationItem(v, cal.channelName, wid); }))] : null) : null,
      o.waiting ? h('div', { class: 'details-waiting', testid: 'details-waiting' },
        h('p', { class: 'details-waiting-title', t: isPaused(o) ? 'calendar.waitingPausedTitle' : 'calendar.waitingTitle' }),
        h('p', { user: o.waiting.message })) : null,
      approvalDetails(o, wid), // P12: why it has not gone out
      problemBox(o, look),
      links.length ? h('p', { class: 'details-links' }, links) : null,
      h('dl', { class: 'details-list' }, rows.map(function (r) { return [h('dt', { t: r[0] }), h('dd', null, r[1])]; })),
      h('h3', { class: 'details-text-title', t: 'calendar.details.text' }),
      h('p', { class: 'details-text', testid: 'details-text', user: o.text || '' }),
      familySection(o),
      st === 'scheduled' && cal.canWrite ? moveSection(o) : null,
      st === 'published' ? engagementSection(o) : null,
      detailsMsg.el,
      h('div', { class: 'dialog-actions' }, cancelButtons(o, detailsMsg))
    ]);
    if (focused) {
      var again = details.querySelector('[data-testid="' + focused + '"]');
      if (again && !again.disabled) again.focus();
    }
  }

  return {
    el: details,
    open: open,
    refresh: refresh,
    openId: function () { return openId; }
  };
}
