/* samtale dashboard, section Calendar: the queue by week, month or as a list.
 *
 * The week is a grid of days and hours: each occurrence at its hour, in its channel's
 * colour (a palette of CHANNEL_COLOURS classes, chan-c0.., given to the workspace's
 * publishing channels in id order; the legend names them), with its state as a person
 * reads it (a failed or retrying one with its reason and what to do, on the card, readable
 * on a phone); each channel's free posting slots as quiet targets that open the composer
 * for that slot; and, on a desktop, a card dragged to another day and hour moves there
 * through the checks (the same PATCH and the same "Move anyway" as the details panel; a
 * refused move puts the card back). The month is a grid of days, a list at phone width.
 * The list is the month's posts by date, where several scheduled posts can be selected
 * and moved (by an offset or to a date) or cancelled at once, with a report of what
 * worked and what was stopped and why. Filters by channel, campaign, category and state
 * combine, show as chips and stay while a person moves through weeks and sections.
 * Copies of a series wear "Series · 3 of 7", and opening one marks its family.
 * #/w/ID/calendar?post=ID opens that post's week and its details.
 *
 * The details panel is calendar_details.js. Also here: the checks of the whole queue and
 * the secret iCalendar link of the workspace's calendar. Reloads while visible, more often
 * while something is going out, and draws again only what changed.
 */

import * as I from '../i18n.js';
import { state } from '../core/state.js';
import { t, setT, setTAttr, onLanguage } from '../core/lang.js';
import { h, userText, append, clear, messageBox, button, confirmDialog, pageHeader, showError, secretCopy,
  field, setFieldError } from '../core/dom.js';
import { call, queueAll, allChannels } from '../core/api.js';
import { PUBLISHING_KINDS, CATEGORIES, rfc3339Local, dayKey, startOfDay, addDays, startOfWeek, fmt, excerpt,
  categoryChip, stateOf, violationItem, blocksFirst } from '../core/post_util.js';
import { detailsPanel, lookOf, lookPill, isPaused, composerHref, moveOccurrence, timeOf, dayAndTime } from './calendar_details.js';
import { approvalMark, waitsForApproval } from '../core/approval_util.js'; // approval (P12)

var REFRESH_MS = 15000;        // the calendar reloads this often while visible
var REFRESH_BUSY_MS = 2000;    // ... and this often while something is going out
var REFRESH_BUSY_ROUNDS = 60;  // but no longer than this many rounds in a row
var SLOTS_MAX_AGE_MS = 300000; // a channel's upcoming slots are asked again after this
var SLOT_DAYS = 92;            // ... for this many days ahead (the most the API plans)
var CHANNEL_COLOURS = 10;      // classes chan-c0 .. chan-c9 in app.css
var FREE_SLOTS_SHOWN = 3;      // more channels free at one time fold behind one line
var HOUR_FIRST = 6;            // the week shows at least the hours 06:00 ..
var HOUR_LAST = 23;            // .. 23:00, and any other hour that holds something
var PHONE = '(max-width: 640px)';
var VIEWS = ['week', 'month', 'list'];
// The states a person filters by: the occurrence states, with retrying and waiting apart.
var LOOKS = ['scheduled', 'waiting', 'retrying', 'publishing', 'published', 'failed', 'cancelled'];
var FILTER_KINDS = ['channel', 'campaign', 'category', 'state'];
var OFFSETS = ['1', '2', '7', '-1', 'date']; // bulk moves: days later (or earlier), or to a date

function emptyFilters() { return { channel: [], campaign: [], category: [], state: [] }; }

// What the calendar keeps while a person goes to other sections and back, per workspace:
// the filters and whether free slots show. Forgotten when someone else logs in on this page.
var keptUser = null;
var keptByWorkspace = {};

export function calendarView(ctx) {
  var wid = ctx.wid;
  var canWrite = ctx.role === 'owner' || ctx.role === 'editor';
  var userId = state.me && state.me.user ? state.me.user.id : null;
  if (keptUser !== userId) { keptUser = userId; keptByWorkspace = {}; }
  var kept = keptByWorkspace[wid] || (keptByWorkspace[wid] = { filters: emptyFilters(), freeSlots: true });
  var filters = kept.filters;
  var view = VIEWS.indexOf(state.calendarView) >= 0 ? state.calendarView : 'week';
  var anchor = startOfDay(state.calendarFocus ? new Date(state.calendarFocus) : new Date());
  if (isNaN(anchor.getTime())) anchor = startOfDay(new Date());
  state.calendarFocus = null;
  var deepPost = Number(ctx.params && ctx.params.post) > 0 ? Number(ctx.params.post) : null;
  var deepOcc = Number(ctx.params && ctx.params.occurrence) > 0 ? Number(ctx.params.occurrence) : null;
  var pendingOpen = null;     // an occurrence to open once the range holding it is loaded

  var channels = [];          // the workspace's channels
  var channelById = {};
  var colourOf = {};          // channel id -> palette index
  var items = [];
  var loaded = false;
  var seq = 0;
  var timer = null;
  var busyRounds = 0;
  var drawn = null;           // what the body shows, to draw it again only when it changed
  var slotCache = {};         // channel id -> { at, upcoming }: the channel's upcoming slots
  var openSlotGroups = {};    // instant (ms) -> true: a folded group of free slots someone opened
  var selected = {};          // occurrence id -> true: chosen in the list for a bulk action
  var bulk = { offset: '1', date: '', busy: null, report: null, reason: '' };
  var dragging = null;        // { id } while a card is dragged
  var renderLater = false;    // a reload arrived during a drag
  var phone = window.matchMedia ? window.matchMedia(PHONE) : null;
  var msg = messageBox('calendar-message');
  var moveNote = h('div', { class: 'message message-ok cal-move-note', testid: 'calendar-move-notice', role: 'status', 'aria-live': 'polite', hidden: true });
  var deepNote = h('div', { class: 'message message-error', testid: 'calendar-deep-link', role: 'alert', hidden: true });

  var rangeLabel = h('h2', { class: 'cal-range', id: 'cal-range', testid: 'calendar-range', 'aria-live': 'polite' });
  var prevBtn = h('button', { type: 'button', class: 'btn btn-secondary btn-small', testid: 'calendar-prev' },
    h('span', { 'aria-hidden': 'true', text: '\u2039 ' }), h('span', { t: 'calendar.prev' }));
  var todayBtn = button('calendar.today', { small: true, testid: 'calendar-today' });
  var nextBtn = h('button', { type: 'button', class: 'btn btn-secondary btn-small', testid: 'calendar-next' },
    h('span', { t: 'calendar.next' }), h('span', { 'aria-hidden': 'true', text: ' \u203a' }));
  var viewBtns = {};
  VIEWS.forEach(function (v) { viewBtns[v] = h('button', { type: 'button', class: 'seg', testid: 'calendar-view-' + v, t: 'calendar.' + v }); });
  var viewGroup = h('div', { class: 'segmented', role: 'group' }, VIEWS.map(function (v) { return viewBtns[v]; }));
  setTAttr(viewGroup, 'aria-label', 'calendar.viewLabel');
  var newPost = canWrite ? h('a', { class: 'btn btn-primary btn-small', href: '#/w/' + wid + '/composer', testid: 'calendar-new-post', t: 'calendar.newPost' }) : null;
  var body = h('div', { class: 'cal-body', testid: 'calendar-body' }, h('p', { class: 'muted cal-loading', t: 'list.loading' }));

  /* filters: a select per kind adds a value; the chosen values show as chips */

  var filterSelects = {};
  FILTER_KINDS.forEach(function (kind) {
    var sel = h('select', { id: 'cal-filter-' + kind, class: 'filter-select', testid: 'calendar-filter-' + kind });
    sel.addEventListener('change', function () {
      if (!sel.value) return;
      var v = sel.value;
      sel.value = '';
      if (filters[kind].indexOf(v) < 0) filters[kind].push(v);
      filtersChanged();
    });
    filterSelects[kind] = sel;
  });
  var chips = h('ul', { class: 'filter-chips', testid: 'calendar-filter-chips' });
  setTAttr(chips, 'aria-label', 'calendar.filter.active');
  var clearFilters = button('calendar.filter.clear', { small: true, testid: 'calendar-filter-clear', onClick: function () {
    FILTER_KINDS.forEach(function (k) { filters[k].length = 0; });
    filtersChanged();
    filterSelects.channel.focus();
  } });
  clearFilters.className = 'btn btn-link btn-small';
  var freeToggle = h('input', { type: 'checkbox', id: 'cal-free-slots', testid: 'calendar-free-slots', checked: kept.freeSlots });
  freeToggle.addEventListener('change', function () { kept.freeSlots = freeToggle.checked; load(); });
  var freeToggleWrap = canWrite ? h('label', { class: 'check-row cal-free-toggle', for: 'cal-free-slots' }, freeToggle, h('span', { t: 'calendar.freeSlots' })) : null;
  var filterBar = h('div', { class: 'cal-filters', testid: 'calendar-filters', role: 'group', 'aria-labelledby': 'cal-filter-title' },
    h('span', { class: 'cal-filter-title', id: 'cal-filter-title', t: 'calendar.filter.title' }),
    FILTER_KINDS.map(function (kind) {
      return [h('label', { for: 'cal-filter-' + kind, class: 'visually-hidden', t: 'calendar.filter.by.' + kind }), filterSelects[kind]];
    }),
    chips, clearFilters, freeToggleWrap);

  function filtersChanged() {
    renderFilterOptions();
    render(true);
    if (view === 'week') loadSlots(range()).then(function () { if (ctx.alive()) render(); });
  }

  function lookKey(look) {
    if (look === 'retrying') return 'calendar.look.retrying';
    if (look === 'waiting') return 'calendar.look.waiting';
    return 'occ.state.' + look;
  }

  // The options of each select: the first names the kind; values already chosen are left out.
  function renderFilterOptions() {
    var camps = {};
    items.forEach(function (o) { if (o.campaign) camps[o.campaign] = true; });
    filters.campaign.forEach(function (c) { camps[c] = true; });
    var values = {
      channel: channels.filter(function (ch) { return PUBLISHING_KINDS.indexOf(ch.kind) >= 0; }).map(function (ch) { return { v: String(ch.id), user: ch.name }; }),
      campaign: Object.keys(camps).sort().map(function (c) { return { v: c, user: c }; }),
      category: CATEGORIES.map(function (c) { return { v: c, t: 'category.' + c }; }),
      state: LOOKS.map(function (l) { return { v: l, t: lookKey(l) }; })
    };
    FILTER_KINDS.forEach(function (kind) {
      var sel = filterSelects[kind];
      var keep = document.activeElement === sel;
      clear(sel);
      sel.appendChild(h('option', { value: '', t: 'calendar.filter.' + kind }));
      var left = values[kind].filter(function (x) { return filters[kind].indexOf(x.v) < 0; });
      left.forEach(function (x) { sel.appendChild(h('option', { value: x.v, t: x.t || null, user: x.user || null })); });
      if (!values[kind].length) sel.appendChild(h('option', { value: '', disabled: true, t: 'calendar.filter.none.' + kind }));
      sel.value = '';
      if (keep) sel.focus();
    });
    clear(chips);
    FILTER_KINDS.forEach(function (kind) {
      filters[kind].forEach(function (v) {
        var label;
        if (kind === 'channel') label = h('span', { user: channelName(Number(v)) });
        else if (kind === 'campaign') label = h('span', { user: v });
        else if (kind === 'category') label = h('span', { t: 'category.' + v });
        else label = h('span', { t: lookKey(v) });
        var chip = h('button', { type: 'button', class: 'chip chip-' + kind + (kind === 'channel' ? ' ' + chanClass(Number(v)) : ''),
          testid: 'filter-chip', 'data-kind': kind, 'data-value': v },
          h('span', { class: 'chip-kind', t: 'calendar.filter.' + kind }), ': ', label,
          h('span', { class: 'chip-x', 'aria-hidden': 'true', text: ' \u00d7' }),
          h('span', { class: 'visually-hidden', t: 'calendar.filter.remove' }));
        chip.addEventListener('click', function () {
          var i = filters[kind].indexOf(v);
          if (i >= 0) filters[kind].splice(i, 1);
          filtersChanged();
          filterSelects[kind].focus();
        });
        chips.appendChild(h('li', null, chip));
      });
    });
    clearFilters.hidden = !anyFilter();
  }

  function anyFilter() { return FILTER_KINDS.some(function (k) { return filters[k].length > 0; }); }
  function anyButChannel() { return ['campaign', 'category', 'state'].some(function (k) { return filters[k].length > 0; }); }

  function passes(o) {
    if (filters.channel.length && filters.channel.indexOf(String(o.channel_id)) < 0) return false;
    if (filters.campaign.length && filters.campaign.indexOf(o.campaign || '') < 0) return false;
    if (filters.category.length && filters.category.indexOf(o.category || 'value') < 0) return false;
    if (filters.state.length && filters.state.indexOf(lookOf(o)) < 0) return false;
    return true;
  }

  /* legends: the channels' colours and the states */

  var chanLegend = h('ul', { class: 'legend chan-legend', testid: 'calendar-channel-legend' });
  setTAttr(chanLegend, 'aria-label', 'calendar.channelLegend');
  var legend = h('ul', { class: 'legend', testid: 'calendar-legend' },
    ['scheduled', 'waiting', 'retrying', 'publishing', 'published', 'failed', 'cancelled'].map(function (l) {
      return h('li', null, l === 'waiting' ? h('span', { class: 'occ-waiting-chip', t: 'calendar.look.waiting' }) : lookPill(l));
    }));
  setTAttr(legend, 'aria-label', 'calendar.legend');
  var dragHint = canWrite ? h('p', { class: 'hint cal-drag-hint', testid: 'calendar-drag-hint', t: 'calendar.dragHint' }) : null;

  function renderChannelLegend() {
    clear(chanLegend);
    channels.filter(function (ch) { return PUBLISHING_KINDS.indexOf(ch.kind) >= 0; }).forEach(function (ch) {
      chanLegend.appendChild(h('li', { class: 'chan-legend-item ' + chanClass(ch.id), testid: 'channel-legend-item', 'data-channel-id': String(ch.id) },
        h('span', { class: 'chan-dot', 'aria-hidden': 'true' }), h('span', { user: ch.name })));
    });
    chanLegend.hidden = !chanLegend.firstChild;
  }

  function chanClass(id) { return colourOf[id] !== undefined ? 'chan-c' + colourOf[id] : 'chan-cx'; }

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

  /* the details panel */

  var panel = detailsPanel({
    ctx: ctx, wid: wid, canWrite: canWrite, channelById: channelById,
    find: find,
    items: function () { return items; },
    channelName: channelName,
    reload: function () { lastQueueCheck = 0; return load(); },
    follow: follow,
    onOpen: panelOpened
  });

  // The open occurrence is marked in the views; once the panel closes, an address that
  // asked for a post (?post=ID) becomes the bare calendar's, so that a link to the same
  // post opens it again.
  function panelOpened(id) {
    markOpen();
    if (id === null && ctx.alive() && /^#\/w\/\d+\/calendar\?/.test(location.hash)) history.replaceState(null, '', '#/w/' + wid + '/calendar');
  }

  var page = h('section', { class: 'page page-wide', testid: 'section-calendar', 'aria-labelledby': 'page-title' },
    pageHeader('nav.calendar', 'calendar.lead'),
    msg.el,
    deepNote,
    h('div', { class: 'card cal-card' },
      h('div', { class: 'cal-toolbar' },
        h('div', { class: 'cal-nav' }, prevBtn, todayBtn, nextBtn),
        rangeLabel,
        h('div', { class: 'cal-tools' }, viewGroup, newPost)),
      filterBar,
      h('div', { class: 'cal-legends' }, chanLegend, legend),
      dragHint,
      moveNote,
      body),
    queueChecks,
    feedCard,
    panel.el);

  function range() {
    if (view === 'month') {
      var first = new Date(anchor.getFullYear(), anchor.getMonth(), 1);
      var last = new Date(anchor.getFullYear(), anchor.getMonth() + 1, 0);
      return { from: startOfWeek(first), to: addDays(startOfWeek(last), 7) };
    }
    if (view === 'list') {
      return { from: new Date(anchor.getFullYear(), anchor.getMonth(), 1), to: new Date(anchor.getFullYear(), anchor.getMonth() + 1, 1) };
    }
    var from = startOfWeek(anchor);
    return { from: from, to: addDays(from, 7) };
  }

  function channelName(id) {
    var ch = channelById[id];
    return ch ? ch.name : t('calendar.unknownChannel', { id: id });
  }

  function find(id) {
    for (var i = 0; i < items.length; i++) if (items[i].id === id) return items[i];
    return null;
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

  function onPhoneChange() {
    if (!ctx.alive()) { if (phone.removeEventListener) phone.removeEventListener('change', onPhoneChange); return; }
    if (loaded) render(true);
  }
  if (phone && phone.addEventListener) phone.addEventListener('change', onPhoneChange);

  function load() {
    var r = range();
    var mine = ++seq;
    stopTimer();
    var path = '/workspaces/' + wid + '/queue?from=' + encodeURIComponent(rfc3339Local(r.from)) + '&to=' + encodeURIComponent(rfc3339Local(r.to));
    body.setAttribute('aria-busy', 'true');
    return Promise.all([queueAll(path), loadSlots(r)]).then(function (res) {
      var data = res[0];
      if (mine !== seq || !ctx.alive()) return;
      items = data && Array.isArray(data.items) ? data.items : [];
      loaded = true;
      msg.clear();
      renderFilterOptions();
      render();
      panel.refresh();
      if (pendingOpen !== null && find(pendingOpen)) { var id = pendingOpen; pendingOpen = null; panel.open(id); }
      planRefresh();
      if (Date.now() - lastQueueCheck > 60000) loadQueueChecks();
    }, function (err) {
      if (mine !== seq || !ctx.alive()) return;
      body.removeAttribute('aria-busy');
      showError(msg, err);
      if (!err.handled) planRefresh();
    });
  }

  /* free posting slots: each channel's upcoming slots (GET .../slots) that no post holds */

  function showFreeSlots() { return canWrite && view === 'week' && kept.freeSlots && !anyButChannel(); }

  function slotChannels() {
    return channels.filter(function (ch) {
      return PUBLISHING_KINDS.indexOf(ch.kind) >= 0 && ch.status !== 'disabled' &&
        (!filters.channel.length || filters.channel.indexOf(String(ch.id)) >= 0);
    });
  }

  // Each shown channel's slots for the next SLOT_DAYS days (as far as the API plans them),
  // asked once and again after SLOTS_MAX_AGE_MS: moving through the weeks asks nothing.
  function loadSlots(r) {
    var now = Date.now();
    if (!showFreeSlots() || r.to.getTime() <= now || r.from.getTime() > now + SLOT_DAYS * 86400000) return Promise.resolve();
    var need = slotChannels().filter(function (ch) {
      var c = slotCache[ch.id];
      return !c || now - c.at > SLOTS_MAX_AGE_MS;
    });
    return Promise.all(need.map(function (ch) {
      return call('GET', '/workspaces/' + wid + '/channels/' + ch.id + '/slots?days=' + SLOT_DAYS).then(function (data) {
        slotCache[ch.id] = { at: now, upcoming: data && Array.isArray(data.upcoming) ? data.upcoming : [] };
      }, function () { /* without slots the week still shows its posts */ });
    }));
  }

  // The free slots in range r: { at (the server's RFC 3339), when (a Date), channel_id }.
  function freeSlots(r) {
    if (!showFreeSlots()) return [];
    var now = Date.now();
    var taken = {};
    items.forEach(function (o) { if (stateOf(o) !== 'cancelled') taken[o.channel_id + '@' + Date.parse(o.planned_at)] = true; });
    var out = [];
    slotChannels().forEach(function (ch) {
      var c = slotCache[ch.id];
      (c ? c.upcoming : []).forEach(function (s) {
        var ms = Date.parse(s.at);
        if (isNaN(ms) || ms < now || ms < r.from.getTime() || ms >= r.to.getTime() || taken[ch.id + '@' + ms]) return;
        out.push({ at: s.at, when: new Date(ms), channel_id: ch.id });
      });
    });
    return out.sort(function (a, b) { return a.when - b.when || a.channel_id - b.channel_id; });
  }

  // The free slots of one hour: "+ Free slot 09:00" and a link per channel that has it
  // (each link says the whole "Free slot 09:00 on Shop" to a screen reader and in its title).
  // When many channels share the time, the links fold away behind "+ Free slot 09:00 · 12
  // channels" (a <details>; which ones are open survives a redraw).
  function freeSlotGroups(list) {
    var groups = [];
    list.forEach(function (s) {
      var g = groups.length ? groups[groups.length - 1] : null;
      if (!g || g.when.getTime() !== s.when.getTime()) groups.push(g = { when: s.when, slots: [] });
      g.slots.push(s);
    });
    return groups.map(function (g) {
      var key = String(g.when.getTime());
      var links = g.slots.map(function (s) {
        var words = t('calendar.freeSlot', { time: timeOf(s.when), channel: channelName(s.channel_id) });
        return h('a', { class: 'free-slot ' + chanClass(s.channel_id), testid: 'free-slot', 'data-channel-id': String(s.channel_id),
          'data-at': s.at, href: composerHref(wid, { at: s.at, channel: s.channel_id }), title: words, 'aria-label': words },
          h('span', { class: 'chan-dot', 'aria-hidden': 'true' }), h('span', { class: 'free-name', user: channelName(s.channel_id) }));
      });
      if (g.slots.length <= FREE_SLOTS_SHOWN) {
        return h('div', { class: 'free-group', testid: 'free-slot-group' },
          h('span', { class: 'free-when', t: 'calendar.freeAt', tp: { time: timeOf(g.when) } }), links);
      }
      var fold = h('details', { class: 'free-group free-fold', testid: 'free-slot-group', open: openSlotGroups[key] ? true : null },
        h('summary', { class: 'free-when', testid: 'free-slot-more', t: 'calendar.freeAtMany', tp: { time: timeOf(g.when), n: g.slots.length } }),
        h('div', { class: 'free-links' }, links));
      fold.addEventListener('toggle', function () { if (fold.open) openSlotGroups[key] = true; else delete openSlotGroups[key]; });
      return fold;
    });
  }

  /* navigation */

  function go(newAnchor, newView) {
    anchor = startOfDay(newAnchor);
    if (newView) { view = newView; state.calendarView = newView; }
    busyRounds = 0;
    renderFrame();
    return load();
  }

  // Shows the range that holds date (the details panel follows a moved post there).
  function follow(date) {
    var r = range();
    if (date >= r.from && date < r.to) return load();
    return go(date);
  }

  // A month is anchored on its first day, or on today in the current month (so that the
  // week view opens on the current week after a trip through the months).
  function monthAnchor(delta) {
    var first = new Date(anchor.getFullYear(), anchor.getMonth() + delta, 1);
    var today = new Date();
    return first.getFullYear() === today.getFullYear() && first.getMonth() === today.getMonth() ? today : first;
  }
  prevBtn.addEventListener('click', function () { go(view === 'week' ? addDays(anchor, -7) : monthAnchor(-1)); });
  nextBtn.addEventListener('click', function () { go(view === 'week' ? addDays(anchor, 7) : monthAnchor(1)); });
  todayBtn.addEventListener('click', function () { go(new Date()); });
  VIEWS.forEach(function (v) { viewBtns[v].addEventListener('click', function () { if (view !== v) go(anchor, v); }); });

  // The parts that follow the range and the view, drawn before the items arrive.
  function renderFrame() {
    var r = range();
    if (view !== 'week') {
      rangeLabel.textContent = fmt(anchor, { month: 'long', year: 'numeric' });
    } else {
      var last = addDays(r.from, 6);
      var text;
      try { text = new Intl.DateTimeFormat(I.locale(state.lang), { day: 'numeric', month: 'short', year: 'numeric' }).formatRange(r.from, last); }
      catch (e) { text = fmt(r.from, { day: 'numeric', month: 'short' }) + ' \u2013 ' + fmt(last, { day: 'numeric', month: 'short', year: 'numeric' }); }
      rangeLabel.textContent = text;
    }
    VIEWS.forEach(function (v) { viewBtns[v].setAttribute('aria-pressed', String(view === v)); });
    setTAttr(prevBtn, 'aria-label', view === 'week' ? 'calendar.prevWeek' : 'calendar.prevMonth');
    setTAttr(nextBtn, 'aria-label', view === 'week' ? 'calendar.nextWeek' : 'calendar.nextMonth');
    body.setAttribute('data-view', view);
    if (freeToggleWrap) freeToggleWrap.hidden = view !== 'week';
    if (dragHint) dragHint.hidden = view !== 'week';
  }

  function sortedVisible() {
    return items.filter(passes).sort(function (a, b) {
      return Date.parse(a.planned_at) - Date.parse(b.planned_at) || a.channel_id - b.channel_id || a.id - b.id;
    });
  }

  /* one occurrence on a card */

  // Why a scheduled occurrence waits, on its card: its channel's pause or cap.
  function waitingNote(o) {
    if (!o.waiting) return null;
    if (isPaused(o)) return h('span', { class: 'occ-waiting', testid: 'occurrence-waiting', 'data-reason': 'paused', t: 'calendar.waitingPaused' });
    return h('span', { class: 'occ-waiting', testid: 'occurrence-waiting', 'data-reason': o.waiting.reason, t: 'calendar.waitingUntil',
      tp: { time: fmt(new Date(o.waiting.until), { weekday: 'short', hour: '2-digit', minute: '2-digit' }) } });
  }

  // A card: a button that opens the details (the whole card does), and for a failed or
  // retrying one its reason and what to do. mode: week, compact (month) or list.
  function occCard(o, mode) {
    var st = stateOf(o);
    var look = lookOf(o);
    var compact = mode === 'compact';
    var problem = look === 'failed' || look === 'retrying';
    var reasonId = problem ? 'occ-reason-' + o.id : null;
    var series = o.series_id ? h('span', { class: 'series-badge', testid: 'occurrence-series',
      t: o.series_copy ? 'calendar.seriesBadge' : 'calendar.seriesBadgeShort', tp: { n: o.series_copy || 0, total: o.series_total || 0 } }) : null;
    var main = h('button', { type: 'button', class: 'occ-main', testid: 'occurrence-open', 'aria-describedby': reasonId },
      h('span', { class: 'occ-top' },
        h('time', { class: 'occ-time', datetime: o.planned_at, text: timeOf(new Date(o.planned_at)) }),
        lookPill(look, 'occurrence-state')),
      h('span', { class: 'occ-channel', testid: 'occurrence-channel' }, h('span', { class: 'chan-dot', 'aria-hidden': 'true' }),
        h('span', { class: 'occ-channel-name', user: channelName(o.channel_id) })),
      h('span', { class: 'occ-text', testid: 'occurrence-text', user: excerpt(o.text, compact ? 60 : 110) }),
      compact ? series : h('span', { class: 'occ-meta' }, categoryChip(o.category || 'value'),
        o.campaign ? h('span', { class: 'campaign-chip', testid: 'occurrence-campaign', user: o.campaign }) : null, series),
      approvalMark(o), // P12: awaiting approval
      waitingNote(o));
    var fix = null;
    if (problem && !compact && canWrite) {
      fix = h('p', { class: 'occ-fix' },
        look === 'retrying' && o.next_attempt_at ? h('span', { class: 'occ-next', t: 'calendar.retryAt', tp: { time: timeOf(new Date(o.next_attempt_at)) } }) : null,
        h('a', { href: '#/w/' + wid + '/settings/channels', testid: 'occurrence-fix-channel', t: 'calendar.fix.channel' }),
        look === 'failed' ? h('a', { href: composerHref(wid, { duplicate: o.post_id }), testid: 'occurrence-fix-again', t: 'calendar.fix.again' }) : null);
    }
    var card = h('div', { class: 'occ occ-' + look + ' ' + chanClass(o.channel_id) + (compact ? ' occ-compact' : '') + (mode === 'list' ? ' occ-list' : ''),
      testid: 'occurrence', 'data-state': st, 'data-look': look, 'data-occurrence-id': String(o.id), 'data-post-id': String(o.post_id),
      'data-channel-id': String(o.channel_id), 'data-series-id': o.series_id ? String(o.series_id) : null },
      main,
      problem ? h('div', { class: 'occ-problem', id: reasonId, testid: 'occurrence-error' },
        h('p', { class: 'occ-reason' }, compact ? null : [h('span', { class: 'occ-reason-label', t: look === 'failed' ? 'calendar.failedShort' : 'calendar.retryShort' }), ' '],
          userText(o.error || '', { class: 'occ-reason-text', testid: 'occurrence-reason' })),
        fix) : null);
    // The whole card opens the details, but for its links.
    card.addEventListener('click', function (ev) { if (!ev.target.closest('a')) panel.open(o.id); });
    if (mode === 'week' && canWrite && st === 'scheduled') {
      card.setAttribute('draggable', 'true');
      card.addEventListener('dragstart', function (ev) {
        dragging = { id: o.id };
        ev.dataTransfer.effectAllowed = 'move';
        ev.dataTransfer.setData('text/plain', String(o.id));
        card.classList.add('is-dragged');
        body.classList.add('is-dragging');
      });
      card.addEventListener('dragend', function () {
        dragging = null;
        card.classList.remove('is-dragged');
        body.classList.remove('is-dragging');
        body.querySelectorAll('.is-drop').forEach(function (el) { el.classList.remove('is-drop'); });
        if (renderLater) { renderLater = false; render(); }
      });
    }
    return card;
  }

  // The open occurrence and its family (the same post: a series' copies, its other channels).
  function markOpen() {
    var id = panel.openId();
    body.querySelectorAll('.occ.is-open, .occ.is-family').forEach(function (el) { el.classList.remove('is-open', 'is-family'); });
    if (id === null) return;
    var o = find(id);
    if (!o) return;
    body.querySelectorAll('.occ[data-post-id="' + o.post_id + '"]').forEach(function (el) {
      el.classList.add(Number(el.getAttribute('data-occurrence-id')) === id ? 'is-open' : 'is-family');
    });
  }

  /* the views */

  // Draws the body; without force only when what it shows changed. The control that had
  // the focus in it gets it back.
  function render(force) {
    if (dragging) { renderLater = true; return; }
    var r = range();
    var asList = view === 'list' || (view === 'month' && phone && phone.matches);
    var list = sortedVisible();
    var free = view === 'week' ? freeSlots(r) : [];
    var sig = JSON.stringify([view, asList, r.from.getTime(), items, filters, free, selected, bulk.report, bulk.busy, state.lang]);
    if (!force && sig === drawn) return;
    drawn = sig;
    renderFrame();
    body.removeAttribute('aria-busy');
    var active = document.activeElement && body.contains(document.activeElement) ? document.activeElement : null;
    var focusKey = active ? [active.getAttribute('data-testid'), active.closest('[data-occurrence-id]') ? active.closest('[data-occurrence-id]').getAttribute('data-occurrence-id') : null] : null;
    clear(body);
    if (view === 'week') body.appendChild(weekGrid(list, free, r));
    else if (asList) body.appendChild(listView(list, r));
    else body.appendChild(monthGrid(list, r));
    if (anyFilter() && items.length) {
      body.insertBefore(h('p', { class: 'filter-summary', testid: 'filter-summary', t: 'calendar.filter.summary', tp: { n: list.length, total: items.length } }), body.firstChild);
    }
    if (!list.length) {
      body.appendChild(h('p', { class: 'cal-empty', testid: 'calendar-empty' },
        items.length ? h('span', { t: 'calendar.filter.noneMatch' }) : h('span', { t: view === 'week' ? 'calendar.emptyWeek' : 'calendar.emptyMonth' }), ' ',
        canWrite && !items.length ? h('a', { href: '#/w/' + wid + '/composer', t: 'calendar.emptyLink' }) : null));
    }
    markOpen();
    if (focusKey && focusKey[0]) {
      var sel = '[data-testid="' + focusKey[0] + '"]';
      var again = focusKey[1] ? body.querySelector('[data-occurrence-id="' + focusKey[1] + '"] ' + sel + ', ' + sel + '[data-occurrence-id="' + focusKey[1] + '"]') : body.querySelector(sel);
      if (again) again.focus();
    }
  }

  function hourLabel(hr) { return fmt(new Date(2000, 0, 1, hr, 0), { hour: '2-digit', minute: '2-digit' }); }

  // The week: a column per day, a row per hour (the rows line up across the days: CSS
  // subgrid); hours outside HOUR_FIRST..HOUR_LAST that hold nothing on any day are left out.
  function weekGrid(list, free, r) {
    var today = dayKey(new Date());
    var now = Date.now();
    var cells = {};
    var used = {};
    function at(d) { used[d.getHours()] = true; var k = dayKey(d) + '/' + d.getHours(); return cells[k] || (cells[k] = { items: [], free: [] }); }
    function off(hr) { return !used[hr] && (hr < HOUR_FIRST || hr > HOUR_LAST); }
    list.forEach(function (o) {
      var d = new Date(o.planned_at);
      if (!isNaN(d.getTime())) at(d).items.push(o);
    });
    free.forEach(function (s) { at(s.when).free.push(s); });
    var canDrag = canWrite && !(phone && phone.matches);
    var week = h('div', { class: 'cal-week', testid: 'calendar-week' });
    var labels = [h('div', { class: 'cal-corner' })];
    for (var hr = 0; hr < 24; hr++) labels.push(h('div', { class: 'cal-hour-label' + (off(hr) ? ' is-off' : ''), text: hourLabel(hr) }));
    week.appendChild(h('div', { class: 'cal-hours', 'aria-hidden': 'true' }, labels));
    for (var i = 0; i < 7; i++) {
      var day = addDays(r.from, i);
      var key = dayKey(day);
      var headId = 'cal-day-' + key;
      var count = 0;
      var hours = [];
      for (var hh = 0; hh < 24; hh++) {
        var c = cells[key + '/' + hh] || { items: [], free: [] };
        count += c.items.length;
        hours.push(hourCell(day, hh, c, off(hh), canDrag, now));
      }
      week.appendChild(h('section', { class: 'cal-day' + (key === today ? ' is-today' : '') + (key < today ? ' is-past' : ''),
        testid: 'calendar-day', 'data-date': key, 'aria-labelledby': headId },
        h('div', { class: 'cal-day-top' },
          h('h3', { class: 'cal-day-head', id: headId },
            h('span', { class: 'cal-dow', text: fmt(day, { weekday: 'short' }) }),
            h('span', { class: 'cal-date', text: fmt(day, { day: 'numeric', month: 'short' }) }),
            key === today ? h('span', { class: 'cal-today-badge', t: 'calendar.todayBadge' }) : null),
          count ? null : h('p', { class: 'cal-none', t: 'calendar.dayEmpty' })),
        hours));
    }
    return week;
  }

  function hourCell(day, hr, c, off, canDrag, now) {
    var start = new Date(day.getFullYear(), day.getMonth(), day.getDate(), hr, 0);
    var past = start.getTime() + 3600000 <= now;
    var cell = h('div', { class: 'cal-hour' + (off ? ' is-off' : '') + (past ? ' is-past' : '') + (c.items.length || c.free.length ? '' : ' is-empty'),
      testid: 'calendar-hour', 'data-date': dayKey(day), 'data-hour': String(hr) },
      c.items.length ? h('ol', { class: 'cal-items' }, c.items.map(function (o) { return h('li', null, occCard(o, 'week')); })) : null,
      c.free.length ? h('div', { class: 'cal-free' }, freeSlotGroups(c.free)) : null);
    if (canDrag && !past) {
      cell.addEventListener('dragover', function (ev) {
        if (!dragging) return;
        ev.preventDefault();
        ev.dataTransfer.dropEffect = 'move';
        cell.classList.add('is-drop');
      });
      cell.addEventListener('dragleave', function (ev) { if (!cell.contains(ev.relatedTarget)) cell.classList.remove('is-drop'); });
      cell.addEventListener('drop', function (ev) {
        ev.preventDefault();
        cell.classList.remove('is-drop');
        var id = dragging ? dragging.id : Number(ev.dataTransfer.getData('text/plain'));
        dropOn(id, day, hr, cell);
      });
    }
    return cell;
  }

  // A card dropped on an hour of a day: it moves there (at its own minute) through the
  // checks; when they stop it, or anything else does, it goes back where it was.
  function dropOn(id, day, hr, cell) {
    var o = find(id);
    if (!o || stateOf(o) !== 'scheduled') return;
    var old = new Date(o.planned_at);
    var at = new Date(day.getFullYear(), day.getMonth(), day.getDate(), hr, old.getMinutes());
    if (at.getTime() === old.getTime()) return;
    var card = body.querySelector('.occ[data-occurrence-id="' + id + '"]');
    if (card) {
      var ol = cell.querySelector('.cal-items') || cell.insertBefore(h('ol', { class: 'cal-items' }), cell.firstChild);
      ol.appendChild(card.parentNode);
      cell.classList.remove('is-empty');
      card.classList.add('is-moving');
      card.setAttribute('aria-busy', 'true');
    }
    moveNote.hidden = true;
    msg.clear();
    moveOccurrence(wid, id, at, null).then(function (res) {
      if (!ctx.alive()) return;
      showMoveNote(at, res && Array.isArray(res.violations) ? res.violations : []);
      if (res && res.occurrence) Object.keys(res.occurrence).forEach(function (k) { o[k] = res.occurrence[k]; });
      lastQueueCheck = 0;
      load();
    }, function (err) {
      if (!ctx.alive()) return;
      render(true); // the card goes back
      if (err.handled) return;
      if (err.status === 422 && err.code === 'check_blocked') { panel.open(id, { moveTo: at, blocked: err }); return; }
      msg.error(err.message);
      if (err.status === 409) load();
    });
  }

  function showMoveNote(at, violations) {
    var warns = violations.filter(function (v) { return v.severity !== 'block'; });
    clear(moveNote);
    append(moveNote, [
      h('p', { t: 'calendar.move.done', tp: { time: dayAndTime(at) } }),
      warns.length ? [h('p', { t: 'calendar.move.warnings', tp: { n: warns.length } }),
        h('ul', { class: 'violations' }, blocksFirst(warns).map(function (v) { return violationItem(v, channelName, wid); }))] : null
    ]);
    moveNote.hidden = false;
  }

  function monthGrid(list, r) {
    var map = {};
    list.forEach(function (o) {
      var d = new Date(o.planned_at);
      if (!isNaN(d.getTime())) (map[dayKey(d)] = map[dayKey(d)] || []).push(o);
    });
    var today = dayKey(new Date());
    var month = h('div', { class: 'cal-month', testid: 'calendar-month' });
    for (var k = 0; k < 7; k++) month.appendChild(h('div', { class: 'cal-month-dow', 'aria-hidden': 'true', text: fmt(addDays(r.from, k), { weekday: 'short' }) }));
    for (var d = r.from; d < r.to; d = addDays(d, 1)) month.appendChild(monthCell(d, map[dayKey(d)] || [], today));
    return month;
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
      shown.length ? h('ol', { class: 'cal-items' }, shown.map(function (o) { return h('li', null, occCard(o, 'compact')); })) : null,
      more > 0 ? h('button', { type: 'button', class: 'btn btn-link cal-more', testid: 'calendar-more', t: 'calendar.more', tp: { n: more },
        on: { click: function () { go(day, 'week'); } } }) : null);
  }

  /* the list: the month's posts by date, with a checkbox on each scheduled one */

  function selectable(o) { return canWrite && stateOf(o) === 'scheduled'; }

  function listView(list, r) {
    var today = dayKey(new Date());
    var groups = [];
    var byKey = {};
    list.forEach(function (o) {
      var d = new Date(o.planned_at);
      if (isNaN(d.getTime()) || d < r.from || d >= r.to) return;
      var k = dayKey(d);
      if (!byKey[k]) { byKey[k] = { key: k, day: startOfDay(d), items: [] }; groups.push(byKey[k]); }
      byKey[k].items.push(o);
    });
    var shown = [];
    groups.forEach(function (g) { shown = shown.concat(g.items); });
    var candidates = shown.filter(selectable);
    var wrap = h('div', { class: 'cal-list', testid: 'calendar-list' },
      canWrite ? bulkHead(candidates) : null,
      groups.map(function (g) {
        var headId = 'cal-list-' + g.key;
        return h('section', { class: 'cal-list-day' + (g.key === today ? ' is-today' : '') + (g.key < today ? ' is-past' : ''),
          testid: 'calendar-list-day', 'data-date': g.key, 'aria-labelledby': headId },
          h('h3', { class: 'cal-list-head', id: headId }, h('span', { text: fmt(g.day, { weekday: 'long', day: 'numeric', month: 'long' }) }),
            g.key === today ? h('span', { class: 'cal-today-badge', t: 'calendar.todayBadge' }) : null),
          h('ol', { class: 'cal-list-items' }, g.items.map(function (o) {
            var box = null;
            if (selectable(o)) {
              box = h('input', { type: 'checkbox', class: 'cal-select', id: 'cal-select-' + o.id, testid: 'occurrence-select',
                'data-occurrence-id': String(o.id), checked: !!selected[o.id] });
              box.addEventListener('change', function () {
                if (box.checked) selected[o.id] = true; else delete selected[o.id];
                bulk.report = null;
                render(true);
              });
            }
            return h('li', { class: 'cal-list-row' },
              box ? h('label', { class: 'cal-select-wrap', for: 'cal-select-' + o.id }, box,
                h('span', { class: 'visually-hidden', t: 'calendar.list.select', tp: { time: dayAndTime(new Date(o.planned_at)), channel: channelName(o.channel_id) } }))
                : h('span', { class: 'cal-select-wrap', 'aria-hidden': 'true' }),
              occCard(o, 'list'));
          })));
      }),
      canWrite ? bulkDock(candidates) : null);
    return wrap;
  }

  /* bulk actions on the chosen scheduled posts of the list */

  function chosen(candidates) { return candidates.filter(function (o) { return selected[o.id]; }); }

  // Above the list: choose them all, and the report of the last bulk action.
  function bulkHead(candidates) {
    var picked = chosen(candidates);
    var all = h('input', { type: 'checkbox', id: 'cal-select-all', testid: 'bulk-select-all',
      checked: candidates.length > 0 && picked.length === candidates.length, disabled: !candidates.length });
    all.indeterminate = picked.length > 0 && picked.length < candidates.length;
    all.addEventListener('change', function () {
      candidates.forEach(function (o) { if (all.checked) selected[o.id] = true; else delete selected[o.id]; });
      bulk.report = null;
      render(true);
    });
    return h('div', { class: 'bulk-head', testid: 'bulk-bar' },
      h('label', { class: 'check-row', for: 'cal-select-all' }, all, h('span', { t: 'calendar.bulk.selectAll', tp: { n: candidates.length } })),
      bulk.busy ? h('p', { class: 'bulk-busy', role: 'status', testid: 'bulk-busy', t: 'calendar.bulk.working', tp: { done: bulk.busy.done, n: bulk.busy.n } }) : null,
      bulk.report ? bulkReport(bulk.report) : null);
  }

  // Below the list, kept in sight at the bottom of the window while any is chosen: how
  // many, and what to do with them.
  function bulkDock(candidates) {
    var picked = chosen(candidates);
    if (!picked.length || bulk.busy) return null;
    var offset = h('select', { id: 'bulk-offset', testid: 'bulk-offset' }, OFFSETS.map(function (v) {
      var n = Number(v);
      return h('option', { value: v, t: v === 'date' ? 'calendar.bulk.toDate' : n < 0 ? 'calendar.bulk.earlier' : 'calendar.bulk.later', tp: v === 'date' ? null : { n: Math.abs(n) } });
    }));
    offset.value = bulk.offset;
    var date = h('input', { type: 'date', id: 'bulk-date', testid: 'bulk-date', value: bulk.date, hidden: bulk.offset !== 'date' });
    var dateLabel = h('label', { for: 'bulk-date', class: 'visually-hidden', t: 'calendar.bulk.date' });
    offset.addEventListener('change', function () { bulk.offset = offset.value; date.hidden = bulk.offset !== 'date'; if (!date.hidden) date.focus(); });
    date.addEventListener('input', function () { bulk.date = date.value; });
    var moveBtn = button('calendar.bulk.move', { kind: 'primary', small: true, testid: 'bulk-move', onClick: function () {
      var plan = [];
      for (var i = 0; i < picked.length; i++) {
        var when = bulkTarget(picked[i]);
        if (!when) {
          bulk.report = { kind: 'input', key: 'calendar.bulk.dateMissing' };
          render(true);
          var d = body.querySelector('[data-testid="bulk-date"]');
          if (d) d.focus();
          return;
        }
        plan.push({ o: picked[i], at: when });
      }
      runMoves(plan, null);
    } });
    var cancelBtn = button('calendar.bulk.cancel', { kind: 'danger-quiet', small: true, testid: 'bulk-cancel', onClick: function () {
      confirmDialog('calendar.bulk.cancelTitle', 'calendar.bulk.cancelText', { n: picked.length }, 'calendar.bulk.cancelConfirm').then(function (ok) {
        if (ok && ctx.alive()) runCancels(picked);
      });
    } });
    var clearBtn = button('calendar.bulk.clear', { small: true, testid: 'bulk-clear', onClick: function () { selected = {}; bulk.report = null; render(true); } });
    return h('div', { class: 'bulk-dock', testid: 'bulk-dock', role: 'group', 'aria-labelledby': 'bulk-count' },
      h('span', { class: 'bulk-count', id: 'bulk-count', testid: 'bulk-count', t: 'calendar.bulk.selected', tp: { n: picked.length } }),
      h('span', { class: 'bulk-move-group' },
        h('label', { for: 'bulk-offset', class: 'bulk-label', t: 'calendar.bulk.moveLabel' }), offset, dateLabel, date, moveBtn),
      h('span', { class: 'bulk-other' }, cancelBtn, clearBtn));
  }

  // Where a chosen post goes: the same time of day, some days later or earlier, or on the
  // date given. Null when the date is missing.
  function bulkTarget(o) {
    var old = new Date(o.planned_at);
    if (bulk.offset === 'date') {
      var d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(bulk.date || '');
      return d ? new Date(Number(d[1]), Number(d[2]) - 1, Number(d[3]), old.getHours(), old.getMinutes()) : null;
    }
    return new Date(old.getFullYear(), old.getMonth(), old.getDate() + Number(bulk.offset), old.getHours(), old.getMinutes());
  }

  // One request after another, so that each move faces the checks with the ones before it
  // in place; then the report.
  function runMoves(plan, reason) {
    var report = { kind: 'move', ok: [], failed: [], anyway: !!reason };
    bulk.busy = { done: 0, n: plan.length };
    bulk.report = null;
    render(true);
    var chain = Promise.resolve();
    plan.forEach(function (p) {
      chain = chain.then(function () {
        return moveOccurrence(wid, p.o.id, p.at, reason).then(function () { report.ok.push(p); delete selected[p.o.id]; },
          function (err) { report.failed.push({ o: p.o, at: p.at, err: err }); });
      }).then(function () { if (bulk.busy) bulk.busy.done++; if (ctx.alive()) render(true); });
    });
    chain.then(function () { finishBulk(report); });
  }

  function runCancels(list) {
    var report = { kind: 'cancel', ok: [], failed: [] };
    bulk.busy = { done: 0, n: list.length };
    bulk.report = null;
    render(true);
    var chain = Promise.resolve();
    list.forEach(function (o) {
      chain = chain.then(function () {
        return call('POST', '/workspaces/' + wid + '/occurrences/' + o.id + '/cancel').then(function () { report.ok.push({ o: o }); delete selected[o.id]; },
          function (err) { report.failed.push({ o: o, err: err }); });
      }).then(function () { if (bulk.busy) bulk.busy.done++; if (ctx.alive()) render(true); });
    });
    chain.then(function () { finishBulk(report); });
  }

  function finishBulk(report) {
    bulk.busy = null;
    bulk.report = report;
    bulk.reason = '';
    if (!ctx.alive()) return;
    lastQueueCheck = 0;
    render(true);
    load();
    var box = body.querySelector('[data-testid="bulk-report"]');
    if (box) box.focus();
  }

  function bulkReport(rep) {
    if (rep.kind === 'input') return h('p', { class: 'field-error', role: 'alert', testid: 'bulk-report', tabindex: '-1', t: rep.key });
    var move = rep.kind === 'move';
    var blocked = rep.failed.filter(function (f) { return f.err.status === 422 && f.err.code === 'check_blocked'; });
    var box = h('div', { class: 'bulk-report' + (rep.failed.length ? ' has-failures' : ''), testid: 'bulk-report', tabindex: '-1', role: 'status' },
      rep.ok.length ? h('p', { class: 'bulk-ok', testid: 'bulk-report-ok', t: move ? 'calendar.bulk.moved' : 'calendar.bulk.cancelled', tp: { n: rep.ok.length } }) : null,
      rep.failed.length ? [
        h('p', { class: 'bulk-failed', testid: 'bulk-report-failed', t: move ? 'calendar.bulk.notMoved' : 'calendar.bulk.notCancelled', tp: { n: rep.failed.length } }),
        h('ul', { class: 'bulk-problems' }, rep.failed.map(function (f) {
          var blocks = f.err.code === 'check_blocked' ? f.err.violations.filter(function (v) { return v.severity === 'block'; }) : [];
          return h('li', { class: 'bulk-problem', testid: 'bulk-problem', 'data-occurrence-id': String(f.o.id) },
            h('p', { class: 'bulk-problem-what' },
              h('span', { class: 'name', user: channelName(f.o.channel_id) }), ' \u00b7 ',
              h('span', { text: dayAndTime(new Date(f.o.planned_at)) }),
              move && f.at ? [' \u2192 ', h('span', { text: dayAndTime(f.at) })] : null, ' \u00b7 ',
              userText(excerpt(f.o.text, 60))),
            blocks.length ? h('ul', { class: 'violations' }, blocksFirst(blocks).map(function (v) { return violationItem(v, channelName, wid); }))
              : h('p', { class: 'bulk-problem-why', testid: 'bulk-problem-message', user: f.err.message || t('error.unknown') }));
        }))] : null);
    if (move && blocked.length && !rep.anyway && canWrite) {
      var reason = h('textarea', { rows: '2', maxlength: '500', testid: 'bulk-reason', value: bulk.reason });
      var fReason = field('bulk-reason', 'calendar.blocked.reason', reason, { hint: 'calendar.blocked.reasonHint' });
      reason.addEventListener('input', function () { bulk.reason = reason.value; });
      var anyway = button('calendar.bulk.anyway', { kind: 'danger', small: true, testid: 'bulk-anyway', params: { n: blocked.length }, onClick: function () {
        var why = reason.value.trim();
        if (!why) { setFieldError(fReason, t('calendar.blocked.reasonMissing')); reason.focus(); return; }
        runMoves(blocked.map(function (f) { return { o: f.o, at: f.at }; }), why);
      } });
      append(box, [fReason.wrap, h('div', { class: 'form-actions' }, anyway)]);
    }
    return box;
  }

  /* a post asked for by its id (#/w/ID/calendar?post=ID): its week and its details */

  function openDeepLink() {
    return call('GET', '/workspaces/' + wid + '/posts/' + deepPost).then(function (post) {
      if (!ctx.alive()) return;
      var occ = post && Array.isArray(post.occurrences) ? post.occurrences.slice() : [];
      occ.sort(function (a, b) { return Date.parse(a.planned_at) - Date.parse(b.planned_at) || a.id - b.id; });
      var now = Date.now();
      var pick = occ.filter(function (o) { return o.id === deepOcc; })[0] ||
        occ.filter(function (o) { return stateOf(o) !== 'cancelled' && Date.parse(o.planned_at) >= now - 3600000; })[0] ||
        occ.filter(function (o) { return stateOf(o) !== 'cancelled'; })[0] || occ[0];
      if (!pick) {
        clear(deepNote);
        append(deepNote, [h('span', { t: 'calendar.deepLink.draft', tp: { id: '#' + deepPost } }), ' ',
          canWrite ? h('a', { href: composerHref(wid, { edit: deepPost }), testid: 'calendar-deep-link-edit', t: 'calendar.deepLink.edit' }) : null]);
        deepNote.hidden = false;
        return;
      }
      pendingOpen = pick.id;
      anchor = startOfDay(new Date(pick.planned_at));
      if (view !== 'week') { view = 'week'; state.calendarView = 'week'; }
    }, function (err) {
      if (!ctx.alive() || err.handled) return;
      clear(deepNote);
      deepNote.appendChild(h('span', { user: err.message }));
      deepNote.hidden = false;
    });
  }

  onLanguage(ctx, function () {
    renderFilterOptions();
    if (loaded) render(true); else renderFrame();
  });

  renderFrame();
  allChannels(wid).then(function (list) {
    if (!ctx.alive()) return;
    channels = list;
    list.forEach(function (ch) { channelById[ch.id] = ch; });
    list.filter(function (ch) { return PUBLISHING_KINDS.indexOf(ch.kind) >= 0; })
      .sort(function (a, b) { return a.id - b.id; })
      .forEach(function (ch, i) { colourOf[ch.id] = i % CHANNEL_COLOURS; });
    renderChannelLegend();
    renderFilterOptions();
    return deepPost ? openDeepLink().then(function () { renderFrame(); return load(); }) : load();
  }, function (err) {
    if (!ctx.alive()) return;
    showError(msg, err);
    return load();
  });

  return page;
}

