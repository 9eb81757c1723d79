/* samtale dashboard, section Settings > Channels: the workspace's channels.
 *
 * The list with each channel's kind, time zone, details and status; the form to add or edit
 * one (its kind's settings, SETTING_FIELDS; its secret; its time zone; a feed found from a
 * web page's address); a new secret for a channel to reconnect; removing one. A Mastodon
 * account connects through a trip to its instance (startMastodonConnect), and the outcome
 * shows here on return. A channel that publishes has a publishing panel (publishing.js:
 * pausing its queue, its posting times, its caps), opened from its row or by the address
 * #/w/W/settings/channels?publishing=ID (the composer links there).
 */

import { KINDS, STATUSES, state } from '../core/state.js';
import { t, setT, dateEl } from '../core/lang.js';
import { h, setUserText, userText, checkedUrl, isExternal, link, append, clear, field,
  setFieldError, messageBox, button, confirmDialog, pageHeader, roleNote, showError, emptyRow,
  tableHead } from '../core/dom.js';
import { ApiError, call, pager, workspace } from '../core/api.js';
import { setPendingConnect } from '../core/router.js';
import { kindChip, PUBLISHING_KINDS } from '../core/post_util.js';
import { publishingPanel } from './publishing.js';

// Settings the channel form asks for, by kind (other keys of a channel's settings are kept).
var KIND_SETTINGS = { file: ['path'], webhook: ['url'], feed: ['url'], bluesky: ['handle', 'service_url'], mastodon: ['instance_url'] };

// The settings fields of the channel form: the keys the server knows, how to ask for them.
var SETTING_FIELDS = [
  { key: 'handle', type: 'text', label: 'channels.field.handle', hint: 'channels.hint.handle', missing: 'channels.err.handle' },
  { key: 'instance_url', type: 'url', label: 'channels.field.instanceUrl', hint: 'channels.hint.instanceUrl', missing: 'channels.err.url', placeholder: 'https://', url: true },
  { key: 'url', type: 'url', label: 'channels.field.url', hint: 'channels.hint.url', missing: 'channels.err.url', placeholder: 'https://', url: true, wide: true,
    byKind: { feed: { label: 'channels.field.feedUrl', hint: 'channels.hint.feedUrl' } } },
  // A file channel's path is relative to the server's files folder (src/core/channel.c refuses
  // an absolute one and ".."), so the example is a bare file name.
  { key: 'path', type: 'text', label: 'channels.field.path', hint: 'channels.hint.path', missing: 'channels.err.path', placeholderKey: 'channels.placeholder.path' },
  { key: 'service_url', type: 'url', label: 'channels.field.serviceUrl', hint: 'channels.hint.serviceUrl', placeholder: 'https://bsky.social', url: true, optional: true, wide: true }
];

// Starts connecting a Mastodon account (a new channel, or body.channel_id again): the
// server registers samtale at the instance and answers where to log in; the browser goes
// there. Rejects with the ApiError when the server refuses.
function startMastodonConnect(wid, body) {
  return call('POST', '/workspaces/' + wid + '/channels/connect/mastodon', body).then(function (res) {
    var url = checkedUrl(res && res.authorize_url);
    if (!url || !isExternal(url)) throw new ApiError(0, 'bad_answer', t('error.unknown'));
    var p = { wid: wid, at: Date.now() };
    Object.keys(body).forEach(function (k) { p[k] = body[k]; });
    setPendingConnect(p);
    window.location.assign(url);
  });
}

function kindSettingsOf(kind) { return KIND_SETTINGS[kind] || []; }

// The settings worth showing in the list: addresses, paths, handles (each one a person typed).
function channelDetail(ch) {
  var st = ch.settings || {};
  var parts = [];
  ['url', 'path', 'handle', 'acct', 'instance_url', 'instance', 'server', 'service_url'].forEach(function (k) {
    if (typeof st[k] === 'string' && st[k]) parts.push(k === 'handle' || k === 'acct' ? '@' + st[k].replace(/^@/, '') : st[k]);
  });
  return parts;
}

function channelStatusPill(ch) {
  var st = ch.status || 'active';
  var known = STATUSES.indexOf(st) >= 0;
  return [h('span', { class: 'pill ' + (st === 'active' ? 'pill-ok' : st === 'reconnect' ? 'pill-danger' : 'pill-warn'),
    testid: 'channel-status', 'data-status': st, t: known ? 'status.' + st : null, user: known ? null : st }),
    // A paused queue is a member's choice beside the status (the network may be fine).
    ch.paused ? [' ', h('span', { class: 'pill pill-warn', testid: 'channel-paused', t: 'status.paused' })] : null];
}

// "Where do I get an app password?": Bluesky's own page for them.
function appPasswordHelp() {
  return h('p', { class: 'hint' }, link('https://bsky.app/settings/app-passwords', { testid: 'app-password-link', t: 'channels.appPasswordLink' }));
}

export function channelsView(ctx) {
  var wid = ctx.wid;
  var canWrite = ctx.role === 'owner' || ctx.role === 'editor';
  var base = '/workspaces/' + wid + '/channels';
  var channels = [];
  var listMsg = messageBox('channels-message');
  var connectBox = h('div', { class: 'connect-result', testid: 'connect-result', tabindex: '-1', hidden: true });

  var tbody = h('tbody', { testid: 'channels-body' });
  var table = h('table', { class: 'table', testid: 'channels-table', 'aria-labelledby': 'channels-caption' },
    h('caption', { id: 'channels-caption', class: 'visually-hidden', t: 'channels.caption' }),
    tableHead(['channels.col.name', 'channels.col.kind', 'channels.col.timezone', 'channels.col.details',
      'channels.col.secret', 'channels.col.status', 'channels.col.created'].concat(canWrite ? [null] : [])),
    tbody);
  var more = button('list.more', { testid: 'channels-more' });
  var cols = canWrite ? 8 : 7;

  function row(ch) {
    var reconnect = ch.status === 'reconnect';
    var publishes = PUBLISHING_KINDS.indexOf(ch.kind) >= 0;
    return h('tr', { testid: 'channel-row', 'data-channel-id': String(ch.id), 'data-status': ch.status || 'active',
      'data-paused': ch.paused ? 'true' : 'false', class: reconnect ? 'needs-reconnect' : null },
      h('td', { class: 'cell-name' }, h('span', { class: 'name', testid: 'channel-name', user: ch.name })),
      h('td', null, kindChip(ch.kind)),
      h('td', null, userText(ch.timezone || '')),
      h('td', { class: 'cell-detail', title: channelDetail(ch).join(' \u00b7 ') || null },
        channelDetail(ch).map(function (part, i) { return [i ? ' \u00b7 ' : null, userText(part)]; })),
      h('td', null, ch.has_secret ? h('span', { class: 'pill pill-ok', t: 'channels.secretStored' }) : h('span', { class: 'muted', t: 'channels.secretNone' })),
      h('td', null, channelStatusPill(ch)),
      h('td', null, dateEl(ch.created_at, true)),
      canWrite ? h('td', { class: 'cell-actions' }, h('div', { class: 'row-actions' },
        publishes ? h('button', { type: 'button', class: 'btn btn-secondary btn-small', testid: 'channel-publishing',
          'aria-expanded': openPanel && openPanel.id === ch.id ? 'true' : 'false',
          on: { click: function () { openPublishing(ch); } } },
          h('span', { t: 'channels.pub.open' }), h('span', { class: 'visually-hidden' }, ' ', userText(ch.name))) : null,
        h('button', { type: 'button', class: 'btn btn-secondary btn-small', testid: 'channel-edit',
          on: { click: function () { startEdit(ch); } } },
          h('span', { t: 'action.edit' }), h('span', { class: 'visually-hidden' }, ' ', userText(ch.name))),
        h('button', { type: 'button', class: 'btn btn-danger-quiet btn-small', testid: 'channel-remove',
          on: { click: function () { removeChannel(ch); } } },
          h('span', { t: 'action.remove' }), h('span', { class: 'visually-hidden' }, ' ', userText(ch.name))))) : null);
  }

  // Below a channel that needs reconnecting: why, that nothing is lost, and the way back.
  function warningRow(ch) {
    var msg = messageBox('reconnect-message');
    var slot = h('div', { class: 'reconnect-slot' });
    var action = canWrite ? button('channels.reconnect.action', { kind: 'primary', small: true, testid: 'channel-reconnect' }) : null;
    if (action) action.addEventListener('click', function () { reconnect(ch, slot, msg, action); });
    return h('tr', { class: 'row-warning', testid: 'channel-warning', 'data-channel-id': String(ch.id) },
      h('td', { colspan: String(cols) },
        h('div', { class: 'channel-warning', role: 'group', 'aria-labelledby': 'ch-warn-' + ch.id },
          h('p', { class: 'channel-warning-title', id: 'ch-warn-' + ch.id, t: 'channels.reconnect.title', tp: { name: ch.name } }),
          h('p', { class: 'channel-warning-message', testid: 'channel-warning-message',
            user: ch.status_message || null, t: ch.status_message ? null : 'channels.reconnect.noMessage' }),
          h('p', { class: 'channel-warning-waiting', t: 'channels.reconnect.waiting' }),
          msg.el,
          action ? h('div', { class: 'form-actions' }, action) : h('p', { class: 'hint', t: 'banner.askOwner' }),
          slot)));
  }

  // Reconnecting: a new app password for Bluesky, a new trip to the instance for
  // Mastodon, the edit form for anything else.
  function reconnect(ch, slot, msg, action) {
    msg.clear();
    var st = ch.settings || {};
    if (ch.kind === 'mastodon' && typeof st.instance_url === 'string' && st.instance_url) {
      action.disabled = true;
      startMastodonConnect(wid, { instance_url: st.instance_url, channel_id: ch.id }).catch(function (err) {
        action.disabled = false;
        showError(msg, err);
      });
      return;
    }
    if (ch.kind !== 'bluesky') { startEdit(ch); return; }
    if (slot.firstChild) { slot.querySelector('input').focus(); return; }
    var input = h('input', { type: 'password', autocomplete: 'new-password', testid: 'reconnect-secret' });
    var f = field('rc-secret-' + ch.id, 'channels.field.appPassword', input, { hint: 'channels.hint.appPassword', testid: 'reconnect-secret' });
    f.wrap.insertBefore(appPasswordHelp(), f.err);
    var submitBtn = button('channels.reconnect.submit', { type: 'submit', kind: 'primary', small: true, testid: 'reconnect-submit' });
    var cancelBtn = button('action.cancel', { small: true, testid: 'reconnect-cancel', onClick: function () {
      clear(slot);
      action.hidden = false;
      action.focus();
    } });
    var form = h('form', { class: 'reconnect-form', testid: 'reconnect-form', novalidate: true },
      h('p', { t: 'channels.reconnect.bluesky', tp: { handle: String(st.handle || '').replace(/^@/, '') } }),
      f.wrap, h('div', { class: 'form-actions' }, submitBtn, cancelBtn));
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      msg.clear();
      setFieldError(f, null);
      if (!input.value) { setFieldError(f, t('channels.err.appPassword')); input.focus(); return; }
      submitBtn.disabled = true;
      call('PATCH', base + '/' + ch.id, { secret: input.value }).then(function (updated) {
        submitBtn.disabled = false;
        if (!ctx.alive()) return;
        listMsg.noticeKey(updated && updated.status === 'reconnect' ? 'channels.saved' : 'channels.reconnected', { name: (updated && updated.name) || ch.name });
        return list.reload();
      }, function (err) {
        submitBtn.disabled = false;
        if (err.handled) return;
        setFieldError(f, err.message);
        input.focus();
      });
    });
    action.hidden = true;
    slot.appendChild(form);
    input.focus();
  }

  function renderRows() {
    clear(tbody);
    if (!channels.length) tbody.appendChild(emptyRow(cols, canWrite ? 'channels.empty' : 'channels.emptyReadOnly'));
    channels.forEach(function (ch) {
      tbody.appendChild(row(ch));
      if (ch.status === 'reconnect') tbody.appendChild(warningRow(ch));
    });
    count.textContent = '';
    setT(count, 'channels.count', { n: channels.length });
  }

  var count = h('span', { class: 'count', testid: 'channels-count' });
  var wantPanel = ctx.params && /^\d+$/.test(ctx.params.publishing || '') ? Number(ctx.params.publishing) : null;
  var list = pager(base, more, function (items, reset) {
    if (reset) channels = [];
    channels = channels.concat(items);
    renderRows();
    if (wantPanel && canWrite) {
      var asked = channels.filter(function (c) { return c.id === wantPanel; })[0];
      if (asked && PUBLISHING_KINDS.indexOf(asked.kind) >= 0) { wantPanel = null; openPublishing(asked); }
    }
  }, function (err) { showError(listMsg, err); });

  /* the publishing panel of one channel (publishing.js), below the list */
  var panelSlot = h('div', { class: 'pub-slot', testid: 'publishing-slot' });
  var openPanel = null;

  function syncPanelButtons() {
    tbody.querySelectorAll('[data-testid="channel-publishing"]').forEach(function (b) {
      var id = Number(b.closest('tr').getAttribute('data-channel-id'));
      b.setAttribute('aria-expanded', String(!!openPanel && openPanel.id === id));
    });
  }

  // Opens ch's panel (after asking, when another one has unsaved posting times).
  function openPublishing(ch) {
    if (openPanel && openPanel.id === ch.id) { openPanel.el.scrollIntoView({ block: 'start' }); openPanel.focus(); return; }
    var before = openPanel ? openPanel.close() : Promise.resolve(true);
    before.then(function (ok) {
      if (!ok || !ctx.alive()) return;
      mountPanel(ch);
      openPanel.el.scrollIntoView({ block: 'start' });
      openPanel.focus();
    });
  }


  // Shows ch's panel below the list (openPanel).
  function mountPanel(ch) {
    openPanel = publishingPanel(ctx, ch, {
      base: base,
      wid: wid,
      onChanged: function (up) {
        channels = channels.map(function (c) { return c.id === up.id ? up : c; });
        renderRows();
      },
      onClose: function (id) {
        if (openPanel && openPanel.id === id) openPanel = null;
        syncPanelButtons();
        var back = tbody.querySelector('tr[data-channel-id="' + id + '"] [data-testid="channel-publishing"]');
        if (back) back.focus();
      }
    });
    panelSlot.appendChild(openPanel.el);
    syncPanelButtons();
  }


  var page = h('section', { class: 'page', testid: 'section-channels', 'aria-labelledby': 'page-title' },
    pageHeader('channels.title', 'channels.lead'),
    connectBox,
    h('div', { class: 'card' },
      h('div', { class: 'card-head' }, h('h2', { t: 'channels.listHeading' }), count),
      listMsg.el,
      h('div', { class: 'table-wrap' }, table),
      h('div', { class: 'list-foot' }, more)),
    panelSlot,
    canWrite ? null : roleNote('channels.readOnly'));

  tbody.appendChild(h('tr', { class: 'empty-row' }, h('td', { colspan: String(cols), t: 'list.loading' })));
  list.reload();

  /* back from a Mastodon instance: what happened, and a way to try again */
  function showConnectResult(ret) {
    var pending = ret.pending;
    clear(connectBox);
    connectBox.hidden = false;
    var done = button('action.done', { small: true, testid: 'connect-result-done', onClick: function () {
      connectBox.hidden = true;
      clear(connectBox);
    } });
    if (ret.connected) {
      setPendingConnect(null);
      connectBox.className = 'connect-result connect-ok';
      connectBox.setAttribute('role', 'status');
      var title = h('p', { class: 'connect-result-title', testid: 'connect-result-title', t: 'connect.ok', tp: { name: '#' + ret.connected } });
      append(connectBox, [title,
        h('p', { t: pending && pending.channel_id ? 'connect.okReconnected' : 'connect.okNew' }),
        h('div', { class: 'form-actions' }, done)]);
      call('GET', base + '/' + ret.connected).then(function (ch) {
        if (!ctx.alive() || !ch) return;
        var acct = ch.settings && typeof ch.settings.acct === 'string' ? '@' + ch.settings.acct : '';
        setT(title, acct ? 'connect.okAccount' : 'connect.ok', { name: ch.name, account: acct });
      }, function () { /* the generic text stays */ });
      return;
    }
    connectBox.className = 'connect-result connect-failed';
    connectBox.setAttribute('role', 'alert');
    var code = ret.error === 'denied' || ret.error === 'incomplete' ? ret.error : null;
    var retryMsg = messageBox('connect-retry-message');
    var retry = canWrite ? button('connect.retry', { kind: 'primary', small: true, testid: 'connect-retry' }) : null;
    if (retry) retry.addEventListener('click', function () {
      retryMsg.clear();
      if (!pending) {
        connectBox.hidden = true;
        resetForm();
        kindSel.value = 'mastodon';
        syncKind();
        form.scrollIntoView({ block: 'start' });
        fName.control.focus();
        return;
      }
      var body = {};
      ['instance_url', 'name', 'timezone', 'channel_id'].forEach(function (k) {
        if (pending[k] !== undefined && pending[k] !== null && pending[k] !== '') body[k] = pending[k];
      });
      retry.disabled = true;
      startMastodonConnect(wid, body).catch(function (err) {
        retry.disabled = false;
        showError(retryMsg, err);
      });
    });
    append(connectBox, [
      h('p', { class: 'connect-result-title', t: 'connect.failedTitle' }),
      h('p', { class: 'connect-result-reason', testid: 'connect-result-reason',
        t: code ? 'connect.' + code : 'connect.failed', tp: code ? null : { message: ret.error } }),
      h('p', { class: 'hint', t: pending && pending.instance_url ? 'connect.retryHint' : 'connect.retryHintForm',
        tp: pending ? { instance: String(pending.instance_url || '') } : null }),
      retryMsg.el,
      h('div', { class: 'form-actions' }, retry, done)]);
  }

  var ret = state.connectReturn;
  state.connectReturn = null;

  if (!canWrite) {
    if (ret) showConnectResult(ret);
    return page;
  }

  /* the add / edit form */
  var formMsg = messageBox('channel-form-error');
  var editing = null;
  var lastBody = null;        // what the form sent last, for "save without checking"
  var found = null;           // the feed found for the address typed: { input, feed_url, title }
  var kindSel = h('select', { name: 'kind', testid: 'channel-kind' },
    KINDS.map(function (k) { return h('option', { value: k, t: 'kind.long.' + k }); }));
  kindSel.value = 'bluesky';
  var fKind = field('ch-kind', 'channels.field.kind', kindSel, { testid: 'channel-kind' });
  var fKindHint = h('p', { class: 'hint kind-hint', testid: 'channel-kind-hint' });
  fKind.wrap.insertBefore(fKindHint, fKind.err);
  var fName = field('ch-name', 'channels.field.name', h('input', { type: 'text', name: 'name', maxlength: '100', autocomplete: 'off', testid: 'channel-name-input' }), { testid: 'channel-name' });
  var tzList = h('datalist', { id: 'tz-list' });
  var fTz = field('ch-timezone', 'channels.field.timezone', h('input', { type: 'text', name: 'timezone', list: 'tz-list', autocomplete: 'off', spellcheck: 'false', testid: 'channel-timezone' }), { hint: 'channels.hint.timezone', testid: 'channel-timezone' });
  var settingFields = {};
  SETTING_FIELDS.forEach(function (sf) {
    var tid = 'channel-setting-' + sf.key.replace('_', '-');
    var f = field('ch-setting-' + sf.key, sf.label, h('input', { type: sf.type, name: sf.key, autocomplete: 'off', spellcheck: 'false',
      placeholder: sf.placeholder || null, attrs: sf.placeholderKey ? { placeholder: sf.placeholderKey } : null, testid: tid }),
      { hint: sf.hint, testid: tid, wide: !!sf.wide, optional: sf.optional });
    f.spec = sf;
    settingFields[sf.key] = f;
  });
  var fSecret = field('ch-secret', 'channels.field.secret', h('input', { type: 'password', name: 'secret', autocomplete: 'new-password', testid: 'channel-secret' }), { hint: 'channels.hint.secret', optional: true, testid: 'channel-secret', wide: true });
  var secretOptional = fSecret.wrap.querySelector('.optional');
  var secretHelp = appPasswordHelp();
  fSecret.wrap.insertBefore(secretHelp, fSecret.err);
  var clearSecret = h('input', { type: 'checkbox', id: 'ch-secret-clear', testid: 'channel-secret-clear' });
  var clearSecretWrap = h('label', { class: 'check', for: 'ch-secret-clear', hidden: true }, clearSecret, h('span', { t: 'channels.secretRemove' }));
  fSecret.wrap.insertBefore(clearSecretWrap, fSecret.err);

  /* Mastodon: through the instance (OAuth), or with an access token made there */
  var tokenBox = h('input', { type: 'checkbox', id: 'ch-masto-token', testid: 'channel-mastodon-token' });
  var mastoIntro = h('div', { class: 'field field-wide connect-explain', testid: 'channel-mastodon-explain' },
    h('p', { t: 'channels.mastodon.explain' }),
    h('label', { class: 'check', for: 'ch-masto-token' }, tokenBox, h('span', { t: 'channels.mastodon.useToken' })));

  /* feeds: the address may be the site's; "Find feed" shows which feed it has */
  var findBtn = button('channels.feed.find', { small: true, testid: 'channel-feed-find' });
  var foundBox = h('div', { class: 'feed-found', testid: 'channel-feed-found', hidden: true, role: 'status', 'aria-live': 'polite' });
  var fUrl = settingFields.url;
  var urlRow = h('div', { class: 'input-row' });
  fUrl.wrap.insertBefore(urlRow, fUrl.control);
  urlRow.appendChild(fUrl.control);
  urlRow.appendChild(findBtn);
  fUrl.wrap.insertBefore(foundBox, fUrl.err);

  /* the network could not be asked: offer to save without checking */
  var uncheckedText = h('p', { testid: 'channel-unchecked-message' });
  var uncheckedBtn = button('channels.saveUnchecked', { testid: 'channel-save-unchecked' });
  var uncheckedBox = h('div', { class: 'unchecked-offer', testid: 'channel-unchecked', role: 'alert', hidden: true },
    uncheckedText, h('p', { class: 'hint', t: 'channels.saveUncheckedHint' }), h('div', { class: 'form-actions' }, uncheckedBtn));

  var formTitle = h('h2', { id: 'channel-form-title', testid: 'channel-form-title', t: 'channels.addHeading' });
  var submit = button('channels.add', { type: 'submit', kind: 'primary', testid: 'channel-submit' });
  var cancel = button('action.cancel', { testid: 'channel-cancel', onClick: stopEdit });
  cancel.hidden = true;
  var form = h('form', { class: 'form card', testid: 'channel-form', novalidate: true, 'aria-labelledby': 'channel-form-title' },
    formTitle, formMsg.el,
    h('div', { class: 'grid' }, fKind.wrap, fName.wrap, fTz.wrap,
      SETTING_FIELDS.filter(function (sf) { return !sf.optional; }).map(function (sf) { return settingFields[sf.key].wrap; }),
      mastoIntro, fSecret.wrap,
      SETTING_FIELDS.filter(function (sf) { return sf.optional; }).map(function (sf) { return settingFields[sf.key].wrap; })),
    tzList,
    uncheckedBox,
    h('div', { class: 'form-actions' }, submit, cancel));
  page.insertBefore(form, panelSlot.nextSibling);

  var fieldsByName = { kind: fKind, name: fName, timezone: fTz, secret: fSecret };
  Object.keys(settingFields).forEach(function (k) { fieldsByName[k] = settingFields[k]; });

  function currentKind() { return editing ? editing.kind : kindSel.value; }

  // A new Mastodon channel connects through the instance unless the person has a token.
  function viaInstance() { return !editing && kindSel.value === 'mastodon' && !tokenBox.checked; }

  // The settings fields the current kind asks for, in form order.
  function wantedFields() {
    var wanted = kindSettingsOf(currentKind());
    return SETTING_FIELDS.filter(function (sf) { return wanted.indexOf(sf.key) >= 0; })
      .map(function (sf) { return settingFields[sf.key]; });
  }

  function syncKind() {
    var kind = currentKind();
    var wanted = kindSettingsOf(kind);
    SETTING_FIELDS.forEach(function (sf) {
      var f = settingFields[sf.key];
      var variant = (sf.byKind && sf.byKind[kind]) || {};
      f.wrap.hidden = wanted.indexOf(sf.key) < 0;
      setT(f.wrap.querySelector('label span'), variant.label || sf.label);
      setT(f.hint, variant.hint || sf.hint);
    });
    setT(fKindHint, 'kind.hint.' + kind);
    findBtn.hidden = kind !== 'feed';
    if (kind !== 'feed') { found = null; foundBox.hidden = true; }
    mastoIntro.hidden = kind !== 'mastodon' || !!editing;
    // The secret: an app password, an access token, or a signing key.
    var secretLabel = 'channels.field.secret';
    var secretHint = editing && editing.has_secret ? 'channels.hint.secretKeep' : 'channels.hint.secret';
    var required = false;
    if (kind === 'bluesky') {
      secretLabel = 'channels.field.appPassword';
      if (!editing) { secretHint = 'channels.hint.appPassword'; required = true; }
    } else if (kind === 'mastodon') {
      secretLabel = 'channels.field.accessToken';
      if (!editing) { secretHint = 'channels.hint.accessToken'; required = true; }
    }
    setT(fSecret.wrap.querySelector('label span'), secretLabel);
    setT(fSecret.hint, secretHint);
    secretOptional.hidden = required;
    secretHelp.hidden = kind !== 'bluesky';
    fSecret.wrap.hidden = viaInstance();
    setT(submit, submitKey());
    uncheckedBox.hidden = true;
  }
  kindSel.addEventListener('change', syncKind);
  tokenBox.addEventListener('change', syncKind);

  function submitKey() {
    if (editing) return 'action.save';
    if (kindSel.value === 'bluesky') return 'channels.submit.bluesky';
    if (kindSel.value === 'mastodon') return tokenBox.checked ? 'channels.add' : 'channels.submit.mastodon';
    if (kindSel.value === 'feed') return 'channels.submit.feed';
    return 'channels.add';
  }

  function defaultTimezone() {
    var ws = state.workspaces[wid];
    if (ws && ws.timezone) return ws.timezone;
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch (e) { return 'UTC'; }
  }

  function clearFieldErrors() {
    Object.keys(fieldsByName).forEach(function (k) { setFieldError(fieldsByName[k], null); });
  }

  function resetForm() {
    editing = null;
    form.reset();
    kindSel.disabled = false;
    kindSel.value = 'bluesky';
    fTz.control.value = defaultTimezone();
    clearSecretWrap.hidden = true;
    setT(formTitle, 'channels.addHeading');
    cancel.hidden = true;
    found = null;
    foundBox.hidden = true;
    lastBody = null;
    clearFieldErrors();
    syncKind();
  }

  function startEdit(ch) {
    resetForm();
    editing = ch;
    kindSel.value = ch.kind;
    kindSel.disabled = true;
    fName.control.value = ch.name || '';
    fTz.control.value = ch.timezone || '';
    var st = ch.settings || {};
    SETTING_FIELDS.forEach(function (sf) {
      settingFields[sf.key].control.value = typeof st[sf.key] === 'string' ? st[sf.key] : '';
    });
    clearSecretWrap.hidden = !ch.has_secret;
    setT(formTitle, 'channels.editHeading', { name: ch.name });
    cancel.hidden = false;
    formMsg.clear();
    syncKind();
    form.scrollIntoView({ block: 'start' });
    fName.control.focus();
  }

  function stopEdit() { resetForm(); formMsg.clear(); }

  function validate() {
    var ok = true;
    var first = null;
    function fail(f, key) { setFieldError(f, t(key)); ok = false; if (!first) first = f; }
    if (!fName.control.value.trim()) fail(fName, 'channels.err.name');
    if (!fTz.control.value.trim()) fail(fTz, 'channels.err.timezone');
    wantedFields().forEach(function (f) {
      var v = f.control.value.trim();
      if (!v && !f.spec.optional) fail(f, f.spec.key === 'url' && currentKind() === 'feed' ? 'channels.err.feedUrl' : f.spec.missing);
      else if (v && f.spec.url && !/^https?:\/\/\S+$/i.test(v)) fail(f, 'channels.err.urlFormat');
    });
    if (!editing && !fSecret.wrap.hidden && !fSecret.control.value) {
      if (kindSel.value === 'bluesky') fail(fSecret, 'channels.err.appPassword');
      else if (kindSel.value === 'mastodon') fail(fSecret, 'channels.err.accessToken');
    }
    if (first) first.control.focus();
    return ok;
  }

  function payload() {
    var kind = currentKind();
    var body = { name: fName.control.value.trim(), timezone: fTz.control.value.trim() };
    var settings = {};
    if (editing && editing.settings && typeof editing.settings === 'object') {
      Object.keys(editing.settings).forEach(function (k) { settings[k] = editing.settings[k]; });
    }
    var wanted = wantedFields();
    wanted.forEach(function (f) {
      var v = f.control.value.trim();
      if (v || !f.spec.optional) settings[f.spec.key] = v;
      else delete settings[f.spec.key];
    });
    if (kind === 'feed') {
      var typed = settings.url;
      var before = editing && editing.settings ? editing.settings.url : null;
      if (found && found.input === typed) {
        settings.url = found.feed_url;
        if (found.title) settings.title = found.title;
      } else if (typed !== before) {
        body.discover = true; // the server finds the feed on the page, or checks the feed
      }
    }
    if (!editing || wanted.length) body.settings = settings;
    var secret = fSecret.wrap.hidden ? '' : fSecret.control.value;
    if (editing && clearSecret.checked) body.secret = null;
    else if (secret) body.secret = secret;
    if (!editing) body.kind = kind;
    return body;
  }

  /* "Find feed" */

  function findFeed() {
    setFieldError(fUrl, null);
    var v = fUrl.control.value.trim();
    if (!v) { setFieldError(fUrl, t('channels.err.feedUrl')); fUrl.control.focus(); return; }
    if (!/^https?:\/\/\S+$/i.test(v)) { setFieldError(fUrl, t('channels.err.urlFormat')); fUrl.control.focus(); return; }
    found = null;
    clear(foundBox);
    foundBox.className = 'feed-found is-looking';
    foundBox.appendChild(h('p', { t: 'channels.feed.looking' }));
    foundBox.hidden = false;
    findBtn.disabled = true;
    call('POST', base + '/discover', { url: v }).then(function (res) {
      findBtn.disabled = false;
      if (!ctx.alive()) return;
      res = res || {};
      found = { input: v, feed_url: String(res.feed_url || v), title: typeof res.title === 'string' && res.title ? res.title : null };
      clear(foundBox);
      foundBox.className = 'feed-found';
      append(foundBox, [
        h('p', { class: 'feed-found-title' }, h('span', { t: 'channels.feed.found' }), ' ',
          found.title ? h('strong', { testid: 'channel-feed-title', user: found.title }) : h('span', { class: 'muted', t: 'channels.feed.noTitle' })),
        h('p', { class: 'feed-found-url' }, h('code', { testid: 'channel-feed-url', user: found.feed_url })),
        h('p', { class: 'hint', t: found.feed_url === v ? 'channels.feed.isFeed' : 'channels.feed.foundHint' })
      ]);
      if (!fName.control.value.trim() && found.title) fName.control.value = Array.from(found.title).slice(0, 100).join('');
    }, function (err) {
      findBtn.disabled = false;
      foundBox.hidden = true;
      clear(foundBox);
      if (err.handled || !ctx.alive()) return;
      setFieldError(fUrl, err.message);
      fUrl.control.focus();
    });
  }
  findBtn.addEventListener('click', findFeed);
  fUrl.control.addEventListener('input', function () {
    if (found && fUrl.control.value.trim() !== found.input) { found = null; foundBox.hidden = true; clear(foundBox); }
  });
  // Enter in the address field of a feed finds the feed first.
  fUrl.control.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter' && currentKind() === 'feed' && !found) { ev.preventDefault(); findFeed(); }
  });

  /* saving */

  function saved(ch, body, wasEditing) {
    if (!ctx.alive()) return;
    resetForm();
    var st = (ch && ch.settings) || {};
    var name = (ch && ch.name) || body.name;
    if (wasEditing) listMsg.noticeKey('channels.saved', { name: name });
    // Its panel shows the new name and time zone (unless it holds unsaved posting times).
    if (wasEditing && ch && openPanel && openPanel.id === ch.id && !openPanel.dirty()) {
      openPanel.el.remove();
      mountPanel(ch);
    }
    else if (ch && ch.kind === 'bluesky' && ch.has_secret && st.handle) listMsg.noticeKey('channels.connectedBluesky', { name: name, handle: String(st.handle).replace(/^@/, '') });
    else if (ch && ch.kind === 'feed' && st.url) listMsg.noticeKey('channels.addedFeed', { name: name, url: st.url });
    else listMsg.noticeKey('channels.added', { name: name });
    return list.reload();
  }

  function showSaveError(err) {
    if (err.handled) return;
    // The network could not be asked: say so, and offer to save without asking.
    if (err.status === 502 && lastBody) {
      setUserText(uncheckedText, err.message);
      uncheckedBox.hidden = false;
      uncheckedBtn.focus();
      return;
    }
    // A settings error names its key as "settings.url" in the field or the message.
    var key = err.field ? String(err.field).replace(/^settings\./, '') : null;
    if (key === 'settings') {
      var m = /settings\.([a-z_]+)/.exec(err.message || '');
      var shown = wantedFields().filter(function (f) { return !f.spec.optional; });
      key = m ? m[1] : (shown.length === 1 ? shown[0].spec.key : key);
    }
    var f = key ? fieldsByName[key] : null;
    if (f && f.wrap.hidden) f = null;
    if (f) {
      setFieldError(f, err.message);
      if (!f.control.disabled) f.control.focus();
    } else {
      formMsg.error(err.message);
    }
  }

  function send(body) {
    var wasEditing = editing;
    lastBody = body;
    submit.disabled = true;
    uncheckedBtn.disabled = true;
    var req = wasEditing ? call('PATCH', base + '/' + wasEditing.id, body) : call('POST', base, body);
    req.then(function (ch) {
      submit.disabled = false;
      uncheckedBtn.disabled = false;
      return saved(ch, body, wasEditing);
    }, function (err) {
      submit.disabled = false;
      uncheckedBtn.disabled = false;
      showSaveError(err);
    });
  }

  uncheckedBtn.addEventListener('click', function () {
    if (!lastBody) return;
    var body = {};
    Object.keys(lastBody).forEach(function (k) { if (k !== 'discover') body[k] = lastBody[k]; });
    body.verify = false;
    formMsg.clear();
    clearFieldErrors();
    uncheckedBox.hidden = true;
    send(body);
  });

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    formMsg.clear();
    uncheckedBox.hidden = true;
    clearFieldErrors();
    if (!validate()) return;
    if (viaInstance()) {
      var body = { instance_url: settingFields.instance_url.control.value.trim(), name: fName.control.value.trim(),
        timezone: fTz.control.value.trim() };
      submit.disabled = true;
      startMastodonConnect(wid, body).catch(function (err) {
        submit.disabled = false;
        if (err.handled) return;
        var f = { instance_url: settingFields.instance_url, name: fName, timezone: fTz }[err.field] || (err.status === 502 ? settingFields.instance_url : null);
        if (f) { setFieldError(f, err.message); f.control.focus(); } else formMsg.error(err.message);
      });
      return;
    }
    send(payload());
  });

  function removeChannel(ch) {
    confirmDialog('channels.removeTitle', 'channels.removeText', { name: ch.name }, 'action.remove').then(function (ok) {
      if (!ok) return;
      call('DELETE', base + '/' + ch.id).then(function () {
        if (!ctx.alive()) return;
        if (editing && editing.id === ch.id) resetForm();
        if (openPanel && openPanel.id === ch.id) { openPanel.el.remove(); openPanel = null; }
        listMsg.noticeKey('channels.removed', { name: ch.name });
        return list.reload();
      }, function (err) { showError(listMsg, err); });
    });
  }

  // Time zone suggestions and the workspace's default zone.
  var zones = [];
  try { zones = Intl.supportedValuesOf('timeZone'); } catch (e) { zones = []; }
  zones.forEach(function (z) { tzList.appendChild(h('option', { value: z })); });
  resetForm();
  var tzAtStart = fTz.control.value;
  workspace(wid).then(function () {
    if (ctx.alive() && !editing && fTz.control.value === tzAtStart) fTz.control.value = defaultTimezone();
  }, function () { /* keep the browser's zone */ });

  if (ret) showConnectResult(ret);
  return page;
}
