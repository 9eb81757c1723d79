/* samtale dashboard: a single-page app with hash routing, no framework, no build step.
 *
 * Rules kept throughout this file (the page runs under a strict Content-Security-Policy and
 * shows social content, which is hostile input):
 *  - the DOM is built with createElement and textContent, never innerHTML;
 *  - no inline styles or event handlers: classes and addEventListener only;
 *  - every visible string comes from web/i18n.js (window.SamtaleI18n).
 */
(function () {
  'use strict';

  var I = window.SamtaleI18n;
  var API = '/api/v1';
  var LS_LANG = 'samtale.lang';
  var LS_WORKSPACE = 'samtale.workspace';
  var DEFAULT_SECTION = 'settings/channels';
  var PAGE_SIZE = 50;

  var KINDS = ['bluesky', 'mastodon', 'feed', 'jetstream', 'file', 'webhook'];
  // Settings the channel form asks for, by kind (other keys of a channel's settings are kept).
  var KIND_SETTINGS = { file: ['path'], webhook: ['url'], feed: ['url'], bluesky: ['handle'], mastodon: ['instance_url'] };
  // The settings fields of the channel form: the keys the server knows, how to ask for them.
  var SETTING_FIELDS = [
    { key: 'handle', type: 'text', label: 'channels.field.handle', hint: 'channels.hint.handle', missing: 'channels.err.handle' },
    { key: 'instance_url', type: 'url', label: 'channels.field.instanceUrl', hint: 'channels.hint.instanceUrl', missing: 'channels.err.url', placeholder: 'https://', url: true },
    { key: 'url', type: 'url', label: 'channels.field.url', hint: 'channels.hint.url', missing: 'channels.err.url', placeholder: 'https://', url: true,
      byKind: { feed: { label: 'channels.field.feedUrl', hint: 'channels.hint.feedUrl' } } },
    { key: 'path', type: 'text', label: 'channels.field.path', hint: 'channels.hint.path', missing: 'channels.err.path' }
  ];
  var ROLES = ['owner', 'editor', 'agent', 'viewer'];
  var SCOPES = ['workspaces:read', 'workspaces:write', 'members:read', 'members:write',
    'tokens:read', 'tokens:write', 'channels:read', 'channels:write', 'audit:read'];

  var SECTIONS = [
    { id: 'calendar', nav: 'nav.calendar', icon: 'calendar', view: placeholderView },
    { id: 'composer', nav: 'nav.composer', icon: 'composer', view: placeholderView },
    { id: 'inbox', nav: 'nav.inbox', icon: 'inbox', view: placeholderView },
    { id: 'listening', nav: 'nav.listening', icon: 'listening', view: placeholderView },
    { id: 'people', nav: 'nav.people', icon: 'people', view: placeholderView },
    { id: 'goals', nav: 'nav.goals', icon: 'goals', view: placeholderView },
    { id: 'contests', nav: 'nav.contests', icon: 'contests', view: placeholderView },
    { id: 'settings/channels', nav: 'nav.channels', icon: 'channels', group: 'settings', view: channelsView },
    { id: 'settings/members', nav: 'nav.members', icon: 'members', group: 'settings', view: membersView },
    { id: 'settings/tokens', nav: 'nav.tokens', icon: 'tokens', group: 'settings', view: tokensView }
  ];
  var SECTION_BY_ID = {};
  SECTIONS.forEach(function (s) { SECTION_BY_ID[s.id] = s; });

  var state = {
    lang: initialLang(),
    me: null,
    csrf: null,
    oneTimePassword: null, // the one-time password just typed, kept in memory until changed
    afterLogin: null,      // the route asked for before the login page was shown
    loginNotice: null,     // i18n key of a notice for the login page
    workspaces: {},        // wid -> Workspace, fetched on demand
    shell: null,
    titleKey: null,        // the current section's name, for the window title
    viewSeq: 0
  };

  /* ------------------------------------------------------------------ i18n */

  function initialLang() {
    var saved = null;
    try { saved = window.localStorage.getItem(LS_LANG); } catch (e) { saved = null; }
    if (saved && I.has(saved)) return saved;
    return I.fromNavigator(navigator.languages || [navigator.language || 'en']);
  }

  function t(key, params) { return I.t(state.lang, key, params); }

  // Sets an element's text from a dictionary key and remembers the key, so that a change of
  // language can update the page in place (form contents survive).
  function setT(el, key, params) {
    el.setAttribute('data-i18n', key);
    if (params) el.setAttribute('data-i18n-params', JSON.stringify(params));
    else el.removeAttribute('data-i18n-params');
    el.textContent = t(key, params);
    return el;
  }

  function setTAttr(el, attr, key) {
    var map = readAttrMap(el);
    map[attr] = key;
    el.setAttribute('data-i18n-attrs', Object.keys(map).map(function (a) { return a + '=' + map[a]; }).join(';'));
    el.setAttribute(attr, t(key));
  }

  function readAttrMap(el) {
    var map = {};
    var raw = el.getAttribute('data-i18n-attrs');
    if (raw) {
      raw.split(';').forEach(function (pair) {
        var i = pair.indexOf('=');
        if (i > 0) map[pair.slice(0, i)] = pair.slice(i + 1);
      });
    }
    return map;
  }

  function applyLanguage(root) {
    root.querySelectorAll('[data-i18n]').forEach(function (el) {
      var params = null;
      var raw = el.getAttribute('data-i18n-params');
      if (raw) { try { params = JSON.parse(raw); } catch (e) { params = null; } }
      el.textContent = t(el.getAttribute('data-i18n'), params);
    });
    root.querySelectorAll('[data-i18n-attrs]').forEach(function (el) {
      var map = readAttrMap(el);
      Object.keys(map).forEach(function (a) { el.setAttribute(a, t(map[a])); });
    });
    root.querySelectorAll('[data-date]').forEach(function (el) {
      var iso = el.getAttribute('data-date');
      el.textContent = formatDate(iso, el.hasAttribute('data-date-only'));
      el.title = formatDate(iso, false);
    });
  }

  function setLanguage(code) {
    if (!I.has(code)) return;
    state.lang = code;
    try { window.localStorage.setItem(LS_LANG, code); } catch (e) { /* private mode */ }
    document.documentElement.lang = code;
    updateTitle();
    applyLanguage(document);
    document.querySelectorAll('select.lang-select').forEach(function (s) { s.value = code; });
  }

  // Dates in the chosen language's conventions; dateOnly leaves out the time of day.
  function updateTitle() {
    document.title = state.shell && state.titleKey ? t(state.titleKey) + ' · samtale' : t('app.title');
  }

  function formatDate(iso, dateOnly) {
    if (!iso) return '';
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    var opts = dateOnly ? { dateStyle: 'medium' } : { dateStyle: 'medium', timeStyle: 'short' };
    try {
      return new Intl.DateTimeFormat(I.locale(state.lang), opts).format(d);
    } catch (e) {
      return dateOnly ? d.toLocaleDateString() : d.toLocaleString();
    }
  }

  function dateEl(iso, dateOnly) {
    var el = h('time', { datetime: iso, 'data-date': iso, 'data-date-only': dateOnly ? '1' : null });
    el.textContent = formatDate(iso, dateOnly);
    el.title = formatDate(iso, false);
    return el;
  }

  /* ------------------------------------------------------------------ DOM */

  // h(tag, props, ...children). props: class, t (i18n key), tp (its params), text (raw text),
  // on ({event: fn}), attrs ({attr: i18n key}), testid, and plain attributes. Children are
  // nodes, strings (as text), arrays, or null.
  function h(tag, props) {
    var el = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        var v = props[k];
        if (v === null || v === undefined || v === false) return;
        switch (k) {
          case 'class': el.className = v; break;
          case 't': setT(el, v, props.tp); break;
          case 'tp': break;
          case 'text': el.textContent = String(v); break;
          case 'on': Object.keys(v).forEach(function (ev) { el.addEventListener(ev, v[ev]); }); break;
          case 'attrs': Object.keys(v).forEach(function (a) { setTAttr(el, a, v[a]); }); break;
          case 'testid': el.setAttribute('data-testid', v); break;
          case 'value': el.value = v; break;
          case 'checked': case 'disabled': case 'hidden': case 'required': case 'readOnly':
          case 'multiple': case 'selected':
            el[k] = !!v; break;
          default:
            el.setAttribute(k, v === true ? '' : String(v));
        }
      });
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }

  function append(el, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(el, c); }); return; }
    if (typeof child === 'string' || typeof child === 'number') { el.appendChild(document.createTextNode(String(child))); return; }
    el.appendChild(child);
  }

  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

  var SVG_NS = 'http://www.w3.org/2000/svg';
  var ICONS = {
    calendar: [['rect', { x: 3, y: 4, width: 18, height: 18, rx: 2 }], ['path', { d: 'M16 2v4M8 2v4M3 10h18' }]],
    composer: [['path', { d: 'M12 20h9' }], ['path', { d: 'M16.5 3.5a2.12 2.12 0 0 1 3 3L7 19l-4 1 1-4z' }]],
    inbox: [['path', { d: 'M22 12h-6l-2 3h-4l-2-3H2' }],
      ['path', { d: 'M5.45 5.11 2 12v6a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2v-6l-3.45-6.89A2 2 0 0 0 16.76 4H7.24a2 2 0 0 0-1.79 1.11z' }]],
    listening: [['circle', { cx: 12, cy: 12, r: 2 }],
      ['path', { d: 'M16.24 7.76a6 6 0 0 1 0 8.49M7.76 16.24a6 6 0 0 1 0-8.49M19.07 4.93a10 10 0 0 1 0 14.14M4.93 19.07a10 10 0 0 1 0-14.14' }]],
    people: [['path', { d: 'M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2' }], ['circle', { cx: 9, cy: 7, r: 4 }],
      ['path', { d: 'M23 21v-2a4 4 0 0 0-3-3.87M16 3.13a4 4 0 0 1 0 7.75' }]],
    goals: [['circle', { cx: 12, cy: 12, r: 10 }], ['circle', { cx: 12, cy: 12, r: 6 }], ['circle', { cx: 12, cy: 12, r: 2 }]],
    contests: [['circle', { cx: 12, cy: 8, r: 7 }], ['path', { d: 'M8.21 13.89 7 23l5-3 5 3-1.21-9.12' }]],
    channels: [['path', { d: 'M10 13a5 5 0 0 0 7.54.54l3-3a5 5 0 0 0-7.07-7.07l-1.72 1.71' }],
      ['path', { d: 'M14 11a5 5 0 0 0-7.54-.54l-3 3a5 5 0 0 0 7.07 7.07l1.71-1.71' }]],
    members: [['path', { d: 'M20 21v-2a4 4 0 0 0-4-4H8a4 4 0 0 0-4 4v2' }], ['circle', { cx: 12, cy: 7, r: 4 }]],
    tokens: [['circle', { cx: 7.5, cy: 15.5, r: 5.5 }], ['path', { d: 'M21 2l-9.6 9.6M15.5 7.5l3 3L22 7l-3-3' }]],
    settings: [['path', { d: 'M4 21v-7M4 10V3M12 21v-9M12 8V3M20 21v-5M20 12V3M1 14h6M9 8h6M17 16h6' }]]
  };

  function icon(name) {
    var svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('class', 'icon');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    (ICONS[name] || []).forEach(function (spec) {
      var el = document.createElementNS(SVG_NS, spec[0]);
      Object.keys(spec[1]).forEach(function (a) { el.setAttribute(a, String(spec[1][a])); });
      svg.appendChild(el);
    });
    return svg;
  }

  function brand() {
    return h('span', { class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }),
      h('span', { class: 'brand-name', text: 'samtale' }));
  }

  function langSelect(testid) {
    var id = 'lang-' + testid;
    var sel = h('select', { id: id, class: 'lang-select', testid: testid, on: { change: function () { setLanguage(sel.value); } } },
      I.LANGS.map(function (l) { return h('option', { value: l.code, lang: l.code, text: l.name }); }));
    sel.value = state.lang;
    return h('div', { class: 'lang-switch' },
      h('label', { for: id, class: 'visually-hidden', t: 'lang.label' }), sel);
  }

  // A labelled form field: label, control, optional hint, and a slot for its error message.
  function field(id, labelKey, control, opts) {
    opts = opts || {};
    control.id = id;
    var hintId = id + '-hint';
    var errId = id + '-error';
    var described = [];
    var hint = null;
    if (opts.hint) { hint = h('p', { id: hintId, class: 'hint', t: opts.hint }); described.push(hintId); }
    var err = h('p', { id: errId, class: 'field-error', testid: opts.testid ? opts.testid + '-error' : null, hidden: true });
    described.push(errId);
    control.setAttribute('aria-describedby', described.join(' '));
    var label = h('label', { for: id, class: 'label' }, h('span', { t: labelKey }),
      opts.optional ? h('span', { class: 'optional', t: 'form.optional' }) : null);
    var wrap = h('div', { class: 'field' + (opts.wide ? ' field-wide' : '') }, label, control, hint, err);
    return { wrap: wrap, control: control, hint: hint, err: err };
  }

  function setFieldError(f, message) {
    if (message) {
      f.err.textContent = message;
      f.err.hidden = false;
      f.control.setAttribute('aria-invalid', 'true');
      f.wrap.classList.add('has-error');
    } else {
      f.err.textContent = '';
      f.err.hidden = true;
      f.control.removeAttribute('aria-invalid');
      f.wrap.classList.remove('has-error');
    }
  }

  // A message region: role=alert for errors, role=status for notices; both are aria-live.
  function messageBox(testid) {
    var box = h('div', { class: 'message', testid: testid, role: 'status', 'aria-live': 'polite', hidden: true });
    return {
      el: box,
      error: function (message) { show(box, 'message-error', message, 'assertive'); },
      notice: function (message) { show(box, 'message-ok', message, 'polite'); },
      noticeKey: function (key, params) { show(box, 'message-ok', null, 'polite'); setT(box, key, params); },
      errorKey: function (key, params) { show(box, 'message-error', null, 'assertive'); setT(box, key, params); },
      clear: function () { box.hidden = true; box.textContent = ''; box.removeAttribute('data-i18n'); box.removeAttribute('data-i18n-params'); }
    };
    function show(el, cls, message, live) {
      el.className = 'message ' + cls;
      el.setAttribute('aria-live', live);
      el.setAttribute('role', cls === 'message-error' ? 'alert' : 'status');
      el.removeAttribute('data-i18n');
      el.removeAttribute('data-i18n-params');
      if (message !== null) el.textContent = message;
      el.hidden = false;
    }
  }

  function button(key, opts) {
    opts = opts || {};
    return h('button', {
      type: opts.type || 'button',
      class: 'btn ' + (opts.kind ? 'btn-' + opts.kind : 'btn-secondary') + (opts.small ? ' btn-small' : ''),
      testid: opts.testid || null, t: key, tp: opts.params || null,
      on: opts.onClick ? { click: opts.onClick } : null
    });
  }

  function confirmDialog(titleKey, bodyKey, params, confirmKey) {
    return new Promise(function (resolve) {
      var title = h('h2', { id: 'confirm-title', t: titleKey, tp: params });
      var body = h('p', { id: 'confirm-body', t: bodyKey, tp: params });
      var dlg = h('dialog', { class: 'dialog', testid: 'confirm-dialog', 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-body' },
        title, body,
        h('div', { class: 'dialog-actions' },
          button('action.cancel', { testid: 'confirm-cancel', onClick: function () { dlg.close('cancel'); } }),
          button(confirmKey, { kind: 'danger', testid: 'confirm-ok', onClick: function () { dlg.close('confirm'); } })));
      dlg.addEventListener('close', function () {
        var ok = dlg.returnValue === 'confirm';
        dlg.remove();
        resolve(ok);
      });
      document.body.appendChild(dlg);
      dlg.showModal();
      dlg.querySelector('[data-testid="confirm-cancel"]').focus();
    });
  }

  /* ------------------------------------------------------------------ API */

  function ApiError(status, code, message, field, retryAfter) {
    this.status = status;
    this.code = code;
    this.message = message;
    this.field = field || null;
    this.retryAfter = retryAfter || null;
    this.handled = false;
  }

  function request(method, path, body) {
    var headers = { 'Accept': 'application/json' };
    var opts = { method: method, credentials: 'same-origin', headers: headers, cache: 'no-store' };
    if (method === 'POST' || method === 'PATCH' || method === 'PUT') {
      headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body === undefined ? {} : body);
    }
    if (method !== 'GET' && method !== 'HEAD' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
    return fetch(API + path, opts).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        if (text) { try { data = JSON.parse(text); } catch (e) { data = null; } }
        if (res.ok) return data;
        var e = (data && data.error) || {};
        throw new ApiError(res.status, e.code || ('http_' + res.status),
          e.message || t('error.http', { status: res.status }), e.field, res.headers.get('Retry-After'));
      });
    }, function () {
      throw new ApiError(0, 'network', t('error.network'));
    });
  }

  // request() for the signed-in app: an ended session goes back to the login page, and a
  // pending password change to its form; callers then see an error marked handled.
  function call(method, path, body) {
    return request(method, path, body).catch(function (err) {
      if (err.status === 401) {
        err.handled = true;
        sessionEnded();
      } else if (err.status === 403 && err.code === 'password_change_required' && state.me) {
        err.handled = true;
        state.me.password_change_required = true;
        render();
      }
      throw err;
    });
  }

  function sessionEnded() {
    if (!state.me) return;
    state.afterLogin = location.hash;
    state.me = null;
    state.csrf = null;
    state.loginNotice = 'login.sessionEnded';
    destroyShell();
    history.replaceState(null, '', '#/login');
    render();
  }

  function listPath(path, cursor) {
    var sep = path.indexOf('?') >= 0 ? '&' : '?';
    return path + sep + 'limit=' + PAGE_SIZE + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
  }

  // Pages through a list endpoint: reload() fetches the first page, more() the next one.
  function pager(path, moreBtn, onPage, onError) {
    var next = null;
    var busy = false;
    var seq = 0;
    function load(reset) {
      if (busy && !reset) return Promise.resolve();
      busy = true;
      var mine = ++seq;
      moreBtn.disabled = true;
      return call('GET', listPath(path, reset ? null : next)).then(function (data) {
        if (mine !== seq) return;
        busy = false;
        data = data || {};
        next = data.next_cursor || null;
        moreBtn.hidden = !next;
        moreBtn.disabled = false;
        onPage(Array.isArray(data.items) ? data.items : [], reset);
      }, function (err) {
        if (mine !== seq) return;
        busy = false;
        moreBtn.disabled = false;
        onError(err);
      });
    }
    moreBtn.hidden = true;
    moreBtn.addEventListener('click', function () { load(false); });
    return { reload: function () { return load(true); } };
  }

  function workspace(wid) {
    if (state.workspaces[wid]) return Promise.resolve(state.workspaces[wid]);
    return call('GET', '/workspaces/' + wid).then(function (ws) {
      state.workspaces[wid] = ws;
      return ws;
    });
  }

  /* ------------------------------------------------------------------ routing */

  function parseRoute(hash) {
    var m = /^#\/w\/(\d+)\/([a-z]+(?:\/[a-z]+)?)$/.exec(hash || '');
    if (!m) return null;
    return { wid: Number(m[1]), section: m[2] };
  }

  function membership(wid) {
    var ms = (state.me && state.me.memberships) || [];
    for (var i = 0; i < ms.length; i++) if (Number(ms[i].workspace_id) === wid) return ms[i];
    return null;
  }

  function defaultWid() {
    var saved = null;
    try { saved = Number(window.localStorage.getItem(LS_WORKSPACE)); } catch (e) { saved = null; }
    if (saved && membership(saved)) return saved;
    return Number(state.me.memberships[0].workspace_id);
  }

  function routeTo(wid, section) { location.hash = '#/w/' + wid + '/' + section; }

  function render(fromNavigation) {
    var app = document.getElementById('app');
    if (!state.me) { destroyShell(); showLogin(app); return; }
    if (state.me.password_change_required) { destroyShell(); showPasswordChange(app); return; }
    var ms = state.me.memberships || [];
    if (!ms.length) { destroyShell(); showNoWorkspace(app); return; }

    var r = parseRoute(location.hash);
    if (!r && state.afterLogin) { r = parseRoute(state.afterLogin); }
    state.afterLogin = null;
    if (!r || !membership(r.wid) || !SECTION_BY_ID[r.section]) {
      var wid = r && membership(r.wid) ? r.wid : defaultWid();
      var section = r && SECTION_BY_ID[r.section] ? r.section : DEFAULT_SECTION;
      r = { wid: wid, section: section };
    }
    var target = '#/w/' + r.wid + '/' + r.section;
    if (location.hash !== target) history.replaceState(null, '', target);
    try { window.localStorage.setItem(LS_WORKSPACE, String(r.wid)); } catch (e) { /* ignore */ }

    ensureShell(app);
    updateShell(r);
    showSection(r, fromNavigation);
  }

  /* ------------------------------------------------------------------ login */

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

  function showLogin(app) {
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
        state.csrf = res.csrf_token || null;
        state.oneTimePassword = res.password_change_required ? p : null;
        return request('GET', '/me').then(function (me) {
          state.me = me;
          if (me.csrf_token) state.csrf = me.csrf_token;
          if (res.password_change_required) state.me.password_change_required = true;
          state.workspaces = {};
          render();
        });
      }).catch(function (err) {
        submit.disabled = false;
        if (err.status === 429) {
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

  function retrySeconds(value) {
    if (!value) return 0;
    if (/^\d+$/.test(value.trim())) return Math.max(1, parseInt(value, 10));
    var when = Date.parse(value);
    if (isNaN(when)) return 0;
    return Math.max(1, Math.ceil((when - Date.now()) / 1000));
  }

  function waitText(secs) {
    var rtf;
    try { rtf = new Intl.RelativeTimeFormat(I.locale(state.lang), { numeric: 'always' }); } catch (e) { rtf = null; }
    var n = secs < 60 ? secs : Math.ceil(secs / 60);
    var unit = secs < 60 ? 'second' : 'minute';
    return rtf ? rtf.format(n, unit) : n + ' ' + unit + 's';
  }

  function showPasswordChange(app) {
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

  function showNoWorkspace(app) {
    var content = h('div', { testid: 'no-workspace' },
      h('h1', { class: 'auth-heading', t: 'noWorkspace.heading' }),
      h('p', { t: 'noWorkspace.text' }),
      h('p', { class: 'auth-aside' }, button('header.logout', { kind: 'secondary', testid: 'logout', onClick: logOut })));
    authPage(app, 'no-workspace', content);
  }

  function logOut() {
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
      if (box) { box.textContent = err.message; box.className = 'message message-error'; box.hidden = false; }
    });
  }

  /* ------------------------------------------------------------------ shell */

  function destroyShell() {
    state.shell = null;
  }

  function ensureShell(app) {
    if (state.shell && state.shell.userId === state.me.user.id && app.contains(state.shell.root)) return;
    clear(app);
    app.className = 'app-screen';

    var wsSelect = h('select', { id: 'workspace-switcher', testid: 'workspace-switcher', on: { change: function () {
      var r = parseRoute(location.hash);
      routeTo(Number(wsSelect.value), r ? r.section : DEFAULT_SECTION);
    } } }, state.me.memberships.map(function (m) {
      return h('option', { value: String(m.workspace_id), text: m.workspace_name });
    }));
    var role = h('span', { class: 'role-badge', testid: 'workspace-role' });
    var skip = h('a', { class: 'skip-link', href: '#/', t: 'app.skip', on: { click: function (ev) {
      ev.preventDefault();
      var main = document.getElementById('main');
      if (main) main.focus();
    } } });

    var header = h('header', { class: 'topbar', testid: 'app-header' },
      h('div', { class: 'topbar-left' }, brand(),
        h('div', { class: 'ws-switch' },
          h('label', { for: 'workspace-switcher', class: 'ws-label', t: 'header.workspace' }), wsSelect, role)),
      h('div', { class: 'topbar-right' },
        h('span', { class: 'user-email', testid: 'user-email', text: state.me.user.email, title: state.me.user.name || state.me.user.email }),
        langSelect('lang-switch'),
        button('header.logout', { kind: 'secondary', small: true, testid: 'logout', onClick: logOut })));

    var links = {};
    function navItem(s) {
      var a = h('a', { class: 'nav-link', testid: 'nav-' + s.id.replace('settings/', ''), href: '#/' }, icon(s.icon), h('span', { t: s.nav }));
      links[s.id] = a;
      return h('li', null, a);
    }
    var mainItems = SECTIONS.filter(function (s) { return !s.group; }).map(navItem);
    var settingsItems = SECTIONS.filter(function (s) { return s.group === 'settings'; }).map(navItem);
    var nav = h('nav', { class: 'sidebar', attrs: { 'aria-label': 'nav.label' }, testid: 'nav' },
      h('ul', { class: 'nav-list' }, mainItems),
      h('p', { class: 'nav-group', id: 'nav-settings-heading', testid: 'nav-settings' }, icon('settings'), h('span', { t: 'nav.settings' })),
      h('ul', { class: 'nav-list nav-sub', 'aria-labelledby': 'nav-settings-heading' }, settingsItems),
      h('p', { class: 'nav-foot', t: 'app.footer' }));

    var main = h('main', { id: 'main', class: 'content', tabindex: '-1', testid: 'main' });
    var root = h('div', { class: 'shell' }, skip, header, h('div', { class: 'body' }, nav, main));
    app.appendChild(root);
    state.shell = { root: root, userId: state.me.user.id, wsSelect: wsSelect, role: role, links: links, main: main };
  }

  function roleOf(wid) { var m = membership(wid); return m ? m.role : null; }

  function updateShell(r) {
    var s = state.shell;
    s.wsSelect.value = String(r.wid);
    setT(s.role, 'role.' + (roleOf(r.wid) || 'viewer'));
    Object.keys(s.links).forEach(function (id) {
      var a = s.links[id];
      a.setAttribute('href', '#/w/' + r.wid + '/' + id);
      if (id === r.section) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    });
  }

  function showSection(r, fromNavigation) {
    var s = state.shell;
    var section = SECTION_BY_ID[r.section];
    var seq = ++state.viewSeq;
    var ctx = { wid: r.wid, role: roleOf(r.wid), section: section, alive: function () { return seq === state.viewSeq; } };
    clear(s.main);
    s.main.appendChild(h('div', { class: 'message', testid: 'page-message', role: 'alert', hidden: true }));
    s.main.appendChild(section.view(ctx));
    state.titleKey = section.nav;
    updateTitle();
    if (fromNavigation) {
      var heading = s.main.querySelector('h1');
      if (heading) heading.focus();
    }
  }

  function pageHeader(titleKey, leadKey) {
    return h('div', { class: 'page-header' },
      h('h1', { id: 'page-title', testid: 'page-title', tabindex: '-1', t: titleKey }),
      leadKey ? h('p', { class: 'lead', t: leadKey }) : null);
  }

  /* ------------------------------------------------------------------ placeholders */

  function placeholderView(ctx) {
    var s = ctx.section;
    return h('section', { class: 'page', testid: 'section-' + s.id, 'aria-labelledby': 'page-title' },
      pageHeader(s.nav, null),
      h('div', { class: 'card later', testid: 'later' },
        h('div', { class: 'later-icon' }, icon(s.icon)),
        h('div', { class: 'later-text' },
          h('p', { class: 'later-what', t: 'about.' + s.id }),
          h('p', { class: 'later-when' }, h('span', { class: 'badge badge-later', t: 'later.badge' }), ' ', h('span', { t: 'later.text' })),
          h('p', { class: 'later-meanwhile' },
            h('span', { t: 'later.meanwhile' }), ' ',
            h('a', { href: '#/w/' + ctx.wid + '/settings/channels', t: 'later.meanwhileLink' })))));
  }

  function roleNote(key) {
    return h('p', { class: 'note', testid: 'role-note', t: key });
  }

  function showError(box, err) {
    if (err && err.handled) return;
    box.error(err && err.message ? err.message : t('error.unknown'));
  }

  function emptyRow(cols, key) {
    return h('tr', { class: 'empty-row' }, h('td', { colspan: String(cols), t: key }));
  }

  function tableHead(keys) {
    return h('thead', null, h('tr', null, keys.map(function (k) {
      return k ? h('th', { scope: 'col', t: k }) : h('th', { scope: 'col' }, h('span', { class: 'visually-hidden', t: 'table.actions' }));
    })));
  }

  /* ------------------------------------------------------------------ channels */

  function kindSettingsOf(kind) { return KIND_SETTINGS[kind] || []; }

  function channelDetail(ch) {
    var st = ch.settings || {};
    var parts = [];
    ['url', 'path', 'handle', 'instance', 'server'].forEach(function (k) {
      if (typeof st[k] === 'string' && st[k]) parts.push(st[k]);
    });
    return parts.join(' · ');
  }

  function channelsView(ctx) {
    var wid = ctx.wid;
    var canWrite = ctx.role === 'owner' || ctx.role === 'editor';
    var base = '/workspaces/' + wid + '/channels';
    var channels = [];
    var listMsg = messageBox('channels-message');

    var tbody = h('tbody', { testid: 'channels-body' });
    var table = h('table', { class: 'table', testid: 'channels-table', 'aria-labelledby': 'channels-caption' },
      h('caption', { id: 'channels-caption', class: 'visually-hidden', t: 'channels.caption' }),
      tableHead(['channels.col.name', 'channels.col.kind', 'channels.col.timezone', 'channels.col.details',
        'channels.col.secret', 'channels.col.status', 'channels.col.created'].concat(canWrite ? [null] : [])),
      tbody);
    var more = button('list.more', { testid: 'channels-more' });
    var cols = canWrite ? 8 : 7;

    function row(ch) {
      var status = ch.status || 'active';
      return h('tr', { testid: 'channel-row', 'data-channel-id': String(ch.id) },
        h('td', { class: 'cell-name' }, h('span', { class: 'name', testid: 'channel-name', text: ch.name })),
        h('td', null, h('span', { class: 'kind kind-' + (KINDS.indexOf(ch.kind) >= 0 ? ch.kind : 'other'), t: KINDS.indexOf(ch.kind) >= 0 ? 'kind.short.' + ch.kind : null, text: KINDS.indexOf(ch.kind) >= 0 ? null : ch.kind })),
        h('td', { text: ch.timezone || '' }),
        h('td', { class: 'cell-detail', text: channelDetail(ch), title: channelDetail(ch) || null }),
        h('td', null, ch.has_secret ? h('span', { class: 'pill pill-ok', t: 'channels.secretStored' }) : h('span', { class: 'muted', t: 'channels.secretNone' })),
        h('td', null, h('span', { class: 'pill ' + (status === 'active' ? 'pill-ok' : 'pill-warn'),
          t: ['active', 'paused', 'error', 'disabled'].indexOf(status) >= 0 ? 'status.' + status : null,
          text: ['active', 'paused', 'error', 'disabled'].indexOf(status) >= 0 ? null : status })),
        h('td', null, dateEl(ch.created_at, true)),
        canWrite ? h('td', { class: 'cell-actions' },
          h('button', { type: 'button', class: 'btn btn-secondary btn-small', testid: 'channel-edit',
            on: { click: function () { startEdit(ch); } } },
            h('span', { t: 'action.edit' }), h('span', { class: 'visually-hidden', text: ' ' + ch.name })),
          h('button', { type: 'button', class: 'btn btn-danger-quiet btn-small', testid: 'channel-remove',
            on: { click: function () { removeChannel(ch); } } },
            h('span', { t: 'action.remove' }), h('span', { class: 'visually-hidden', text: ' ' + ch.name }))) : null);
    }

    function renderRows() {
      clear(tbody);
      if (!channels.length) tbody.appendChild(emptyRow(cols, canWrite ? 'channels.empty' : 'channels.emptyReadOnly'));
      channels.forEach(function (ch) { tbody.appendChild(row(ch)); });
      count.textContent = '';
      setT(count, 'channels.count', { n: channels.length });
    }

    var count = h('span', { class: 'count', testid: 'channels-count' });
    var list = pager(base, more, function (items, reset) {
      if (reset) channels = [];
      channels = channels.concat(items);
      renderRows();
    }, function (err) { showError(listMsg, err); });

    var page = h('section', { class: 'page', testid: 'section-channels', 'aria-labelledby': 'page-title' },
      pageHeader('channels.title', 'channels.lead'),
      h('div', { class: 'card' },
        h('div', { class: 'card-head' }, h('h2', { t: 'channels.listHeading' }), count),
        listMsg.el,
        h('div', { class: 'table-wrap' }, table),
        h('div', { class: 'list-foot' }, more)),
      canWrite ? null : roleNote('channels.readOnly'));

    tbody.appendChild(h('tr', { class: 'empty-row' }, h('td', { colspan: String(cols), t: 'list.loading' })));
    list.reload();

    if (!canWrite) return page;

    /* the add / edit form */
    var formMsg = messageBox('channel-form-error');
    var editing = null;
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
        placeholder: sf.placeholder || null, testid: tid }), { hint: sf.hint, testid: tid, wide: true });
      f.spec = sf;
      settingFields[sf.key] = f;
    });
    var fSecret = field('ch-secret', 'channels.field.secret', h('input', { type: 'password', name: 'secret', autocomplete: 'new-password', testid: 'channel-secret' }), { hint: 'channels.hint.secret', optional: true, testid: 'channel-secret' });
    var clearSecret = h('input', { type: 'checkbox', id: 'ch-secret-clear', testid: 'channel-secret-clear' });
    var clearSecretWrap = h('label', { class: 'check', for: 'ch-secret-clear', hidden: true }, clearSecret, h('span', { t: 'channels.secretRemove' }));
    fSecret.wrap.insertBefore(clearSecretWrap, fSecret.err);

    var formTitle = h('h2', { id: 'channel-form-title', testid: 'channel-form-title', t: 'channels.addHeading' });
    var submit = button('channels.add', { type: 'submit', kind: 'primary', testid: 'channel-submit' });
    var cancel = button('action.cancel', { testid: 'channel-cancel', onClick: stopEdit });
    cancel.hidden = true;
    var form = h('form', { class: 'form card', testid: 'channel-form', novalidate: true, 'aria-labelledby': 'channel-form-title' },
      formTitle, formMsg.el,
      h('div', { class: 'grid' }, fKind.wrap, fName.wrap, fTz.wrap, fSecret.wrap,
        SETTING_FIELDS.map(function (sf) { return settingFields[sf.key].wrap; })),
      tzList,
      h('div', { class: 'form-actions' }, submit, cancel));
    page.insertBefore(form, page.children[2] || null);

    var fieldsByName = { kind: fKind, name: fName, timezone: fTz, secret: fSecret };
    Object.keys(settingFields).forEach(function (k) { fieldsByName[k] = settingFields[k]; });

    function currentKind() { return editing ? editing.kind : kindSel.value; }

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
    }
    kindSel.addEventListener('change', syncKind);

    function defaultTimezone() {
      var ws = state.workspaces[wid];
      if (ws && ws.timezone) return ws.timezone;
      try { return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch (e) { return 'UTC'; }
    }

    function resetForm() {
      editing = null;
      form.reset();
      kindSel.disabled = false;
      kindSel.value = 'bluesky';
      fTz.control.value = defaultTimezone();
      clearSecretWrap.hidden = true;
      setT(formTitle, 'channels.addHeading');
      setT(submit, 'channels.add');
      setT(fSecret.hint, 'channels.hint.secret');
      cancel.hidden = true;
      Object.keys(fieldsByName).forEach(function (k) { setFieldError(fieldsByName[k], null); });
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
      setT(fSecret.hint, ch.has_secret ? 'channels.hint.secretKeep' : 'channels.hint.secret');
      setT(formTitle, 'channels.editHeading', { name: ch.name });
      setT(submit, 'action.save');
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
        if (!v) fail(f, f.spec.missing);
        else if (f.spec.url && !/^https?:\/\/\S+$/i.test(v)) fail(f, 'channels.err.urlFormat');
      });
      if (first) first.control.focus();
      return ok;
    }

    function payload() {
      var kind = editing ? editing.kind : kindSel.value;
      var body = { name: fName.control.value.trim(), timezone: fTz.control.value.trim() };
      var settings = {};
      if (editing && editing.settings && typeof editing.settings === 'object') {
        Object.keys(editing.settings).forEach(function (k) { settings[k] = editing.settings[k]; });
      }
      var wanted = wantedFields();
      wanted.forEach(function (f) { settings[f.spec.key] = f.control.value.trim(); });
      if (!editing || wanted.length) body.settings = settings;
      var secret = fSecret.control.value;
      if (editing && clearSecret.checked) body.secret = null;
      else if (secret) body.secret = secret;
      if (!editing) body.kind = kind;
      return body;
    }

    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      formMsg.clear();
      Object.keys(fieldsByName).forEach(function (k) { setFieldError(fieldsByName[k], null); });
      if (!validate()) return;
      var body = payload();
      var wasEditing = editing;
      submit.disabled = true;
      var req = wasEditing ? call('PATCH', base + '/' + wasEditing.id, body) : call('POST', base, body);
      req.then(function (ch) {
        submit.disabled = false;
        if (!ctx.alive()) return;
        resetForm();
        listMsg.noticeKey(wasEditing ? 'channels.saved' : 'channels.added', { name: (ch && ch.name) || body.name });
        return list.reload();
      }, function (err) {
        submit.disabled = false;
        if (err.handled) return;
        // A settings error names its key as "settings.url" in the field or the message.
        var key = err.field ? String(err.field).replace(/^settings\./, '') : null;
        if (key === 'settings') {
          var m = /settings\.([a-z_]+)/.exec(err.message || '');
          var shown = wantedFields();
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
      });
    });

    function removeChannel(ch) {
      confirmDialog('channels.removeTitle', 'channels.removeText', { name: ch.name }, 'action.remove').then(function (ok) {
        if (!ok) return;
        call('DELETE', base + '/' + ch.id).then(function () {
          if (!ctx.alive()) return;
          if (editing && editing.id === ch.id) resetForm();
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

    return page;
  }

  /* ------------------------------------------------------------------ members */

  function roleSelect(id, value, testid) {
    var sel = h('select', { id: id, testid: testid }, ROLES.map(function (r) { return h('option', { value: r, t: 'role.' + r }); }));
    sel.value = value;
    return sel;
  }

  function membersView(ctx) {
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
        roleCell = h('span', { class: 'role-badge', t: ROLES.indexOf(m.role) >= 0 ? 'role.' + m.role : null, text: ROLES.indexOf(m.role) >= 0 ? null : m.role });
      }
      return h('tr', { testid: 'member-row', 'data-user-id': String(m.user_id) },
        h('td', { class: 'cell-name' }, h('span', { class: 'name', text: m.name || '' }),
          isMe ? h('span', { class: 'you', t: 'members.you' }) : null),
        h('td', { testid: 'member-email', text: m.email || '' }),
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
    var otpBox = h('div', { class: 'secret-once', testid: 'member-otp', hidden: true, role: 'status', 'aria-live': 'polite' });

    var page = h('section', { class: 'page', testid: 'section-members', 'aria-labelledby': 'page-title' },
      pageHeader('members.title', 'members.lead'),
      otpBox,
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

    if (!canWrite) return page;

    var formMsg = messageBox('member-form-error');
    var fEmail = field('m-email', 'members.field.email', h('input', { type: 'email', autocomplete: 'off', spellcheck: 'false', testid: 'member-email-input' }), { testid: 'member-email' });
    var fName = field('m-name', 'members.field.name', h('input', { type: 'text', autocomplete: 'off', testid: 'member-name-input' }), { optional: true, testid: 'member-name' });
    var fRole = field('m-role', 'members.field.role', roleSelect('m-role', 'editor', 'member-role-input'), { testid: 'member-role' });
    var submit = button('members.add', { type: 'submit', kind: 'primary', testid: 'member-submit' });
    var form = h('form', { class: 'form card', testid: 'member-form', novalidate: true, 'aria-labelledby': 'member-form-title' },
      h('h2', { id: 'member-form-title', t: 'members.addHeading' }),
      h('p', { class: 'hint', t: 'members.addHint' }),
      formMsg.el,
      h('div', { class: 'grid' }, fEmail.wrap, fName.wrap, fRole.wrap),
      h('div', { class: 'form-actions' }, submit));
    page.insertBefore(form, page.children[3] || null);
    var fields = { email: fEmail, name: fName, role: fRole };

    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      formMsg.clear();
      Object.keys(fields).forEach(function (k) { setFieldError(fields[k], null); });
      var email = fEmail.control.value.trim();
      if (!email || email.indexOf('@') < 1) { setFieldError(fEmail, t('members.err.email')); fEmail.control.focus(); return; }
      var body = { email: email, role: fRole.control.value };
      var name = fName.control.value.trim();
      if (name) body.name = name;
      submit.disabled = true;
      call('POST', base, body).then(function (m) {
        submit.disabled = false;
        if (!ctx.alive()) return;
        form.reset();
        fRole.control.value = 'editor';
        showOneTime(m || body);
        return list.reload();
      }, function (err) {
        submit.disabled = false;
        if (err.handled) return;
        var f = err.field ? fields[err.field] : null;
        if (f) { setFieldError(f, err.message); f.control.focus(); } else formMsg.error(err.message);
      });
    });

    function showOneTime(m) {
      clear(otpBox);
      var who = m.name || m.email;
      if (m.one_time_password) {
        otpBox.className = 'secret-once';
        append(otpBox, [
          h('h2', { t: 'members.otpHeading', tp: { name: who } }),
          h('p', { t: 'members.otpText', tp: { email: m.email } }),
          secretCopy('member-otp-value', m.one_time_password, 'members.otpLabel'),
          h('p', { class: 'hint', t: 'members.otpOnce' }),
          button('action.done', { testid: 'member-otp-done', onClick: function () { otpBox.hidden = true; clear(otpBox); } })
        ]);
      } else {
        otpBox.className = 'secret-once secret-once-plain';
        append(otpBox, [
          h('p', { t: 'members.addedExisting', tp: { name: who, role: t('role.' + (m.role || 'viewer')) } }),
          button('action.done', { testid: 'member-otp-done', onClick: function () { otpBox.hidden = true; clear(otpBox); } })
        ]);
      }
      otpBox.hidden = false;
      otpBox.scrollIntoView({ block: 'nearest' });
    }

    return page;
  }

  function refreshMe() {
    return call('GET', '/me').then(function (me) {
      state.me = me;
      if (me.csrf_token) state.csrf = me.csrf_token;
      state.shell = null;
      render();
    }, function () { /* handled by call() */ });
  }

  // A read-only field holding a secret shown once, with a copy button.
  function secretCopy(testid, value, labelKey) {
    var id = testid + '-field';
    var input = h('input', { type: 'text', id: id, class: 'secret-value', readOnly: true, value: value, testid: testid, spellcheck: 'false' });
    var status = h('span', { class: 'copy-status', role: 'status', 'aria-live': 'polite' });
    var copy = button('action.copy', { testid: testid + '-copy', onClick: function () {
      input.focus();
      input.select();
      var done = function () { setT(status, 'action.copied'); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(value).then(done, function () {
          try { document.execCommand('copy'); done(); } catch (e) { setT(status, 'action.copyManually'); }
        });
      } else {
        try { document.execCommand('copy'); done(); } catch (e) { setT(status, 'action.copyManually'); }
      }
    } });
    input.addEventListener('focus', function () { input.select(); });
    return h('div', { class: 'copy-row' }, h('label', { for: id, class: 'visually-hidden', t: labelKey }), input, copy, status);
  }

  /* ------------------------------------------------------------------ tokens */

  function tokensView(ctx) {
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

    function row(tk) {
      var revoked = !!tk.revoked_at;
      var scopes = Array.isArray(tk.scopes) ? tk.scopes : [];
      return h('tr', { testid: 'token-row', 'data-token-id': String(tk.id), class: revoked ? 'is-revoked' : null },
        h('td', { class: 'cell-name' }, h('span', { class: 'name', text: tk.name || '' })),
        h('td', null, h('code', { class: 'prefix', text: (tk.prefix || '') + '…' })),
        h('td', { class: 'cell-scopes' }, scopes.map(function (s) { return h('code', { class: 'scope', text: s }); })),
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
      return h('label', { class: 'check scope-check', for: box.id }, box,
        h('span', { class: 'scope-text' }, h('code', { text: s }), h('span', { class: 'scope-about', t: 'scope.' + s })));
    }
    allBox.addEventListener('change', function () {
      scopeBoxes.forEach(function (b) { b.disabled = allBox.checked; });
    });
    var scopeSet = h('fieldset', { class: 'scopes', 'aria-describedby': 'tk-scopes-error' },
      h('legend', { class: 'label', t: 'tokens.field.scopes' }),
      h('div', { class: 'scope-grid' }, scopeLabel(allBox, '*'), scopeBoxes.map(function (b, i) { return scopeLabel(b, SCOPES[i]); })),
      scopeErr);
    var submit = button('tokens.create', { type: 'submit', kind: 'primary', testid: 'token-submit' });
    var form = h('form', { class: 'form card', testid: 'token-form', novalidate: true, 'aria-labelledby': 'token-form-title' },
      h('h2', { id: 'token-form-title', t: 'tokens.createHeading' }),
      formMsg.el, fName.wrap, scopeSet,
      h('div', { class: 'form-actions' }, submit));

    function setScopeError(message) {
      scopeErr.textContent = message || '';
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

  /* ------------------------------------------------------------------ start */

  function boot() {
    document.documentElement.lang = state.lang;
    document.title = t('app.title');
    window.addEventListener('hashchange', function () { render(true); });
    request('GET', '/me').then(function (me) {
      state.me = me;
      state.csrf = me.csrf_token || null;
      render();
    }, function (err) {
      state.me = null;
      render();
      if (err.status && err.status !== 401) {
        var box = document.querySelector('[data-testid="login-error"]');
        if (box) { box.textContent = err.message; box.className = 'message message-error'; box.hidden = false; }
      }
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
