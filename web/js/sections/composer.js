/* samtale dashboard, section Composer: write a post once for several channels.
 *
 * The text with its variants, category, link and campaign; the channels and when to
 * publish (now, the next free slot, a date and time, as an evergreen series, or as a
 * draft). Counters show the length the way each chosen network counts it, and the queue
 * checks run as one types (POST .../check). A post the checks block can go out anyway with
 * a reason.
 *
 * A series (P3) is planned before it is saved: as one types, POST .../series with dry_run
 * says per channel how many copies fit of how many asked, and why fewer fit; the series is
 * saved only by pressing its button once that plan is on screen.
 *
 * The page also keeps the drafts (a panel above the form: continue one, schedule it,
 * delete it), and takes the section's parameters (ctx.params):
 *   ?edit=ID        the post ID in the form: a draft to finish or schedule (PATCH, it keeps
 *                   its id), or a scheduled post whose content changes where its copies
 *                   are planned (PATCH; live checks with post_id); a post that has gone
 *                   out, failed or was cancelled cannot change: the page says so and
 *                   offers a copy (&focus=when: straight to the channels and the time)
 *   ?duplicate=ID   a new post with that post's content and channels
 *   ?at=TIME&channel=ID   a new post for that time (RFC 3339) on that channel
 */

import { state } from '../core/state.js';
import { t, setT, setTAttr, dateEl, onLanguage } from '../core/lang.js';
import { h, setUserText, append, clear, field, setFieldError, messageBox, button, pageHeader,
  roleNote, showError, confirmDialog } from '../core/dom.js';
import { call, queueAll, allChannels } from '../core/api.js';
import { routeTo } from '../core/router.js';
import { PUBLISHING_KINDS, CATEGORIES, NETWORK_LIMITS, rfc3339Local, dayKey, addDays, fmt,
  browserZone, networkLength, kindChip, categoryChip, violationItem, blocksFirst, excerpt,
  stateOf, statePill } from '../core/post_util.js';
import { canWritePosts, sentForApproval } from '../core/approval_util.js'; // approval (P12)
import { mediaPicker } from './media.js'; // images (P16)
import { previewPane } from './preview.js'; // each channel's preview (P2)

var SCHEDULES = ['now', 'next_slot', 'at', 'series', 'draft'];
var SPANS = ['days', 'until', 'count'];   // how long a series runs
var VARIANTS_MAX = 10;
var CHECK_DELAY_MS = 400;      // live checks wait this long after the last keystroke
var DRAFTS_SHOWN = 5;          // drafts listed before "Show all"
var DRAFT_PAGES = 10;          // pages of 200 drafts read at most
var PLACED_SHOWN = 8;          // copies of a post being edited listed before "and N more"

export function composerView(ctx) {
  var wid = ctx.wid;
  var canWrite = canWritePosts(ctx); // owners, editors; agents while their posts need approval (P12)
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
  // What the form is: a new post, or the post being edited (a draft or a scheduled post).
  var mode = { kind: 'new', post: null };
  // The series plan on screen: { key (the body it was made for), plan, total }, or null.
  var shownPlan = null;
  var drafts = [];
  var showAllDrafts = false;

  var formMsg = messageBox('composer-error');
  var doneBox = h('div', { class: 'done-box', testid: 'composer-done', hidden: true, tabindex: '-1', role: 'status', 'aria-live': 'polite' });
  var modeNote = h('div', { class: 'mode-note', testid: 'composer-mode', hidden: true });
  var lockedBox = h('section', { class: 'card locked', testid: 'composer-locked', hidden: true, tabindex: '-1', 'aria-labelledby': 'locked-title' });

  /* the drafts */

  var draftsCount = h('span', { class: 'drafts-count', testid: 'composer-drafts-count' });
  var draftsList = h('ul', { class: 'drafts-list', testid: 'composer-drafts-list' });
  var draftsAll = button('composer.drafts.all', { small: true, testid: 'composer-drafts-all', onClick: function () {
    showAllDrafts = true;
    renderDrafts();
  } });
  var draftsPanel = h('details', { class: 'drafts', testid: 'composer-drafts', hidden: true },
    h('summary', { class: 'drafts-summary', testid: 'composer-drafts-toggle' }, h('span', { t: 'composer.drafts.title' }), draftsCount),
    h('p', { class: 'hint', t: 'composer.drafts.lead' }),
    draftsList,
    h('div', { class: 'drafts-foot' }, draftsAll));

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
  // The post as each channel will show it (POST .../preview), asked again as one types.
  var preview = previewPane(ctx, { wid: wid, read: function () {
    return { text: textArea.value, link: linkInput.value.trim(), channels: targetChannels(), media: media.value() };
  } });

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

  /* the series' rule */
  function numberInput(testid, min, max, value) {
    return h('input', { type: 'number', inputmode: 'numeric', min: String(min), max: String(max), step: '1', value: String(value), testid: testid });
  }
  var perDay = numberInput('series-per-day', 1, 48, 3);
  var fPerDay = field('c-series-per-day', 'composer.series.perDay', perDay, { testid: 'series-per-day' });
  var gapHours = numberInput('series-gap', 0, 168, 4);
  var fGap = field('c-series-gap', 'composer.series.gap', gapHours, { testid: 'series-gap' });
  var spanRadios = {};
  var spanDays = numberInput('series-days', 1, 366, 7);
  var spanUntil = h('input', { type: 'date', testid: 'series-until' });
  var spanCount = numberInput('series-count', 1, 1000, 10);
  var spanInputs = { days: spanDays, until: spanUntil, count: spanCount };
  var spanErr = h('p', { class: 'field-error', id: 'c-series-span-error', testid: 'series-span-error', hidden: true });
  var spanSet = h('fieldset', { class: 'fieldset series-span', 'aria-describedby': 'c-series-span-error' },
    h('legend', { class: 'label', t: 'composer.series.span' }),
    h('div', { class: 'span-rows' }, SPANS.map(function (s) {
      var id = 'c-series-span-' + s;
      var radio = h('input', { type: 'radio', name: 'c-series-span', id: id, value: s, testid: 'series-span-' + s });
      spanRadios[s] = radio;
      var input = spanInputs[s];
      input.id = id + '-value';
      return h('div', { class: 'span-row' },
        h('label', { class: 'span-choice', for: id }, radio, h('span', { t: 'composer.series.span.' + s })),
        h('div', { class: 'span-value' },
          h('label', { class: 'visually-hidden', for: input.id, t: 'composer.series.span.' + s + '.label' }),
          input,
          s !== 'until' ? h('span', { class: 'span-unit', 'aria-hidden': 'true', t: 'composer.series.span.' + s + '.unit' }) : null));
    })),
    spanErr);
  spanRadios.days.checked = true;
  var replaceBox = h('input', { type: 'checkbox', id: 'c-series-replace', testid: 'series-replace' });
  var seriesWrap = h('div', { class: 'series-fields', testid: 'series-fields', hidden: true },
    h('div', { class: 'series-row' }, fPerDay.wrap, fGap.wrap),
    h('p', { class: 'hint series-rule-hint', t: 'composer.series.ruleHint' }),
    spanSet,
    h('label', { class: 'check', for: 'c-series-replace' }, replaceBox,
      h('span', { class: 'check-text' }, h('span', { t: 'composer.series.replace' }),
        h('span', { class: 'hint', t: 'composer.series.replaceHint' }))));
  var seriesFields = { per_day: fPerDay, min_gap_hours: fGap };

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
        s === 'at' ? atWrap : null,
        s === 'series' ? seriesWrap : null);
    })),
    scheduleErr);
  radios.next_slot.checked = true;
  var whereCard = h('div', { class: 'card', testid: 'composer-where' },
    h('h2', { class: 'composer-step', t: 'composer.step.where' }),
    channelSet, scheduleSet);
  // A scheduled post being edited keeps its channels and times: shown here, not chosen.
  var placedCard = h('div', { class: 'card placed', testid: 'composer-placed', hidden: true });

  /* the series plan (dry run) */
  var planStatus = h('p', { class: 'plan-status', testid: 'composer-plan-status' });
  var planList = h('ul', { class: 'plan-list', testid: 'composer-plan-list' });
  var planTotal = h('p', { class: 'plan-total', testid: 'composer-plan-total' });
  var planCard = h('section', { class: 'plan', testid: 'composer-plan', 'aria-labelledby': 'plan-title', hidden: true },
    h('h2', { id: 'plan-title', t: 'composer.plan.title' }),
    h('p', { class: 'hint', t: 'composer.plan.lead' }),
    h('div', { 'aria-live': 'polite' }, planStatus, planList, planTotal));

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
      h('div', { class: 'grid' }, fCat.wrap, fCampaign.wrap, catHelp, h('div', { class: 'field-wide' }, fLink.wrap)),
      preview.el),
    h('div', { class: 'composer-side' },
      whereCard, placedCard,
      planCard,
      checksCard,
      blocked,
      h('div', { class: 'composer-actions' }, submit)));

  append(page, [modeNote, draftsPanel, doneBox, formMsg.el, lockedBox, form]);
  setTAttr(form, 'aria-label', 'composer.formLabel');

  var fields = { text: fText, link: fLink, category: fCat, campaign: fCampaign };

  function postPath(id) { return '/workspaces/' + wid + '/posts/' + Number(id); }

  /* channels */

  function selectedChannels() {
    return channels.filter(function (ch) {
      var box = channelPicks.querySelector('input[value="' + ch.id + '"]');
      return box && box.checked;
    });
  }

  function setChosen(ids) {
    channelPicks.querySelectorAll('input[type="checkbox"]').forEach(function (box) {
      box.checked = ids.indexOf(Number(box.value)) >= 0;
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
          ch.status === 'reconnect' ? [' ', h('span', { class: 'pill pill-danger', testid: 'composer-channel-reconnect', t: 'status.reconnect' })] : null,
          ch.paused ? [' ', h('span', { class: 'pill pill-warn', testid: 'composer-channel-paused', t: 'status.paused' })] : null)));
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

  // The networks the post goes to: the channels chosen, or those of the post being edited.
  function targetChannels() {
    if (mode.kind !== 'scheduled') return selectedChannels();
    var seen = {};
    return occurrencesOf(mode.post).filter(function (o) { return o.state === 'scheduled'; }).map(function (o) {
      return channelById[o.channel_id] || { id: o.channel_id, kind: null, name: channelName(o.channel_id) };
    }).filter(function (ch) {
      var dup = seen[ch.id];
      seen[ch.id] = true;
      return !dup;
    });
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
    var chosen = targetChannels();
    clear(counters);
    counterHint.hidden = chosen.length > 0 && !chosen.some(function (ch) { return NETWORK_LIMITS[ch.kind]; });
    if (!chosen.length) counters.appendChild(counterItem(null, null, null, text, 'composer-counter'));
    chosen.forEach(function (ch) { counters.appendChild(counterItem(ch.kind, ch.name, ch.id, text, 'composer-counter')); });
  }

  // Variants count once per network chosen.
  function renderVariantCounters(row) {
    var seen = {};
    var kinds = [];
    targetChannels().forEach(function (ch) { if (!seen[ch.kind]) { seen[ch.kind] = true; kinds.push(ch.kind); } });
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

  function clearVariants() {
    variantRows.slice().forEach(function (r) { r.el.remove(); });
    variantRows = [];
    renumberVariants();
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

  function spanValue() {
    for (var i = 0; i < SPANS.length; i++) if (spanRadios[SPANS[i]].checked) return SPANS[i];
    return 'days';
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
    seriesWrap.hidden = s !== 'series';
    if (s === 'at' && !atDate.value) {
      var tomorrow = addDays(new Date(), 1);
      atDate.value = dayKey(tomorrow);
      atTime.value = '09:00';
    }
    if (s === 'series' && !spanUntil.value) spanUntil.value = dayKey(addDays(new Date(), 14));
    if (s !== 'series') forgetPlan();
    updateSubmit();
    refreshNextSlots();
    scheduleCheck();
  }

  function updateSubmit() {
    var s = scheduleValue();
    if (mode.kind === 'scheduled') setT(submit, 'composer.submit.edit');
    else if (s !== 'series') setT(submit, 'composer.submit.' + s);
    else if (!shownPlan) setT(submit, 'composer.submit.plan');
    else if (!shownPlan.total) setT(submit, 'composer.submit.seriesNone');
    else setT(submit, 'composer.submit.series', { n: shownPlan.total });
  }

  function setScheduleError(message) {
    setUserText(scheduleErr, message || '');
    scheduleErr.hidden = !message;
  }

  // The next posting slot of each chosen channel (GET .../slots?days=14, upcoming[0]).
  function refreshNextSlots() {
    clear(nextSlots);
    var chosen = scheduleValue() === 'next_slot' && mode.kind !== 'scheduled' ? selectedChannels() : [];
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
        if (!up) {
          value.className = 'next-slot-time muted';
          setT(value, 'composer.slot.none');
          // Where the channel's posting times are set (the channels page opens its panel).
          append(li, [' ', h('a', { href: '#/w/' + wid + '/settings/channels?publishing=' + ch.id, testid: 'next-slot-set',
            t: 'composer.slot.setTimes' })]);
          return;
        }
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

  /* request bodies */

  // The content fields. For an edit every one is sent, so that emptying one removes it.
  function contentFields(forEdit) {
    var body = { text: textArea.value, category: catSel.value };
    var link = linkInput.value.trim();
    var campaign = campaignInput.value.trim();
    var variants = variantTexts();
    if (forEdit) {
      body.link = link;
      body.campaign = campaign;
      body.variants = variants;
    } else {
      if (link) body.link = link;
      if (campaign) body.campaign = campaign;
      if (variants.length) body.variants = variants;
    }
    var images = media.value();
    if (forEdit) body.media = images; // an edit sends them all: none left removes them
    else if (images.length) body.media = images;
    return body;
  }

  // The schedule chosen, as the API takes it: "now", "next_slot", a time, or null (a draft
  // or a time not yet complete).
  function scheduleField() {
    var s = scheduleValue();
    if (s === 'now' || s === 'next_slot') return s;
    if (s === 'at') { var at = atValue(); return at ? rfc3339Local(at) : null; }
    return null;
  }

  // As for POST .../posts (and the live checks).
  function payload() {
    var body = contentFields(false);
    body.channels = selectedChannels().map(function (ch) { return ch.id; });
    var sched = scheduleField();
    if (sched) body.schedule = sched;
    return body;
  }

  // A whole number typed in input, or NaN.
  function wholeNumber(input) {
    var v = String(input.value).trim();
    return /^\d{1,6}$/.test(v) ? Number(v) : NaN;
  }

  // As for POST .../series: the post's fields and the series' rule.
  function seriesBody() {
    var body = contentFields(false);
    delete body.media; // a series goes out without images (validate() says so first)
    body.channels = selectedChannels().map(function (ch) { return ch.id; });
    body.per_day = wholeNumber(perDay);
    body.min_gap_hours = wholeNumber(gapHours);
    var span = spanValue();
    if (span === 'days') body.days = wholeNumber(spanDays);
    else if (span === 'count') body.count = wholeNumber(spanCount);
    else {
      var d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(spanUntil.value);
      // Until the end of that day, in the browser's time zone.
      body.until = d ? rfc3339Local(new Date(Number(d[1]), Number(d[2]) - 1, Number(d[3]), 23, 59)) : '';
    }
    body.replace_previous = replaceBox.checked;
    return body;
  }

  // The first thing wrong with the series' rule as typed: { field, el, message } or null.
  function seriesProblem(body) {
    function bad(f, lo, hi) { var v = body[f]; return !(v >= lo && v <= hi); }
    if (bad('per_day', 1, 48)) return { field: fPerDay, message: t('composer.series.err.perDay') };
    if (bad('min_gap_hours', 0, 168)) return { field: fGap, message: t('composer.series.err.gap') };
    if ('days' in body && bad('days', 1, 366)) return { span: spanDays, message: t('composer.series.err.days') };
    if ('count' in body && bad('count', 1, 1000)) return { span: spanCount, message: t('composer.series.err.count') };
    if ('until' in body) {
      var end = Date.parse(body.until);
      if (!body.until || isNaN(end)) return { span: spanUntil, message: t('composer.series.err.until') };
      if (end <= Date.now()) return { span: spanUntil, message: t('composer.series.err.untilPast') };
      if (end > Date.now() + 366 * 86400000) return { span: spanUntil, message: t('composer.series.err.untilFar') };
    }
    return null;
  }

  function showSeriesProblem(p) {
    if (p.field) { setFieldError(p.field, p.message); return p.field.control; }
    setUserText(spanErr, p.message);
    spanErr.hidden = false;
    p.span.setAttribute('aria-invalid', 'true');
    return p.span;
  }

  function clearSeriesErrors() {
    setFieldError(fPerDay, null);
    setFieldError(fGap, null);
    spanErr.hidden = true;
    spanErr.textContent = '';
    SPANS.forEach(function (s) { spanInputs[s].removeAttribute('aria-invalid'); });
  }

  /* live checks: POST .../check with the same body, debounced (for a series, its dry run) */

  function scheduleCheck() {
    preview.update();
    if (checkTimer) window.clearTimeout(checkTimer);
    checkTimer = window.setTimeout(runCheck, CHECK_DELAY_MS);
  }

  function hideChecks() {
    checkSeq++;
    checksCard.hidden = true;
    clear(checksList);
  }

  function runCheck() {
    checkTimer = null;
    if (!ctx.alive()) return;
    if (mode.kind !== 'scheduled' && scheduleValue() === 'series') { runPlan(false); return; }
    if (checksOff) return;
    var body;
    if (mode.kind === 'scheduled') {
      body = contentFields(true);
      body.post_id = mode.post.id;
    } else {
      body = payload();
      // A draft is not checked: the checks look at where and when a post goes out.
      if (!body.channels.length || scheduleValue() === 'draft') { hideChecks(); return; }
    }
    if (!body.text.trim()) { hideChecks(); return; }
    var mine = ++checkSeq;
    checksCard.setAttribute('data-state', 'checking');
    call('POST', '/workspaces/' + wid + '/check', body).then(function (data) {
      if (mine !== checkSeq || !ctx.alive()) return;
      showChecks(data && Array.isArray(data.violations) ? data.violations : []);
    }, function (err) {
      if (mine !== checkSeq || !ctx.alive()) return;
      if (err.status === 404 && !body.post_id) { checksOff = true; checksCard.hidden = true; return; }
      if (err.handled) return;
      checkFailed(err);
    });
  }

  function checkFailed(err) {
    clear(checksList);
    checksStatus.className = 'checks-status muted';
    setT(checksStatus, 'checks.failed', { message: err.message });
    checksCard.setAttribute('data-state', 'error');
    checksCard.hidden = false;
  }

  function showChecks(violations) {
    var list = blocksFirst(violations);
    var blocks = list.filter(function (v) { return v.severity === 'block'; }).length;
    var warns = list.length - blocks;
    clear(checksList);
    if (!list.length) {
      checksStatus.className = 'checks-status checks-ok';
      setT(checksStatus, 'checks.none');
    } else {
      checksStatus.className = 'checks-status' + (blocks ? ' checks-has-block' : ' checks-has-warn');
      setT(checksStatus, blocks ? 'checks.summaryBlock' : 'checks.summaryWarn', { n: blocks || warns, w: warns });
    }
    list.forEach(function (v) { checksList.appendChild(violationItem(v, channelName, wid)); });
    checksCard.setAttribute('data-state', 'done');
    checksCard.hidden = !blocked.hidden; // while the blocked panel lists them, once is enough
  }

  /* the series plan */

  function forgetPlan() {
    shownPlan = null;
    planCard.hidden = true;
    clear(planList);
    planTotal.textContent = '';
  }

  // What the plan of a series depends on, to tell whether the plan on screen is current.
  function planKey(body) { return JSON.stringify(body); }

  // Two plans that place the same number of copies between the same first and last times.
  function samePlan(a, b) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every(function (p, i) {
      var q = b[i] || {};
      return p.channel_id === q.channel_id && p.planned === q.planned && p.asked === q.asked && p.first === q.first && p.last === q.last;
    });
  }

  // Asks the server how the series would be planned (dry run) and shows it with the checks'
  // findings. With thenSave the series is saved when that plan is the one already on
  // screen; otherwise the new plan is shown and saving waits for another press.
  function runPlan(thenSave) {
    var body = seriesBody();
    clearSeriesErrors();
    if (!body.text.trim() || !body.channels.length) {
      forgetPlan();
      hideChecks();
      updateSubmit();
      return;
    }
    var problem = seriesProblem(body);
    if (problem) {
      showSeriesProblem(problem);
      planCard.hidden = false;
      clear(planList);
      planTotal.textContent = '';
      planStatus.className = 'plan-status muted';
      setT(planStatus, 'composer.plan.incomplete');
      shownPlan = null;
      updateSubmit();
      return;
    }
    var mine = ++checkSeq;
    var before = shownPlan;
    planCard.hidden = false;
    planCard.setAttribute('data-state', 'checking');
    if (!before) { planStatus.className = 'plan-status muted'; setT(planStatus, 'composer.plan.working'); }
    var ask = {};
    Object.keys(body).forEach(function (k) { ask[k] = body[k]; });
    ask.dry_run = true;
    if (thenSave) submit.disabled = true;
    call('POST', '/workspaces/' + wid + '/series', ask).then(function (data) {
      submit.disabled = false;
      if (mine !== checkSeq || !ctx.alive()) return;
      data = data || {};
      var plan = Array.isArray(data.plan) ? data.plan : [];
      showPlan(plan, planKey(body));
      showChecks(Array.isArray(data.violations) ? data.violations : []);
      if (!thenSave) return;
      if (before && samePlan(before.plan, plan)) { send(seriesRequest(body)); return; }
      planStatus.className = 'plan-status plan-changed';
      setT(planStatus, 'composer.plan.check');
      planCard.scrollIntoView({ block: 'nearest' });
    }, function (err) {
      submit.disabled = false;
      if (mine !== checkSeq || !ctx.alive() || err.handled) return;
      shownPlan = null;
      updateSubmit();
      clear(planList);
      planTotal.textContent = '';
      planCard.setAttribute('data-state', 'error');
      planStatus.className = 'plan-status muted';
      setT(planStatus, 'composer.plan.failed');
      showSendError(err);
    });
  }

  function showPlan(plan, key) {
    var total = 0;
    var chans = 0;
    clear(planList);
    plan.forEach(function (p) {
      var planned = Number(p.planned) || 0;
      var asked = Number(p.asked) || 0;
      total += planned;
      if (planned) chans++;
      var short = planned < asked;
      planList.appendChild(h('li', { class: 'plan-channel' + (short ? ' is-short' : ''), testid: 'plan-channel',
        'data-channel-id': String(p.channel_id), 'data-planned': String(planned), 'data-asked': String(asked) },
        h('p', { class: 'plan-head' },
          h('span', { class: 'name', user: channelName(p.channel_id) }),
          h('span', { class: 'plan-count', testid: 'plan-count',
            t: !planned ? 'composer.plan.none' : short ? 'composer.plan.some' : 'composer.plan.all', tp: { n: planned, asked: asked } })),
        planned ? h('p', { class: 'plan-when', testid: 'plan-when' },
          h('span', { t: 'composer.plan.first' }), ' ', dateEl(p.first),
          planned > 1 ? [h('span', { 'aria-hidden': 'true', text: ' \u2192 ' }), h('span', { class: 'visually-hidden', t: 'composer.plan.last' }), ' ', dateEl(p.last)] : null) : null,
        p.message ? h('p', { class: 'plan-why', testid: 'plan-why', user: p.message }) : null));
    });
    planStatus.className = 'plan-status';
    setT(planStatus, 'composer.plan.ready');
    // The sum, when there is something to add up: "In all 9 copies on 2 channels."
    clear(planTotal);
    if (plan.length > 1) {
      append(planTotal, [h('span', { t: 'composer.plan.total', tp: { n: total } }), ' ',
        h('span', { t: 'composer.plan.totalChannels', tp: { n: chans } })]);
    }
    planCard.setAttribute('data-state', 'done');
    planCard.hidden = false;
    shownPlan = { key: key, plan: plan, total: total };
    updateSubmit();
  }

  /* submitting */

  function clearErrors() {
    formMsg.clear();
    Object.keys(fields).forEach(function (k) { setFieldError(fields[k], null); });
    setChannelsError(null);
    setScheduleError(null);
    clearSeriesErrors();
    variantsErr.hidden = true;
    variantsErr.textContent = '';
  }

  function validate() {
    var s = mode.kind === 'scheduled' ? null : scheduleValue();
    if (!textArea.value.trim()) { setFieldError(fText, t('composer.err.text')); textArea.focus(); return false; }
    var link = linkInput.value.trim();
    if (link && !/^https?:\/\/\S+$/i.test(link)) { setFieldError(fLink, t('channels.err.urlFormat')); linkInput.focus(); return false; }
    if (!media.validate()) return false;
    if (s === 'series' && media.value().length) {
      // Each copy of a series is the post's text or a variant; images are not copied.
      setChannelsError(null);
      setFieldError(fText, t('composer.err.seriesImages'));
      textArea.focus();
      return false;
    }
    if (s && s !== 'draft' && !selectedChannels().length) {
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
    if (s === 'series') {
      var problem = seriesProblem(seriesBody());
      if (problem) { showSeriesProblem(problem).focus(); return false; }
    }
    return true;
  }

  // The request the form stands for: { method, path, body, kind } (kind: what the done box
  // says afterwards: post, edit, draft-saved, draft-scheduled or series).
  function seriesRequest(body) {
    return { method: 'POST', path: '/workspaces/' + wid + '/series', body: body, kind: 'series' };
  }

  function formRequest() {
    var s = scheduleValue();
    if (mode.kind === 'scheduled') return { method: 'PATCH', path: postPath(mode.post.id), body: contentFields(true), kind: 'edit' };
    if (s === 'series') return seriesRequest(seriesBody());
    if (mode.kind === 'draft') {
      var body = contentFields(true);
      if (s === 'draft') return { method: 'PATCH', path: postPath(mode.post.id), body: body, kind: 'draft-saved' };
      body.channels = selectedChannels().map(function (ch) { return ch.id; });
      body.schedule = scheduleField();
      return { method: 'PATCH', path: postPath(mode.post.id), body: body, kind: 'draft-scheduled' };
    }
    return { method: 'POST', path: '/workspaces/' + wid + '/posts', body: payload(), kind: 'post' };
  }

  function send(req) {
    submit.disabled = true;
    var overrideBtn = blocked.querySelector('[data-testid="composer-override"]');
    if (overrideBtn) overrideBtn.disabled = true;
    call(req.method, req.path, req.body).then(function (answer) {
      submit.disabled = false;
      if (!ctx.alive()) return;
      saved(req, answer || {});
    }, function (err) {
      submit.disabled = false;
      if (overrideBtn) overrideBtn.disabled = false;
      if (err.handled || !ctx.alive()) return;
      if (err.status === 422 && err.code === 'check_blocked') { showBlocked(err, req); return; }
      // The post being edited went out (or was cancelled) meanwhile: say so, offer a copy.
      if (err.status === 409 && mode.post) { reloadEdited(err); return; }
      showSendError(err);
    });
  }

  function showSendError(err) {
    var f = err.field ? fields[err.field] || seriesFields[err.field] : null;
    if (f) { setFieldError(f, err.message); f.control.focus(); return; }
    if (err.field === 'channels') { setChannelsError(err.message); return; }
    if (err.field === 'schedule') { setScheduleError(err.message); return; }
    if (err.field === 'days' || err.field === 'until' || err.field === 'count' || err.field === 'start') {
      showSeriesProblem({ span: spanInputs[spanValue()], message: err.message });
      return;
    }
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

  // The checks stopped it: show what they found (each finding once: the live checks step
  // aside meanwhile) and offer to go ahead anyway with a reason.
  function showBlocked(err, req) {
    clear(blocked);
    var list = blocksFirst(err.violations);
    var what = req.kind === 'edit' ? 'Edit' : req.kind === 'series' ? 'Series' : '';
    var reason = h('textarea', { rows: '2', maxlength: '500', testid: 'override-reason' });
    var fReason = field('c-override-reason', 'composer.blocked.reason' + what, reason, { hint: 'composer.blocked.reasonHint', testid: 'override-reason' });
    blocked.reasonField = fReason;
    var anyway = button('composer.blocked.publish' + what, { kind: 'danger', testid: 'composer-override', onClick: function () {
      setFieldError(fReason, null);
      var why = reason.value.trim();
      if (!why) { setFieldError(fReason, t('composer.blocked.reasonMissing' + what)); reason.focus(); return; }
      var again = {};
      Object.keys(req.body).forEach(function (k) { again[k] = req.body[k]; });
      again.override_reason = why;
      send({ method: req.method, path: req.path, body: again, kind: req.kind });
    } });
    var edit = button('composer.blocked.edit', { testid: 'composer-blocked-edit', onClick: function () {
      hideBlocked();
      scheduleCheck();
      textArea.focus();
    } });
    append(blocked, [
      h('h2', { t: 'composer.blocked.title' + what }),
      h('p', { class: 'hint', t: 'composer.blocked.text' + what }),
      list.length ? h('ul', { class: 'violations', testid: 'composer-blocked-findings' },
        list.map(function (v) { return violationItem(v, channelName, wid); }))
        : h('p', { testid: 'composer-blocked-message', user: err.message }),
      fReason.wrap,
      h('div', { class: 'form-actions' }, anyway, edit)
    ]);
    checkSeq++;
    checksCard.hidden = true;
    blocked.hidden = false;
    blocked.scrollIntoView({ block: 'nearest' });
    blocked.focus();
  }

  function channelName(id) {
    var ch = channelById[id];
    return ch ? ch.name : t('calendar.unknownChannel', { id: id });
  }

  function occurrencesOf(post) {
    var occ = post && Array.isArray(post.occurrences) ? post.occurrences.slice() : [];
    occ.sort(function (a, b) { return Date.parse(a.planned_at) - Date.parse(b.planned_at); });
    return occ;
  }

  function calendarLink(first, key, params) {
    return h('a', { href: '#/w/' + wid + '/calendar', class: 'btn btn-primary btn-small', testid: 'composer-calendar-link',
      t: key || 'composer.done.calendar', tp: params || null, on: { click: function () { state.calendarFocus = first; } } });
  }

  function anotherButton() {
    return button('composer.done.another', { small: true, testid: 'composer-another', onClick: function () {
      doneBox.hidden = true;
      clear(doneBox);
      textArea.focus();
    } });
  }

  function warningsBlock(warnings) {
    var list = blocksFirst(warnings);
    return list.length ? h('div', { class: 'done-warnings', testid: 'composer-done-warnings' },
      h('p', { class: 'done-warnings-title', t: 'composer.done.warnings', tp: { n: list.length } }),
      h('ul', { class: 'violations' }, list.map(function (v) { return violationItem(v, channelName, wid); }))) : null;
  }

  // After a save: what happened, then a fresh form for the next post.
  function saved(req, answer) {
    var was = mode.kind;
    var draftId = was === 'draft' ? mode.post.id : null;
    if (req.kind === 'series') showSeriesDone(answer);
    else showDone(answer, req);
    resetForm();
    if (draftId && req.kind === 'series') {
      // The draft became a series (a new post): it leaves the drafts.
      call('POST', postPath(draftId) + '/cancel').then(loadDrafts, loadDrafts);
    } else if (was === 'draft' || req.kind === 'post' && !req.body.schedule) {
      loadDrafts();
    }
  }

  function showDone(post, req) {
    clear(doneBox);
    var occ = occurrencesOf(post);
    var schedule = req.body.schedule;
    // Nothing says "now" of a post that will wait: the server tells when each one goes out.
    var waits = occ.some(function (o) { return !!o.waiting; });
    var key = req.kind === 'edit' ? 'composer.done.edited'
      : req.kind === 'draft-saved' || !schedule ? 'composer.done.draft'
      : schedule === 'now' ? (waits ? 'composer.done.nowWaits' : 'composer.done.now') : 'composer.done.scheduled';
    var approval = sentForApproval(post); // P12: it waits for an approver
    if (approval) key = 'composer.done.approval';
    var first = occ.length ? occ[0].planned_at : null;
    append(doneBox, [
      h('h2', { t: key, tp: { n: occ.length } }),
      approval ? h('p', { class: 'hint', testid: 'composer-done-approval', t: 'composer.done.approvalText' }) : null,
      occ.length ? h('ul', { class: 'done-list' }, occ.map(function (o) {
        return h('li', { testid: 'composer-done-item', 'data-channel-id': String(o.channel_id) },
          h('span', { class: 'name', user: channelName(o.channel_id) }), h('span', { 'aria-hidden': 'true', text: ' \u2014 ' }),
          dateEl(o.expected_at || (o.waiting && o.waiting.until) || o.planned_at),
          o.waiting ? h('p', { class: 'hint done-wait', testid: 'composer-done-waiting', user: o.waiting.message }) : null);
      })) : h('p', { t: 'composer.done.draftText' }),
      warningsBlock(Array.isArray(post.violations) ? post.violations : []),
      h('div', { class: 'form-actions' },
        occ.length ? calendarLink(first) : button('composer.done.drafts', { small: true, kind: 'primary', testid: 'composer-show-drafts', onClick: function () {
          draftsPanel.open = true;
          draftsPanel.scrollIntoView({ block: 'nearest' });
          var mine = draftsList.querySelector('[data-post-id="' + Number(post.id) + '"] a, [data-post-id="' + Number(post.id) + '"] button');
          if (mine) mine.focus();
        } }),
        anotherButton())
    ]);
    showDoneBox();
  }

  // A series was saved: how many copies, where, from when to when, by what rule.
  function showSeriesDone(answer) {
    clear(doneBox);
    var plan = Array.isArray(answer.plan) ? answer.plan : [];
    var series = answer.series || {};
    var post = answer.post || {};
    var total = 0;
    var first = null;
    plan.forEach(function (p) {
      total += Number(p.planned) || 0;
      if (p.first && (!first || Date.parse(p.first) < Date.parse(first))) first = p.first;
    });
    var gap = Math.round((Number(series.min_gap_minutes) || 0) / 60);
    append(doneBox, [
      h('h2', { testid: 'composer-done-series', t: 'composer.done.series', tp: { n: total } }),
      sentForApproval(post) ? h('p', { class: 'hint', testid: 'composer-done-approval', t: 'composer.done.approvalText' }) : null,
      h('p', { class: 'done-rule', testid: 'composer-done-rule' },
        h('span', { t: 'composer.done.seriesRule', tp: { n: Number(series.per_day) || 0, gap: gap } }),
        series.replace_previous ? [' ', h('span', { t: 'composer.done.seriesReplace' })] : null),
      h('ul', { class: 'done-list' }, plan.map(function (p) {
        return h('li', { testid: 'composer-done-item', 'data-channel-id': String(p.channel_id), 'data-planned': String(p.planned) },
          h('span', { class: 'name', user: channelName(p.channel_id) }), h('span', { 'aria-hidden': 'true', text: ' \u2014 ' }),
          h('span', { t: 'composer.done.seriesCopies', tp: { n: Number(p.planned) || 0 } }),
          p.planned ? [': ', dateEl(p.first), Number(p.planned) > 1 ? [h('span', { text: ' \u2013 ' }), dateEl(p.last)] : null] : null);
      })),
      warningsBlock(Array.isArray(answer.violations) ? answer.violations : []),
      h('div', { class: 'form-actions' }, first ? calendarLink(first, 'composer.done.seriesCalendar') : null, anotherButton())
    ]);
    doneBox.setAttribute('data-post-id', String(post.id || ''));
    showDoneBox();
  }

  function showDoneBox() {
    doneBox.hidden = false;
    hideBlocked();
    window.scrollTo(0, 0);
    doneBox.focus();
  }

  // Ready for the next post: the text goes, the channels and the schedule stay (an edit
  // gives way to a new post).
  function resetForm() {
    leaveEdit();
    textArea.value = '';
    clearVariants();
    linkInput.value = '';
    campaignInput.value = '';
    media.reset();
    preview.reset();
    catSel.value = 'value';
    syncCategory();
    renderCounters();
    checkSeq++;
    if (checkTimer) { window.clearTimeout(checkTimer); checkTimer = null; }
    hideChecks();
    forgetPlan();
    updateSubmit();
    slotCache = {};
    refreshNextSlots();
  }

  function syncCategory() {
    setT(catAbout, 'category.about.' + catSel.value);
  }

  /* editing a post, copying one, a free slot from the calendar */

  function fillContent(post) {
    textArea.value = typeof post.text === 'string' ? post.text : '';
    linkInput.value = typeof post.link === 'string' ? post.link : '';
    campaignInput.value = typeof post.campaign === 'string' ? post.campaign : '';
    catSel.value = CATEGORIES.indexOf(post.category) >= 0 ? post.category : 'value';
    clearVariants();
    (Array.isArray(post.variants) ? post.variants : []).forEach(function (v) { if (typeof v === 'string') addVariant(v); });
    media.set(post.media); // P16: its images and their alt texts
    syncCategory();
    renderCounters();
  }

  // Why a post cannot change any more: published, failed, cancelled; null when it can.
  function lockReason(post) {
    var occ = occurrencesOf(post);
    if (occ.some(function (o) { return o.state === 'published' || o.state === 'publishing'; }) || post.state === 'published') return 'published';
    if (post.state === 'cancelled') return 'cancelled';
    if (post.state === 'failed') return 'failed';
    return null;
  }

  function noteLine(key, params, extra) {
    clear(modeNote);
    append(modeNote, [h('p', { class: 'mode-text' }, h('span', { t: key, tp: params || null }), extra || null),
      h('a', { href: '#/w/' + wid + '/composer', class: 'mode-new', testid: 'composer-new-post', t: 'composer.mode.new' })]);
    modeNote.hidden = false;
  }

  function startEdit(post, focusWhen) {
    var reason = lockReason(post);
    if (reason) { showLocked(post, reason); return; }
    mode = { kind: post.state === 'draft' ? 'draft' : 'scheduled', post: post };
    fillContent(post);
    form.setAttribute('data-mode', mode.kind);
    form.setAttribute('data-post-id', String(post.id));
    setTAttr(form, 'aria-label', mode.kind === 'draft' ? 'composer.formLabelDraft' : 'composer.formLabelEdit');
    if (mode.kind === 'draft') {
      noteLine('composer.mode.draft', null, [' ', dateEl(post.updated_at || post.created_at), '. ', h('span', { t: 'composer.mode.draftNext' })]);
      if (focusWhen) radios.next_slot.checked = true;
      else radios.draft.checked = true;
      scheduleChanged();
    } else {
      noteLine('composer.mode.scheduled');
      showPlaced(post);
      updateSubmit();
      renderCounters();
      variantRows.forEach(function (r) { renderVariantCounters(r); });
      scheduleCheck();
    }
    markCurrentDraft();
    if (focusWhen && mode.kind === 'draft') {
      whereCard.scrollIntoView({ block: 'start' });
      var box = channelPicks.querySelector('input');
      if (box) box.focus();
    } else {
      textArea.focus();
    }
  }

  // Where and when a scheduled post goes, which an edit leaves as it is.
  function showPlaced(post) {
    clear(placedCard);
    var occ = occurrencesOf(post);
    var shown = occ.length > PLACED_SHOWN + 1 ? occ.slice(0, PLACED_SHOWN) : occ; // a series has many
    append(placedCard, [
      h('h2', { class: 'composer-step', t: 'composer.step.where' }),
      h('ul', { class: 'placed-list', testid: 'composer-placed-list' }, shown.map(function (o) {
        return h('li', { testid: 'composer-placed-item', 'data-channel-id': String(o.channel_id) },
          h('span', { class: 'name', user: channelName(o.channel_id) }),
          h('span', { class: 'placed-when' }, dateEl(o.expected_at || o.planned_at), ' ', statePill(stateOf(o))));
      }), shown.length < occ.length ? h('li', { class: 'muted', t: 'composer.placed.more', tp: { n: occ.length - shown.length } }) : null),
      h('p', { class: 'hint', t: 'composer.placed.text' }),
      h('a', { href: '#/w/' + wid + '/calendar?post=' + Number(post.id), testid: 'composer-placed-calendar', t: 'composer.placed.calendar' })
    ]);
    whereCard.hidden = true;
    placedCard.hidden = false;
  }

  function leaveEdit() {
    mode = { kind: 'new', post: null };
    form.removeAttribute('data-mode');
    form.removeAttribute('data-post-id');
    setTAttr(form, 'aria-label', 'composer.formLabel');
    modeNote.hidden = true;
    clear(modeNote);
    placedCard.hidden = true;
    whereCard.hidden = false;
    markCurrentDraft();
    // The address no longer names the post.
    var bare = '#/w/' + wid + '/composer';
    if (location.hash !== bare) history.replaceState(null, '', bare);
  }

  // A post that cannot change: say why in plain words, and offer a copy to work from.
  function showLocked(post, reason) {
    clear(lockedBox);
    var occ = occurrencesOf(post);
    append(lockedBox, [
      h('h2', { id: 'locked-title', t: 'composer.locked.title.' + reason }),
      h('p', { t: 'composer.locked.text.' + reason }),
      h('blockquote', { class: 'locked-text', testid: 'composer-locked-text', user: excerpt(post.text, 280) }),
      h('div', { class: 'form-actions' },
        button('composer.locked.duplicate', { kind: 'primary', testid: 'composer-duplicate', onClick: function () {
          routeTo(wid, 'composer', { duplicate: post.id });
        } }),
        occ.length ? h('a', { class: 'btn btn-secondary', href: '#/w/' + wid + '/calendar?post=' + Number(post.id),
          testid: 'composer-locked-calendar', t: 'composer.locked.calendar' }) : null,
        h('a', { class: 'btn btn-secondary', href: '#/w/' + wid + '/composer', testid: 'composer-new-post', t: 'composer.mode.new' }))
    ]);
    lockedBox.setAttribute('data-reason', reason);
    lockedBox.hidden = false;
    form.hidden = true;
    lockedBox.focus();
  }

  // A save of the post being edited was refused because it changed meanwhile (409).
  function reloadEdited(err) {
    var id = mode.post.id;
    call('GET', postPath(id)).then(function (post) {
      if (!ctx.alive()) return;
      var reason = lockReason(post || {});
      if (reason) { mode = { kind: 'new', post: null }; hideBlocked(); showLocked(post, reason); return; }
      showSendError(err);
    }, function () { if (ctx.alive()) showSendError(err); });
  }

  function startDuplicate(post) {
    fillContent(post);
    var ids = [];
    occurrencesOf(post).forEach(function (o) {
      var ch = channelById[o.channel_id];
      if (ch && PUBLISHING_KINDS.indexOf(ch.kind) >= 0 && ids.indexOf(ch.id) < 0) ids.push(ch.id);
    });
    if (ids.length) setChosen(ids);
    noteLine('composer.mode.duplicate', { text: excerpt(post.text, 60) });
    channelsChanged();
    variantRows.forEach(function (r) { renderVariantCounters(r); });
    textArea.focus();
  }

  // ?at=TIME&channel=ID: a post for a free slot the calendar showed. URLSearchParams reads
  // a "+" left unencoded in the offset as a space; it is put back.
  function startSlot(at, channelId) {
    var when = at ? new Date(String(at).replace(/ /g, '+')) : null;
    var ch = channelById[Number(channelId)];
    if (ch && PUBLISHING_KINDS.indexOf(ch.kind) >= 0) setChosen([ch.id]);
    if (when && !isNaN(when.getTime())) {
      atDate.value = dayKey(when);
      atTime.value = ('0' + when.getHours()).slice(-2) + ':' + ('0' + when.getMinutes()).slice(-2);
      radios.at.checked = true;
      scheduleChanged();
      noteLine(ch ? 'composer.mode.slot' : 'composer.mode.slotAny', ch ? { channel: ch.name } : null, [' ', dateEl(when.toISOString())]);
    }
    channelsChanged();
    textArea.focus();
  }

  // Reads the post an address names (?edit, ?duplicate); an unknown one is said plainly.
  function withPost(id, then) {
    return call('GET', postPath(id)).then(function (post) {
      if (!ctx.alive()) return;
      then(post || {});
    }, function (err) {
      if (!ctx.alive() || err.handled) return;
      formMsg.error(err.status === 404 ? t('composer.err.notFound') : err.message);
    });
  }

  function applyParams(p) {
    var edit = Number(p.edit);
    var dup = Number(p.duplicate);
    if (edit > 0) withPost(edit, function (post) { startEdit(post, p.focus === 'when'); });
    else if (dup > 0) withPost(dup, startDuplicate);
    else if (p.at || p.channel) startSlot(p.at, p.channel);
  }

  /* the drafts panel: GET .../posts?state=draft, newest first */

  function loadDrafts() {
    var all = [];
    function page(cursor, left) {
      return call('GET', '/workspaces/' + wid + '/posts?state=draft&limit=200' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '')).then(function (data) {
        data = data || {};
        all = all.concat(Array.isArray(data.items) ? data.items : []);
        return data.next_cursor && left > 1 ? page(data.next_cursor, left - 1) : all;
      });
    }
    return page(null, DRAFT_PAGES).then(function (list) {
      if (!ctx.alive()) return;
      drafts = list.slice().sort(function (a, b) {
        return (Date.parse(b.updated_at) - Date.parse(a.updated_at)) || (b.id - a.id);
      });
      renderDrafts();
    }, function (err) {
      if (!ctx.alive() || err.handled) return;
      showError(formMsg, err);
    });
  }

  function renderDrafts() {
    clear(draftsList);
    draftsPanel.hidden = !drafts.length;
    draftsCount.textContent = String(drafts.length);
    var shown = showAllDrafts ? drafts : drafts.slice(0, DRAFTS_SHOWN);
    shown.forEach(function (d) { draftsList.appendChild(draftItem(d)); });
    draftsAll.hidden = shown.length >= drafts.length;
    setT(draftsAll, 'composer.drafts.all', { n: drafts.length });
    markCurrentDraft();
  }

  function draftItem(d) {
    var open = '#/w/' + wid + '/composer?edit=' + Number(d.id);
    var del = button('composer.drafts.delete', { kind: 'danger-quiet', small: true, testid: 'draft-delete', onClick: function () {
      confirmDialog('composer.drafts.deleteTitle', 'composer.drafts.deleteText', { text: excerpt(d.text, 60) }, 'composer.drafts.delete').then(function (ok) {
        if (!ok || !ctx.alive()) return;
        del.disabled = true;
        call('POST', postPath(d.id) + '/cancel').then(function () {
          if (!ctx.alive()) return;
          drafts = drafts.filter(function (x) { return x.id !== d.id; });
          if (mode.kind === 'draft' && mode.post.id === d.id) resetForm();
          renderDrafts();
          formMsg.notice(t('composer.drafts.deleted'));
        }, function (err) {
          del.disabled = false;
          if (ctx.alive()) showError(formMsg, err);
        });
      });
    } });
    return h('li', { class: 'draft', testid: 'draft-item', 'data-post-id': String(d.id) },
      h('p', { class: 'draft-text', testid: 'draft-text', user: excerpt(d.text, 160) }),
      h('p', { class: 'draft-meta' }, categoryChip(d.category), ' ',
        h('span', { t: 'composer.drafts.saved' }), ' ', dateEl(d.updated_at || d.created_at),
        Array.isArray(d.variants) && d.variants.length ? [' \u00b7 ', h('span', { t: 'composer.drafts.variants', tp: { n: d.variants.length } })] : null),
      h('div', { class: 'draft-actions' },
        h('span', { class: 'pill pill-muted draft-current', t: 'composer.drafts.current' }),
        h('a', { class: 'btn btn-secondary btn-small draft-go', href: open, testid: 'draft-open', t: 'composer.drafts.open' }),
        h('a', { class: 'btn btn-secondary btn-small draft-go', href: open + '&focus=when', testid: 'draft-schedule', t: 'composer.drafts.schedule' }),
        del));
  }

  // The draft being edited reads "Open in the form" instead of offering to open it.
  function markCurrentDraft() {
    var id = mode.kind === 'draft' ? mode.post.id : null;
    draftsList.querySelectorAll('[data-testid="draft-item"]').forEach(function (li) {
      li.classList.toggle('is-current', Number(li.getAttribute('data-post-id')) === id);
    });
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    clearErrors();
    hideBlocked();
    doneBox.hidden = true;
    if (!validate()) return;
    var req = formRequest();
    // A series is saved only once its plan is on screen for exactly what the form says.
    if (req.kind === 'series' && !(shownPlan && shownPlan.key === planKey(req.body))) {
      if (checkTimer) { window.clearTimeout(checkTimer); checkTimer = null; }
      runPlan(true);
      return;
    }
    send(req);
  });

  // Any change to the post: new counts, fresh checks, and an earlier block no longer applies.
  form.addEventListener('input', function (ev) {
    if (blocked.contains(ev.target)) return;
    hideBlocked();
    if (ev.target === textArea) { setFieldError(fText, null); renderCounters(); }
    if (ev.target === linkInput) setFieldError(fLink, null);
    if (seriesWrap.contains(ev.target)) clearSeriesErrors();
    scheduleCheck();
  });
  form.addEventListener('change', function (ev) {
    if (seriesWrap.contains(ev.target)) { clearSeriesErrors(); scheduleCheck(); }
  });
  catSel.addEventListener('change', function () { syncCategory(); });
  SCHEDULES.forEach(function (s) { radios[s].addEventListener('change', scheduleChanged); });
  SPANS.forEach(function (s) {
    spanInputs[s].addEventListener('focus', function () { if (!spanRadios[s].checked) { spanRadios[s].checked = true; scheduleCheck(); } });
  });
  [atDate, atTime].forEach(function (el) { el.addEventListener('change', function () { setScheduleError(null); scheduleCheck(); }); });
  onLanguage(ctx, function () { refreshNextSlots(); scheduleCheck(); });

  syncCategory();
  renumberVariants();
  scheduleChanged();
  renderCounters();
  loadDrafts();

  allChannels(wid).then(function (list) {
    if (!ctx.alive()) return;
    channels = list.filter(function (ch) { return PUBLISHING_KINDS.indexOf(ch.kind) >= 0; });
    channels.forEach(function (ch) { channelById[ch.id] = ch; });
    list.forEach(function (ch) { if (!channelById[ch.id]) channelById[ch.id] = ch; });
    renderChannelPicks();
    if (channels.length === 1) channelPicks.querySelector('input').checked = true;
    channelsChanged();
    applyParams(ctx.params || {});
  }, function (err) {
    if (!ctx.alive()) return;
    clear(channelPicks);
    showError(formMsg, err);
  });

  return page;
}
