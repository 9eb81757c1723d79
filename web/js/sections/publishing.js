/* samtale dashboard, part of Settings > Channels: one channel's publishing panel.
 *
 * For a channel that publishes (PUBLISHING_KINDS), channels.js opens this panel from the
 * channel's row. It holds the switch that pauses the channel's queue, its weekly posting
 * times, the next times they give (GET .../slots), and its caps (posts an hour and a day).
 * Each part saves on its own (PATCH .../channels/ID with paused, slots, or the caps), and
 * the server decides what is valid: its messages show where they belong.
 *
 * The grid has a box per weekday and hour of the day, in the channel's time zone. A box
 * holds the posting times (slots) of its hour and shows them: "09:00", "12:30". Clicking an
 * empty box adds the slot on the hour; clicking a filled one takes out every slot in it.
 * So a slot off the hour (the default 12:30 and 15:30, one made with "Add a time", or by
 * the CLI or the API) shows in its hour's box and goes away the same way, without a finer
 * grid of 48 or more rows. The night hours (00-05) fold away unless a slot is there. The
 * boxes are buttons (aria-pressed, named "Monday 09:00"); one of them is in the tab order
 * and the arrow keys move between them. Changes to the grid are sent together with "Save
 * posting times", so that the audit log has one entry per new plan, not one per click.
 */

import * as I from '../i18n.js';
import { state } from '../core/state.js';
import { t, setT, formatDate, onLanguage } from '../core/lang.js';
import { h, append, clear, field, setFieldError, messageBox, button, confirmDialog, showError } from '../core/dom.js';
import { call, queueAll } from '../core/api.js';
import { rfc3339Local } from '../core/post_util.js';

var DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']; // the server's weekdays, Monday first
var NIGHT_END = 6;        // hours before this fold away unless a slot is there
var NEXT_DAYS = 14;       // how far ahead the next times look
var NEXT_SHOWN = 8;       // and how many of them show

function pad(n) { return (n < 10 ? '0' : '') + n; }
function clock(minute) { return pad(Math.floor(minute / 60)) + ':' + pad(minute % 60); }

// A slot's key in the sets below: day * 1440 + minute of the day.
function keyOf(day, minute) { return day * 1440 + minute; }
function slotText(key) { return DAYS[Math.floor(key / 1440)] + ' ' + clock(key % 1440); }

// The channel's slots ("mon 09:00", as the server keeps them) as a set of keys.
function slotSet(list) {
  var out = new Set();
  (Array.isArray(list) ? list : []).forEach(function (s) {
    var m = /^\s*([a-z]{3})\s+(\d{1,2}):(\d{2})\s*$/i.exec(String(s));
    if (!m) return;
    var d = DAYS.indexOf(m[1].toLowerCase());
    var hh = Number(m[2]);
    var mm = Number(m[3]);
    if (d >= 0 && hh < 24 && mm < 60) out.add(keyOf(d, hh * 60 + mm));
  });
  return out;
}

function sameSet(a, b) {
  if (a.size !== b.size) return false;
  var same = true;
  a.forEach(function (k) { if (!b.has(k)) same = false; });
  return same;
}

// A weekday's name in the page's language: style 'long' (Monday) or 'short' (Mon).
function dayName(day, style) {
  var d = new Date(Date.UTC(2024, 0, 1 + day)); // 1 January 2024 was a Monday
  var name;
  try { name = new Intl.DateTimeFormat(I.locale(state.lang), { weekday: style, timeZone: 'UTC' }).format(d); }
  catch (e) { name = DAYS[day]; }
  return name.charAt(0).toLocaleUpperCase() + name.slice(1);
}

// An instant as the channel's wall clock: "Mon 8 Dec, 09:00".
function inZone(iso, zone, opts) {
  var d = new Date(iso);
  var o = { timeZone: zone, hourCycle: 'h23' };
  Object.keys(opts).forEach(function (k) { o[k] = opts[k]; });
  try { return new Intl.DateTimeFormat(I.locale(state.lang), o).format(d); }
  catch (e) { return String(iso); }
}

// The panel for channel ch. opts: base (the channels' API path), wid, onChanged(channel)
// after each save, onClose(id) once it closed. Returns { el, id, dirty(), focus(), close() }.
export function publishingPanel(ctx, channel, opts) {
  var ch = channel;
  var path = opts.base + '/' + ch.id;
  var saved = slotSet(ch.slots);
  var current = new Set(saved);
  var showNight = false;
  var cells = [];           // cells[hour][day]: the grid's buttons
  var focusAt = null;       // the box in the tab order: { hour, day }
  var busy = { pause: false, slots: false, caps: false };

  var title = h('h2', { id: 'pub-title', tabindex: '-1', testid: 'publishing-title', t: 'channels.pub.heading', tp: { name: ch.name } });
  var closeBtn = button('calendar.close', { small: true, testid: 'publishing-close' });

  /* ---- pausing the queue */

  var pauseMsg = messageBox('pause-message');
  var pauseSwitch = h('button', { type: 'button', id: 'pub-pause', role: 'switch', class: 'switch', testid: 'channel-pause',
    'aria-checked': 'false', 'aria-describedby': 'pub-pause-state' }, h('span', { class: 'switch-knob', 'aria-hidden': 'true' }));
  var pauseState = h('p', { id: 'pub-pause-state', class: 'pause-state', testid: 'pause-state', role: 'status' });
  var pauseWaiting = h('p', { class: 'pause-waiting', testid: 'pause-waiting', hidden: true });
  var pauseBox = h('div', { class: 'pub-pause', testid: 'pause-box' },
    h('div', { class: 'switch-row' }, pauseSwitch, h('label', { for: 'pub-pause', class: 'switch-label', t: 'channels.pause.label' })),
    pauseState, pauseWaiting,
    h('p', { class: 'hint', t: 'channels.pause.explain' }),
    pauseMsg.el);

  function renderPause() {
    pauseSwitch.setAttribute('aria-checked', String(!!ch.paused));
    pauseBox.classList.toggle('is-paused', !!ch.paused);
    if (ch.paused) setT(pauseState, 'channels.pause.stateOff', { date: formatDate(ch.paused_at) });
    else setT(pauseState, 'channels.pause.stateOn');
    if (!ch.paused) pauseWaiting.hidden = true;
  }

  // While paused: how many of its posts are already due (they go out when it resumes).
  function loadWaiting() {
    if (!ch.paused) return;
    var now = new Date(Date.now() + 60000);
    var from = new Date(now.getTime() - 92 * 86400000);
    queueAll('/workspaces/' + opts.wid + '/queue?from=' + encodeURIComponent(rfc3339Local(from)) +
      '&to=' + encodeURIComponent(rfc3339Local(now)) + '&channel=' + ch.id).then(function (data) {
      if (!ctx.alive() || !ch.paused) return;
      var n = (data.items || []).filter(function (o) {
        return o.state === 'scheduled' && Date.parse(o.next_attempt_at || o.planned_at) <= Date.now();
      }).length;
      pauseWaiting.hidden = false;
      setT(pauseWaiting, n ? 'channels.pause.waiting' : 'channels.pause.waitingNone', { n: n });
    }, function () { pauseWaiting.hidden = true; });
  }

  pauseSwitch.addEventListener('click', function () {
    if (busy.pause) return;
    var want = !ch.paused;
    busy.pause = true;
    pauseSwitch.setAttribute('aria-busy', 'true');
    pauseMsg.clear();
    call('PATCH', path, { paused: want }).then(function (up) {
      busy.pause = false;
      pauseSwitch.removeAttribute('aria-busy');
      if (!ctx.alive() || !up) return;
      ch.paused = up.paused;
      ch.paused_at = up.paused_at;
      renderPause();           // the state line says it (role=status)
      loadWaiting();
      opts.onChanged(up);
    }, function (err) {
      busy.pause = false;
      pauseSwitch.removeAttribute('aria-busy');
      showError(pauseMsg, err);
    });
  });

  /* ---- the weekly grid of posting times */

  var slotsMsg = messageBox('slots-message');
  var zoneLine = h('p', { class: 'hint pub-zone', testid: 'slots-zone' });
  var tbody = h('tbody', null);
  var headRow = h('tr', null, h('th', { scope: 'col', class: 'slot-corner' }, h('span', { class: 'visually-hidden', t: 'channels.slots.hour' })));
  var dayHeads = DAYS.map(function (d) {
    var short = h('span', { class: 'slot-day-short', 'aria-hidden': 'true' });
    var long = h('span', { class: 'visually-hidden' });
    headRow.appendChild(h('th', { scope: 'col', class: 'slot-day', 'data-day': d }, short, long));
    return { short: short, long: long };
  });
  var grid = h('table', { class: 'slot-grid', testid: 'slot-grid' },
    h('caption', { class: 'visually-hidden', t: 'channels.slots.caption', tp: { name: ch.name } }),
    h('thead', null, headRow), tbody);
  var rows = [];
  for (var hour = 0; hour < 24; hour++) {
    var tr = h('tr', { class: 'slot-row' + (hour < NIGHT_END ? ' is-night' : ''), 'data-hour': String(hour) },
      h('th', { scope: 'row', class: 'slot-hour' }, pad(hour), h('span', { class: 'slot-hour-min' }, ':00')));
    cells[hour] = [];
    for (var day = 0; day < 7; day++) {
      var b = h('button', { type: 'button', class: 'slot-cell', testid: 'slot-cell', tabindex: '-1',
        'data-day': DAYS[day], 'data-hour': pad(hour), 'aria-pressed': 'false' });
      cells[hour][day] = b;
      tr.appendChild(h('td', null, b));
    }
    rows.push(tr);
    tbody.appendChild(tr);
  }
  var nightBtn = h('button', { type: 'button', class: 'btn btn-link slot-night', testid: 'slot-night', 'aria-expanded': 'false' });
  var countLine = h('p', { class: 'slot-count', testid: 'slots-count', 'aria-live': 'polite' });
  var unsaved = h('span', { class: 'unsaved', testid: 'slots-unsaved', t: 'channels.slots.unsaved', hidden: true });
  var saveBtn = button('channels.slots.save', { kind: 'primary', testid: 'slots-save' });
  var undoBtn = button('channels.slots.undo', { testid: 'slots-undo' });
  // While there is something to save, the buttons stay in sight below the grid (sticky).
  var slotActions = h('div', { class: 'form-actions slot-actions' }, saveBtn, undoBtn, unsaved);

  // The slots of a box, sorted: minutes of the day.
  function slotsIn(day, hour) {
    var out = [];
    for (var m = hour * 60; m < hour * 60 + 60; m++) if (current.has(keyOf(day, m))) out.push(m);
    return out;
  }

  function nightHasSlots() {
    for (var hh = 0; hh < NIGHT_END; hh++) for (var d = 0; d < 7; d++) if (slotsIn(d, hh).length) return true;
    return false;
  }

  function cellLabel(day, hour, mins) {
    return t('channels.slots.cell', { day: dayName(day, 'long'),
      time: mins.length ? mins.map(clock).join(', ') : clock(hour * 60) });
  }

  function renderGrid() {
    var forced = nightHasSlots();
    var night = showNight || forced;
    rows.forEach(function (r, hh) { r.hidden = hh < NIGHT_END && !night; });
    nightBtn.hidden = forced;
    nightBtn.setAttribute('aria-expanded', String(night));
    setT(nightBtn, night ? 'channels.slots.hideNight' : 'channels.slots.showNight');
    for (var hh = 0; hh < 24; hh++) {
      for (var d = 0; d < 7; d++) {
        var mins = slotsIn(d, hh);
        var cell = cells[hh][d];
        var was = [];
        for (var m = hh * 60; m < hh * 60 + 60; m++) if (saved.has(keyOf(d, m))) was.push(m);
        clear(cell);
        mins.forEach(function (m) { cell.appendChild(h('span', { class: 'slot-time', text: clock(m) })); });
        cell.setAttribute('aria-pressed', String(mins.length > 0));
        cell.setAttribute('aria-label', cellLabel(d, hh, mins));
        cell.classList.toggle('is-changed', mins.join() !== was.join());
      }
    }
    if (!focusAt || rows[focusAt.hour].hidden) focusAt = { hour: night ? 0 : NIGHT_END, day: 0 };
    for (hh = 0; hh < 24; hh++) for (d = 0; d < 7; d++) cells[hh][d].tabIndex = hh === focusAt.hour && d === focusAt.day ? 0 : -1;
    setT(countLine, current.size ? 'channels.slots.count' : 'channels.slots.none', { n: current.size });
    countLine.classList.toggle('is-empty', !current.size);
    var dirty = !sameSet(current, saved);
    unsaved.hidden = !dirty;
    saveBtn.disabled = !dirty || busy.slots;
    undoBtn.hidden = !dirty;
    nextUnsaved.hidden = !dirty;
    slotActions.classList.toggle('is-dirty', dirty);
  }

  function relabel() {
    DAYS.forEach(function (d, i) {
      dayHeads[i].short.textContent = dayName(i, 'short');
      dayHeads[i].long.textContent = dayName(i, 'long');
      addDay.options[i].textContent = dayName(i, 'long');
    });
    var now = new Date().toISOString();
    setT(zoneLine, 'channels.slots.zone', { zone: ch.timezone, time: inZone(now, ch.timezone, { hour: '2-digit', minute: '2-digit' }),
      day: inZone(now, ch.timezone, { weekday: 'long' }) });
    renderGrid();
    renderNext();
  }

  tbody.addEventListener('click', function (ev) {
    var cell = ev.target.closest('button.slot-cell');
    if (!cell || busy.slots) return;
    var day = DAYS.indexOf(cell.getAttribute('data-day'));
    var hh = Number(cell.getAttribute('data-hour'));
    var mins = slotsIn(day, hh);
    if (mins.length) mins.forEach(function (m) { current.delete(keyOf(day, m)); });
    else current.add(keyOf(day, hh * 60));
    focusAt = { hour: hh, day: day };
    slotsMsg.clear();
    renderGrid();
  });

  // Arrow keys, Home and End move between the boxes that show.
  tbody.addEventListener('keydown', function (ev) {
    var cell = ev.target.closest('button.slot-cell');
    if (!cell) return;
    var day = DAYS.indexOf(cell.getAttribute('data-day'));
    var hh = Number(cell.getAttribute('data-hour'));
    var shown = [];
    rows.forEach(function (r, i) { if (!r.hidden) shown.push(i); });
    var at = shown.indexOf(hh);
    if (ev.key === 'ArrowRight') day = Math.min(6, day + 1);
    else if (ev.key === 'ArrowLeft') day = Math.max(0, day - 1);
    else if (ev.key === 'ArrowDown') hh = shown[Math.min(shown.length - 1, at + 1)];
    else if (ev.key === 'ArrowUp') hh = shown[Math.max(0, at - 1)];
    else if (ev.key === 'Home') day = 0;
    else if (ev.key === 'End') day = 6;
    else return;
    ev.preventDefault();
    cells[focusAt.hour][focusAt.day].tabIndex = -1;
    focusAt = { hour: hh, day: day };
    cells[hh][day].tabIndex = 0;
    cells[hh][day].focus();
  });

  nightBtn.addEventListener('click', function () { showNight = !showNight; renderGrid(); });

  /* a time off the hour */
  var addDay = h('select', { testid: 'slot-add-day' }, DAYS.map(function (d, i) { return h('option', { value: String(i) }); }));
  var addTime = h('input', { type: 'time', step: '60', testid: 'slot-add-time' });
  var fAddDay = field('pub-add-day', 'channels.slots.addDay', addDay, {});
  var fAddTime = field('pub-add-time', 'channels.slots.addTime', addTime, { testid: 'slot-add-time' });
  var addBtn = button('channels.slots.add', { testid: 'slot-add' });
  var addForm = h('form', { class: 'slot-add', testid: 'slot-add-form', novalidate: true, 'aria-labelledby': 'pub-add-title' },
    h('p', { id: 'pub-add-title', class: 'slot-add-title', t: 'channels.slots.addTitle' }),
    h('div', { class: 'slot-add-row' }, fAddDay.wrap, fAddTime.wrap, h('div', { class: 'slot-add-go' }, addBtn)));
  addBtn.type = 'submit';
  addForm.addEventListener('submit', function (ev) {
    ev.preventDefault();
    setFieldError(fAddTime, null);
    var m = /^(\d{2}):(\d{2})/.exec(addTime.value);
    if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) { setFieldError(fAddTime, t('channels.slots.err.time')); addTime.focus(); return; }
    var day = Number(addDay.value);
    var minute = Number(m[1]) * 60 + Number(m[2]);
    if (current.has(keyOf(day, minute))) { setFieldError(fAddTime, t('channels.slots.err.exists')); addTime.focus(); return; }
    current.add(keyOf(day, minute));
    focusAt = { hour: Math.floor(minute / 60), day: day };
    slotsMsg.clear();
    renderGrid();
  });

  function saveSlots() {
    if (busy.slots) return;
    var list = Array.from(current).sort(function (a, b) { return a - b; }).map(slotText);
    busy.slots = true;
    saveBtn.disabled = true;
    slotsMsg.clear();
    call('PATCH', path, { slots: list }).then(function (up) {
      busy.slots = false;
      if (!ctx.alive() || !up) return;
      ch.slots = up.slots;
      saved = slotSet(up.slots);
      current = new Set(saved);
      renderGrid();
      slotsMsg.noticeKey('channels.slots.saved', { n: saved.size });
      loadNext();
      opts.onChanged(up);
    }, function (err) {
      busy.slots = false;
      renderGrid();
      showError(slotsMsg, err);
    });
  }
  saveBtn.addEventListener('click', saveSlots);
  undoBtn.addEventListener('click', function () {
    current = new Set(saved);
    slotsMsg.clear();
    renderGrid();
    saveBtn.focus();
  });

  /* ---- the next posting times (what the saved grid means) */

  var nextList = h('ul', { class: 'next-times', testid: 'next-times' });
  var nextUnsaved = h('p', { class: 'hint next-unsaved', testid: 'next-unsaved', t: 'channels.next.unsaved', hidden: true });
  var upcoming = null;      // the server's answer: [{ at, local }], or an error message

  function renderNext() {
    clear(nextList);
    if (upcoming === null) { nextList.appendChild(h('li', { class: 'muted', t: 'list.loading' })); return; }
    if (typeof upcoming === 'string') { nextList.appendChild(h('li', { class: 'field-error', user: upcoming })); return; }
    if (!upcoming.length) { nextList.appendChild(h('li', { class: 'muted', testid: 'next-none', t: 'channels.next.none', tp: { n: NEXT_DAYS } })); return; }
    upcoming.slice(0, NEXT_SHOWN).forEach(function (u) {
      nextList.appendChild(h('li', { testid: 'next-time', 'data-at': u.at },
        h('time', { datetime: u.at, text: inZone(u.at, ch.timezone, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }) })));
    });
  }

  function loadNext() {
    call('GET', path + '/slots?days=' + NEXT_DAYS).then(function (res) {
      if (!ctx.alive()) return;
      upcoming = res && Array.isArray(res.upcoming) ? res.upcoming : [];
      renderNext();
    }, function (err) {
      if (err.handled || !ctx.alive()) return;
      upcoming = err.message;
      renderNext();
    });
  }

  /* ---- caps */

  var capsMsg = messageBox('caps-message');
  var hourInput = h('input', { type: 'number', min: '1', max: '1000', step: '1', inputmode: 'numeric', testid: 'cap-hour' });
  var dayInput = h('input', { type: 'number', min: '1', max: '10000', step: '1', inputmode: 'numeric', testid: 'cap-day' });
  var fHour = field('pub-cap-hour', 'channels.caps.hour', hourInput, { testid: 'cap-hour' });
  var fDay = field('pub-cap-day', 'channels.caps.day', dayInput, { testid: 'cap-day' });
  var capsSave = button('channels.caps.save', { type: 'submit', testid: 'caps-save' });
  var capsForm = h('form', { class: 'caps-form', testid: 'caps-form', novalidate: true, 'aria-labelledby': 'pub-caps-title' },
    h('h3', { id: 'pub-caps-title', t: 'channels.caps.heading' }),
    h('p', { class: 'hint caps-why', testid: 'caps-why', t: 'channels.caps.why' }),
    h('div', { class: 'caps-fields' }, fHour.wrap, fDay.wrap),
    capsMsg.el,
    h('div', { class: 'form-actions' }, capsSave));
  var capFields = { max_per_hour: fHour, max_per_day: fDay };

  function fillCaps() {
    hourInput.value = String(ch.max_per_hour || '');
    dayInput.value = String(ch.max_per_day || '');
  }

  capsForm.addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (busy.caps) return;
    capsMsg.clear();
    setFieldError(fHour, null);
    setFieldError(fDay, null);
    // Only what JSON cannot carry is caught here; the server checks the ranges.
    var bad = [fHour, fDay].filter(function (f) { return !/^\s*\d+\s*$/.test(f.control.value); });
    bad.forEach(function (f) { setFieldError(f, t('channels.caps.err.number')); });
    if (bad.length) { bad[0].control.focus(); return; }
    busy.caps = true;
    capsSave.disabled = true;
    call('PATCH', path, { max_per_hour: Number(hourInput.value), max_per_day: Number(dayInput.value) }).then(function (up) {
      busy.caps = false;
      capsSave.disabled = false;
      if (!ctx.alive() || !up) return;
      ch.max_per_hour = up.max_per_hour;
      ch.max_per_day = up.max_per_day;
      fillCaps();
      capsMsg.noticeKey('channels.caps.saved', { hour: up.max_per_hour, day: up.max_per_day });
      opts.onChanged(up);
    }, function (err) {
      busy.caps = false;
      capsSave.disabled = false;
      if (err.handled) return;
      var f = capFields[err.field];
      if (f) { setFieldError(f, err.message); f.control.focus(); }
      else showError(capsMsg, err);
    });
  });

  /* ---- the panel */

  var el = h('section', { class: 'card pub-panel', testid: 'publishing-panel', 'data-channel-id': String(ch.id), 'aria-labelledby': 'pub-title' },
    h('div', { class: 'card-head' }, title, closeBtn),
    pauseBox,
    h('div', { class: 'pub-cols' },
      h('div', { class: 'pub-slots', role: 'group', 'aria-labelledby': 'pub-slots-title' },
        h('h3', { id: 'pub-slots-title', t: 'channels.slots.heading' }),
        h('p', { class: 'hint', t: 'channels.slots.lead' }),
        zoneLine,
        h('p', { class: 'hint', t: 'channels.slots.help' }),
        h('div', { class: 'slot-grid-wrap' }, grid),
        nightBtn,
        countLine,
        slotsMsg.el,
        slotActions,
        addForm),
      h('div', { class: 'pub-side' },
        h('div', { class: 'pub-next', role: 'group', 'aria-labelledby': 'pub-next-title' },
          h('h3', { id: 'pub-next-title', t: 'channels.next.heading' }),
          h('p', { class: 'hint', t: 'channels.next.hint', tp: { zone: ch.timezone } }),
          nextList, nextUnsaved),
        capsForm)));

  function dirty() { return !sameSet(current, saved); }

  // Closing with unsaved posting times asks first; resolves true when it closed.
  function close() {
    var ask = dirty() ? confirmDialog('channels.slots.discardTitle', 'channels.slots.discardText', { name: ch.name }, 'channels.slots.discard')
      : Promise.resolve(true);
    return ask.then(function (ok) {
      if (ok) { el.remove(); opts.onClose(ch.id); }
      return ok;
    });
  }
  closeBtn.addEventListener('click', function () { close(); });

  fillCaps();
  renderPause();
  relabel();
  loadNext();
  loadWaiting();
  onLanguage(ctx, function () { if (el.isConnected) { relabel(); renderPause(); } });

  return {
    el: el,
    id: ch.id,
    dirty: dirty,
    close: close,
    focus: function () { title.focus(); }
  };
}
