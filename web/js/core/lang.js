/* samtale dashboard: the page's language.
 *
 * t() translates a key in the chosen language (web/js/i18n.js holds the dictionary);
 * setT() and setTAttr() put a translation on an element and remember its key, so that
 * setLanguage() can change the whole page in place (applyLanguage) without losing what a
 * person typed. Also dates in the language's conventions (formatDate, dateEl), the
 * language switcher, and onLanguage() for views with text formatted by Intl. Every string
 * parameter of a translated sentence sits in a <bdi> of its own (fillT).
 */

import * as I from '../i18n.js';
import { LS_LANG, state } from './state.js';
import { h, userText } from './dom.js';

export function t(key, params) { return I.t(state.lang, key, params); }

// Sets an element's text from a dictionary key and remembers the key, so that a change of
// language can update the page in place (form contents survive).
export function setT(el, key, params) {
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

export function setTAttr(el, attr, key) {
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

// The window's title: the current section's name in the app, the product's name elsewhere.
export function updateTitle() {
  document.title = state.shell && state.titleKey ? t(state.titleKey) + ' · samtale' : t('app.title');
}

// Dates in the chosen language's conventions; dateOnly leaves out the time of day.
export function formatDate(iso, dateOnly) {
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

export function dateEl(iso, dateOnly) {
  var el = h('time', { datetime: iso, 'data-date': iso, 'data-date-only': dateOnly ? '1' : null });
  el.textContent = formatDate(iso, dateOnly);
  el.title = formatDate(iso, false);
  return el;
}

// The language switcher: a <select> of the dictionary's languages, named by testid.
export function langSelect(testid) {
  var id = 'lang-' + testid;
  var sel = h('select', { id: id, class: 'lang-select', testid: testid, on: { change: function () { setLanguage(sel.value); } } },
    I.LANGS.map(function (l) { return h('option', { value: l.code, lang: l.code, text: l.name }); }));
  sel.value = state.lang;
  return h('div', { class: 'lang-switch' },
    h('label', { for: id, class: 'visually-hidden', t: 'lang.label' }), sel);
}

// Calls fn after each change of language while ctx's view is on screen; forgets it after.
export function onLanguage(ctx, fn) {
  function listener() {
    if (!ctx.alive()) { document.removeEventListener('samtale-language', listener); return; }
    fn();
  }
  document.addEventListener('samtale-language', listener);
}
