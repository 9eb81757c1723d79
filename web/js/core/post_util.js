/* samtale dashboard: helpers the post sections (composer, calendar, inbox, channels) share.
 *
 * The post vocabulary (publishing kinds, categories, occurrence states, rule ids), dates in
 * the browser's time zone (rfc3339Local, dayKey, startOfWeek ...), lengths the way each
 * network counts them (the server's checks count the same way), and the chips, state pills
 * and check findings that several sections show.
 */

import * as I from '../i18n.js';
import { KINDS, state } from './state.js';
import { dateEl } from './lang.js';
import { h } from './dom.js';

export var PUBLISHING_KINDS = ['bluesky', 'mastodon', 'file', 'webhook']; // feed and jetstream only listen
export var CATEGORIES = ['value', 'promo', 'personal', 'share', 'dialogue'];
export var OCC_STATES = ['scheduled', 'publishing', 'published', 'failed', 'cancelled'];
export var NETWORK_LIMITS = { bluesky: 300, mastodon: 500 };
var MASTODON_URL_LENGTH = 23;  // Mastodon counts every link as this many characters
var KNOWN_RULES = ['P5', 'P6', 'P7a', 'P7b', 'P7c', 'P8a', 'P8b'];

function pad2(n) { return (n < 10 ? '0' : '') + n; }

// A Date as RFC 3339 in the browser's time zone with its offset: 2027-03-28T09:00:00+02:00.
export function rfc3339Local(d) {
  var off = -d.getTimezoneOffset();
  var sign = off >= 0 ? '+' : '-';
  off = Math.abs(off);
  return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + 'T' +
    pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds()) +
    sign + pad2(Math.floor(off / 60)) + ':' + pad2(off % 60);
}

export function dayKey(d) { return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()); }
export function startOfDay(d) { return new Date(d.getFullYear(), d.getMonth(), d.getDate()); }
export function addDays(d, n) { return new Date(d.getFullYear(), d.getMonth(), d.getDate() + n); }
export function startOfWeek(d) { return addDays(startOfDay(d), -((d.getDay() + 6) % 7)); } // weeks start on Monday

export function fmt(d, opts) {
  try { return new Intl.DateTimeFormat(I.locale(state.lang), opts).format(d); } catch (e) { return d.toLocaleString(); }
}

export function browserZone() {
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

export function networkLength(kind, text) {
  if (kind === 'bluesky') return graphemeCount(text);
  if (kind === 'mastodon') return mastodonLength(text);
  return Array.from(text).length;
}

// The start of a text on one line, cut at max characters.
export function excerpt(text, max) {
  var s = String(text || '').replace(/\s+/g, ' ').trim();
  var chars = Array.from(s);
  return chars.length > max ? chars.slice(0, max - 1).join('').replace(/\s+$/, '') + '\u2026' : s;
}

export function kindChip(kind) {
  var known = KINDS.indexOf(kind) >= 0;
  return h('span', { class: 'kind kind-' + (known ? kind : 'other'), t: known ? 'kind.short.' + kind : null, user: known ? null : kind });
}

export function categoryChip(cat) {
  var known = CATEGORIES.indexOf(cat) >= 0;
  return h('span', { class: 'cat cat-' + (known ? cat : 'other'), t: known ? 'category.' + cat : null, user: known ? null : (cat || '') });
}

export function stateOf(o) { return OCC_STATES.indexOf(o.state) >= 0 ? o.state : 'scheduled'; }

export function statePill(st, testid) {
  return h('span', { class: 'state state-' + st, testid: testid || null, t: 'occ.state.' + st });
}

// One finding of the queue checks: severity, rule id and name, the server's explanation,
// and where and when (channelName maps a channel id to its name).
export function violationItem(v, channelName) {
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
export function blocksFirst(violations) {
  return violations.slice().sort(function (a, b) { return (b.severity === 'block') - (a.severity === 'block'); });
}
