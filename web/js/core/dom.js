/* samtale dashboard: safe DOM helpers, the only way the dashboard builds its page.
 *
 * h() makes elements from props and children without innerHTML; setUserText() and
 * userText() show text from a person or a network isolated with dir="auto"; checkedUrl()
 * decides which addresses may become links (link(), setLink()). Also the small shared
 * pieces of every page: icons, form fields with their error slots, message boxes, buttons,
 * the confirm dialog, page headers, table heads and empty rows, and the copy field for a
 * secret shown once. The rules these helpers keep are in main.js's header.
 */

import { t, setT, setTAttr } from './lang.js';

// h(tag, props, ...children). props: class, t (i18n key), tp (its params), text (our own
// text: numbers, dates, codes), user (text from a person or a network: see setUserText),
// on ({event: fn}), attrs ({attr: i18n key}), testid, href and src (through checkedUrl: an
// address it refuses is left out), and plain attributes. Children are nodes, strings (as
// text), arrays, or null. Text inputs and textareas get dir="auto".
export function h(tag, props) {
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
export function setUserText(el, text) {
  el.setAttribute('dir', 'auto');
  el.textContent = text === null || text === undefined ? '' : String(text);
  return el;
}

// Text from a person or a network inside other text: a <bdi> of its own (see setUserText).
export function userText(text, props) {
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
export function checkedUrl(url, image) {
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

export function isExternal(href) { return /^https?:/i.test(href); }

// Sets el's href (or src) to url when checkedUrl allows it; a link out of the dashboard
// opens in a new tab with rel="noopener noreferrer". False when url was refused.
export function setLink(el, attr, url) {
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
export function link(url, props) {
  var el = h(checkedUrl(url) ? 'a' : 'span', props);
  setLink(el, 'href', url);
  for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
  return el;
}

export function append(el, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) { child.forEach(function (c) { append(el, c); }); return; }
  if (typeof child === 'string' || typeof child === 'number') { el.appendChild(document.createTextNode(String(child))); return; }
  el.appendChild(child);
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

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
  account: [['rect', { x: 5, y: 11, width: 14, height: 10, rx: 2 }], ['path', { d: 'M8 11V7a4 4 0 0 1 8 0v4' }]],
  menu: [['path', { d: 'M3 6h18M3 12h18M3 18h18' }]],
  close: [['path', { d: 'M18 6 6 18M6 6l12 12' }]],
  approvals: [['path', { d: 'M9 11l3 3L22 4' }], ['path', { d: 'M21 12v7a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h11' }]],
  import: [['path', { d: 'M7 3v13M3 12l4 4 4-4' }], ['path', { d: 'M17 21V8M13 12l4-4 4 4' }]]
};

export function icon(name) {
  var svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon icon-' + name);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  (ICONS[name] || []).forEach(function (spec) {
    var el = document.createElementNS(SVG_NS, spec[0]);
    Object.keys(spec[1]).forEach(function (a) { el.setAttribute(a, String(spec[1][a])); });
    svg.appendChild(el);
  });
  return svg;
}

export function brand() {
  return h('span', { class: 'brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }),
    h('span', { class: 'brand-name', text: 'samtale' }));
}

// A labelled form field: label, control, optional hint, and a slot for its error message.
export function field(id, labelKey, control, opts) {
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

export function setFieldError(f, message) {
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
export function messageBox(testid) {
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

export function button(key, opts) {
  opts = opts || {};
  return h('button', {
    type: opts.type || 'button',
    class: 'btn ' + (opts.kind ? 'btn-' + opts.kind : 'btn-secondary') + (opts.small ? ' btn-small' : ''),
    testid: opts.testid || null, t: key, tp: opts.params || null,
    on: opts.onClick ? { click: opts.onClick } : null
  });
}

export function confirmDialog(titleKey, bodyKey, params, confirmKey) {
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

export function pageHeader(titleKey, leadKey) {
  return h('div', { class: 'page-header' },
    h('h1', { id: 'page-title', testid: 'page-title', tabindex: '-1', t: titleKey }),
    leadKey ? h('p', { class: 'lead', t: leadKey }) : null);
}

export function roleNote(key) {
  return h('p', { class: 'note', testid: 'role-note', t: key });
}

export function showError(box, err) {
  if (err && err.handled) return;
  box.error(err && err.message ? err.message : t('error.unknown'));
}

export function emptyRow(cols, key) {
  return h('tr', { class: 'empty-row' }, h('td', { colspan: String(cols), t: key }));
}

// Puts on each cell of table's body rows the name of its column (data-label, from the
// heading's dictionary key, so that it follows a change of language): a narrow screen shows
// a row as a card of labelled lines (app.css). Cells spanning columns and the actions column
// (no heading text) get none. Rows already labelled are left alone.
export function labelCells(table) {
  var head = table.tHead && table.tHead.rows[0];
  if (!head) return;
  var keys = Array.prototype.map.call(head.cells, function (th) { return th.getAttribute('data-i18n'); });
  Array.prototype.forEach.call(table.tBodies, function (body) {
    Array.prototype.forEach.call(body.rows, function (tr) {
      if (tr.hasAttribute('data-labelled')) return;
      tr.setAttribute('data-labelled', '');
      var col = 0;
      Array.prototype.forEach.call(tr.cells, function (td) {
        if (td.colSpan === 1 && keys[col]) setTAttr(td, 'data-label', keys[col]);
        col += td.colSpan;
      });
    });
  });
}

export function tableHead(keys) {
  return h('thead', null, h('tr', null, keys.map(function (k) {
    return k ? h('th', { scope: 'col', t: k }) : h('th', { scope: 'col' }, h('span', { class: 'visually-hidden', t: 'table.actions' }));
  })));
}

// A read-only field holding a secret shown once, with a copy button.
export function secretCopy(testid, value, labelKey) {
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
