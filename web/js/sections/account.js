/* samtale dashboard, section Settings > Your account: the person's own account.
 *
 * Two-step login (turn it on with an authenticator app, recovery codes, turn it off), the
 * password change, and revoking every API token the person made, in every workspace.
 */

import { state } from '../core/state.js';
import { t } from '../core/lang.js';
import { h, append, clear, field, setFieldError, messageBox, button, confirmDialog, pageHeader,
  secretCopy } from '../core/dom.js';
import { call, refreshMe } from '../core/api.js';
import { retrySeconds, waitText } from '../core/auth.js';

export function accountView(ctx) {
  var me = state.me;
  var page = h('section', { class: 'page', testid: 'section-account', 'aria-labelledby': 'page-title' },
    pageHeader('account.title', 'account.lead'));
  var who = h('div', { class: 'card' },
    h('h2', { t: 'account.who' }),
    h('p', null, h('span', { class: 'name', testid: 'account-name', user: me.user.name || '' }), ' ',
      h('span', { class: 'hint', testid: 'account-email', user: me.user.email })));
  append(page, [who, secondFactorCard(ctx), passwordCard(), tokensCard()]);
  return page;
}

function passwordCard() {
  var msg = messageBox('account-password-message');
  var cur = field('ap-current', 'account.pw.current', h('input', { type: 'password', autocomplete: 'current-password', testid: 'account-pw-current' }));
  var next = field('ap-new', 'password.new', h('input', { type: 'password', autocomplete: 'new-password', minlength: '10', maxlength: '256', testid: 'account-pw-new' }), { hint: 'password.rule' });
  var repeat = field('ap-repeat', 'password.repeat', h('input', { type: 'password', autocomplete: 'new-password', testid: 'account-pw-repeat' }));
  var submit = button('account.pw.submit', { type: 'submit', kind: 'primary', testid: 'account-pw-submit' });
  var form = h('form', { class: 'form card', testid: 'account-password-form', novalidate: true, 'aria-labelledby': 'ap-heading' },
    h('h2', { id: 'ap-heading', t: 'account.pw.heading' }),
    h('p', { class: 'hint', t: 'account.pw.hint' }),
    msg.el, h('div', { class: 'grid' }, cur.wrap, next.wrap, repeat.wrap), h('div', { class: 'form-actions' }, submit));
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    msg.clear();
    [cur, next, repeat].forEach(function (f) { setFieldError(f, null); });
    var pw = next.control.value;
    if (!cur.control.value) { setFieldError(cur, t('password.currentRequired')); cur.control.focus(); return; }
    if (pw.length < 10) { setFieldError(next, t('password.tooShort')); next.control.focus(); return; }
    if (pw.length > 256) { setFieldError(next, t('password.tooLong')); next.control.focus(); return; }
    if (pw !== repeat.control.value) { setFieldError(repeat, t('password.mismatch')); repeat.control.focus(); return; }
    submit.disabled = true;
    call('POST', '/me/password', { current_password: cur.control.value, new_password: pw }).then(function () {
      submit.disabled = false;
      form.reset();
      msg.noticeKey('account.pw.changed');
    }, function (err) {
      submit.disabled = false;
      if (err.handled) return;
      var f = err.field === 'current_password' ? cur : (err.field === 'new_password' ? next : null);
      if (f) { setFieldError(f, err.message); f.control.focus(); } else msg.error(err.message);
    });
  });
  return form;
}

function tokensCard() {
  var msg = messageBox('account-tokens-message');
  var revoke = button('account.tokens.revoke', { kind: 'danger', testid: 'account-tokens-revoke', onClick: function () {
    confirmDialog('account.tokens.confirmTitle', 'account.tokens.confirmText', null, 'account.tokens.revoke').then(function (ok) {
      if (!ok) return;
      revoke.disabled = true;
      call('POST', '/me/tokens/revoke').then(function (res) {
        revoke.disabled = false;
        msg.noticeKey('account.tokens.revoked', { n: res.revoked });
      }, function (err) { revoke.disabled = false; if (!err.handled) msg.error(err.message); });
    });
  } });
  return h('div', { class: 'card', testid: 'account-tokens' },
    h('h2', { t: 'account.tokens.heading' }),
    h('p', { t: 'account.tokens.text' }), msg.el, revoke);
}

// Recovery codes shown once, with a copy button for all of them.
function recoveryCodesBox(codes, onDone) {
  var list = h('ol', { class: 'recovery-codes', testid: 'recovery-codes' }, codes.map(function (c) {
    return h('li', { class: 'mono', text: c });
  }));
  return h('div', { class: 'secret-once', role: 'status', testid: 'recovery-codes-box' },
    h('h3', { t: 'sf.codes.heading' }),
    h('p', { t: 'sf.codes.text' }),
    list,
    secretCopy('recovery-codes-all', codes.join(' '), 'sf.codes.heading'),
    h('p', { class: 'hint', t: 'sf.codes.once' }),
    button('sf.codes.saved', { kind: 'primary', testid: 'recovery-codes-done', onClick: onDone }));
}

function secondFactorCard(ctx) {
  var card = h('div', { class: 'card', testid: 'second-factor-card' });
  var msg = messageBox('second-factor-message');
  function draw() {
    clear(card);
    var sf = state.me.second_factor || { enabled: false };
    append(card, [h('h2', { t: 'sf.heading' }), msg.el]);
    if (sf.enabled) {
      append(card, [
        h('p', { class: 'status-line', testid: 'second-factor-status' }, h('span', { class: 'pill pill-ok', t: 'sf.on' }), ' ',
          h('span', { t: 'sf.codesLeft', tp: { n: sf.recovery_codes_left || 0 } })),
        h('p', { class: 'hint', t: 'sf.onText' }),
        h('div', { class: 'form-actions' },
          button('sf.newCodes', { testid: 'second-factor-new-codes', onClick: askPassword.bind(null, 'codes') }),
          button('sf.turnOff', { kind: 'danger-quiet', testid: 'second-factor-off', onClick: askPassword.bind(null, 'off') }))
      ]);
    } else {
      var required = (state.me.memberships || []).filter(function (m) { return m.second_factor_required; });
      append(card, [
        h('p', { class: 'status-line', testid: 'second-factor-status' }, h('span', { class: 'pill pill-muted', t: 'sf.off' })),
        h('p', { t: 'sf.offText' }),
        required.length ? h('p', { class: 'note', testid: 'second-factor-required-note', t: 'sf.requiredBy',
          tp: { workspaces: required.map(function (m) { return m.workspace_name; }).join(', ') } }) : null,
        button('sf.turnOn', { kind: 'primary', testid: 'second-factor-on', onClick: askPassword.bind(null, 'on') })
      ]);
    }
  }

  // Step 1, after the password: the secret and its QR code.
  function begin(res) {
    {
      clear(card);
      var img = h('img', { class: 'qr', testid: 'second-factor-qr', width: '220', height: '220', attrs: { alt: 'sf.qrAlt' }, src: res.qr_code });
      var grouped = res.secret.replace(/(.{4})/g, '$1 ').trim();
      var code = field('sf-confirm', 'sf.confirmCode', h('input', { type: 'text', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: '11', testid: 'second-factor-confirm-code' }), { hint: 'second.codeHint' });
      var submit = button('sf.confirm', { type: 'submit', kind: 'primary', testid: 'second-factor-confirm' });
      var cancel = button('action.cancel', { testid: 'second-factor-cancel', onClick: draw });
      var form = h('form', { class: 'form', novalidate: true, testid: 'second-factor-enrol' },
        h('ol', { class: 'steps' },
          h('li', { t: 'sf.step1' }),
          h('li', null, h('span', { t: 'sf.step2' }), h('div', { class: 'qr-wrap' }, img),
            h('details', null, h('summary', { t: 'sf.cantScan' }),
              h('p', { class: 'hint', t: 'sf.typeSecret' }),
              h('p', { class: 'mono secret-text', testid: 'second-factor-secret', text: grouped }))),
          h('li', { t: 'sf.step3' })),
        msg.el, code.wrap, h('div', { class: 'form-actions' }, submit, cancel));
      append(card, [h('h2', { t: 'sf.heading' }), form]);
      code.control.focus();
      form.addEventListener('submit', function (ev) {
        ev.preventDefault();
        msg.clear();
        setFieldError(code, null);
        var v = code.control.value.replace(/\s+/g, '');
        if (!/^\d{6}$/.test(v)) { setFieldError(code, t('second.codeRequired')); code.control.focus(); return; }
        submit.disabled = true;
        call('POST', '/me/second-factor/confirm', { code: v }).then(function (done) {
          clear(card);
          append(card, [h('h2', { t: 'sf.heading' }), h('p', { class: 'message message-ok', t: 'sf.nowOn' }),
            recoveryCodesBox(done.recovery_codes, function () { refreshMe(); })]);
        }, function (err) {
          submit.disabled = false;
          if (err.handled) return;
          if (err.field === 'code') { setFieldError(code, t('sf.wrongCode')); code.control.focus(); }
          else if (err.status === 429) msg.errorKey('second.rateLimited', { wait: waitText(retrySeconds(err.retryAfter) || 60) });
          else msg.error(err.message);
        });
      });
    }
  }

  // Turning it on, off, or new recovery codes: the password first (and, but for turning
  // it on, a code from the app or a recovery code).
  function askPassword(what) {
    msg.clear();
    clear(card);
    var pw = field('sf-pw', 'account.pw.current', h('input', { type: 'password', autocomplete: 'current-password', testid: 'second-factor-password' }));
    var code = what !== 'on' ? field('sf-off-code', 'sf.codeOrRecovery', h('input', { type: 'text', autocomplete: 'off', maxlength: '40', testid: 'second-factor-off-code' }), { hint: 'sf.codeOrRecoveryHint' }) : null;
    var submit = button(what === 'off' ? 'sf.turnOff' : what === 'on' ? 'sf.continue' : 'sf.newCodes', { type: 'submit', kind: what === 'off' ? 'danger' : 'primary', testid: 'second-factor-password-submit' });
    var form = h('form', { class: 'form', novalidate: true, testid: 'second-factor-password-form' },
      h('p', { t: what === 'off' ? 'sf.offConfirm' : what === 'on' ? 'sf.onConfirm' : 'sf.codesConfirm' }),
      msg.el, pw.wrap, code ? code.wrap : null,
      h('div', { class: 'form-actions' }, submit, button('action.cancel', { onClick: draw })));
    append(card, [h('h2', { t: 'sf.heading' }), form]);
    pw.control.focus();
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      msg.clear();
      setFieldError(pw, null);
      if (code) setFieldError(code, null);
      if (!pw.control.value) { setFieldError(pw, t('login.passwordRequired')); pw.control.focus(); return; }
      var body = { password: pw.control.value };
      if (code) {
        var v = code.control.value.trim();
        if (!v) { setFieldError(code, t('second.codeRequired')); code.control.focus(); return; }
        if (/^[\d\s]+$/.test(v)) body.code = v.replace(/\s+/g, ''); else body.recovery_code = v;
      }
      submit.disabled = true;
      var path = what === 'off' ? '/me/second-factor/disable' : what === 'on' ? '/me/second-factor' : '/me/second-factor/recovery-codes';
      call('POST', path, body).then(function (res) {
        if (what === 'off') { refreshMe(); return; }
        if (what === 'on') { begin(res); return; }
        clear(card);
        append(card, [h('h2', { t: 'sf.heading' }), recoveryCodesBox(res.recovery_codes, function () { refreshMe(); })]);
      }, function (err) {
        submit.disabled = false;
        if (err.handled) return;
        if (err.field === 'password') { setFieldError(pw, t('sf.wrongPassword')); pw.control.focus(); }
        else if (code && (err.field === 'code' || err.field === 'recovery_code')) { setFieldError(code, t('sf.wrongCode')); code.control.focus(); }
        else msg.error(err.message);
      });
    });
  }

  draw();
  return card;
}
