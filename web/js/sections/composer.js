/* samtale dashboard, section Composer: write a post once for several channels.
 *
 * The text with its variants, category, link and campaign; the channels and when to
 * publish (now, the next free slot, a date and time, or as a draft). Counters show the
 * length the way each chosen network counts it, and the queue checks run as one types
 * (POST .../check). A post the checks block can go out anyway with a reason.
 */

import { state } from '../core/state.js';
import { t, setT, setTAttr, dateEl, onLanguage } from '../core/lang.js';
import { h, setUserText, append, clear, field, setFieldError, messageBox, button, pageHeader,
  roleNote, showError } from '../core/dom.js';
import { call, queueAll, allChannels } from '../core/api.js';
import { PUBLISHING_KINDS, CATEGORIES, NETWORK_LIMITS, rfc3339Local, dayKey, addDays, fmt,
  browserZone, networkLength, kindChip, categoryChip, violationItem, blocksFirst } from '../core/post_util.js';
import { mediaPicker } from './media.js'; // images (P16)

var SCHEDULES = ['now', 'next_slot', 'at', 'draft'];
var VARIANTS_MAX = 10;
var CHECK_DELAY_MS = 400;      // live checks wait this long after the last keystroke

export function composerView(ctx) {
  var wid = ctx.wid;
  var canWrite = ctx.role === 'owner' || ctx.role === 'editor';
  var page = h('section', { class: 'page page-wide', testid: 'section-composer', 'aria-labelledby': 'page-title' },
    pageHeader('nav.composer', 'composer.lead'));
  if (!canWrite) {
    page.appendChild(roleNote('composer.readOnly'));
    return page;
  }

  var channels = [];          // publishing channels of the workspace
  var channelById = {};
  var slotCache = {};         // channel id -> promise of its slots answer
  var checkTimer = null;
  var checkSeq = 0;
  var checksOff = false;      // the check endpoint is not there (404): stay quiet
  var variantRows = [];

  var formMsg = messageBox('composer-error');
  var doneBox = h('div', { class: 'done-box', testid: 'composer-done', hidden: true, tabindex: '-1', role: 'status', 'aria-live': 'polite' });

  /* what to say */
  var textArea = h('textarea', { rows: '7', maxlength: '10000', testid: 'composer-text' });
  var fText = field('c-text', 'composer.field.text', textArea, { testid: 'composer-text', wide: true });
  var counters = h('ul', { class: 'counters', id: 'c-text-counters', testid: 'composer-counters' });
  var counterHint = h('p', { class: 'hint counter-hint', t: 'composer.counter.hint' });
  fText.wrap.insertBefore(counters, fText.err);
  fText.wrap.insertBefore(counterHint, fText.err);
  textArea.setAttribute('aria-describedby', textArea.getAttribute('aria-describedby') + ' c-text-counters');

  var variantList = h('ol', { class: 'variants', testid: 'composer-variants' });
  var addVariantBtn = button('composer.variants.add', { small: true, testid: 'composer-add-variant', onClick: function () {
    var row = addVariant('');
    if (row) row.area.focus();
  } });
  var variantsLeft = h('span', { class: 'hint variants-left', testid: 'composer-variants-left' });
  var variantsErr = h('p', { class: 'field-error', id: 'c-variants-error', testid: 'composer-variants-error', hidden: true });
  var variantSet = h('fieldset', { class: 'fieldset', 'aria-describedby': 'c-variants-hint c-variants-error' },
    h('legend', { class: 'label' }, h('span', { t: 'composer.variants.legend' }), h('span', { class: 'optional', t: 'form.optional' })),
    h('p', { class: 'hint', id: 'c-variants-hint', t: 'composer.variants.hint' }),
    variantList, variantsErr,
    h('div', { class: 'variants-foot' }, addVariantBtn, variantsLeft));

  // Images (P16): their own module; read into "media" by payload(), checked by validate().
  var media = mediaPicker(ctx, { wid: wid, onChange: function () { scheduleCheck(); } });

  var catSel = h('select', { testid: 'composer-category' }, CATEGORIES.map(function (c) { return h('option', { value: c, t: 'category.' + c }); }));
  catSel.value = 'value';
  var fCat = field('c-category', 'composer.field.category', catSel, { testid: 'composer-category' });
  var catAbout = h('p', { class: 'hint cat-about', id: 'c-category-about', testid: 'composer-category-about' });
  fCat.wrap.insertBefore(catAbout, fCat.err);
  catSel.setAttribute('aria-describedby', 'c-category-about ' + catSel.getAttribute('aria-describedby'));
  var catHelp = h('details', { class: 'cat-help field-wide', testid: 'composer-category-help' },
    h('summary', { t: 'composer.category.more' }),
    h('p', { class: 'cat-why', t: 'composer.category.why' }),
    h('dl', { class: 'roles' }, CATEGORIES.map(function (c) {
      return [h('dt', null, categoryChip(c)), h('dd', { t: 'category.about.' + c })];
    })));

  var linkInput = h('input', { type: 'url', autocomplete: 'off', spellcheck: 'false', placeholder: 'https://', testid: 'composer-link' });
  var fLink = field('c-link', 'composer.field.link', linkInput, { optional: true, hint: 'composer.hint.link', testid: 'composer-link' });
  var campaignInput = h('input', { type: 'text', autocomplete: 'off', maxlength: '100', testid: 'composer-campaign' });
  var fCampaign = field('c-campaign', 'composer.field.campaign', campaignInput, { optional: true, hint: 'composer.hint.campaign', testid: 'composer-campaign' });

  /* where and when */
  var channelPicks = h('div', { class: 'channel-picks', testid: 'composer-channels' }, h('p', { class: 'muted', t: 'list.loading' }));
  var channelsErr = h('p', { class: 'field-error', id: 'c-channels-error', testid: 'composer-channels-error', hidden: true });
  var channelSet = h('fieldset', { class: 'fieldset', 'aria-describedby': 'c-channels-hint c-channels-error' },
    h('legend', { class: 'label', t: 'composer.field.channels' }),
    h('p', { class: 'hint', id: 'c-channels-hint', t: 'composer.channels.hint' }),
    channelPicks, channelsErr);

  var radios = {};
  var nextSlots = h('ul', { class: 'next-slots', testid: 'next-slots', hidden: true, 'aria-live': 'polite' });
  var atDate = h('input', { type: 'date', id: 'c-at-date', testid: 'schedule-date' });
  var atTime = h('input', { type: 'time', id: 'c-at-time', testid: 'schedule-time' });
  var atZone = h('p', { class: 'hint', t: 'composer.schedule.zone', tp: { zone: browserZone() || 'UTC' } });
  var atWrap = h('div', { class: 'at-fields', testid: 'schedule-at-fields', hidden: true },
    h('div', { class: 'at-row' },
      h('div', { class: 'field' }, h('label', { for: 'c-at-date', class: 'label', t: 'composer.schedule.date' }), atDate),
      h('div', { class: 'field' }, h('label', { for: 'c-at-time', class: 'label', t: 'composer.schedule.time' }), atTime)),
    atZone);
  var scheduleErr = h('p', { class: 'field-error', id: 'c-schedule-error', testid: 'composer-schedule-error', hidden: true });
  var scheduleSet = h('fieldset', { class: 'fieldset', 'aria-describedby': 'c-schedule-error' },
    h('legend', { class: 'label', t: 'composer.field.schedule' }),
    h('div', { class: 'choices' }, SCHEDULES.map(function (s) {
      var id = 'c-schedule-' + s.replace('_', '-');
      var radio = h('input', { type: 'radio', name: 'c-schedule', id: id, value: s, testid: 'schedule-' + s.replace('_', '-') });
      radios[s] = radio;
      return h('div', { class: 'choice-wrap' },
        h('label', { class: 'choice', for: id }, radio,
          h('span', { class: 'choice-text' },
            h('span', { class: 'choice-title', t: 'composer.schedule.' + s }),
            h('span', { class: 'choice-hint', t: 'composer.schedule.' + s + '.hint' }))),
        s === 'next_slot' ? nextSlots : null,
        s === 'at' ? atWrap : null);
    })),
    scheduleErr);
  radios.next_slot.checked = true;

  var checksStatus = h('p', { class: 'checks-status', testid: 'composer-checks-status' });
  var checksList = h('ul', { class: 'violations', testid: 'composer-violations' });
  var checksCard = h('section', { class: 'checks', testid: 'composer-checks', 'aria-labelledby': 'checks-title', hidden: true },
    h('h2', { id: 'checks-title', t: 'checks.title' }),
    h('p', { class: 'hint', t: 'checks.lead' }),
    h('div', { 'aria-live': 'polite' }, checksStatus, checksList));

  var blocked = h('div', { class: 'blocked', testid: 'composer-blocked', hidden: true, tabindex: '-1' });

  var submit = h('button', { type: 'submit', class: 'btn btn-primary', testid: 'composer-submit' });
  var form = h('form', { class: 'composer', testid: 'composer-form', novalidate: true, 'aria-label': null },
    h('div', { class: 'composer-main card' },
      h('h2', { class: 'composer-step', t: 'composer.step.what' }),
      fText.wrap, variantSet, media.el,
      h('div', { class: 'grid' }, fCat.wrap, fCampaign.wrap, catHelp, h('div', { class: 'field-wide' }, fLink.wrap))),
    h('div', { class: 'composer-side' },
      h('div', { class: 'card' },
        h('h2', { class: 'composer-step', t: 'composer.step.where' }),
        channelSet, scheduleSet),
      checksCard,
      blocked,
      h('div', { class: 'composer-actions' }, submit)));

  append(page, [doneBox, formMsg.el, form]);
  setTAttr(form, 'aria-label', 'composer.formLabel');

  var fields = { text: fText, link: fLink, category: fCat, campaign: fCampaign };

  /* channels */

  function selectedChannels() {
    return channels.filter(function (ch) {
      var box = channelPicks.querySelector('input[value="' + ch.id + '"]');
      return box && box.checked;
    });
  }

  function renderChannelPicks() {
    clear(channelPicks);
    if (!channels.length) {
      channelPicks.appendChild(h('p', { class: 'note', testid: 'composer-no-channels' },
        h('span', { t: 'composer.channels.none' }), ' ',
        h('a', { href: '#/w/' + wid + '/settings/channels', t: 'later.meanwhileLink' })));
      return;
    }
    channels.forEach(function (ch) {
      var id = 'c-channel-' + ch.id;
      var box = h('input', { type: 'checkbox', id: id, value: String(ch.id), testid: 'composer-channel', 'data-channel-name': ch.name, 'data-kind': ch.kind });
      box.addEventListener('change', channelsChanged);
      channelPicks.appendChild(h('label', { class: 'check channel-pick', for: id }, box,
        h('span', { class: 'channel-pick-text' }, h('span', { class: 'name', user: ch.name }), ' ', kindChip(ch.kind),
          ch.status === 'reconnect' ? [' ', h('span', { class: 'pill pill-danger', testid: 'composer-channel-reconnect', t: 'status.reconnect' })] : null)));
    });
  }

  function channelsChanged() {
    setChannelsError(null);
    renderCounters();
    variantRows.forEach(function (r) { renderVariantCounters(r); });
    refreshNextSlots();
    scheduleCheck();
  }

  function setChannelsError(message) {
    setUserText(channelsErr, message || '');
    channelsErr.hidden = !message;
  }

  /* counters */

  function counterItem(kind, name, channelId, text, testid) {
    var n = networkLength(kind, text);
    var limit = NETWORK_LIMITS[kind] || 0;
    var over = limit && n > limit ? n - limit : 0;
    return h('li', { class: 'counter' + (over ? ' is-over' : ''), testid: testid, 'data-network': kind || 'any',
      'data-channel-id': channelId ? String(channelId) : null, 'data-count': String(n), 'data-over': over ? String(over) : null },
      kind ? kindChip(kind) : null,
      name ? h('span', { class: 'counter-name', user: name }) : null,
      h('span', { class: 'counter-value', testid: testid + '-value', t: limit ? 'composer.counter.limit' : 'composer.counter.plain', tp: { n: n, limit: limit } }),
      over ? h('span', { class: 'counter-over', testid: testid + '-over', t: 'composer.counter.over', tp: { n: over } }) : null);
  }

  function renderCounters() {
    var text = textArea.value;
    var chosen = selectedChannels();
    clear(counters);
    counterHint.hidden = chosen.length > 0 && !chosen.some(function (ch) { return NETWORK_LIMITS[ch.kind]; });
    if (!chosen.length) counters.appendChild(counterItem(null, null, null, text, 'composer-counter'));
    chosen.forEach(function (ch) { counters.appendChild(counterItem(ch.kind, ch.name, ch.id, text, 'composer-counter')); });
  }

  // Variants count once per network chosen.
  function renderVariantCounters(row) {
    var seen = {};
    var kinds = [];
    selectedChannels().forEach(function (ch) { if (!seen[ch.kind]) { seen[ch.kind] = true; kinds.push(ch.kind); } });
    clear(row.counters);
    if (!kinds.length) kinds.push(null);
    kinds.forEach(function (k) { row.counters.appendChild(counterItem(k, null, null, row.area.value, 'variant-counter')); });
  }

  /* variants */

  function addVariant(text) {
    if (variantRows.length >= VARIANTS_MAX) return null;
    var row = {};
    row.area = h('textarea', { rows: '3', maxlength: '10000', testid: 'composer-variant' });
    row.counters = h('ul', { class: 'counters counters-small' });
    row.label = h('label', { class: 'label' });
    row.remove = h('button', { type: 'button', class: 'btn btn-danger-quiet btn-small', testid: 'composer-remove-variant',
      on: { click: function () { removeVariant(row); } } });
    row.el = h('li', { class: 'variant', testid: 'composer-variant-row' },
      h('div', { class: 'variant-head' }, row.label, row.remove), row.area, row.counters);
    row.area.value = text || '';
    row.area.addEventListener('input', function () { renderVariantCounters(row); });
    variantRows.push(row);
    variantList.appendChild(row.el);
    renumberVariants();
    renderVariantCounters(row);
    return row;
  }

  function removeVariant(row) {
    var i = variantRows.indexOf(row);
    if (i < 0) return;
    variantRows.splice(i, 1);
    row.el.remove();
    renumberVariants();
    (variantRows[i] || variantRows[i - 1] || { area: addVariantBtn }).area.focus();
    scheduleCheck();
  }

  function renumberVariants() {
    variantRows.forEach(function (r, i) {
      var id = 'c-variant-' + (i + 1);
      r.area.id = id;
      r.label.setAttribute('for', id);
      setT(r.label, 'composer.variants.label', { n: i + 2 });
      clear(r.remove);
      append(r.remove, [h('span', { t: 'action.remove' }), h('span', { class: 'visually-hidden', t: 'composer.variants.label', tp: { n: i + 2 } })]);
    });
    addVariantBtn.disabled = variantRows.length >= VARIANTS_MAX;
    setT(variantsLeft, 'composer.variants.left', { n: VARIANTS_MAX - variantRows.length });
  }

  function variantTexts() {
    return variantRows.map(function (r) { return r.area.value; }).filter(function (v) { return v.trim() !== ''; });
  }

  /* schedule */

  function scheduleValue() {
    for (var i = 0; i < SCHEDULES.length; i++) if (radios[SCHEDULES[i]].checked) return SCHEDULES[i];
    return 'draft';
  }

  // The date and time typed, as a local Date; null when incomplete.
  function atValue() {
    var d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(atDate.value);
    var tm = /^(\d{2}):(\d{2})/.exec(atTime.value);
    if (!d || !tm) return null;
    var when = new Date(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(tm[1]), Number(tm[2]));
    return isNaN(when.getTime()) ? null : when;
  }

  function scheduleChanged() {
    var s = scheduleValue();
    setScheduleError(null);
    atWrap.hidden = s !== 'at';
    if (s === 'at' && !atDate.value) {
      var tomorrow = addDays(new Date(), 1);
      atDate.value = dayKey(tomorrow);
      atTime.value = '09:00';
    }
    setT(submit, 'composer.submit.' + s);
    refreshNextSlots();
    scheduleCheck();
  }

  function setScheduleError(message) {
    setUserText(scheduleErr, message || '');
    scheduleErr.hidden = !message;
  }

  // The next posting slot of each chosen channel (GET .../slots?days=14, upcoming[0]).
  function refreshNextSlots() {
    clear(nextSlots);
    var chosen = scheduleValue() === 'next_slot' ? selectedChannels() : [];
    nextSlots.hidden = !chosen.length;
    chosen.forEach(function (ch) {
      var value = h('span', { class: 'next-slot-time', t: 'list.loading' });
      var li = h('li', { testid: 'next-slot', 'data-channel-id': String(ch.id) },
        h('span', { class: 'name', user: ch.name }), h('span', { 'aria-hidden': 'true', text: ': ' }), value);
      nextSlots.appendChild(li);
      if (!slotCache[ch.id]) slotCache[ch.id] = nextFreeSlot(ch);
      slotCache[ch.id].then(function (res) {
        if (!li.isConnected) return;
        var data = res.data;
        var up = res.slot;
        if (!up) { value.className = 'next-slot-time muted'; setT(value, 'composer.slot.none'); return; }
        var when = new Date(up.local || up.at);
        value.removeAttribute('data-i18n');
        value.textContent = fmt(when, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
        if (data.timezone && data.timezone !== browserZone() && typeof up.local === 'string') {
          append(value, [' ', h('span', { class: 'muted', t: 'composer.slot.zone', tp: { time: up.local.slice(11, 16), zone: data.timezone } })]);
        }
      }, function (err) {
        slotCache[ch.id] = null;
        if (!li.isConnected || err.handled) return;
        value.className = 'next-slot-time muted';
        value.removeAttribute('data-i18n');
        setUserText(value, err.message);
      });
    });
  }

  // The channel's upcoming slots (GET .../slots?days=14), skipping those another post
  // already holds in the queue (as the server does when it places the post): resolves
  // { data: the slots answer, slot: the first free entry of upcoming, or null }.
  function nextFreeSlot(ch) {
    var now = new Date();
    var slots = call('GET', '/workspaces/' + wid + '/channels/' + ch.id + '/slots?days=14');
    var queue = queueAll('/workspaces/' + wid + '/queue?channel=' + ch.id + '&from=' + encodeURIComponent(rfc3339Local(now)) +
      '&to=' + encodeURIComponent(rfc3339Local(addDays(now, 15)))).catch(function () { return null; });
    return Promise.all([slots, queue]).then(function (both) {
      var data = both[0] || {};
      var taken = {};
      (both[1] && Array.isArray(both[1].items) ? both[1].items : []).forEach(function (o) {
        if (o.state !== 'cancelled' && o.state !== 'failed') taken[Date.parse(o.planned_at)] = true;
      });
      var upcoming = Array.isArray(data.upcoming) ? data.upcoming : [];
      var free = upcoming.filter(function (u) { return !taken[Date.parse(u.at || u.local)]; });
      return { data: data, slot: free[0] || null };
    });
  }

  /* the request body, as for POST .../posts */

  function payload() {
    var body = { text: textArea.value, category: catSel.value,
      channels: selectedChannels().map(function (ch) { return ch.id; }) };
    var link = linkInput.value.trim();
    var campaign = campaignInput.value.trim();
    var variants = variantTexts();
    if (link) body.link = link;
    if (campaign) body.campaign = campaign;
    if (variants.length) body.variants = variants;
    var images = media.value();
    if (images.length) body.media = images;
    var s = scheduleValue();
    if (s === 'now' || s === 'next_slot') body.schedule = s;
    else if (s === 'at') { var at = atValue(); if (at) body.schedule = rfc3339Local(at); }
    return body;
  }

  /* live checks: POST .../check with the same body, debounced */

  function scheduleCheck() {
    if (checksOff) return;
    if (checkTimer) window.clearTimeout(checkTimer);
    checkTimer = window.setTimeout(runCheck, CHECK_DELAY_MS);
  }

  function runCheck() {
    checkTimer = null;
    if (checksOff || !ctx.alive()) return;
    var body = payload();
    var mine = ++checkSeq;
    if (!body.text.trim() || !body.channels.length) {
      checksCard.hidden = true;
      clear(checksList);
      return;
    }
    checksCard.setAttribute('data-state', 'checking');
    call('POST', '/workspaces/' + wid + '/check', body).then(function (data) {
      if (mine !== checkSeq || !ctx.alive()) return;
      showChecks(data && Array.isArray(data.violations) ? data.violations : []);
    }, function (err) {
      if (mine !== checkSeq || !ctx.alive()) return;
      if (err.status === 404) { checksOff = true; checksCard.hidden = true; return; }
      if (err.handled) return;
      clear(checksList);
      checksStatus.className = 'checks-status muted';
      setT(checksStatus, 'checks.failed', { message: err.message });
      checksCard.setAttribute('data-state', 'error');
      checksCard.hidden = false;
    });
  }

  function showChecks(violations) {
    clear(checksList);
    var blocks = violations.filter(function (v) { return v.severity === 'block'; }).length;
    var warns = violations.length - blocks;
    if (!violations.length) {
      checksStatus.className = 'checks-status checks-ok';
      setT(checksStatus, 'checks.none');
    } else {
      checksStatus.className = 'checks-status' + (blocks ? ' checks-has-block' : ' checks-has-warn');
      setT(checksStatus, blocks ? 'checks.summaryBlock' : 'checks.summaryWarn', { n: blocks || warns, w: warns });
    }
    blocksFirst(violations).forEach(function (v) { checksList.appendChild(violationItem(v, channelName)); });
    checksCard.setAttribute('data-state', 'done');
    checksCard.hidden = false;
  }

  /* submitting */

  function clearErrors() {
    formMsg.clear();
    Object.keys(fields).forEach(function (k) { setFieldError(fields[k], null); });
    setChannelsError(null);
    setScheduleError(null);
    variantsErr.hidden = true;
    variantsErr.textContent = '';
  }

  function validate() {
    var s = scheduleValue();
    if (!textArea.value.trim()) { setFieldError(fText, t('composer.err.text')); textArea.focus(); return false; }
    var link = linkInput.value.trim();
    if (link && !/^https?:\/\/\S+$/i.test(link)) { setFieldError(fLink, t('channels.err.urlFormat')); linkInput.focus(); return false; }
    if (!media.validate()) return false;
    if (s !== 'draft' && !selectedChannels().length) {
      setChannelsError(t('composer.err.channels'));
      var first = channelPicks.querySelector('input');
      if (first) first.focus();
      return false;
    }
    if (s === 'at') {
      var at = atValue();
      if (!at) { setScheduleError(t('composer.err.at')); (atDate.value ? atTime : atDate).focus(); return false; }
      if (at.getTime() < Date.now() - 60000) { setScheduleError(t('composer.err.past')); atDate.focus(); return false; }
    }
    return true;
  }

  function send(body) {
    submit.disabled = true;
    var overrideBtn = blocked.querySelector('[data-testid="composer-override"]');
    if (overrideBtn) overrideBtn.disabled = true;
    call('POST', '/workspaces/' + wid + '/posts', body).then(function (post) {
      submit.disabled = false;
      if (!ctx.alive()) return;
      showDone(post || {}, body.schedule);
    }, function (err) {
      submit.disabled = false;
      if (overrideBtn) overrideBtn.disabled = false;
      if (err.handled || !ctx.alive()) return;
      if (err.status === 422 && err.code === 'check_blocked') { showBlocked(err, body); return; }
      showSendError(err);
    });
  }

  function showSendError(err) {
    var f = err.field ? fields[err.field] : null;
    if (f) { setFieldError(f, err.message); f.control.focus(); return; }
    if (err.field === 'channels') { setChannelsError(err.message); return; }
    if (err.field === 'schedule') { setScheduleError(err.message); return; }
    if (err.field === 'variants') { setUserText(variantsErr, err.message); variantsErr.hidden = false; return; }
    if (err.field === 'override_reason' && blocked.reasonField) { setFieldError(blocked.reasonField, err.message); blocked.reasonField.control.focus(); return; }
    formMsg.error(err.message);
    formMsg.el.scrollIntoView({ block: 'nearest' });
  }

  function hideBlocked() {
    if (blocked.hidden) return;
    blocked.hidden = true;
    blocked.reasonField = null;
    clear(blocked);
  }

  // The post was stopped by blocking checks: show them and offer to publish anyway with a reason.
  function showBlocked(err, body) {
    clear(blocked);
    var list = err.violations.filter(function (v) { return v.severity === 'block'; });
    if (!list.length) list = err.violations;
    var reason = h('textarea', { rows: '2', maxlength: '500', testid: 'override-reason' });
    var fReason = field('c-override-reason', 'composer.blocked.reason', reason, { hint: 'composer.blocked.reasonHint', testid: 'override-reason' });
    blocked.reasonField = fReason;
    var anyway = button('composer.blocked.publish', { kind: 'danger', testid: 'composer-override', onClick: function () {
      setFieldError(fReason, null);
      var why = reason.value.trim();
      if (!why) { setFieldError(fReason, t('composer.blocked.reasonMissing')); reason.focus(); return; }
      var again = {};
      Object.keys(body).forEach(function (k) { again[k] = body[k]; });
      again.override_reason = why;
      send(again);
    } });
    var edit = button('composer.blocked.edit', { testid: 'composer-blocked-edit', onClick: function () { hideBlocked(); textArea.focus(); } });
    append(blocked, [
      h('h2', { t: 'composer.blocked.title' }),
      h('p', { testid: 'composer-blocked-message', user: err.message }),
      h('p', { class: 'hint', t: 'composer.blocked.text' }),
      h('ul', { class: 'violations' }, list.map(function (v) { return violationItem(v, channelName); })),
      fReason.wrap,
      h('div', { class: 'form-actions' }, anyway, edit)
    ]);
    blocked.hidden = false;
    blocked.scrollIntoView({ block: 'nearest' });
    blocked.focus();
  }

  function channelName(id) {
    var ch = channelById[id];
    return ch ? ch.name : t('calendar.unknownChannel', { id: id });
  }

  function showDone(post, schedule) {
    clear(doneBox);
    var occ = Array.isArray(post.occurrences) ? post.occurrences.slice() : [];
    occ.sort(function (a, b) { return Date.parse(a.planned_at) - Date.parse(b.planned_at); });
    // Nothing says "now" of a post that will wait: the server tells when each one goes out.
    var waits = occ.some(function (o) { return !!o.waiting; });
    var key = !schedule ? 'composer.done.draft' : schedule === 'now' ? (waits ? 'composer.done.nowWaits' : 'composer.done.now') : 'composer.done.scheduled';
    var first = occ.length ? occ[0].planned_at : null;
    var warnings = Array.isArray(post.violations) ? post.violations : [];
    var calLink = h('a', { href: '#/w/' + wid + '/calendar', class: 'btn btn-primary btn-small', testid: 'composer-calendar-link',
      t: 'composer.done.calendar', on: { click: function () { state.calendarFocus = first; } } });
    var another = button('composer.done.another', { small: true, testid: 'composer-another', onClick: function () {
      doneBox.hidden = true;
      clear(doneBox);
      textArea.focus();
    } });
    append(doneBox, [
      h('h2', { t: key, tp: { n: occ.length } }),
      occ.length ? h('ul', { class: 'done-list' }, occ.map(function (o) {
        return h('li', { testid: 'composer-done-item', 'data-channel-id': String(o.channel_id) },
          h('span', { class: 'name', user: channelName(o.channel_id) }), h('span', { 'aria-hidden': 'true', text: ' \u2014 ' }),
          dateEl(o.expected_at || o.planned_at),
          o.waiting ? h('p', { class: 'hint done-wait', testid: 'composer-done-waiting', user: o.waiting.message }) : null);
      })) : h('p', { t: 'composer.done.draftText', tp: { id: post.id } }),
      warnings.length ? h('div', { class: 'done-warnings', testid: 'composer-done-warnings' },
        h('p', { class: 'done-warnings-title', t: 'composer.done.warnings', tp: { n: warnings.length } }),
        h('ul', { class: 'violations' }, blocksFirst(warnings).map(function (v) { return violationItem(v, channelName); }))) : null,
      h('div', { class: 'form-actions' }, occ.length ? calLink : null, another)
    ]);
    doneBox.hidden = false;
    hideBlocked();
    // Ready for the next post: the text goes, the channels and the schedule stay.
    textArea.value = '';
    variantRows.slice().forEach(function (r) { r.el.remove(); });
    variantRows = [];
    renumberVariants();
    linkInput.value = '';
    campaignInput.value = '';
    media.reset();
    catSel.value = 'value';
    syncCategory();
    renderCounters();
    checkSeq++;
    if (checkTimer) { window.clearTimeout(checkTimer); checkTimer = null; }
    checksCard.hidden = true;
    clear(checksList);
    slotCache = {};
    refreshNextSlots();
    window.scrollTo(0, 0);
    doneBox.focus();
  }

  function syncCategory() {
    setT(catAbout, 'category.about.' + catSel.value);
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    clearErrors();
    hideBlocked();
    doneBox.hidden = true;
    if (!validate()) return;
    send(payload());
  });

  // Any change to the post: new counts, fresh checks, and an earlier block no longer applies.
  form.addEventListener('input', function (ev) {
    if (blocked.contains(ev.target)) return;
    hideBlocked();
    if (ev.target === textArea) { setFieldError(fText, null); renderCounters(); }
    if (ev.target === linkInput) setFieldError(fLink, null);
    scheduleCheck();
  });
  catSel.addEventListener('change', function () { syncCategory(); });
  SCHEDULES.forEach(function (s) { radios[s].addEventListener('change', scheduleChanged); });
  [atDate, atTime].forEach(function (el) { el.addEventListener('change', function () { setScheduleError(null); scheduleCheck(); }); });
  onLanguage(ctx, refreshNextSlots);

  syncCategory();
  renumberVariants();
  scheduleChanged();
  renderCounters();

  allChannels(wid).then(function (list) {
    if (!ctx.alive()) return;
    channels = list.filter(function (ch) { return PUBLISHING_KINDS.indexOf(ch.kind) >= 0; });
    channels.forEach(function (ch) { channelById[ch.id] = ch; });
    list.forEach(function (ch) { if (!channelById[ch.id]) channelById[ch.id] = ch; });
    renderChannelPicks();
    if (channels.length === 1) channelPicks.querySelector('input').checked = true;
    channelsChanged();
  }, function (err) {
    if (!ctx.alive()) return;
    clear(channelPicks);
    showError(formMsg, err);
  });

  return page;
}
