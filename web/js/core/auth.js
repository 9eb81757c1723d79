/* samtale dashboard: the pages before the app: login, the second step of a login, the
 * required password change, an invitation link, and the page of an account without a
 * workspace; and logging out. Each page replaces the whole #app (authPage) and ends in
 * render() once the person is in.
 */

import * as I from '../i18n.js';
import { DEFAULT_SECTION, state } from './state.js';
import { t, setT, langSelect } from './lang.js';
import { h, setUserText, append, clear, brand, field, setFieldError, messageBox, button } from './dom.js';
import { request } from './api.js';
import { parseRoute, render } from './router.js';
import { destroyShell } from './shell.js';

function authPage(app, testid, content) {
  clear(app);
  app.className = 'auth-screen';
  app.appendChild(h('div', { class: 'auth-wrap', testid: testid + '-page' },
    h('div', { class: 'auth-top' }, langSelect('lang-switch-auth')),
    h('main', { class: 'auth-card', id: 'main' },
      h('div', { class: 'auth-brand' }, brand()),
      h('p', { class: 'tagline', t: 'app.tagline' }),
      content)));
}

export function showLogin(app) {
  if (location.hash !== '#/login') {
    if (!state.afterLogin && parseRoute(location.hash)) state.afterLogin = location.hash;
    history.replaceState(null, '', '#/login');
  }
  var msg = messageBox('login-error');
  var email = field('login-email', 'login.email', h('input', { type: 'email', name: 'email', autocomplete: 'username', testid: 'login-email', spellcheck: 'false', required: true }));
  var password = field('login-password', 'login.password', h('input', { type: 'password', name: 'password', autocomplete: 'current-password', testid: 'login-password', required: true }));
  var submit = button('login.submit', { type: 'submit', kind: 'primary', testid: 'login-submit' });
  submit.classList.add('btn-block');
  var form = h('form', { class: 'form', testid: 'login-form', novalidate: true, 'aria-labelledby': 'login-heading' },
    h('h1', { id: 'login-heading', class: 'auth-heading', t: 'login.heading' }),
    msg.el, email.wrap, password.wrap, submit);
  authPage(app, 'login', form);
  document.title = t('app.title');

  if (state.loginNotice) { msg.noticeKey(state.loginNotice); state.loginNotice = null; }

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    msg.clear();
    setFieldError(email, null);
    setFieldError(password, null);
    var e = email.control.value.trim();
    var p = password.control.value;
    if (!e) { setFieldError(email, t('login.emailRequired')); email.control.focus(); return; }
    if (!p) { setFieldError(password, t('login.passwordRequired')); password.control.focus(); return; }
    submit.disabled = true;
    request('POST', '/auth/login', { email: e, password: p }).then(function (res) {
      state.oneTimePassword = res.password_change_required ? p : null;
      return loggedIn(res);
    }).catch(function (err) {
      submit.disabled = false;
      if (err.status === 401 && err.code === 'second_factor_required' && err.detail.challenge) {
        showSecondFactor(app, err.detail.challenge);
      } else if (err.status === 429) {
        var secs = retrySeconds(err.retryAfter);
        msg.errorKey(secs ? 'login.rateLimited' : 'login.rateLimitedNoWait', secs ? { wait: waitText(secs) } : null);
        if (secs) {
          submit.disabled = true;
          window.setTimeout(function () { submit.disabled = false; }, secs * 1000);
        }
      } else if (err.status === 401) {
        msg.errorKey('login.invalid');
        password.control.value = '';
        password.control.focus();
      } else {
        msg.error(err.message);
      }
    });
  });
  email.control.focus();
}

// After a login (or an accepted invitation): who am I, then the page asked for.
function loggedIn(res) {
  state.csrf = res.csrf_token || null;
  return request('GET', '/me').then(function (me) {
    state.me = me;
    if (me.csrf_token) state.csrf = me.csrf_token;
    if (res.password_change_required) state.me.password_change_required = true;
    state.workspaces = {};
    render();
  });
}

// The second step of a login: the code from the authenticator app, or a recovery code.
function showSecondFactor(app, challenge) {
  var useRecovery = false;
  var msg = messageBox('second-factor-error');
  var code = field('sf-code', 'second.code', h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '11', spellcheck: 'false', testid: 'second-factor-code' }), { hint: 'second.codeHint', testid: 'second-factor-code' });
  var recovery = field('sf-recovery', 'second.recovery', h('input', { type: 'text', autocomplete: 'off', maxlength: '40', spellcheck: 'false', testid: 'second-factor-recovery' }), { hint: 'second.recoveryHint', testid: 'second-factor-recovery' });
  recovery.wrap.hidden = true;
  var submit = button('second.submit', { type: 'submit', kind: 'primary', testid: 'second-factor-submit' });
  submit.classList.add('btn-block');
  var toggle = button('second.useRecovery', { kind: 'link', testid: 'second-factor-toggle', onClick: function () {
    useRecovery = !useRecovery;
    code.wrap.hidden = useRecovery;
    recovery.wrap.hidden = !useRecovery;
    setT(toggle, useRecovery ? 'second.useCode' : 'second.useRecovery');
    (useRecovery ? recovery : code).control.focus();
  } });
  var back = button('second.back', { kind: 'link', testid: 'second-factor-back', onClick: function () { showLogin(app); } });
  var form = h('form', { class: 'form', testid: 'second-factor-form', novalidate: true, 'aria-labelledby': 'sf-heading' },
    h('h1', { id: 'sf-heading', class: 'auth-heading', t: 'second.heading' }),
    h('p', { class: 'hint', t: 'second.intro' }),
    msg.el, code.wrap, recovery.wrap, submit,
    h('p', { class: 'auth-aside' }, toggle, ' ', back));
  authPage(app, 'second-factor', form);
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    msg.clear();
    setFieldError(code, null);
    setFieldError(recovery, null);
    var f = useRecovery ? recovery : code;
    var v = f.control.value.trim();
    if (!v) { setFieldError(f, t(useRecovery ? 'second.recoveryRequired' : 'second.codeRequired')); f.control.focus(); return; }
    var body = { challenge: challenge };
    body[useRecovery ? 'recovery_code' : 'code'] = v;
    submit.disabled = true;
    request('POST', '/auth/second-factor', body).then(loggedIn).catch(function (err) {
      submit.disabled = false;
      if (err.status === 401 && err.code === 'invalid_code') {
        msg.errorKey(useRecovery ? 'second.recoveryWrong' : 'second.wrong');
        if (err.detail.tries_left === 0) { state.loginNotice = 'second.tooManyTries'; showLogin(app); return; }
        f.control.value = '';
        f.control.focus();
      } else if (err.status === 401) {
        state.loginNotice = 'second.expired';
        showLogin(app);
      } else if (err.status === 429) {
        var secs = retrySeconds(err.retryAfter);
        msg.errorKey(secs ? 'second.rateLimited' : 'login.rateLimitedNoWait', secs ? { wait: waitText(secs) } : null);
      } else {
        msg.error(err.message);
      }
    });
  });
  code.control.focus();
}

export function retrySeconds(value) {
  if (!value) return 0;
  if (/^\d+$/.test(value.trim())) return Math.max(1, parseInt(value, 10));
  var when = Date.parse(value);
  if (isNaN(when)) return 0;
  return Math.max(1, Math.ceil((when - Date.now()) / 1000));
}

export function waitText(secs) {
  var rtf;
  try { rtf = new Intl.RelativeTimeFormat(I.locale(state.lang), { numeric: 'always' }); } catch (e) { rtf = null; }
  var n = secs < 60 ? secs : Math.ceil(secs / 60);
  var unit = secs < 60 ? 'second' : 'minute';
  return rtf ? rtf.format(n, unit) : n + ' ' + unit + 's';
}

export function showPasswordChange(app) {
  history.replaceState(null, '', '#/password');
  var msg = messageBox('password-error');
  var needCurrent = !state.oneTimePassword;
  var current = needCurrent ? field('pw-current', 'password.current', h('input', { type: 'password', autocomplete: 'current-password', testid: 'password-current' }), { hint: 'password.currentHint', testid: 'password-current' }) : null;
  var next = field('pw-new', 'password.new', h('input', { type: 'password', autocomplete: 'new-password', minlength: '10', maxlength: '256', testid: 'password-new' }), { hint: 'password.rule', testid: 'password-new' });
  var repeat = field('pw-repeat', 'password.repeat', h('input', { type: 'password', autocomplete: 'new-password', testid: 'password-repeat' }), { testid: 'password-repeat' });
  var submit = button('password.submit', { type: 'submit', kind: 'primary', testid: 'password-submit' });
  submit.classList.add('btn-block');
  var logout = button('header.logout', { kind: 'link', testid: 'password-logout', onClick: logOut });
  var form = h('form', { class: 'form', testid: 'password-form', novalidate: true, 'aria-labelledby': 'pw-heading' },
    h('h1', { id: 'pw-heading', class: 'auth-heading', t: 'password.heading' }),
    h('p', { class: 'hint', t: 'password.intro' }),
    msg.el, current ? current.wrap : null, next.wrap, repeat.wrap, submit,
    h('p', { class: 'auth-aside' }, logout));
  authPage(app, 'password', form);

  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    msg.clear();
    [current, next, repeat].forEach(function (f) { if (f) setFieldError(f, null); });
    var cur = needCurrent ? current.control.value : state.oneTimePassword;
    var pw = next.control.value;
    if (needCurrent && !cur) { setFieldError(current, t('password.currentRequired')); current.control.focus(); return; }
    if (pw.length < 10) { setFieldError(next, t('password.tooShort')); next.control.focus(); return; }
    if (pw.length > 256) { setFieldError(next, t('password.tooLong')); next.control.focus(); return; }
    if (pw !== repeat.control.value) { setFieldError(repeat, t('password.mismatch')); repeat.control.focus(); return; }
    submit.disabled = true;
    request('POST', '/me/password', { current_password: cur, new_password: pw }).then(function () {
      state.oneTimePassword = null;
      return request('GET', '/me');
    }).then(function (me) {
      state.me = me;
      if (me.csrf_token) state.csrf = me.csrf_token;
      state.me.password_change_required = false;
      render();
    }).catch(function (err) {
      submit.disabled = false;
      if (err.status === 401 && err.code !== 'invalid_credentials') {
        state.me = null; state.csrf = null; state.loginNotice = 'login.sessionEnded'; render(); return;
      }
      var target = err.field === 'new_password' ? next : (err.field === 'current_password' && current ? current : null);
      if (target) { setFieldError(target, err.message); target.control.focus(); }
      else msg.error(err.message);
    });
  });
  (current ? current.control : next.control).focus();
}

export var INVITE_ROUTE = /^#\/invite\/(inv_[A-Za-z0-9_-]{20,59})$/;

// The page an invitation link opens: make your account, or join with the one you have.
export function showInvitation(app, secret) {
  var msg = messageBox('invite-message');
  var body = h('div', { testid: 'invite-body' }, h('p', { t: 'list.loading' }));
  authPage(app, 'invite', h('div', null, h('h1', { id: 'invite-heading', class: 'auth-heading', t: 'invite.heading' }), msg.el, body));
  document.title = t('invite.heading') + ' \u2014 ' + t('app.title');
  request('GET', '/invitations/' + secret).then(function (inv) {
    clear(body);
    setT(document.getElementById('invite-heading'), 'invite.headingFor', { workspace: inv.workspace_name });
    append(body, h('p', { testid: 'invite-summary', t: inv.inviter_name ? 'invite.summary' : 'invite.summaryNoInviter',
      tp: { inviter: inv.inviter_name, email: inv.email, role: t('role.' + inv.role) } }));
    if (inv.state !== 'pending') {
      msg.errorKey('invite.state.' + inv.state);
      append(body, h('p', { class: 'auth-aside' }, h('a', { href: '#/login', testid: 'invite-login-link', t: 'invite.toLogin',
        on: { click: function () { history.replaceState(null, '', '#/login'); render(); } } })));
      return;
    }
    if (state.me) { joinAsMe(inv); return; }
    newAccountForm(inv);
  }, function (err) {
    clear(body);
    if (err.status === 404) msg.errorKey('invite.notFound'); else msg.error(err.message);
    append(body, h('p', { class: 'auth-aside' }, h('a', { href: '#/login', t: 'invite.toLogin',
      on: { click: function () { history.replaceState(null, '', '#/login'); render(); } } })));
  });

  function goToWorkspace(wid) {
    history.replaceState(null, '', '#/w/' + wid + '/' + DEFAULT_SECTION);
    render();
  }

  function joinAsMe(inv) {
    // ASCII letters only, as the server compares (toLowerCase would turn Ø into ø).
    var mine = (state.me.user.email || '').replace(/[A-Z]/g, function (c) { return c.toLowerCase(); }) === inv.email;
    if (!mine) {
      append(body, [
        h('p', { testid: 'invite-other-account', t: 'invite.otherAccount', tp: { me: state.me.user.email, email: inv.email } }),
        h('p', { class: 'auth-aside' }, button('header.logout', { kind: 'secondary', testid: 'invite-logout', onClick: function () {
          request('POST', '/auth/logout').then(null, function () { return null; }).then(function () {
            state.me = null; state.csrf = null; state.workspaces = {};
            showInvitation(app, secret);
          });
        } }))
      ]);
      return;
    }
    var join = button('invite.join', { kind: 'primary', testid: 'invite-join', tp: { workspace: inv.workspace_name }, onClick: function () {
      join.disabled = true;
      request('POST', '/invitations/' + secret + '/join').then(function (res) {
        return request('GET', '/me').then(function (me) {
          state.me = me;
          if (me.csrf_token) state.csrf = me.csrf_token;
          state.workspaces = {};
          goToWorkspace(res.workspace_id);
        });
      }).catch(function (err) { join.disabled = false; msg.error(err.message); });
    } });
    join.classList.add('btn-block');
    append(body, [h('p', { t: 'invite.joinAs', tp: { email: state.me.user.email } }), join]);
  }

  function newAccountForm(inv) {
    var name = field('inv-name', 'invite.name', h('input', { type: 'text', autocomplete: 'name', maxlength: '100', value: inv.name || '', testid: 'invite-name' }), { testid: 'invite-name' });
    var pw = field('inv-pw', 'password.new', h('input', { type: 'password', autocomplete: 'new-password', minlength: '10', maxlength: '256', testid: 'invite-password' }), { hint: 'password.rule', testid: 'invite-password' });
    var repeat = field('inv-repeat', 'password.repeat', h('input', { type: 'password', autocomplete: 'new-password', testid: 'invite-repeat' }), { testid: 'invite-repeat' });
    var submit = button('invite.create', { type: 'submit', kind: 'primary', testid: 'invite-submit' });
    submit.classList.add('btn-block');
    var have = h('p', { class: 'auth-aside' }, h('span', { t: 'invite.haveAccount' }), ' ',
      button('invite.logInFirst', { kind: 'link', testid: 'invite-login', onClick: function () {
        state.afterLogin = '#/invite/' + secret;
        history.replaceState(null, '', '#/login');
        showLogin(app);
      } }));
    var form = h('form', { class: 'form', testid: 'invite-form', novalidate: true },
      h('input', { type: 'email', autocomplete: 'username', value: inv.email, hidden: true, readOnly: true }),
      name.wrap, pw.wrap, repeat.wrap, submit, have);
    append(body, form);
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      msg.clear();
      [name, pw, repeat].forEach(function (f) { setFieldError(f, null); });
      var p = pw.control.value;
      if (p.length < 10) { setFieldError(pw, t('password.tooShort')); pw.control.focus(); return; }
      if (p.length > 256) { setFieldError(pw, t('password.tooLong')); pw.control.focus(); return; }
      if (p !== repeat.control.value) { setFieldError(repeat, t('password.mismatch')); repeat.control.focus(); return; }
      var b = { password: p };
      if (name.control.value.trim()) b.name = name.control.value.trim();
      submit.disabled = true;
      request('POST', '/invitations/' + secret + '/accept', b).then(function (res) {
        state.csrf = res.csrf_token || null;
        return request('GET', '/me').then(function (me) {
          state.me = me;
          if (me.csrf_token) state.csrf = me.csrf_token;
          state.workspaces = {};
          goToWorkspace(res.workspace_id);
        });
      }).catch(function (err) {
        submit.disabled = false;
        if (err.code === 'account_exists') {
          msg.errorKey('invite.accountExists', { email: inv.email });
          form.hidden = true;
          append(body, h('p', { class: 'auth-aside' }, button('invite.logInFirst', { kind: 'primary', testid: 'invite-login-existing', onClick: function () {
            state.afterLogin = '#/invite/' + secret;
            history.replaceState(null, '', '#/login');
            showLogin(app);
          } })));
        } else if (err.field === 'name') { setFieldError(name, err.message); name.control.focus(); }
        else if (err.field === 'password') { setFieldError(pw, err.message); pw.control.focus(); }
        else msg.error(err.message);
      });
    });
    (inv.name ? pw : name).control.focus();
  }
}

export function showNoWorkspace(app) {
  var content = h('div', { testid: 'no-workspace' },
    h('h1', { class: 'auth-heading', t: 'noWorkspace.heading' }),
    h('p', { t: 'noWorkspace.text' }),
    h('p', { class: 'auth-aside' }, button('header.logout', { kind: 'secondary', testid: 'logout', onClick: logOut })));
  authPage(app, 'no-workspace', content);
}

export function logOut() {
  var done = function () {
    state.me = null;
    state.csrf = null;
    state.oneTimePassword = null;
    state.afterLogin = null;
    state.workspaces = {};
    state.loginNotice = 'login.loggedOut';
    destroyShell();
    history.replaceState(null, '', '#/login');
    render();
  };
  request('POST', '/auth/logout').then(done, function (err) {
    if (err.status === 401) { done(); return; }
    var box = document.querySelector('[data-testid="page-message"]');
    if (box) { setUserText(box, err.message); box.className = 'message message-error'; box.hidden = false; }
  });
}
