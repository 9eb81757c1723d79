/* samtale dashboard: a single-page app with hash routing, no framework, no build step.
 *
 * Rules kept throughout this file (the page runs under a strict Content-Security-Policy and
 * shows social content, which is hostile input):
 *  - the DOM is built with createElement and textContent, never innerHTML;
 *  - no inline styles or event handlers: classes and addEventListener only;
 *  - every visible string comes from web/i18n.js (window.SamtaleI18n);
 *  - text from a person or a network (names, posts, messages, addresses, the server's error
 *    messages, which may quote input) sits in an element of its own with dir="auto"
 *    (setUserText, the h() prop `user`, userText()), and so does every string parameter of a
 *    translated sentence (setT): right-to-left text and format characters such as U+202E
 *    stay inside it and cannot reorder the words around it;
 *  - every address made into a link or sent to the browser passes checkedUrl(): absolute
 *    http(s) without credentials, or one of the dashboard's own #/ routes; anything else stays text.
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
  var KIND_SETTINGS = { file: ['path'], webhook: ['url'], feed: ['url'], bluesky: ['handle', 'service_url'], mastodon: ['instance_url'] };
  // The settings fields of the channel form: the keys the server knows, how to ask for them.
  var SETTING_FIELDS = [
    { key: 'handle', type: 'text', label: 'channels.field.handle', hint: 'channels.hint.handle', missing: 'channels.err.handle' },
    { key: 'instance_url', type: 'url', label: 'channels.field.instanceUrl', hint: 'channels.hint.instanceUrl', missing: 'channels.err.url', placeholder: 'https://', url: true },
    { key: 'url', type: 'url', label: 'channels.field.url', hint: 'channels.hint.url', missing: 'channels.err.url', placeholder: 'https://', url: true, wide: true,
      byKind: { feed: { label: 'channels.field.feedUrl', hint: 'channels.hint.feedUrl' } } },
    { key: 'path', type: 'text', label: 'channels.field.path', hint: 'channels.hint.path', missing: 'channels.err.path' },
    { key: 'service_url', type: 'url', label: 'channels.field.serviceUrl', hint: 'channels.hint.serviceUrl', placeholder: 'https://bsky.social', url: true, optional: true, wide: true }
  ];
  var READING_KINDS = ['bluesky', 'mastodon']; // the kinds whose mentions and messages samtale reads
  var STATUSES = ['active', 'reconnect', 'paused', 'error', 'disabled'];
  var SS_CONNECT = 'samtale.connecting'; // a Mastodon connection under way, kept across the trip to the instance
  var ROLES = ['owner', 'editor', 'agent', 'viewer'];
  var SCOPES = ['workspaces:read', 'workspaces:write', 'members:read', 'members:write',
    'tokens:read', 'tokens:write', 'channels:read', 'channels:write', 'audit:read'];

  var SECTIONS = [
    { id: 'calendar', nav: 'nav.calendar', icon: 'calendar', view: calendarView },
    { id: 'composer', nav: 'nav.composer', icon: 'composer', view: composerView },
    { id: 'inbox', nav: 'nav.inbox', icon: 'inbox', view: inboxView },
    { id: 'listening', nav: 'nav.listening', icon: 'listening', view: placeholderView },
    { id: 'people', nav: 'nav.people', icon: 'people', view: placeholderView },
    { id: 'goals', nav: 'nav.goals', icon: 'goals', view: placeholderView },
    { id: 'contests', nav: 'nav.contests', icon: 'contests', view: placeholderView },
    { id: 'settings/channels', nav: 'nav.channels', icon: 'channels', group: 'settings', view: channelsView },
    { id: 'settings/members', nav: 'nav.members', icon: 'members', group: 'settings', view: membersView },
    { id: 'settings/tokens', nav: 'nav.tokens', icon: 'tokens', group: 'settings', view: tokensView },
    { id: 'settings/account', nav: 'nav.account', icon: 'account', group: 'settings', view: accountView }
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
    calendarView: 'week',  // the calendar's last view: week or month
    calendarFocus: null,   // an instant the calendar opens on next (after scheduling a post)
    connectReturn: null,   // the outcome of a trip to a Mastodon instance, for the channels page
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
    fillT(el, key, params);
    return el;
  }

  // The translated sentence as the element's content, each string parameter (a name, an
  // address, the server's words) in an isolating <bdi> of its own; numbers stay plain text.
  function fillT(el, key, params) {
    var values = [];
    var marked = null;
    if (params) {
      marked = {};
      Object.keys(params).forEach(function (k) {
        if (typeof params[k] !== 'string') { marked[k] = params[k]; return; }
        marked[k] = '\uE000' + values.length + '\uE001';
        values.push(params[k]);
      });
    }
    var parts = t(key, marked).split(/\uE000(\d+)\uE001/);
    el.textContent = '';
    parts.forEach(function (part, i) {
      if (i % 2) el.appendChild(userText(values[Number(part)]));
      else if (part) el.appendChild(document.createTextNode(part));
    });
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
      fillT(el, el.getAttribute('data-i18n'), params);
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
    // Views with text formatted by Intl (calendar days, slot times) redraw it.
    document.dispatchEvent(new CustomEvent('samtale-language'));
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

  // h(tag, props, ...children). props: class, t (i18n key), tp (its params), text (our own
  // text: numbers, dates, codes), user (text from a person or a network: see setUserText),
  // on ({event: fn}), attrs ({attr: i18n key}), testid, href and src (through checkedUrl: an
  // address it refuses is left out), and plain attributes. Children are nodes, strings (as
  // text), arrays, or null. Text inputs and textareas get dir="auto".
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
          case 'user': setUserText(el, v); break;
          case 'href': case 'src': setLink(el, k, v); break;
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
    // What a person types may be in any script: the field follows the text's direction.
    if ((tag === 'textarea' || (tag === 'input' && TEXT_INPUTS.indexOf(el.type) >= 0)) && !el.hasAttribute('dir')) el.setAttribute('dir', 'auto');
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }

  var TEXT_INPUTS = ['text', 'search', 'email', 'url', 'tel'];

  // Shows text from a person or a network (a name, a post, a message, an address, an error
  // message that may quote input) as el's whole content, with dir="auto": the element
  // isolates it, so right-to-left text and format characters (U+202E and the like) in it
  // cannot reorder the labels around it, and it runs in its own direction. Returns el.
  function setUserText(el, text) {
    el.setAttribute('dir', 'auto');
    el.textContent = text === null || text === undefined ? '' : String(text);
    return el;
  }

  // Text from a person or a network inside other text: a <bdi> of its own (see setUserText).
  function userText(text, props) {
    var el = h('bdi', props);
    return setUserText(el, text);
  }

  /* Links: every address the dashboard links to or sends the browser to passes checkedUrl. */

  var OWN_ROUTE = /^#\/[A-Za-z0-9_\/?=&%.-]*$/; // the dashboard's own routes: #/w/1/calendar

  // The address to use for url, or null when it must not become a link: only absolute http(s)
  // addresses without user name or password, and the dashboard's own #/ routes. Refused:
  // other schemes (javascript:, data:, vbscript:), protocol-relative //host, credentials,
  // and control, format (U+202E ...) or space characters anywhere (the URL parser would
  // quietly drop some of them, so that the link would go elsewhere than it reads).
  function checkedUrl(url, image) {
    // An image may also be a base64 data URI of an SVG or PNG (the server's QR codes).
    if (image && typeof url === 'string' && url.length < 2000000 &&
        /^data:image\/(svg\+xml|png);base64,[A-Za-z0-9+\/]+={0,2}$/.test(url)) return url;
    if (typeof url !== 'string' || !url || url.length > 4096) return null;
    if (/[\p{Cc}\p{Cf}\p{Z}]/u.test(url)) return null;
    if (OWN_ROUTE.test(url)) return url;
    if (!/^https?:\/\/[^\/\\]/i.test(url)) return null;
    var u;
    try { u = new URL(url); } catch (e) { return null; }
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname || u.username || u.password) return null;
    return u.href;
  }

  function isExternal(href) { return /^https?:/i.test(href); }

  // Sets el's href (or src) to url when checkedUrl allows it; a link out of the dashboard
  // opens in a new tab with rel="noopener noreferrer". False when url was refused.
  function setLink(el, attr, url) {
    var href = checkedUrl(url, attr === 'src' && el.tagName === 'IMG');
    if (!href) { el.removeAttribute(attr); return false; }
    el.setAttribute(attr, href);
    if (attr === 'href' && isExternal(href)) {
      el.setAttribute('rel', 'noopener noreferrer');
      el.setAttribute('target', '_blank');
    }
    return true;
  }

  // A link to url with children as its content, or, when checkedUrl refuses url, the same
  // content in a <span> that links nowhere (props go to either).
  function link(url, props) {
    var el = h(checkedUrl(url) ? 'a' : 'span', props);
    setLink(el, 'href', url);
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
    settings: [['path', { d: 'M4 21v-7M4 10V3M12 21v-9M12 8V3M20 21v-5M20 12V3M1 14h6M9 8h6M17 16h6' }]],
    account: [['rect', { x: 5, y: 11, width: 14, height: 10, rx: 2 }], ['path', { d: 'M8 11V7a4 4 0 0 1 8 0v4' }]]
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
      setUserText(f.err, message); // ours, or the server's words, which may quote input
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
      clear: function () { box.hidden = true; box.textContent = ''; box.removeAttribute('dir'); box.removeAttribute('data-i18n'); box.removeAttribute('data-i18n-params'); }
    };
    function show(el, cls, message, live) {
      el.className = 'message ' + cls;
      el.setAttribute('aria-live', live);
      el.setAttribute('role', cls === 'message-error' ? 'alert' : 'status');
      el.removeAttribute('data-i18n');
      el.removeAttribute('data-i18n-params');
      el.removeAttribute('dir');
      if (message !== null) setUserText(el, message); // the server's words may quote input
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

  function ApiError(status, code, message, field, retryAfter, violations, detail) {
    this.detail = detail || {};   // the whole error object (a login's second-factor challenge)
    this.status = status;
    this.code = code;
    this.message = message;
    this.field = field || null;
    this.retryAfter = retryAfter || null;
    this.violations = Array.isArray(violations) ? violations : []; // a check_blocked answer lists them
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
          e.message || t('error.http', { status: res.status }), e.field, res.headers.get('Retry-After'), e.violations, e);
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
      } else if (err.status === 403 && err.code === 'second_factor_required' && state.me) {
        // The workspace asks for two-step login: the shell shows why and where to turn it on
        // (once: when it already knows, nothing more to do).
        err.handled = true;
        var known = (state.me.memberships || []).some(function (m) { return m.second_factor_required; });
        if (!known) refreshMe();
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

  // A queue range whole (GET .../queue?from=&to=...), following next_cursor: the server
  // answers at most 200 occurrences a page. Resolves the first page's answer with every
  // page's items.
  function queueAll(path) {
    var items = [];
    function page(cursor, left) {
      return call('GET', path + '&limit=200' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '')).then(function (data) {
        data = data || {};
        items = items.concat(Array.isArray(data.items) ? data.items : []);
        if (data.next_cursor && left > 1) return page(data.next_cursor, left - 1);
        data.items = items;
        return data;
      });
    }
    return page(null, 100);
  }

  function listPath(path, cursor) {
    var sep = path.indexOf('?') >= 0 ? '&' : '?';
    return path + sep + 'limit=' + PAGE_SIZE + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
  }

  // Pages through a list endpoint: reload() fetches the first page, more() the next one.
  // path is a string or a function giving it (for lists with filters).
  function pager(path, moreBtn, onPage, onError) {
    var next = null;
    var busy = false;
    var seq = 0;
    function load(reset) {
      if (busy && !reset) return Promise.resolve();
      busy = true;
      var mine = ++seq;
      moreBtn.disabled = true;
      return call('GET', listPath(typeof path === 'function' ? path() : path, reset ? null : next)).then(function (data) {
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

  function routeTo(wid, section) {
    var href = checkedUrl('#/w/' + Number(wid) + '/' + section);
    if (href) location.hash = href;
  }

  // The instance sends the browser back to #/channels?connected=ID or ?connect_error=TEXT
  // (the server's words, or "denied" or "incomplete"). Keeps the outcome for the channels
  // page, which shows it; true when the address was such a return.
  function takeConnectReturn() {
    var m = /^#\/(?:w\/(\d+)\/)?(?:settings\/)?channels\?(.*)$/.exec(location.hash || '');
    if (!m) return false;
    var q;
    try { q = new URLSearchParams(m[2]); } catch (e) { return false; }
    var ret = null;
    if (q.get('connected')) ret = Number(q.get('connected')) > 0 ? { connected: Number(q.get('connected')) } : { error: 'incomplete' };
    else if (q.has('connect_error')) ret = { error: String(q.get('connect_error') || 'incomplete').slice(0, 500) };
    if (!ret) return false;
    ret.pending = pendingConnect();
    ret.wid = m[1] ? Number(m[1]) : (ret.pending ? Number(ret.pending.wid) : null);
    state.connectReturn = ret;
    history.replaceState(null, '', '#/');
    return true;
  }

  // The Mastodon connection the person started in this tab, or null.
  function pendingConnect() {
    try {
      var p = JSON.parse(window.sessionStorage.getItem(SS_CONNECT) || 'null');
      return p && typeof p === 'object' && Date.now() - Number(p.at || 0) < 3600000 ? p : null;
    } catch (e) { return null; }
  }

  function setPendingConnect(p) {
    try {
      if (p) window.sessionStorage.setItem(SS_CONNECT, JSON.stringify(p));
      else window.sessionStorage.removeItem(SS_CONNECT);
    } catch (e) { /* private mode: the return still works, without "Try again" */ }
  }

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

  function render(fromNavigation) {
    var app = document.getElementById('app');
    takeConnectReturn();
    var invite = INVITE_ROUTE.exec(location.hash || '');
    if (!invite && !state.me && state.afterLogin && INVITE_ROUTE.test(state.afterLogin) && location.hash === '#/login') {
      // not yet: the login page shows first, then the invitation again
    }
    if (invite) { destroyShell(); showInvitation(app, invite[1]); return; }
    if (state.me && state.afterLogin && INVITE_ROUTE.test(state.afterLogin)) {
      var back = state.afterLogin;
      state.afterLogin = null;
      history.replaceState(null, '', back);
      destroyShell();
      showInvitation(app, INVITE_ROUTE.exec(back)[1]);
      return;
    }
    if (!state.me) { destroyShell(); showLogin(app); return; }
    if (state.me.password_change_required) { destroyShell(); showPasswordChange(app); return; }
    var ms = state.me.memberships || [];
    if (!ms.length) { destroyShell(); showNoWorkspace(app); return; }

    var r = parseRoute(location.hash);
    if (!r && state.afterLogin) { r = parseRoute(state.afterLogin); }
    state.afterLogin = null;
    if (state.connectReturn) {
      var back = state.connectReturn.wid;
      r = { wid: back && membership(back) ? back : (r && membership(r.wid) ? r.wid : defaultWid()), section: 'settings/channels' };
    }
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

  var INVITE_ROUTE = /^#\/invite\/(inv_[A-Za-z0-9_-]{20,59})$/;

  // The page an invitation link opens: make your account, or join with the one you have.
  function showInvitation(app, secret) {
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
      if (box) { setUserText(box, err.message); box.className = 'message message-error'; box.hidden = false; }
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
      return h('option', { value: String(m.workspace_id), user: m.workspace_name });
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
        h('span', { class: 'user-email', testid: 'user-email', user: state.me.user.email, title: state.me.user.name || state.me.user.email }),
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
      setLink(a, 'href', '#/w/' + r.wid + '/' + id);
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
    if (state.me.failed_logins) s.main.appendChild(failedLoginsBanner(state.me.failed_logins));
    var banner = h('div', { class: 'reconnect-banner', testid: 'reconnect-banner', role: 'status', hidden: true });
    s.main.appendChild(banner);
    var m = membership(r.wid);
    // A workspace that asks for two-step login shows only where to turn it on.
    var gated = m && m.second_factor_required && section.id !== 'settings/account';
    s.main.appendChild(gated ? secondFactorGate(ctx, m) : section.view(ctx));
    if (gated) { state.titleKey = 'gate.title'; updateTitle(); return; }
    // The channels page shows the same warning on each channel's row; a workspace that
    // waits for two-step login shows nothing of its own.
    if (section.id !== 'settings/channels' && !(m && m.second_factor_required)) reconnectBanner(ctx, banner);
    state.titleKey = section.nav;
    updateTitle();
    if (fromNavigation) {
      var heading = s.main.querySelector('h1');
      if (heading) heading.focus();
    }
  }

  // A warning on top of every page while a channel needs reconnecting: its queued posts
  // wait, and the way to the fix is one click away.
  function reconnectBanner(ctx, banner) {
    allChannels(ctx.wid).then(function (list) {
      if (!ctx.alive()) return;
      var need = list.filter(function (ch) { return ch.status === 'reconnect'; });
      clear(banner);
      banner.hidden = !need.length;
      if (!need.length) return;
      var canWrite = ctx.role === 'owner' || ctx.role === 'editor';
      append(banner, [
        h('p', { class: 'reconnect-banner-title', testid: 'reconnect-banner-title', t: 'banner.title', tp: { n: need.length } }),
        h('p', { class: 'reconnect-banner-names' }, need.map(function (ch, i) {
          return [i ? ', ' : null, h('span', { class: 'name', testid: 'reconnect-banner-channel', user: ch.name }), ' ', kindChip(ch.kind)];
        })),
        h('p', { class: 'reconnect-banner-text', t: 'banner.text', tp: { n: need.length } }),
        canWrite ? h('a', { class: 'btn btn-primary btn-small', testid: 'reconnect-banner-link', href: '#/w/' + ctx.wid + '/settings/channels', t: 'banner.link' })
          : h('p', { class: 'hint', t: 'banner.askOwner' })
      ]);
    }, function () { /* the page itself reports what fails */ });
  }

  // Failed logins on the account before this session's login: told once, until dismissed.
  function failedLoginsBanner(f) {
    var box = h('div', { class: 'notice-banner', testid: 'failed-logins-banner', role: 'status' });
    var when = f.last_at ? formatDate(f.last_at) : '';
    append(box, [
      h('p', { class: 'notice-banner-title', t: 'failed.title', tp: { n: f.count } }),
      h('p', { testid: 'failed-logins-text', t: 'failed.text', tp: { n: f.count, when: when, address: f.last_address || '?' } }),
      h('p', { class: 'notice-banner-actions' },
        h('a', { class: 'btn btn-secondary btn-small', testid: 'failed-logins-account', t: 'failed.toAccount',
          href: '#/w/' + (parseRoute(location.hash) || { wid: defaultWid() }).wid + '/settings/account' }),
        ' ',
        button('failed.dismiss', { small: true, testid: 'failed-logins-dismiss', onClick: function () {
          call('DELETE', '/me/failed-logins').then(function () {
            if (state.me) state.me.failed_logins = null;
            box.remove();
          }, function () { /* call() reports it */ });
        } }))
    ]);
    return box;
  }

  // What a workspace that requires two-step login shows to an owner or editor without it.
  function secondFactorGate(ctx, m) {
    return h('section', { class: 'page', testid: 'second-factor-gate', 'aria-labelledby': 'page-title' },
      pageHeader('gate.title', null),
      h('div', { class: 'card' },
        h('p', { t: 'gate.text', tp: { workspace: m.workspace_name, role: t('role.' + m.role) } }),
        h('p', null, h('a', { class: 'btn btn-primary', testid: 'gate-account-link', t: 'gate.link',
          href: '#/w/' + ctx.wid + '/settings/account' }))));
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

  /* ------------------------------------------------------------------ posts: shared helpers */

  var PUBLISHING_KINDS = ['bluesky', 'mastodon', 'file', 'webhook']; // feed and jetstream only listen
  var CATEGORIES = ['value', 'promo', 'personal', 'share', 'dialogue'];
  var OCC_STATES = ['scheduled', 'publishing', 'published', 'failed', 'cancelled'];
  var SCHEDULES = ['now', 'next_slot', 'at', 'draft'];
  var NETWORK_LIMITS = { bluesky: 300, mastodon: 500 };
  var MASTODON_URL_LENGTH = 23;  // Mastodon counts every link as this many characters
  var VARIANTS_MAX = 10;
  var CHECK_DELAY_MS = 400;      // live checks wait this long after the last keystroke
  var REFRESH_MS = 15000;        // the calendar reloads this often while visible
  var REFRESH_BUSY_MS = 2000;    // ... and this often while something is going out
  var REFRESH_BUSY_ROUNDS = 60;  // but no longer than this many rounds in a row
  var KNOWN_RULES = ['P5', 'P6', 'P7a', 'P7b', 'P7c', 'P8a', 'P8b'];

  // Every channel of a workspace, following the list's pages.
  function allChannels(wid) {
    var out = [];
    var pages = 0;
    function page(cursor) {
      return call('GET', '/workspaces/' + wid + '/channels?limit=200' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''))
        .then(function (data) {
          data = data || {};
          out = out.concat(Array.isArray(data.items) ? data.items : []);
          return data.next_cursor && ++pages < 50 ? page(data.next_cursor) : out;
        });
    }
    return page(null);
  }

  function pad2(n) { return (n < 10 ? '0' : '') + n; }

  // A Date as RFC 3339 in the browser's time zone with its offset: 2027-03-28T09:00:00+02:00.
  function rfc3339Local(d) {
    var off = -d.getTimezoneOffset();
    var sign = off >= 0 ? '+' : '-';
    off = Math.abs(off);
    return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + 'T' +
      pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds()) +
      sign + pad2(Math.floor(off / 60)) + ':' + pad2(off % 60);
  }

  function dayKey(d) { return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()); }
  function startOfDay(d) { return new Date(d.getFullYear(), d.getMonth(), d.getDate()); }
  function addDays(d, n) { return new Date(d.getFullYear(), d.getMonth(), d.getDate() + n); }
  function startOfWeek(d) { return addDays(startOfDay(d), -((d.getDay() + 6) % 7)); } // weeks start on Monday

  function fmt(d, opts) {
    try { return new Intl.DateTimeFormat(I.locale(state.lang), opts).format(d); } catch (e) { return d.toLocaleString(); }
  }

  function browserZone() {
    try { return Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch (e) { return ''; }
  }

  /* Lengths the way each network counts them (the server's checks count the same way). */

  var graphemeSegmenter = null;
  function graphemeCount(text) {
    if (graphemeSegmenter === null) {
      try { graphemeSegmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' }); } catch (e) { graphemeSegmenter = false; }
    }
    if (!graphemeSegmenter) return Array.from(text).length;
    return Array.from(graphemeSegmenter.segment(text)).length;
  }

  // A URL found in text loses trailing punctuation and unbalanced closing parentheses.
  function trimUrl(url, scheme) {
    var open = (url.match(/\(/g) || []).length;
    var close = (url.match(/\)/g) || []).length;
    var end = url.length;
    while (end > scheme) {
      var c = url.charAt(end - 1);
      if (c === ')' && close > open) close--;
      else if ('.,:;!?\'"]}>'.indexOf(c) < 0) break;
      end--;
    }
    return url.slice(0, end);
  }

  // Mastodon: characters (code points), with every http(s) URL counting as 23.
  function mastodonLength(text) {
    var re = /https?:\/\/[^\s\u0000-\u0020\u007f-\u009f]+/gi;
    var n = 0;
    var last = 0;
    var m;
    while ((m = re.exec(text))) {
      var start = m.index;
      var scheme = m[0].charAt(4).toLowerCase() === 's' ? 8 : 7;
      var url = trimUrl(m[0], scheme);
      if ((start > 0 && /[A-Za-z0-9]/.test(text.charAt(start - 1))) ||
          !/[A-Za-z0-9\u0080-\uffff]/.test(m[0].charAt(scheme)) || url.length <= scheme) {
        re.lastIndex = start + 1;
        continue;
      }
      n += Array.from(text.slice(last, start)).length + MASTODON_URL_LENGTH;
      last = start + url.length;
      re.lastIndex = last;
    }
    return n + Array.from(text.slice(last)).length;
  }

  function networkLength(kind, text) {
    if (kind === 'bluesky') return graphemeCount(text);
    if (kind === 'mastodon') return mastodonLength(text);
    return Array.from(text).length;
  }

  // The start of a text on one line, cut at max characters.
  function excerpt(text, max) {
    var s = String(text || '').replace(/\s+/g, ' ').trim();
    var chars = Array.from(s);
    return chars.length > max ? chars.slice(0, max - 1).join('').replace(/\s+$/, '') + '\u2026' : s;
  }

  function kindChip(kind) {
    var known = KINDS.indexOf(kind) >= 0;
    return h('span', { class: 'kind kind-' + (known ? kind : 'other'), t: known ? 'kind.short.' + kind : null, user: known ? null : kind });
  }

  function categoryChip(cat) {
    var known = CATEGORIES.indexOf(cat) >= 0;
    return h('span', { class: 'cat cat-' + (known ? cat : 'other'), t: known ? 'category.' + cat : null, user: known ? null : (cat || '') });
  }

  function stateOf(o) { return OCC_STATES.indexOf(o.state) >= 0 ? o.state : 'scheduled'; }

  function statePill(st, testid) {
    return h('span', { class: 'state state-' + st, testid: testid || null, t: 'occ.state.' + st });
  }

  // One finding of the queue checks: severity, rule id and name, the server's explanation,
  // and where and when (channelName maps a channel id to its name).
  function violationItem(v, channelName) {
    var sev = v.severity === 'block' ? 'block' : 'warn';
    var rule = String(v.rule || '?');
    var others = (Array.isArray(v.posts) ? v.posts : []).filter(function (id) { return Number(id) > 0; });
    var where = [];
    if (v.channel_id && channelName) where.push(h('span', { class: 'name', user: channelName(v.channel_id) }));
    if (v.at) where.push(dateEl(v.at));
    return h('li', { class: 'violation violation-' + sev, testid: 'violation', 'data-rule': rule, 'data-severity': sev },
      h('div', { class: 'violation-head' },
        h('span', { class: 'violation-sev', t: sev === 'block' ? 'checks.block' : 'checks.warn' }),
        h('code', { class: 'violation-rule', testid: 'violation-rule', text: rule }),
        KNOWN_RULES.indexOf(rule) >= 0 ? h('span', { class: 'violation-name', t: 'rule.' + rule }) : null),
      h('p', { class: 'violation-msg', testid: 'violation-message', user: v.message || '' }),
      where.length || others.length ? h('p', { class: 'violation-posts' },
        where.length ? [where[0], where[1] ? ' \u00b7 ' : null, where[1] || null] : null,
        where.length && others.length ? ' \u00b7 ' : null,
        others.length ? h('span', { t: 'checks.posts', tp: { ids: others.map(function (id) { return '#' + id; }).join(', ') } }) : null) : null);
  }

  // Blocking findings first.
  function blocksFirst(violations) {
    return violations.slice().sort(function (a, b) { return (b.severity === 'block') - (a.severity === 'block'); });
  }

  function onLanguage(ctx, fn) {
    function listener() {
      if (!ctx.alive()) { document.removeEventListener('samtale-language', listener); return; }
      fn();
    }
    document.addEventListener('samtale-language', listener);
  }

  /* ------------------------------------------------------------------ composer */

  function composerView(ctx) {
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
        fText.wrap, variantSet,
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
      var key = !schedule ? 'composer.done.draft' : schedule === 'now' ? 'composer.done.now' : 'composer.done.scheduled';
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
            dateEl(o.planned_at));
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

  /* ------------------------------------------------------------------ calendar */

  function calendarView(ctx) {
    var wid = ctx.wid;
    var canWrite = ctx.role === 'owner' || ctx.role === 'editor';
    var view = state.calendarView === 'month' ? 'month' : 'week';
    var anchor = startOfDay(state.calendarFocus ? new Date(state.calendarFocus) : new Date());
    if (isNaN(anchor.getTime())) anchor = startOfDay(new Date());
    state.calendarFocus = null;

    var channelById = {};
    var items = [];
    var loaded = false;
    var seq = 0;
    var timer = null;
    var busyRounds = 0;
    var openId = null;          // the occurrence in the details panel
    var detailsNotice = null;   // i18n key of a notice shown in the panel
    var engagement = {};        // post id -> { items, busy, error, note }: counts after publishing
    var msg = messageBox('calendar-message');

    var rangeLabel = h('h2', { class: 'cal-range', id: 'cal-range', testid: 'calendar-range', 'aria-live': 'polite' });
    var prevBtn = h('button', { type: 'button', class: 'btn btn-secondary btn-small', testid: 'calendar-prev' },
      h('span', { 'aria-hidden': 'true', text: '\u2039 ' }), h('span', { t: 'calendar.prev' }));
    var todayBtn = button('calendar.today', { small: true, testid: 'calendar-today' });
    var nextBtn = h('button', { type: 'button', class: 'btn btn-secondary btn-small', testid: 'calendar-next' },
      h('span', { t: 'calendar.next' }), h('span', { 'aria-hidden': 'true', text: ' \u203a' }));
    var weekBtn = h('button', { type: 'button', class: 'seg', testid: 'calendar-view-week', t: 'calendar.week' });
    var monthBtn = h('button', { type: 'button', class: 'seg', testid: 'calendar-view-month', t: 'calendar.month' });
    var viewGroup = h('div', { class: 'segmented', role: 'group' }, weekBtn, monthBtn);
    setTAttr(viewGroup, 'aria-label', 'calendar.viewLabel');
    var channelFilter = h('select', { id: 'cal-channel', testid: 'calendar-channel' },
      h('option', { value: '', t: 'calendar.allChannels' }));
    var newPost = canWrite ? h('a', { class: 'btn btn-primary btn-small', href: '#/w/' + wid + '/composer', testid: 'calendar-new-post', t: 'calendar.newPost' }) : null;
    var body = h('div', { class: 'cal-body', testid: 'calendar-body' }, h('p', { class: 'muted cal-loading', t: 'list.loading' }));
    var legend = h('ul', { class: 'legend', testid: 'calendar-legend' }, OCC_STATES.map(function (st) { return h('li', null, statePill(st)); }));
    setTAttr(legend, 'aria-label', 'calendar.legend');

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
        var vs = data && Array.isArray(data.violations) ? data.violations : [];
        var blocks = vs.filter(function (v) { return v.severity === 'block'; }).length;
        clear(qList);
        if (!vs.length) {
          qStatus.className = 'checks-status checks-ok';
          setT(qStatus, 'queueChecks.none');
        } else {
          qStatus.className = 'checks-status' + (blocks ? ' checks-has-block' : ' checks-has-warn');
          setT(qStatus, blocks ? 'queueChecks.summaryBlock' : 'checks.summaryWarn', { n: blocks || vs.length });
          blocksFirst(vs).forEach(function (v) { qList.appendChild(violationItem(v, channelName)); });
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

    var details = h('dialog', { class: 'dialog drawer', testid: 'occurrence-details', 'aria-labelledby': 'details-title' });
    details.addEventListener('close', function () {
      var id = openId;
      openId = null;
      detailsNotice = null;
      var back = id ? body.querySelector('[data-occurrence-id="' + id + '"]') : null;
      if (back) back.focus();
    });

    var page = h('section', { class: 'page page-wide', testid: 'section-calendar', 'aria-labelledby': 'page-title' },
      pageHeader('nav.calendar', 'calendar.lead'),
      msg.el,
      h('div', { class: 'card cal-card' },
        h('div', { class: 'cal-toolbar' },
          h('div', { class: 'cal-nav' }, prevBtn, todayBtn, nextBtn),
          rangeLabel,
          h('div', { class: 'cal-tools' },
            h('label', { for: 'cal-channel', class: 'visually-hidden', t: 'calendar.channelFilter' }), channelFilter,
            viewGroup, newPost)),
        legend,
        body),
      queueChecks,
      feedCard,
      details);

    function range() {
      if (view === 'month') {
        var first = new Date(anchor.getFullYear(), anchor.getMonth(), 1);
        var last = new Date(anchor.getFullYear(), anchor.getMonth() + 1, 0);
        return { from: startOfWeek(first), to: addDays(startOfWeek(last), 7) };
      }
      var from = startOfWeek(anchor);
      return { from: from, to: addDays(from, 7) };
    }

    function channelName(id) {
      var ch = channelById[id];
      return ch ? ch.name : t('calendar.unknownChannel', { id: id });
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
        return st === 'scheduled' && due <= now + 5000;
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

    function load() {
      var r = range();
      var mine = ++seq;
      stopTimer();
      var path = '/workspaces/' + wid + '/queue?from=' + encodeURIComponent(rfc3339Local(r.from)) +
        '&to=' + encodeURIComponent(rfc3339Local(r.to)) + (channelFilter.value ? '&channel=' + encodeURIComponent(channelFilter.value) : '');
      body.setAttribute('aria-busy', 'true');
      return queueAll(path).then(function (data) {
        if (mine !== seq || !ctx.alive()) return;
        items = data && Array.isArray(data.items) ? data.items : [];
        loaded = true;
        msg.clear();
        render();
        planRefresh();
        if (Date.now() - lastQueueCheck > 60000) loadQueueChecks();
      }, function (err) {
        if (mine !== seq || !ctx.alive()) return;
        body.removeAttribute('aria-busy');
        showError(msg, err);
        if (!err.handled) planRefresh();
      });
    }

    function go(newAnchor, newView) {
      anchor = startOfDay(newAnchor);
      if (newView) { view = newView; state.calendarView = newView; }
      busyRounds = 0;
      renderFrame();
      load();
    }

    // A month is anchored on its first day, or on today in the current month (so that the
    // week view opens on the current week after a trip through the months).
    function monthAnchor(delta) {
      var first = new Date(anchor.getFullYear(), anchor.getMonth() + delta, 1);
      var today = new Date();
      return first.getFullYear() === today.getFullYear() && first.getMonth() === today.getMonth() ? today : first;
    }
    prevBtn.addEventListener('click', function () { go(view === 'month' ? monthAnchor(-1) : addDays(anchor, -7)); });
    nextBtn.addEventListener('click', function () { go(view === 'month' ? monthAnchor(1) : addDays(anchor, 7)); });
    todayBtn.addEventListener('click', function () { go(new Date()); });
    weekBtn.addEventListener('click', function () { if (view !== 'week') go(anchor, 'week'); });
    monthBtn.addEventListener('click', function () { if (view !== 'month') go(anchor, 'month'); });
    channelFilter.addEventListener('change', function () { busyRounds = 0; load(); });

    // The parts that follow the range and the view, drawn before the items arrive.
    function renderFrame() {
      var r = range();
      if (view === 'month') {
        rangeLabel.textContent = fmt(anchor, { month: 'long', year: 'numeric' });
      } else {
        var last = addDays(r.from, 6);
        var text;
        try { text = new Intl.DateTimeFormat(I.locale(state.lang), { day: 'numeric', month: 'short', year: 'numeric' }).formatRange(r.from, last); }
        catch (e) { text = fmt(r.from, { day: 'numeric', month: 'short' }) + ' \u2013 ' + fmt(last, { day: 'numeric', month: 'short', year: 'numeric' }); }
        rangeLabel.textContent = text;
      }
      weekBtn.setAttribute('aria-pressed', String(view === 'week'));
      monthBtn.setAttribute('aria-pressed', String(view === 'month'));
      setTAttr(prevBtn, 'aria-label', view === 'month' ? 'calendar.prevMonth' : 'calendar.prevWeek');
      setTAttr(nextBtn, 'aria-label', view === 'month' ? 'calendar.nextMonth' : 'calendar.nextWeek');
      body.setAttribute('data-view', view);
    }

    function byDay() {
      var map = {};
      items.slice().sort(function (a, b) {
        return Date.parse(a.planned_at) - Date.parse(b.planned_at) || a.channel_id - b.channel_id || a.id - b.id;
      }).forEach(function (o) {
        var d = new Date(o.planned_at);
        if (isNaN(d.getTime())) return;
        (map[dayKey(d)] = map[dayKey(d)] || []).push(o);
      });
      return map;
    }

    function occButton(o, compact) {
      var st = stateOf(o);
      var cat = o.category || 'value';
      var errId = o.error ? 'occ-err-' + o.id : null;
      var b = h('button', { type: 'button', class: 'occ occ-' + st + (compact ? ' occ-compact' : ''), testid: 'occurrence',
        'data-state': st, 'data-occurrence-id': String(o.id), 'data-post-id': String(o.post_id), 'aria-describedby': errId },
        h('span', { class: 'occ-top' },
          h('time', { class: 'occ-time', datetime: o.planned_at, text: fmt(new Date(o.planned_at), { hour: '2-digit', minute: '2-digit' }) }),
          statePill(st, 'occurrence-state')),
        h('span', { class: 'occ-channel', testid: 'occurrence-channel', user: channelName(o.channel_id) }),
        h('span', { class: 'occ-text', testid: 'occurrence-text', user: excerpt(o.text, compact ? 60 : 110) }),
        compact ? null : h('span', { class: 'occ-meta' }, categoryChip(cat)),
        o.error ? h('span', { class: 'occ-error', id: errId, role: 'tooltip', testid: 'occurrence-error' },
          h('span', { class: 'occ-error-label', t: st === 'failed' ? 'calendar.failedBecause' : 'calendar.retryBecause' }), ' ', userText(o.error)) : null);
      b.addEventListener('click', function () { openDetails(o.id); });
      return b;
    }

    function render() {
      renderFrame();
      body.removeAttribute('aria-busy');
      clear(body);
      var r = range();
      var map = byDay();
      var today = dayKey(new Date());
      if (view === 'week') {
        var week = h('div', { class: 'cal-week', testid: 'calendar-week' });
        for (var i = 0; i < 7; i++) {
          var day = addDays(r.from, i);
          var key = dayKey(day);
          var its = map[key] || [];
          var headId = 'cal-day-' + key;
          week.appendChild(h('section', { class: 'cal-day' + (key === today ? ' is-today' : '') + (key < today ? ' is-past' : ''),
            testid: 'calendar-day', 'data-date': key, 'aria-labelledby': headId },
            h('h3', { class: 'cal-day-head', id: headId },
              h('span', { class: 'cal-dow', text: fmt(day, { weekday: 'short' }) }),
              h('span', { class: 'cal-date', text: fmt(day, { day: 'numeric', month: 'short' }) }),
              key === today ? h('span', { class: 'cal-today-badge', t: 'calendar.todayBadge' }) : null),
            its.length ? h('ol', { class: 'cal-items' }, its.map(function (o) { return h('li', null, occButton(o, false)); }))
              : h('p', { class: 'cal-none', t: 'calendar.dayEmpty' })));
        }
        body.appendChild(week);
      } else {
        var month = h('div', { class: 'cal-month', testid: 'calendar-month' });
        for (var k = 0; k < 7; k++) month.appendChild(h('div', { class: 'cal-month-dow', 'aria-hidden': 'true', text: fmt(addDays(r.from, k), { weekday: 'short' }) }));
        for (var d = r.from; d < r.to; d = addDays(d, 1)) month.appendChild(monthCell(d, map[dayKey(d)] || [], today));
        body.appendChild(month);
      }
      if (!items.length) {
        body.appendChild(h('p', { class: 'cal-empty', testid: 'calendar-empty' },
          h('span', { t: view === 'month' ? 'calendar.emptyMonth' : 'calendar.emptyWeek' }), ' ',
          canWrite ? h('a', { href: '#/w/' + wid + '/composer', t: 'calendar.emptyLink' }) : null));
      }
      if (openId !== null) renderDetails();
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
        shown.length ? h('ol', { class: 'cal-items' }, shown.map(function (o) { return h('li', null, occButton(o, true)); })) : null,
        more > 0 ? h('button', { type: 'button', class: 'btn btn-link cal-more', testid: 'calendar-more', t: 'calendar.more', tp: { n: more },
          on: { click: function () { go(day, 'week'); } } }) : null);
    }

    /* the details panel */

    function find(id) {
      for (var i = 0; i < items.length; i++) if (items[i].id === id) return items[i];
      return null;
    }

    function openDetails(id) {
      openId = id;
      detailsNotice = null;
      renderDetails();
      if (!details.open) details.showModal();
      var title = details.querySelector('h2');
      if (title) title.focus();
      var o = find(id);
      if (o && stateOf(o) === 'published') loadEngagement(o.post_id, false);
    }

    /* engagement: likes, reposts, replies and quotes of each published copy, fetched at
       checkpoints after publishing (and on request) */

    function loadEngagement(postId, refresh) {
      var e = engagement[postId] || (engagement[postId] = { items: null, busy: false, error: null, note: null });
      if (e.busy) return;
      e.busy = true;
      e.error = null;
      e.note = null;
      if (openId !== null) renderDetails();
      call(refresh ? 'POST' : 'GET', '/workspaces/' + wid + '/posts/' + postId + '/engagement').then(function (data) {
        e.busy = false;
        data = data || {};
        e.items = Array.isArray(data.items) ? data.items : [];
        if (refresh) e.note = { fetched: Number(data.fetched) || 0, failed: Number(data.failed) || 0 };
        if (ctx.alive() && openId !== null) renderDetails();
      }, function (err) {
        e.busy = false;
        if (err.handled) return;
        e.error = err.message;
        if (ctx.alive() && openId !== null) renderDetails();
      });
    }

    function afterLabel(secs) {
      secs = Number(secs) || 0;
      if (secs <= 0) return h('span', { t: 'engagement.now' });
      if (secs % 86400 === 0) return h('span', { t: 'engagement.afterDays', tp: { n: secs / 86400 } });
      if (secs % 3600 === 0) return h('span', { t: 'engagement.afterHours', tp: { n: secs / 3600 } });
      return h('span', { t: 'engagement.afterMinutes', tp: { n: Math.max(1, Math.round(secs / 60)) } });
    }

    function countCell(v) {
      if (v === null || v === undefined || typeof v !== 'number') return h('td', { class: 'num muted', text: '\u2014' });
      var text;
      try { text = new Intl.NumberFormat(I.locale(state.lang)).format(v); } catch (e) { text = String(v); }
      return h('td', { class: 'num', text: text });
    }

    var ENGAGEMENT_COUNTS = ['likes', 'reposts', 'replies', 'quotes'];

    // One published copy's counts: a row per checkpoint, the on-request one last.
    function engagementTable(occId, rows) {
      rows = rows.slice().sort(function (a, b) {
        var x = Number(a.after_seconds) || Infinity;
        var y = Number(b.after_seconds) || Infinity;
        return x - y || Date.parse(a.due_at) - Date.parse(b.due_at);
      });
      return h('table', { class: 'engagement-table', testid: 'engagement-table', 'data-occurrence-id': String(occId) },
        h('caption', null, h('span', { class: 'name', user: channelName(rows[0].channel_id) }),
          occId === openId ? null : h('span', { class: 'muted', text: ' #' + occId })),
        h('thead', null, h('tr', null,
          h('th', { scope: 'col' }, h('span', { class: 'visually-hidden', t: 'engagement.when' })),
          ENGAGEMENT_COUNTS.map(function (k) { return h('th', { scope: 'col', class: 'num', t: 'engagement.' + k }); }))),
        h('tbody', null, rows.map(function (r) {
          var when = r.fetched_at ? h('span', { class: 'engagement-at' }, dateEl(r.fetched_at))
            : h('span', { class: 'engagement-at' }, h('span', { t: 'engagement.due' }), ' ', dateEl(r.due_at));
          var cells;
          if (r.error) cells = h('td', { colspan: '4', class: 'engagement-err', testid: 'engagement-error-text', user: r.error });
          else if (!r.fetched_at) cells = h('td', { colspan: '4', class: 'muted', t: 'engagement.pending' });
          else cells = ENGAGEMENT_COUNTS.map(function (k) { return countCell(r[k]); });
          return h('tr', { testid: 'engagement-row', 'data-after': String(Number(r.after_seconds) || 0), 'data-fetched': r.fetched_at ? '1' : '0' },
            h('th', { scope: 'row' }, afterLabel(r.after_seconds), when), cells);
        })));
    }

    function engagementSection(o) {
      var e = engagement[o.post_id] || { items: null, busy: true };
      var refresh = button('engagement.refresh', { small: true, testid: 'engagement-refresh', onClick: function () { loadEngagement(o.post_id, true); } });
      var content;
      if (e.error) {
        content = h('p', { class: 'message message-error', testid: 'engagement-error', user: e.error });
      } else if (!e.items) {
        content = h('p', { class: 'muted', t: 'list.loading' });
      } else if (!e.items.length) {
        content = h('p', { class: 'muted', testid: 'engagement-none', t: 'engagement.none' });
      } else {
        var groups = {};
        var order = [];
        e.items.forEach(function (r) {
          var k = r.occurrence_id;
          if (!groups[k]) { groups[k] = []; order.push(k); }
          groups[k].push(r);
        });
        order.sort(function (a, b) { return (b === o.id) - (a === o.id) || a - b; });
        content = order.map(function (k) { return engagementTable(k, groups[k]); });
      }
      return h('section', { class: 'engagement', testid: 'details-engagement', 'aria-labelledby': 'engagement-title', 'aria-busy': e.busy ? 'true' : null },
        h('div', { class: 'engagement-head' }, h('h3', { id: 'engagement-title', t: 'engagement.title' }), refresh),
        h('p', { class: 'hint', t: 'engagement.lead' }),
        content,
        e.note ? h('p', { class: 'hint engagement-note', testid: 'engagement-note', role: 'status',
          t: e.note.failed ? 'engagement.refreshedFailed' : 'engagement.refreshed', tp: { n: e.note.fetched, failed: e.note.failed } }) : null);
    }

    function renderDetails() {
      var o = find(openId);
      if (!o) { if (details.open) details.close(); return; }
      // The panel is drawn anew: the control that had the focus gets it back.
      var focused = details.contains(document.activeElement) ? document.activeElement.getAttribute('data-testid') : null;
      var st = stateOf(o);
      var ch = channelById[o.channel_id];
      var detailsMsg = messageBox('details-message');
      var cancelBtn = st === 'scheduled' && canWrite ? button('calendar.cancelPost', { kind: 'danger-quiet', testid: 'details-cancel', onClick: function () {
        confirmDialog('calendar.cancelTitle', 'calendar.cancelText', { channel: channelName(o.channel_id) }, 'calendar.cancelConfirm').then(function (ok) {
          if (!ok || !ctx.alive()) return;
          cancelBtn.disabled = true;
          call('POST', '/workspaces/' + wid + '/posts/' + o.post_id + '/cancel').then(function (post) {
            if (!ctx.alive()) return;
            (post && Array.isArray(post.occurrences) ? post.occurrences : []).forEach(function (p) {
              var mineOcc = find(p.id);
              if (mineOcc) mineOcc.state = p.state;
            });
            detailsNotice = 'calendar.cancelled';
            render();
            lastQueueCheck = 0;
            load();
          }, function (err) {
            cancelBtn.disabled = false;
            showError(detailsMsg, err);
          });
        });
      } }) : null;
      var rows = [
        ['calendar.details.when', dateEl(o.planned_at)],
        ['calendar.details.channel', h('span', null, h('span', { class: 'name', testid: 'details-channel', user: channelName(o.channel_id) }), ' ',
          ch ? kindChip(ch.kind) : null, ch && ch.timezone ? [' ', h('span', { class: 'muted', testid: 'details-timezone', user: ch.timezone })] : null)],
        ['calendar.details.category', categoryChip(o.category)],
        o.published_at ? ['calendar.details.published', dateEl(o.published_at)] : null,
        o.next_attempt_at ? ['calendar.details.retry', dateEl(o.next_attempt_at)] : null,
        o.attempts ? ['calendar.details.attempts', h('span', { text: String(o.attempts) })] : null,
        o.remote_url ? ['calendar.details.remote', link(o.remote_url, { class: 'details-remote', testid: 'details-remote' }, userText(o.remote_url))] : null,
        ['calendar.details.post', h('span', { text: '#' + o.post_id })]
      ].filter(Boolean);
      clear(details);
      append(details, [
        h('div', { class: 'drawer-head' },
          h('h2', { id: 'details-title', tabindex: '-1', t: 'calendar.details.title' }),
          h('button', { type: 'button', class: 'btn btn-secondary btn-small', testid: 'details-close', t: 'calendar.close',
            on: { click: function () { details.close(); } } })),
        h('p', { class: 'details-state' }, statePill(st, 'details-state')),
        detailsNotice ? h('p', { class: 'message message-ok', role: 'status', testid: 'details-notice', t: detailsNotice }) : null,
        o.error ? h('div', { class: 'details-error', testid: 'details-error', role: st === 'failed' ? 'alert' : null },
          h('p', { class: 'details-error-title', t: st === 'failed' ? 'calendar.failedBecause' : 'calendar.retryBecause' }),
          h('p', { user: o.error }),
          st === 'failed' ? h('p', { class: 'hint', t: 'calendar.failedHelp' }) : null) : null,
        h('dl', { class: 'details-list' }, rows.map(function (r) { return [h('dt', { t: r[0] }), h('dd', null, r[1])]; })),
        h('h3', { class: 'details-text-title', t: 'calendar.details.text' }),
        h('p', { class: 'details-text', testid: 'details-text', user: o.text || '' }),
        st === 'published' ? engagementSection(o) : null,
        detailsMsg.el,
        h('div', { class: 'dialog-actions' }, cancelBtn)
      ]);
      if (focused) {
        var again = details.querySelector('[data-testid="' + focused + '"]');
        if (again && !again.disabled) again.focus();
      }
    }

    onLanguage(ctx, function () { if (loaded) render(); else renderFrame(); });

    renderFrame();
    allChannels(wid).then(function (list) {
      if (!ctx.alive()) return;
      list.forEach(function (ch) { channelById[ch.id] = ch; });
      list.filter(function (ch) { return PUBLISHING_KINDS.indexOf(ch.kind) >= 0; }).forEach(function (ch) {
        channelFilter.appendChild(h('option', { value: String(ch.id), user: ch.name }));
      });
      return load();
    }, function (err) {
      if (!ctx.alive()) return;
      showError(msg, err);
      return load();
    });

    return page;
  }

  /* ------------------------------------------------------------------ inbox */

  var MESSAGE_KINDS = ['mention', 'reply', 'quote', 'direct'];

  function inboxView(ctx) {
    var wid = ctx.wid;
    var base = '/workspaces/' + wid + '/messages';
    var channels = null;        // every channel of the workspace, once loaded
    var messages = [];
    var loaded = false;
    var listMsg = messageBox('inbox-message');

    var channelSel = h('select', { id: 'inbox-channel', testid: 'inbox-channel' }, h('option', { value: '', t: 'inbox.allChannels' }));
    var kindSel = h('select', { id: 'inbox-kind', testid: 'inbox-kind' }, h('option', { value: '', t: 'inbox.allKinds' }),
      MESSAGE_KINDS.map(function (k) { return h('option', { value: k, t: 'message.kind.' + k }); }));
    var checkBtn = button('inbox.check', { kind: 'primary', small: true, testid: 'inbox-check' });
    var checkStatus = h('div', { class: 'inbox-check-status', testid: 'inbox-check-status', role: 'status', 'aria-live': 'polite', hidden: true });
    var listEl = h('ol', { class: 'inbox-list', testid: 'inbox-list', 'aria-labelledby': 'inbox-list-title' });
    var empty = h('div', { class: 'inbox-empty', testid: 'inbox-empty', hidden: true });
    var more = button('list.more', { testid: 'inbox-more' });
    var count = h('span', { class: 'count', testid: 'inbox-count' });

    var page = h('section', { class: 'page', testid: 'section-inbox', 'aria-labelledby': 'page-title' },
      pageHeader('nav.inbox', 'inbox.lead'),
      h('div', { class: 'card inbox-card' },
        h('div', { class: 'inbox-toolbar' },
          h('div', { class: 'inbox-filters' },
            h('div', { class: 'field' }, h('label', { for: 'inbox-channel', class: 'label', t: 'inbox.filterChannel' }), channelSel),
            h('div', { class: 'field' }, h('label', { for: 'inbox-kind', class: 'label', t: 'inbox.filterKind' }), kindSel)),
          checkBtn),
        checkStatus,
        h('div', { class: 'card-head' }, h('h2', { id: 'inbox-list-title', t: 'inbox.listHeading' }), count),
        listMsg.el,
        listEl, empty,
        h('div', { class: 'list-foot' }, more)));

    function path() {
      var q = [];
      if (channelSel.value) q.push('channel=' + encodeURIComponent(channelSel.value));
      if (kindSel.value) q.push('kind=' + encodeURIComponent(kindSel.value));
      return base + (q.length ? '?' + q.join('&') : '');
    }

    function messageItem(m) {
      var kind = MESSAGE_KINDS.indexOf(m.kind) >= 0 ? m.kind : null;
      var author = m.author || {};
      var handle = typeof author.handle === 'string' ? author.handle.replace(/^@/, '') : '';
      var name = typeof author.name === 'string' ? author.name.trim() : '';
      var url = checkedUrl(m.remote_url);
      if (url && !isExternal(url)) url = null; // a network's address, never one of our routes
      var textId = 'msg-text-' + m.id;
      var text = h('p', { class: 'msg-text is-clamped', id: textId, testid: 'inbox-text', user: m.text || '' });
      var toggle = h('button', { type: 'button', class: 'btn btn-link msg-toggle', testid: 'inbox-text-toggle', 'aria-controls': textId,
        'aria-expanded': 'false', t: 'inbox.showMore', hidden: true });
      toggle.addEventListener('click', function () {
        var open = !text.classList.toggle('is-clamped');
        toggle.setAttribute('aria-expanded', String(open));
        setT(toggle, open ? 'inbox.showLess' : 'inbox.showMore');
      });
      return h('li', { class: 'msg msg-' + (kind || 'other'), testid: 'inbox-item', 'data-message-id': String(m.id), 'data-kind': String(m.kind || ''),
        'data-channel-id': String(m.channel_id) },
        h('div', { class: 'msg-head' },
          h('span', { class: 'mkind mkind-' + (kind || 'other'), testid: 'inbox-kind-badge', t: kind ? 'message.kind.' + kind : null, user: kind ? null : String(m.kind || '') }),
          h('span', { class: 'msg-author', testid: 'inbox-author' },
            name ? userText(name, { class: 'msg-name', testid: 'inbox-author-name' }) : null,
            handle ? userText('@' + handle, { class: 'msg-handle', testid: 'inbox-author-handle' }) : null,
            !name && !handle ? h('span', { class: 'muted', t: 'inbox.unknownAuthor' }) : null),
          h('span', { class: 'msg-where' },
            h('span', { class: 'visually-hidden', t: 'inbox.via' }), ' ',
            userText(m.channel || ('#' + m.channel_id), { class: 'msg-channel', testid: 'inbox-channel-name' }), ' ',
            m.channel_kind ? kindChip(m.channel_kind) : null),
          m.created_at ? dateEl(m.created_at) : null),
        text, toggle,
        url ? h('p', { class: 'msg-foot' }, link(url, { testid: 'inbox-open', t: 'inbox.open' })) : null);
    }

    // Long texts stop after a few lines, with "Show more" where that hides something.
    function measure() {
      if (!ctx.alive()) return;
      listEl.querySelectorAll('.msg-text.is-clamped').forEach(function (text) {
        var toggle = text.nextSibling;
        if (toggle && toggle.classList.contains('msg-toggle')) toggle.hidden = text.scrollHeight <= text.clientHeight + 1;
      });
    }
    function onResize() {
      if (!ctx.alive()) { window.removeEventListener('resize', onResize); return; }
      measure();
    }
    window.addEventListener('resize', onResize);

    function readable() {
      return (channels || []).filter(function (ch) { return READING_KINDS.indexOf(ch.kind) >= 0; });
    }

    function renderEmpty() {
      clear(empty);
      empty.hidden = !loaded || messages.length > 0;
      if (empty.hidden) return;
      if (channelSel.value || kindSel.value) {
        append(empty, [
          h('p', { class: 'inbox-empty-title', t: 'inbox.emptyFiltered' }),
          button('inbox.clearFilters', { small: true, testid: 'inbox-clear-filters', onClick: function () {
            channelSel.value = '';
            kindSel.value = '';
            list.reload();
          } })
        ]);
        return;
      }
      var none = channels !== null && !readable().length;
      append(empty, [
        h('div', { class: 'later-icon' }, icon('inbox')),
        h('div', null,
          h('p', { class: 'inbox-empty-title', t: 'inbox.empty.title' }),
          h('p', { t: 'inbox.empty.what' }),
          h('p', { t: 'inbox.empty.when' }),
          none ? h('p', { testid: 'inbox-empty-connect' }, h('span', { t: 'inbox.empty.noChannels' }), ' ',
            h('a', { href: '#/w/' + wid + '/settings/channels', t: 'later.meanwhileLink' })) : null)
      ]);
    }

    function renderList() {
      clear(listEl);
      messages.forEach(function (m) { listEl.appendChild(messageItem(m)); });
      listEl.hidden = !messages.length;
      setT(count, 'inbox.count', { n: messages.length });
      count.hidden = !messages.length;
      renderEmpty();
      window.requestAnimationFrame(measure);
    }

    var list = pager(path, more, function (items, reset) {
      if (reset) messages = [];
      messages = messages.concat(items);
      loaded = true;
      listMsg.clear();
      renderList();
    }, function (err) { showError(listMsg, err); });

    channelSel.addEventListener('change', function () { list.reload(); });
    kindSel.addEventListener('change', function () { list.reload(); });

    /* "Check now": every active Bluesky and Mastodon channel is read at once */
    checkBtn.addEventListener('click', function () {
      var all = readable();
      var active = all.filter(function (ch) { return (ch.status || 'active') === 'active'; });
      clear(checkStatus);
      checkStatus.className = 'inbox-check-status';
      checkStatus.hidden = false;
      if (!active.length) {
        checkStatus.appendChild(h('p', { testid: 'inbox-check-result', t: all.length ? 'inbox.check.allWaiting' : 'inbox.check.noChannels' }));
        return;
      }
      checkBtn.disabled = true;
      checkStatus.appendChild(h('p', { t: 'inbox.check.busy', tp: { n: active.length } }));
      Promise.all(active.map(function (ch) {
        return call('POST', '/workspaces/' + wid + '/channels/' + ch.id + '/read').then(
          function (res) { return { ch: ch, res: res || {} }; },
          function (err) { return { ch: ch, err: err }; });
      })).then(function (results) {
        checkBtn.disabled = false;
        if (!ctx.alive()) return;
        var fresh = 0;
        var problems = [];
        results.forEach(function (r) {
          if (r.err) { if (!r.err.handled) problems.push({ ch: r.ch, message: r.err.message }); return; }
          fresh += Number(r.res.new_messages) || 0;
          if (r.res.ok === false) problems.push({ ch: r.ch, message: (r.res.channel && r.res.channel.status_message) || null });
        });
        clear(checkStatus);
        checkStatus.className = 'inbox-check-status ' + (problems.length ? 'has-problems' : 'is-ok');
        append(checkStatus, [
          h('p', { testid: 'inbox-check-result' },
            h('span', { t: 'inbox.check.checked', tp: { n: active.length } }), ' ',
            h('strong', { t: 'inbox.check.new', tp: { n: fresh } })),
          problems.length ? h('ul', { class: 'inbox-check-problems', testid: 'inbox-check-problems' }, problems.map(function (p) {
            return h('li', { testid: 'inbox-check-problem', 'data-channel-id': String(p.ch.id) },
              h('span', { class: 'name', user: p.ch.name }), h('span', { 'aria-hidden': 'true', text: ': ' }),
              p.message ? h('span', { user: p.message }) : h('span', { t: 'inbox.check.failed' }));
          })) : null,
          all.length > active.length ? h('p', { class: 'hint', t: 'inbox.check.skipped', tp: { n: all.length - active.length } }) : null
        ]);
        list.reload();
      });
    });

    onLanguage(ctx, function () { window.requestAnimationFrame(measure); });

    listEl.hidden = true;
    list.reload();
    allChannels(wid).then(function (all) {
      if (!ctx.alive()) return;
      channels = all;
      all.slice().sort(function (a, b) { return String(a.name).localeCompare(String(b.name)); }).forEach(function (ch) {
        channelSel.appendChild(h('option', { value: String(ch.id), user: ch.name }));
      });
      renderEmpty();
    }, function (err) {
      if (!ctx.alive()) return;
      channels = [];
      showError(listMsg, err);
    });

    return page;
  }

  /* ------------------------------------------------------------------ channels */

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
    return h('span', { class: 'pill ' + (st === 'active' ? 'pill-ok' : st === 'reconnect' ? 'pill-danger' : 'pill-warn'),
      testid: 'channel-status', 'data-status': st, t: known ? 'status.' + st : null, user: known ? null : st });
  }

  // "Where do I get an app password?": Bluesky's own page for them.
  function appPasswordHelp() {
    return h('p', { class: 'hint' }, link('https://bsky.app/settings/app-passwords', { testid: 'app-password-link', t: 'channels.appPasswordLink' }));
  }

  function channelsView(ctx) {
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
      return h('tr', { testid: 'channel-row', 'data-channel-id': String(ch.id), 'data-status': ch.status || 'active', class: reconnect ? 'needs-reconnect' : null },
        h('td', { class: 'cell-name' }, h('span', { class: 'name', testid: 'channel-name', user: ch.name })),
        h('td', null, kindChip(ch.kind)),
        h('td', null, userText(ch.timezone || '')),
        h('td', { class: 'cell-detail', title: channelDetail(ch).join(' \u00b7 ') || null },
          channelDetail(ch).map(function (part, i) { return [i ? ' \u00b7 ' : null, userText(part)]; })),
        h('td', null, ch.has_secret ? h('span', { class: 'pill pill-ok', t: 'channels.secretStored' }) : h('span', { class: 'muted', t: 'channels.secretNone' })),
        h('td', null, channelStatusPill(ch)),
        h('td', null, dateEl(ch.created_at, true)),
        canWrite ? h('td', { class: 'cell-actions' },
          h('button', { type: 'button', class: 'btn btn-secondary btn-small', testid: 'channel-edit',
            on: { click: function () { startEdit(ch); } } },
            h('span', { t: 'action.edit' }), h('span', { class: 'visually-hidden' }, ' ', userText(ch.name))),
          h('button', { type: 'button', class: 'btn btn-danger-quiet btn-small', testid: 'channel-remove',
            on: { click: function () { removeChannel(ch); } } },
            h('span', { t: 'action.remove' }), h('span', { class: 'visually-hidden' }, ' ', userText(ch.name)))) : null);
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
    var list = pager(base, more, function (items, reset) {
      if (reset) channels = [];
      channels = channels.concat(items);
      renderRows();
    }, function (err) { showError(listMsg, err); });

    var page = h('section', { class: 'page', testid: 'section-channels', 'aria-labelledby': 'page-title' },
      pageHeader('channels.title', 'channels.lead'),
      connectBox,
      h('div', { class: 'card' },
        h('div', { class: 'card-head' }, h('h2', { t: 'channels.listHeading' }), count),
        listMsg.el,
        h('div', { class: 'table-wrap' }, table),
        h('div', { class: 'list-foot' }, more)),
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
        placeholder: sf.placeholder || null, testid: tid }), { hint: sf.hint, testid: tid, wide: !!sf.wide, optional: sf.optional });
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
    page.insertBefore(form, page.children[3] || null);

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

  /* ------------------------------------------------------------------ your account */

  function accountView(ctx) {
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
        h('td', { class: 'cell-name' }, h('span', { class: 'name', user: tk.name || '' })),
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
        if (box) { setUserText(box, err.message); box.className = 'message message-error'; box.hidden = false; }
      }
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();
