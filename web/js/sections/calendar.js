/* samtale dashboard, section Calendar: the queue by week or month, for one channel or all.
 *
 * Each occurrence of a post on its day and time with its channel and state (a failed one
 * with its reason); a details panel with the post's text and where it went, Cancel for a
 * scheduled one, and the engagement counts of a published one; the checks of the whole
 * queue; and the secret iCalendar link of the workspace's calendar. Reloads while visible,
 * more often while something is going out.
 */

import * as I from '../i18n.js';
import { state } from '../core/state.js';
import { t, setT, setTAttr, dateEl, onLanguage } from '../core/lang.js';
import { h, userText, link, append, clear, messageBox, button, confirmDialog, pageHeader,
  showError, secretCopy } from '../core/dom.js';
import { call, queueAll, allChannels } from '../core/api.js';
import { PUBLISHING_KINDS, OCC_STATES, rfc3339Local, dayKey, startOfDay, addDays, startOfWeek, fmt,
  excerpt, kindChip, categoryChip, stateOf, statePill, violationItem, blocksFirst } from '../core/post_util.js';
import { approvalMark, approvalDetails, waitsForApproval } from '../core/approval_util.js'; // approval (P12)

var REFRESH_MS = 15000;        // the calendar reloads this often while visible
var REFRESH_BUSY_MS = 2000;    // ... and this often while something is going out
var REFRESH_BUSY_ROUNDS = 60;  // but no longer than this many rounds in a row

export function calendarView(ctx) {
  var wid = ctx.wid;
  var canWrite = ctx.role === 'owner' || ctx.role === 'editor';
  var view = state.calendarView === 'month' ? 'month' : 'week';
  var anchor = startOfDay(state.calendarFocus ? new Date(state.calendarFocus) : new Date());
  if (isNaN(anchor.getTime())) anchor = startOfDay(new Date());
  state.calendarFocus = null;

  var channelById = {};
  var items = [];
  var loaded = false;
  var seq = 0;
  var timer = null;
  var busyRounds = 0;
  var openId = null;          // the occurrence in the details panel
  var detailsNotice = null;   // i18n key of a notice shown in the panel
  var engagement = {};        // post id -> { items, busy, error, note }: counts after publishing
  var msg = messageBox('calendar-message');

  var rangeLabel = h('h2', { class: 'cal-range', id: 'cal-range', testid: 'calendar-range', 'aria-live': 'polite' });
  var prevBtn = h('button', { type: 'button', class: 'btn btn-secondary btn-small', testid: 'calendar-prev' },
    h('span', { 'aria-hidden': 'true', text: '\u2039 ' }), h('span', { t: 'calendar.prev' }));
  var todayBtn = button('calendar.today', { small: true, testid: 'calendar-today' });
  var nextBtn = h('button', { type: 'button', class: 'btn btn-secondary btn-small', testid: 'calendar-next' },
    h('span', { t: 'calendar.next' }), h('span', { 'aria-hidden': 'true', text: ' \u203a' }));
  var weekBtn = h('button', { type: 'button', class: 'seg', testid: 'calendar-view-week', t: 'calendar.week' });
  var monthBtn = h('button', { type: 'button', class: 'seg', testid: 'calendar-view-month', t: 'calendar.month' });
  var viewGroup = h('div', { class: 'segmented', role: 'group' }, weekBtn, monthBtn);
  setTAttr(viewGroup, 'aria-label', 'calendar.viewLabel');
  var channelFilter = h('select', { id: 'cal-channel', testid: 'calendar-channel' },
    h('option', { value: '', t: 'calendar.allChannels' }));
  var newPost = canWrite ? h('a', { class: 'btn btn-primary btn-small', href: '#/w/' + wid + '/composer', testid: 'calendar-new-post', t: 'calendar.newPost' }) : null;
  var body = h('div', { class: 'cal-body', testid: 'calendar-body' }, h('p', { class: 'muted cal-loading', t: 'list.loading' }));
  var legend = h('ul', { class: 'legend', testid: 'calendar-legend' }, OCC_STATES.map(function (st) { return h('li', null, statePill(st)); }));
  setTAttr(legend, 'aria-label', 'calendar.legend');

  /* the queue's checks (P9), for everyone who reads the calendar */
  var lastQueueCheck = 0;
  var qStatus = h('p', { class: 'checks-status', testid: 'queue-checks-status' });
  var qList = h('ul', { class: 'violations', testid: 'queue-violations' });
  var qAgain = button('queueChecks.again', { small: true, testid: 'queue-checks-again', onClick: function () { loadQueueChecks(); } });
  var queueChecks = h('section', { class: 'card queue-checks', testid: 'queue-checks', 'aria-labelledby': 'queue-checks-title', hidden: true },
    h('div', { class: 'card-head' }, h('h2', { id: 'queue-checks-title', t: 'queueChecks.title' }), qAgain),
    h('p', { class: 'hint', t: 'queueChecks.lead' }),
    h('div', { 'aria-live': 'polite' }, qStatus, qList));

  function loadQueueChecks() {
    lastQueueCheck = Date.now();
    qAgain.disabled = true;
    return call('GET', '/workspaces/' + wid + '/queue/check').then(function (data) {
      qAgain.disabled = false;
      if (!ctx.alive()) return;
      var vs = blocksFirst(data && Array.isArray(data.violations) ? data.violations : []); // each once
      var blocks = vs.filter(function (v) { return v.severity === 'block'; }).length;
      clear(qList);
      if (!vs.length) {
        qStatus.className = 'checks-status checks-ok';
        setT(qStatus, 'queueChecks.none');
      } else {
        qStatus.className = 'checks-status' + (blocks ? ' checks-has-block' : ' checks-has-warn');
        setT(qStatus, blocks ? 'queueChecks.summaryBlock' : 'checks.summaryWarn', { n: blocks || vs.length });
        vs.forEach(function (v) { qList.appendChild(violationItem(v, channelName, wid)); });
      }
      queueChecks.hidden = false;
    }, function (err) {
      qAgain.disabled = false;
      if (!ctx.alive() || err.handled) return;
      if (err.status === 404) { queueChecks.hidden = true; return; } // not on this server yet
      clear(qList);
      qStatus.className = 'checks-status muted';
      setT(qStatus, 'checks.failed', { message: err.message });
      queueChecks.hidden = false;
    });
  }

  /* a secret iCalendar link to the schedule (P13), for owners */
  var feedCard = null;
  if (ctx.role === 'owner') {
    var feedMsg = messageBox('ical-message');
    var feedBox = h('div', { class: 'secret-once', testid: 'ical-created', hidden: true, role: 'status', 'aria-live': 'polite' });
    var feedCreate = button('ical.create', { kind: 'primary', small: true, testid: 'ical-create' });
    var feedStop = button('ical.stop', { kind: 'danger-quiet', small: true, testid: 'ical-stop' });
    feedCard = h('section', { class: 'card ical-card', testid: 'ical-card', 'aria-labelledby': 'ical-title' },
      h('h2', { id: 'ical-title', t: 'ical.title' }),
      h('p', { class: 'ical-lead', t: 'ical.lead' }),
      h('p', { class: 'hint', t: 'ical.replace' }),
      feedMsg.el, feedBox,
      h('div', { class: 'form-actions' }, feedCreate, feedStop));
    feedCreate.addEventListener('click', function () {
      feedMsg.clear();
      feedCreate.disabled = true;
      call('POST', '/workspaces/' + wid + '/calendar').then(function (res) {
        feedCreate.disabled = false;
        if (!ctx.alive()) return;
        clear(feedBox);
        append(feedBox, [
          h('h3', { t: 'ical.createdHeading' }),
          secretCopy('ical-url', location.origin + String((res && res.path) || ''), 'ical.urlLabel'),
          h('p', { class: 'hint', t: 'ical.once' }),
          button('action.done', { testid: 'ical-done', onClick: function () { feedBox.hidden = true; clear(feedBox); } })
        ]);
        feedBox.hidden = false;
      }, function (err) {
        feedCreate.disabled = false;
        showError(feedMsg, err);
      });
    });
    feedStop.addEventListener('click', function () {
      feedMsg.clear();
      confirmDialog('ical.stopTitle', 'ical.stopText', null, 'ical.stop').then(function (ok) {
        if (!ok) return;
        call('DELETE', '/workspaces/' + wid + '/calendar').then(function () {
          if (!ctx.alive()) return;
          feedBox.hidden = true;
          clear(feedBox);
          feedMsg.noticeKey('ical.stopped');
        }, function (err) { showError(feedMsg, err); });
      });
    });
  }

  var details = h('dialog', { class: 'dialog drawer', testid: 'occurrence-details', 'aria-labelledby': 'details-title' });
  details.addEventListener('close', function () {
    var id = openId;
    openId = null;
    detailsNotice = null;
    var back = id ? body.querySelector('[data-occurrence-id="' + id + '"]') : null;
    if (back) back.focus();
  });

  var page = h('section', { class: 'page page-wide', testid: 'section-calendar', 'aria-labelledby': 'page-title' },
    pageHeader('nav.calendar', 'calendar.lead'),
    msg.el,
    h('div', { class: 'card cal-card' },
      h('div', { class: 'cal-toolbar' },
        h('div', { class: 'cal-nav' }, prevBtn, todayBtn, nextBtn),
        rangeLabel,
        h('div', { class: 'cal-tools' },
          h('label', { for: 'cal-channel', class: 'visually-hidden', t: 'calendar.channelFilter' }), channelFilter,
          viewGroup, newPost)),
      legend,
      body),
    queueChecks,
    feedCard,
    details);

  function range() {
    if (view === 'month') {
      var first = new Date(anchor.getFullYear(), anchor.getMonth(), 1);
      var last = new Date(anchor.getFullYear(), anchor.getMonth() + 1, 0);
      return { from: startOfWeek(first), to: addDays(startOfWeek(last), 7) };
    }
    var from = startOfWeek(anchor);
    return { from: from, to: addDays(from, 7) };
  }

  function channelName(id) {
    var ch = channelById[id];
    return ch ? ch.name : t('calendar.unknownChannel', { id: id });
  }

  function stopTimer() { if (timer) { window.clearTimeout(timer); timer = null; } }

  // Reloads every 15 s while the page is visible; every 2 s while something is going out.
  function planRefresh() {
    stopTimer();
    var now = Date.now();
    var busy = items.some(function (o) {
      var st = stateOf(o);
      if (st === 'publishing') return true;
      var due = Date.parse(o.next_attempt_at || o.planned_at);
      // One held by its channel's pause or waiting for approval (P12) waits for a person, not
      // for the publisher.
      return st === 'scheduled' && due <= now + 5000 && !isPaused(o) && !waitsForApproval(o);
    });
    busyRounds = busy ? busyRounds + 1 : 0;
    timer = window.setTimeout(tick, busy && busyRounds <= REFRESH_BUSY_ROUNDS ? REFRESH_BUSY_MS : REFRESH_MS);
  }

  function tick() {
    timer = null;
    if (!ctx.alive()) return;
    if (document.visibilityState !== 'visible') return; // resumed by visibilitychange
    load();
  }

  function onVisibility() {
    if (!ctx.alive()) { stopTimer(); document.removeEventListener('visibilitychange', onVisibility); return; }
    if (document.visibilityState === 'visible' && !timer) load();
  }
  document.addEventListener('visibilitychange', onVisibility);

  function load() {
    var r = range();
    var mine = ++seq;
    stopTimer();
    var path = '/workspaces/' + wid + '/queue?from=' + encodeURIComponent(rfc3339Local(r.from)) +
      '&to=' + encodeURIComponent(rfc3339Local(r.to)) + (channelFilter.value ? '&channel=' + encodeURIComponent(channelFilter.value) : '');
    body.setAttribute('aria-busy', 'true');
    return queueAll(path).then(function (data) {
      if (mine !== seq || !ctx.alive()) return;
      items = data && Array.isArray(data.items) ? data.items : [];
      loaded = true;
      msg.clear();
      render();
      planRefresh();
      if (Date.now() - lastQueueCheck > 60000) loadQueueChecks();
    }, function (err) {
      if (mine !== seq || !ctx.alive()) return;
      body.removeAttribute('aria-busy');
      showError(msg, err);
      if (!err.handled) planRefresh();
    });
  }

  function go(newAnchor, newView) {
    anchor = startOfDay(newAnchor);
    if (newView) { view = newView; state.calendarView = newView; }
    busyRounds = 0;
    renderFrame();
    load();
  }

  // A month is anchored on its first day, or on today in the current month (so that the
  // week view opens on the current week after a trip through the months).
  function monthAnchor(delta) {
    var first = new Date(anchor.getFullYear(), anchor.getMonth() + delta, 1);
    var today = new Date();
    return first.getFullYear() === today.getFullYear() && first.getMonth() === today.getMonth() ? today : first;
  }
  prevBtn.addEventListener('click', function () { go(view === 'month' ? monthAnchor(-1) : addDays(anchor, -7)); });
  nextBtn.addEventListener('click', function () { go(view === 'month' ? monthAnchor(1) : addDays(anchor, 7)); });
  todayBtn.addEventListener('click', function () { go(new Date()); });
  weekBtn.addEventListener('click', function () { if (view !== 'week') go(anchor, 'week'); });
  monthBtn.addEventListener('click', function () { if (view !== 'month') go(anchor, 'month'); });
  channelFilter.addEventListener('change', function () { busyRounds = 0; load(); });

  // The parts that follow the range and the view, drawn before the items arrive.
  function renderFrame() {
    var r = range();
    if (view === 'month') {
      rangeLabel.textContent = fmt(anchor, { month: 'long', year: 'numeric' });
    } else {
      var last = addDays(r.from, 6);
      var text;
      try { text = new Intl.DateTimeFormat(I.locale(state.lang), { day: 'numeric', month: 'short', year: 'numeric' }).formatRange(r.from, last); }
      catch (e) { text = fmt(r.from, { day: 'numeric', month: 'short' }) + ' \u2013 ' + fmt(last, { day: 'numeric', month: 'short', year: 'numeric' }); }
      rangeLabel.textContent = text;
    }
    weekBtn.setAttribute('aria-pressed', String(view === 'week'));
    monthBtn.setAttribute('aria-pressed', String(view === 'month'));
    setTAttr(prevBtn, 'aria-label', view === 'month' ? 'calendar.prevMonth' : 'calendar.prevWeek');
    setTAttr(nextBtn, 'aria-label', view === 'month' ? 'calendar.nextMonth' : 'calendar.nextWeek');
    body.setAttribute('data-view', view);
  }

  function byDay() {
    var map = {};
    items.slice().sort(function (a, b) {
      return Date.parse(a.planned_at) - Date.parse(b.planned_at) || a.channel_id - b.channel_id || a.id - b.id;
    }).forEach(function (o) {
      var d = new Date(o.planned_at);
      if (isNaN(d.getTime())) return;
      (map[dayKey(d)] = map[dayKey(d)] || []).push(o);
    });
    return map;
  }

  function isPaused(o) { return !!(o.waiting && o.waiting.reason === 'paused'); }

  // Why a scheduled occurrence waits, on its card: its channel's pause or cap.
  function waitingNote(o) {
    if (!o.waiting) return null;
    if (isPaused(o)) return h('span', { class: 'occ-waiting', testid: 'occurrence-waiting', 'data-reason': 'paused', t: 'calendar.waitingPaused' });
    return h('span', { class: 'occ-waiting', testid: 'occurrence-waiting', 'data-reason': o.waiting.reason, t: 'calendar.waitingUntil',
      tp: { time: fmt(new Date(o.waiting.until), { weekday: 'short', hour: '2-digit', minute: '2-digit' }) } });
  }

  function occButton(o, compact) {
    var st = stateOf(o);
    var cat = o.category || 'value';
    var errId = o.error ? 'occ-err-' + o.id : null;
    var b = h('button', { type: 'button', class: 'occ occ-' + st + (compact ? ' occ-compact' : ''), testid: 'occurrence',
      'data-state': st, 'data-occurrence-id': String(o.id), 'data-post-id': String(o.post_id), 'aria-describedby': errId },
      h('span', { class: 'occ-top' },
        h('time', { class: 'occ-time', datetime: o.planned_at, text: fmt(new Date(o.planned_at), { hour: '2-digit', minute: '2-digit' }) }),
        statePill(st, 'occurrence-state')),
      h('span', { class: 'occ-channel', testid: 'occurrence-channel', user: channelName(o.channel_id) }),
      h('span', { class: 'occ-text', testid: 'occurrence-text', user: excerpt(o.text, compact ? 60 : 110) }),
      compact ? null : h('span', { class: 'occ-meta' }, categoryChip(cat)),
      approvalMark(o), // P12: awaiting approval
      waitingNote(o),
      o.error ? h('span', { class: 'occ-error', id: errId, role: 'tooltip', testid: 'occurrence-error' },
        h('span', { class: 'occ-error-label', t: st === 'failed' ? 'calendar.failedBecause' : 'calendar.retryBecause' }), ' ', userText(o.error)) : null);
    b.addEventListener('click', function () { openDetails(o.id); });
    return b;
  }

  function render() {
    renderFrame();
    body.removeAttribute('aria-busy');
    clear(body);
    var r = range();
    var map = byDay();
    var today = dayKey(new Date());
    if (view === 'week') {
      var week = h('div', { class: 'cal-week', testid: 'calendar-week' });
      for (var i = 0; i < 7; i++) {
        var day = addDays(r.from, i);
        var key = dayKey(day);
        var its = map[key] || [];
        var headId = 'cal-day-' + key;
        week.appendChild(h('section', { class: 'cal-day' + (key === today ? ' is-today' : '') + (key < today ? ' is-past' : ''),
          testid: 'calendar-day', 'data-date': key, 'aria-labelledby': headId },
          h('h3', { class: 'cal-day-head', id: headId },
            h('span', { class: 'cal-dow', text: fmt(day, { weekday: 'short' }) }),
            h('span', { class: 'cal-date', text: fmt(day, { day: 'numeric', month: 'short' }) }),
            key === today ? h('span', { class: 'cal-today-badge', t: 'calendar.todayBadge' }) : null),
          its.length ? h('ol', { class: 'cal-items' }, its.map(function (o) { return h('li', null, occButton(o, false)); }))
            : h('p', { class: 'cal-none', t: 'calendar.dayEmpty' })));
      }
      body.appendChild(week);
    } else {
      var month = h('div', { class: 'cal-month', testid: 'calendar-month' });
      for (var k = 0; k < 7; k++) month.appendChild(h('div', { class: 'cal-month-dow', 'aria-hidden': 'true', text: fmt(addDays(r.from, k), { weekday: 'short' }) }));
      for (var d = r.from; d < r.to; d = addDays(d, 1)) month.appendChild(monthCell(d, map[dayKey(d)] || [], today));
      body.appendChild(month);
    }
    if (!items.length) {
      body.appendChild(h('p', { class: 'cal-empty', testid: 'calendar-empty' },
        h('span', { t: view === 'month' ? 'calendar.emptyMonth' : 'calendar.emptyWeek' }), ' ',
        canWrite ? h('a', { href: '#/w/' + wid + '/composer', t: 'calendar.emptyLink' }) : null));
    }
    if (openId !== null) renderDetails();
  }

  function monthCell(d, its, today) {
    var key = dayKey(d);
    var headId = 'cal-cell-' + key;
    var shown = its.slice(0, 3);
    var more = its.length - shown.length;
    var day = d;
    return h('section', { class: 'cal-cell' + (d.getMonth() !== anchor.getMonth() ? ' is-outside' : '') +
      (key === today ? ' is-today' : ''), testid: 'calendar-day', 'data-date': key, 'aria-labelledby': headId },
      h('h3', { class: 'cal-cell-head', id: headId },
        h('span', { class: 'visually-hidden', text: fmt(d, { weekday: 'long', day: 'numeric', month: 'long' }) }),
        h('span', { 'aria-hidden': 'true', text: fmt(d, { day: 'numeric' }) })),
      shown.length ? h('ol', { class: 'cal-items' }, shown.map(function (o) { return h('li', null, occButton(o, true)); })) : null,
      more > 0 ? h('button', { type: 'button', class: 'btn btn-link cal-more', testid: 'calendar-more', t: 'calendar.more', tp: { n: more },
        on: { click: function () { go(day, 'week'); } } }) : null);
  }

  /* the details panel */

  function find(id) {
    for (var i = 0; i < items.length; i++) if (items[i].id === id) return items[i];
    return null;
  }

  function openDetails(id) {
    openId = id;
    detailsNotice = null;
    renderDetails();
    if (!details.open) details.showModal();
    var title = details.querySelector('h2');
    if (title) title.focus();
    var o = find(id);
    if (o && stateOf(o) === 'published') loadEngagement(o.post_id, false);
  }

  /* engagement: likes, reposts, replies and quotes of each published copy, fetched at
     checkpoints after publishing (and on request) */

  function loadEngagement(postId, refresh) {
    var e = engagement[postId] || (engagement[postId] = { items: null, busy: false, error: null, note: null });
    if (e.busy) return;
    e.busy = true;
    e.error = null;
    e.note = null;
    if (openId !== null) renderDetails();
    call(refresh ? 'POST' : 'GET', '/workspaces/' + wid + '/posts/' + postId + '/engagement').then(function (data) {
      e.busy = false;
      data = data || {};
      e.items = Array.isArray(data.items) ? data.items : [];
      if (refresh) e.note = { fetched: Number(data.fetched) || 0, failed: Number(data.failed) || 0 };
      if (ctx.alive() && openId !== null) renderDetails();
    }, function (err) {
      e.busy = false;
      if (err.handled) return;
      e.error = err.message;
      if (ctx.alive() && openId !== null) renderDetails();
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
      h('caption', null, h('span', { class: 'name', user: channelName(rows[0].channel_id) }),
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
    var refresh = button('engagement.refresh', { small: true, testid: 'engagement-refresh', onClick: function () { loadEngagement(o.post_id, true); } });
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
      h('div', { class: 'engagement-head' }, h('h3', { id: 'engagement-title', t: 'engagement.title' }), refresh),
      h('p', { class: 'hint', t: 'engagement.lead' }),
      content,
      e.note ? h('p', { class: 'hint engagement-note', testid: 'engagement-note', role: 'status',
        t: e.note.failed ? 'engagement.refreshedFailed' : 'engagement.refreshed', tp: { n: e.note.fetched, failed: e.note.failed } }) : null);
  }

  function renderDetails() {
    var o = find(openId);
    if (!o) { if (details.open) details.close(); return; }
    // The panel is drawn anew: the control that had the focus gets it back.
    var focused = details.contains(document.activeElement) ? document.activeElement.getAttribute('data-testid') : null;
    var st = stateOf(o);
    var ch = channelById[o.channel_id];
    var detailsMsg = messageBox('details-message');
    var cancelBtn = st === 'scheduled' && canWrite ? button('calendar.cancelPost', { kind: 'danger-quiet', testid: 'details-cancel', onClick: function () {
      confirmDialog('calendar.cancelTitle', 'calendar.cancelText', { channel: channelName(o.channel_id) }, 'calendar.cancelConfirm').then(function (ok) {
        if (!ok || !ctx.alive()) return;
        cancelBtn.disabled = true;
        call('POST', '/workspaces/' + wid + '/posts/' + o.post_id + '/cancel').then(function (post) {
          if (!ctx.alive()) return;
          (post && Array.isArray(post.occurrences) ? post.occurrences : []).forEach(function (p) {
            var mineOcc = find(p.id);
            if (mineOcc) mineOcc.state = p.state;
          });
          detailsNotice = 'calendar.cancelled';
          render();
          lastQueueCheck = 0;
          load();
        }, function (err) {
          cancelBtn.disabled = false;
          showError(detailsMsg, err);
        });
      });
    } }) : null;
    var rows = [
      ['calendar.details.when', dateEl(o.planned_at)],
      ['calendar.details.channel', h('span', null, h('span', { class: 'name', testid: 'details-channel', user: channelName(o.channel_id) }), ' ',
        ch ? kindChip(ch.kind) : null, ch && ch.timezone ? [' ', h('span', { class: 'muted', testid: 'details-timezone', user: ch.timezone })] : null)],
      ['calendar.details.category', categoryChip(o.category)],
      o.published_at ? ['calendar.details.published', dateEl(o.published_at)] : null,
      isPaused(o) ? ['calendar.details.goesOut', h('span', { t: 'calendar.details.whenResumed' })]
        : o.waiting ? ['calendar.details.goesOut', dateEl(o.waiting.until)]
        : o.next_attempt_at ? ['calendar.details.retry', dateEl(o.next_attempt_at)] : null,
      o.attempts ? ['calendar.details.attempts', h('span', { text: String(o.attempts) })] : null,
      o.remote_url ? ['calendar.details.remote', link(o.remote_url, { class: 'details-remote', testid: 'details-remote' }, userText(o.remote_url))] : null,
      ['calendar.details.post', h('span', { text: '#' + o.post_id })]
    ].filter(Boolean);
    clear(details);
    append(details, [
      h('div', { class: 'drawer-head' },
        h('h2', { id: 'details-title', tabindex: '-1', t: 'calendar.details.title' }),
        h('button', { type: 'button', class: 'btn btn-secondary btn-small', testid: 'details-close', t: 'calendar.close',
          on: { click: function () { details.close(); } } })),
      h('p', { class: 'details-state' }, statePill(st, 'details-state')),
      detailsNotice ? h('p', { class: 'message message-ok', role: 'status', testid: 'details-notice', t: detailsNotice }) : null,
      o.waiting ? h('div', { class: 'details-waiting', testid: 'details-waiting' },
        h('p', { class: 'details-waiting-title', t: isPaused(o) ? 'calendar.waitingPausedTitle' : 'calendar.waitingTitle' }),
        h('p', { user: o.waiting.message })) : null,
      approvalDetails(o, wid), // P12: why it has not gone out
      o.error ? h('div', { class: 'details-error', testid: 'details-error', role: st === 'failed' ? 'alert' : null },
        h('p', { class: 'details-error-title', t: st === 'failed' ? 'calendar.failedBecause' : 'calendar.retryBecause' }),
        h('p', { user: o.error }),
        st === 'failed' ? h('p', { class: 'hint', t: 'calendar.failedHelp' }) : null) : null,
      h('dl', { class: 'details-list' }, rows.map(function (r) { return [h('dt', { t: r[0] }), h('dd', null, r[1])]; })),
      h('h3', { class: 'details-text-title', t: 'calendar.details.text' }),
      h('p', { class: 'details-text', testid: 'details-text', user: o.text || '' }),
      st === 'published' ? engagementSection(o) : null,
      detailsMsg.el,
      h('div', { class: 'dialog-actions' }, cancelBtn)
    ]);
    if (focused) {
      var again = details.querySelector('[data-testid="' + focused + '"]');
      if (again && !again.disabled) again.focus();
    }
  }

  onLanguage(ctx, function () { if (loaded) render(); else renderFrame(); });

  renderFrame();
  allChannels(wid).then(function (list) {
    if (!ctx.alive()) return;
    list.forEach(function (ch) { channelById[ch.id] = ch; });
    list.filter(function (ch) { return PUBLISHING_KINDS.indexOf(ch.kind) >= 0; }).forEach(function (ch) {
      channelFilter.appendChild(h('option', { value: String(ch.id), user: ch.name }));
    });
    return load();
  }, function (err) {
    if (!ctx.alive()) return;
    showError(msg, err);
    return load();
  });

  return page;
}
