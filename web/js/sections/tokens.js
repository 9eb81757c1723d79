/* samtale dashboard, section Settings > API tokens: the workspace's tokens for scripts and
 * other programs; an owner makes one with its scopes (its secret is shown once) or revokes
 * it. Scopes are shown by what they let a token do ("Read posts and the calendar"), in
 * groups; their names in the API (posts:read) stay visible, small, for developers.
 */

import { SCOPES, SCOPE_GROUPS } from '../core/state.js';
import { t, setT, dateEl } from '../core/lang.js';
import { h, setUserText, append, clear, field, setFieldError, messageBox, button, confirmDialog,
  pageHeader, roleNote, showError, emptyRow, tableHead, secretCopy } from '../core/dom.js';
import { call, pager } from '../core/api.js';

export function tokensView(ctx) {
  var wid = ctx.wid;
  if (ctx.role !== 'owner') {
    return h('section', { class: 'page', testid: 'section-tokens', 'aria-labelledby': 'page-title' },
      pageHeader('tokens.title', 'tokens.lead'), roleNote('tokens.ownerOnly'));
  }
  var base = '/workspaces/' + wid + '/tokens';
  var tokens = [];
  var listMsg = messageBox('tokens-message');
  var tbody = h('tbody', { testid: 'tokens-body' });
  var more = button('list.more', { testid: 'tokens-more' });
  var count = h('span', { class: 'count', testid: 'tokens-count' });
  var newBox = h('div', { class: 'secret-once', testid: 'token-created', hidden: true, role: 'status', 'aria-live': 'polite' });

  // A token's scopes in the list: by what they allow, the API's name as the tooltip; one
  // made with every scope ("*" is stored as all of them) says "Everything".
  function scopeChips(scopes) {
    var all = SCOPES.every(function (s) { return scopes.indexOf(s) >= 0; });
    if (all) return h('span', { class: 'scope', title: '*', 'data-scope': '*', t: 'scope.*' });
    return scopes.map(function (s) {
      var known = SCOPES.indexOf(s) >= 0;
      return h('span', { class: 'scope', title: s, 'data-scope': s, t: known ? 'scope.' + s : null, text: known ? null : s });
    });
  }

  function row(tk) {
    var revoked = !!tk.revoked_at;
    var scopes = Array.isArray(tk.scopes) ? tk.scopes : [];
    return h('tr', { testid: 'token-row', 'data-token-id': String(tk.id), class: revoked ? 'is-revoked' : null },
      h('td', { class: 'cell-name' }, h('span', { class: 'name', user: tk.name || '' })),
      h('td', null, h('code', { class: 'prefix', text: (tk.prefix || '') + '…' })),
      h('td', { class: 'cell-scopes', testid: 'token-scopes' }, scopeChips(scopes)),
      h('td', null, dateEl(tk.created_at, true)),
      h('td', null, tk.last_used_at ? dateEl(tk.last_used_at) : h('span', { class: 'muted', t: 'tokens.never' })),
      h('td', { testid: 'token-status' }, revoked
        ? h('span', { class: 'pill pill-muted' }, h('span', { t: 'tokens.revokedOn' }), ' ', dateEl(tk.revoked_at))
        : h('span', { class: 'pill pill-ok', t: 'tokens.active' })),
      h('td', { class: 'cell-actions' }, revoked ? null :
        h('button', { type: 'button', class: 'btn btn-danger-quiet btn-small', testid: 'token-revoke', t: 'tokens.revoke',
          on: { click: function () { revoke(tk); } } })));
  }

  function renderRows() {
    clear(tbody);
    if (!tokens.length) tbody.appendChild(emptyRow(7, 'tokens.empty'));
    tokens.forEach(function (tk) { tbody.appendChild(row(tk)); });
    setT(count, 'tokens.count', { n: tokens.length });
  }

  var list = pager(base, more, function (items, reset) {
    if (reset) tokens = [];
    tokens = tokens.concat(items);
    renderRows();
  }, function (err) { showError(listMsg, err); });

  var table = h('table', { class: 'table', testid: 'tokens-table' },
    h('caption', { class: 'visually-hidden', t: 'tokens.caption' }),
    tableHead(['tokens.col.name', 'tokens.col.prefix', 'tokens.col.scopes', 'tokens.col.created', 'tokens.col.lastUsed', 'tokens.col.status', null]),
    tbody);

  var formMsg = messageBox('token-form-error');
  var fName = field('tk-name', 'tokens.field.name', h('input', { type: 'text', autocomplete: 'off', maxlength: '100', testid: 'token-name' }), { hint: 'tokens.hint.name', testid: 'token-name' });
  var scopeErr = h('p', { id: 'tk-scopes-error', class: 'field-error', testid: 'token-scopes-error', hidden: true });
  var allBox = h('input', { type: 'checkbox', id: 'scope-all', value: '*', testid: 'scope-*' });
  var scopeBoxes = SCOPES.map(function (s) {
    return h('input', { type: 'checkbox', id: 'scope-' + s.replace(':', '-'), value: s, testid: 'scope-' + s });
  });
  function scopeLabel(box, s) {
    var about = box.id + '-about';
    box.setAttribute('aria-describedby', about);
    return h('label', { class: 'check scope-check', for: box.id, testid: 'scope-label', 'data-scope': s }, box,
      h('span', { class: 'scope-text' },
        h('span', { class: 'scope-name', t: 'scope.' + s }),
        h('span', { class: 'scope-about', id: about }, h('span', { t: 'scope.about.' + s }), ' ',
          h('code', { class: 'scope-code', text: s }))));
  }
  allBox.addEventListener('change', function () {
    scopeBoxes.forEach(function (b) { b.disabled = allBox.checked; });
  });
  var scopeSet = h('fieldset', { class: 'scopes', 'aria-describedby': 'tk-scopes-hint tk-scopes-error' },
    h('legend', { class: 'label', t: 'tokens.field.scopes' }),
    h('p', { id: 'tk-scopes-hint', class: 'hint scopes-hint', t: 'tokens.hint.scopes' }),
    h('div', { class: 'scope-all' }, scopeLabel(allBox, '*')),
    SCOPE_GROUPS.map(function (g) {
      return h('fieldset', { class: 'scope-group', testid: 'scope-group', 'data-group': g.id },
        h('legend', { class: 'scope-group-title', t: 'scope.group.' + g.id }),
        h('div', { class: 'scope-grid' }, g.scopes.map(function (s) { return scopeLabel(scopeBoxes[SCOPES.indexOf(s)], s); })));
    }),
    scopeErr);
  var submit = button('tokens.create', { type: 'submit', kind: 'primary', testid: 'token-submit' });
  var form = h('form', { class: 'form card', testid: 'token-form', novalidate: true, 'aria-labelledby': 'token-form-title' },
    h('h2', { id: 'token-form-title', t: 'tokens.createHeading' }),
    formMsg.el, fName.wrap, scopeSet,
    h('div', { class: 'form-actions' }, submit));

  function setScopeError(message) {
    setUserText(scopeErr, message || '');
    scopeErr.hidden = !message;
  }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    formMsg.clear();
    setFieldError(fName, null);
    setScopeError(null);
    var name = fName.control.value.trim();
    var scopes = allBox.checked ? ['*'] : scopeBoxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
    if (!name) { setFieldError(fName, t('tokens.err.name')); fName.control.focus(); return; }
    if (!scopes.length) { setScopeError(t('tokens.err.scopes')); allBox.focus(); return; }
    submit.disabled = true;
    call('POST', base, { name: name, scopes: scopes }).then(function (tk) {
      submit.disabled = false;
      if (!ctx.alive()) return;
      form.reset();
      scopeBoxes.forEach(function (b) { b.disabled = false; });
      showCreated(tk || {});
      return list.reload();
    }, function (err) {
      submit.disabled = false;
      if (err.handled) return;
      if (err.field === 'name') { setFieldError(fName, err.message); fName.control.focus(); }
      else if (err.field && String(err.field).indexOf('scopes') === 0) setScopeError(err.message);
      else formMsg.error(err.message);
    });
  });

  function showCreated(tk) {
    clear(newBox);
    append(newBox, [
      h('h2', { t: 'tokens.createdHeading', tp: { name: tk.name || '' } }),
      h('p', { t: 'tokens.createdText' }),
      secretCopy('token-value', tk.token || '', 'tokens.valueLabel'),
      h('p', { class: 'hint', t: 'tokens.createdUse' }),
      button('action.done', { testid: 'token-created-done', onClick: function () { newBox.hidden = true; clear(newBox); } })
    ]);
    newBox.hidden = false;
    newBox.scrollIntoView({ block: 'nearest' });
  }

  function revoke(tk) {
    confirmDialog('tokens.revokeTitle', 'tokens.revokeText', { name: tk.name }, 'tokens.revoke').then(function (ok) {
      if (!ok) return;
      call('DELETE', base + '/' + tk.id).then(function () {
        if (!ctx.alive()) return;
        newBox.hidden = true;
        clear(newBox);
        listMsg.noticeKey('tokens.revoked', { name: tk.name });
        return list.reload();
      }, function (err) { showError(listMsg, err); });
    });
  }

  tbody.appendChild(h('tr', { class: 'empty-row' }, h('td', { colspan: '7', t: 'list.loading' })));
  list.reload();

  return h('section', { class: 'page', testid: 'section-tokens', 'aria-labelledby': 'page-title' },
    pageHeader('tokens.title', 'tokens.lead'),
    newBox,
    h('div', { class: 'card' },
      h('div', { class: 'card-head' }, h('h2', { t: 'tokens.listHeading' }), count),
      listMsg.el, h('div', { class: 'table-wrap' }, table), h('div', { class: 'list-foot' }, more)),
    form);
}
