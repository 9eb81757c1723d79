/* samtale dashboard, section Settings > Members: who works in the workspace and in which
 * role (an owner changes roles, invites by a link, removes members), the invitations
 * waiting to be accepted, the workspace's rule that owners and editors log in with a
 * second factor, and whose posts need approval (the card of sections/approvals.js).
 */

import * as I from '../i18n.js';
import { ROLES, state } from '../core/state.js';
import { t, setT, dateEl } from '../core/lang.js';
import { h, userText, append, clear, field, setFieldError, messageBox, button, confirmDialog,
  pageHeader, roleNote, showError, emptyRow, tableHead, secretCopy } from '../core/dom.js';
import { call, pager, workspace, refreshMe } from '../core/api.js';
import { approvalSettingCard } from './approvals.js';

function roleSelect(id, value, testid) {
  var sel = h('select', { id: id, testid: testid }, ROLES.map(function (r) { return h('option', { value: r, t: 'role.' + r }); }));
  sel.value = value;
  return sel;
}

export function membersView(ctx) {
  var wid = ctx.wid;
  var canWrite = ctx.role === 'owner';
  var base = '/workspaces/' + wid + '/members';
  var members = [];
  var listMsg = messageBox('members-message');
  var tbody = h('tbody', { testid: 'members-body' });
  var cols = canWrite ? 5 : 4;
  var more = button('list.more', { testid: 'members-more' });
  var count = h('span', { class: 'count', testid: 'members-count' });

  function row(m) {
    var isMe = state.me && Number(m.user_id) === Number(state.me.user.id);
    var roleCell;
    if (canWrite) {
      var sel = roleSelect('role-' + m.user_id, m.role, 'member-role');
      sel.addEventListener('change', function () {
        var prev = m.role;
        sel.disabled = true;
        call('PATCH', base + '/' + m.user_id, { role: sel.value }).then(function (updated) {
          sel.disabled = false;
          m.role = (updated && updated.role) || sel.value;
          listMsg.noticeKey('members.roleChanged', { name: m.name || m.email, role: t('role.' + m.role) });
          if (isMe) refreshMe();
        }, function (err) {
          sel.disabled = false;
          sel.value = prev;
          showError(listMsg, err);
        });
      });
      roleCell = [h('label', { for: sel.id, class: 'visually-hidden', t: 'members.roleFor', tp: { name: m.name || m.email } }), sel];
    } else {
      roleCell = h('span', { class: 'role-badge', t: ROLES.indexOf(m.role) >= 0 ? 'role.' + m.role : null, user: ROLES.indexOf(m.role) >= 0 ? null : m.role });
    }
    return h('tr', { testid: 'member-row', 'data-user-id': String(m.user_id) },
      h('td', { class: 'cell-name' }, h('span', { class: 'name', testid: 'member-name', user: m.name || '' }),
        isMe ? h('span', { class: 'you', t: 'members.you' }) : null),
      h('td', { testid: 'member-email' }, userText(m.email || '')),
      h('td', null, roleCell),
      h('td', null, dateEl(m.created_at, true)),
      canWrite ? h('td', { class: 'cell-actions' },
        h('button', { type: 'button', class: 'btn btn-danger-quiet btn-small', testid: 'member-remove', t: 'action.remove',
          on: { click: function () { removeMember(m); } } })) : null);
  }

  function renderRows() {
    clear(tbody);
    if (!members.length) tbody.appendChild(emptyRow(cols, 'members.empty'));
    members.forEach(function (m) { tbody.appendChild(row(m)); });
    setT(count, 'members.count', { n: members.length });
  }

  var list = pager(base, more, function (items, reset) {
    if (reset) members = [];
    members = members.concat(items);
    renderRows();
  }, function (err) { showError(listMsg, err); });

  var table = h('table', { class: 'table', testid: 'members-table' },
    h('caption', { class: 'visually-hidden', t: 'members.caption' }),
    tableHead(['members.col.name', 'members.col.email', 'members.col.role', 'members.col.since'].concat(canWrite ? [null] : [])),
    tbody);

  var page = h('section', { class: 'page', testid: 'section-members', 'aria-labelledby': 'page-title' },
    pageHeader('members.title', 'members.lead'),
    h('div', { class: 'card' },
      h('div', { class: 'card-head' }, h('h2', { t: 'members.listHeading' }), count),
      listMsg.el, h('div', { class: 'table-wrap' }, table), h('div', { class: 'list-foot' }, more)),
    canWrite ? null : roleNote('members.readOnly'),
    h('div', { class: 'card roles-help' }, h('h2', { t: 'members.rolesHeading' }),
      h('dl', { class: 'roles' }, ROLES.map(function (r) {
        return [h('dt', { t: 'role.' + r }), h('dd', { t: 'role.about.' + r })];
      }))));

  tbody.appendChild(h('tr', { class: 'empty-row' }, h('td', { colspan: String(cols), t: 'list.loading' })));
  list.reload();

  function removeMember(m) {
    confirmDialog('members.removeTitle', 'members.removeText', { name: m.name || m.email }, 'action.remove').then(function (ok) {
      if (!ok) return;
      call('DELETE', base + '/' + m.user_id).then(function () {
        if (!ctx.alive()) return;
        listMsg.noticeKey('members.removed', { name: m.name || m.email });
        if (state.me && Number(m.user_id) === Number(state.me.user.id)) { refreshMe(); return; }
        return list.reload();
      }, function (err) { showError(listMsg, err); });
    });
  }

  var membersCard = page.children[1];
  var invites = invitationsCard(ctx, canWrite);
  page.insertBefore(invites.el, membersCard.nextSibling);
  if (!canWrite) return page;

  page.insertBefore(workspaceSecurityCard(ctx), invites.el.nextSibling);
  page.insertBefore(approvalSettingCard(ctx), invites.el.nextSibling.nextSibling); // approval (P12)
  var formMsg = messageBox('member-form-error');
  var fEmail = field('m-email', 'members.field.email', h('input', { type: 'email', autocomplete: 'off', spellcheck: 'false', maxlength: '254', testid: 'member-email-input' }), { testid: 'member-email' });
  var fName = field('m-name', 'members.field.name', h('input', { type: 'text', autocomplete: 'off', maxlength: '100', testid: 'member-name-input' }), { optional: true, testid: 'member-name' });
  var fRole = field('m-role', 'members.field.role', roleSelect('m-role', 'editor', 'member-role-input'), { testid: 'member-role' });
  var langSel = h('select', { testid: 'member-language-input' }, I.LANGS.map(function (l) {
    return h('option', { value: l.code, text: l.name, selected: l.code === state.lang });
  }));
  var fLang = field('m-lang', 'members.field.language', langSel, { testid: 'member-language', hint: 'members.languageHint' });
  var submit = button('members.invite', { type: 'submit', kind: 'primary', testid: 'member-submit' });
  var form = h('form', { class: 'form card', testid: 'member-form', novalidate: true, 'aria-labelledby': 'member-form-title' },
    h('h2', { id: 'member-form-title', t: 'members.inviteHeading' }),
    h('p', { class: 'hint', t: 'members.inviteHint' }),
    formMsg.el,
    h('div', { class: 'grid' }, fEmail.wrap, fName.wrap, fRole.wrap, fLang.wrap),
    h('div', { class: 'form-actions' }, submit));
  page.insertBefore(form, membersCard);
  var fields = { email: fEmail, name: fName, role: fRole, language: fLang };

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    formMsg.clear();
    Object.keys(fields).forEach(function (k) { setFieldError(fields[k], null); });
    var email = fEmail.control.value.trim();
    if (!email || email.indexOf('@') < 1) { setFieldError(fEmail, t('members.err.email')); fEmail.control.focus(); return; }
    var body = { email: email, role: fRole.control.value, language: langSel.value };
    var name = fName.control.value.trim();
    if (name) body.name = name;
    submit.disabled = true;
    call('POST', '/workspaces/' + wid + '/invitations', body).then(function (inv) {
      submit.disabled = false;
      if (!ctx.alive()) return;
      form.reset();
      fRole.control.value = 'editor';
      langSel.value = state.lang;
      invites.shown(inv);
      invites.reload();
    }, function (err) {
      submit.disabled = false;
      if (err.handled) return;
      var f = err.field ? fields[err.field] : null;
      if (f) { setFieldError(f, err.message); f.control.focus(); } else formMsg.error(err.message);
    });
  });

  return page;
}

// Invitations waiting to be accepted; an owner can renew (a new link) or withdraw them.
function invitationsCard(ctx, canWrite) {
  var base = '/workspaces/' + ctx.wid + '/invitations';
  var msg = messageBox('invitations-message');
  var linkBox = h('div', { class: 'secret-once', testid: 'invite-link', hidden: true, role: 'status', 'aria-live': 'polite' });
  var tbody = h('tbody', { testid: 'invitations-body' });
  var more = button('list.more', { testid: 'invitations-more' });
  var items = [];
  var cols = canWrite ? 5 : 4;
  var el = h('div', { class: 'card', testid: 'invitations' },
    h('div', { class: 'card-head' }, h('h2', { t: 'invites.heading' })),
    linkBox, msg.el,
    h('div', { class: 'table-wrap' }, h('table', { class: 'table', testid: 'invitations-table' },
      h('caption', { class: 'visually-hidden', t: 'invites.heading' }),
      tableHead(['members.col.email', 'members.col.role', 'invites.col.state', 'invites.col.expires'].concat(canWrite ? [null] : [])),
      tbody)),
    h('div', { class: 'list-foot' }, more));

  function shown(inv) {
    clear(linkBox);
    var done = button('action.done', { testid: 'invite-link-done', onClick: function () { linkBox.hidden = true; clear(linkBox); } });
    if (inv.link) {
      linkBox.className = 'secret-once';
      append(linkBox, [
        h('h3', { t: 'invites.linkHeading', tp: { email: inv.email } }),
        h('p', { t: 'invites.linkText', tp: { email: inv.email } }),
        secretCopy('invite-link-value', inv.link, 'invites.linkLabel'),
        h('p', { class: 'hint', t: 'invites.linkOnce' }), done]);
    } else {
      linkBox.className = 'secret-once secret-once-plain';
      append(linkBox, [h('p', { testid: 'invite-mailed', t: 'invites.mailed', tp: { email: inv.email } }), done]);
    }
    linkBox.hidden = false;
    linkBox.scrollIntoView({ block: 'nearest' });
  }

  function row(inv) {
    var expired = inv.state === 'expired';
    return h('tr', { testid: 'invitation-row', 'data-id': String(inv.id) },
      h('td', null, userText(inv.email)),
      h('td', null, h('span', { class: 'role-badge', t: 'role.' + inv.role })),
      h('td', null, h('span', { class: 'pill' + (expired ? ' pill-warn' : ''), testid: 'invitation-state', t: 'invites.state.' + inv.state })),
      h('td', null, dateEl(inv.expires_at, true)),
      canWrite ? h('td', { class: 'cell-actions' },
        h('button', { type: 'button', class: 'btn btn-secondary btn-small', testid: 'invitation-renew', t: expired ? 'invites.renewExpired' : 'invites.renew',
          on: { click: function () {
            call('POST', base + '/' + inv.id + '/renew').then(function (res) { shown(res); list.reload(); },
              function (err) { if (!err.handled) showError(msg, err); });
          } } }), ' ',
        h('button', { type: 'button', class: 'btn btn-danger-quiet btn-small', testid: 'invitation-withdraw', t: 'invites.withdraw',
          on: { click: function () {
            confirmDialog('invites.withdrawTitle', 'invites.withdrawText', { email: inv.email }, 'invites.withdraw').then(function (ok) {
              if (!ok) return;
              call('DELETE', base + '/' + inv.id).then(function () { msg.noticeKey('invites.withdrawn', { email: inv.email }); list.reload(); },
                function (err) { if (!err.handled) showError(msg, err); });
            });
          } } })) : null);
  }

  var list = pager(base, more, function (page, reset) {
    if (reset) items = [];
    items = items.concat(page);
    clear(tbody);
    if (!items.length) tbody.appendChild(emptyRow(cols, 'invites.empty'));
    items.forEach(function (inv) { tbody.appendChild(row(inv)); });
  }, function (err) { showError(msg, err); });
  list.reload();
  return { el: el, shown: shown, reload: function () { return list.reload(); } };
}

// The workspace's rule: owners and editors must log in with a second factor.
function workspaceSecurityCard(ctx) {
  var msg = messageBox('workspace-security-message');
  var box = h('input', { type: 'checkbox', id: 'ws-require-2fa', testid: 'workspace-require-2fa' });
  var card = h('div', { class: 'card', testid: 'workspace-security' },
    h('h2', { t: 'wsec.heading' }),
    h('p', { class: 'hint', t: 'wsec.text' }),
    msg.el,
    h('p', { class: 'check-row' }, box, ' ', h('label', { for: 'ws-require-2fa', t: 'wsec.require' })));
  workspace(ctx.wid).then(function (w) { box.checked = !!w.require_second_factor; }, function () { /* reported elsewhere */ });
  box.addEventListener('change', function () {
    var want = box.checked;
    box.disabled = true;
    msg.clear();
    call('PATCH', '/workspaces/' + ctx.wid, { require_second_factor: want }).then(function (w) {
      box.disabled = false;
      box.checked = !!w.require_second_factor;
      if (state.workspaces) state.workspaces[ctx.wid] = null;
      msg.noticeKey(want ? 'wsec.on' : 'wsec.off');
      refreshMe();
    }, function (err) {
      box.disabled = false;
      box.checked = !want;
      if (err.handled) return;
      if (err.field === 'require_second_factor') {
        msg.errorKey('wsec.needOwn');
        append(msg.el, [' ', h('a', { href: '#/w/' + ctx.wid + '/settings/account', testid: 'wsec-account-link', t: 'wsec.toAccount' })]);
      } else msg.error(err.message);
    });
  });
  return card;
}
