/* samtale dashboard: helpers the post sections (composer, calendar, inbox, channels) share.
 *
 * The post vocabulary (publishing kinds, categories, occurrence states, rule ids), dates in
 * the browser's time zone (rfc3339Local, dayKey, startOfWeek ...), lengths the way each
 * network counts them (the server's checks count the same way), and the chips, state pills
 * and check findings that several sections show (violationItem, each finding once:
 * uniqueFindings, blocksFirst; the posts they name as links to the calendar: postLink).
 */

import * as I from '../i18n.js';
import { KINDS, state } from './state.js';
import { dateEl, setT } from './lang.js';
import { h } from './dom.js';
import { call } from './api.js';

export var PUBLISHING_KINDS = ['bluesky', 'mastodon', 'file', 'webhook']; // feed and jetstream only listen
export var CATEGORIES = ['value', 'promo', 'personal', 'share', 'dialogue'];
export var OCC_STATES = ['scheduled', 'publishing', 'published', 'failed', 'cancelled'];
export var NETWORK_LIMITS = { bluesky: 300, mastodon: 500 };
var MASTODON_URL_LENGTH = 23;  // Mastodon counts every link as this many characters
var KNOWN_RULES = ['P5', 'P6', 'P7a', 'P7b', 'P7c', 'P8a', 'P8b'];
var WINDOW_RULES = ['P6', 'P7a', 'P7b']; // a finding names every post of its window
var MIRRORED_RULE = 'P8a';                // the same text on two networks: found from both sides

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

// One finding of the queue checks: severity and the rule in words (its id stays in
// data-rule, for programs), the server's explanation, where and when (channelName maps a
// channel id to its name), and links to the posts involved: each opens its details in the
// calendar (#/w/WID/calendar?post=ID) and reads as the start of its text.
export function violationItem(v, channelName, wid) {
  var sev = v.severity === 'block' ? 'block' : 'warn';
  var rule = String(v.rule || '?');
  var seen = {};
  var others = (Array.isArray(v.posts) ? v.posts : []).filter(function (id) {
    var ok = Number(id) > 0 && !seen[id];
    seen[id] = true;
    return ok;
  });
  var where = [];
  if (v.channel_id && channelName) where.push(h('span', { class: 'name', user: channelName(v.channel_id) }));
  if (v.at) where.push(dateEl(v.at));
  return h('li', { class: 'violation violation-' + sev, testid: 'violation', 'data-rule': rule, 'data-severity': sev },
    h('div', { class: 'violation-head' },
      h('span', { class: 'violation-sev', t: sev === 'block' ? 'checks.block' : 'checks.warn' }),
      h('span', { class: 'violation-name', testid: 'violation-rule',
        // A long text is a warning when it goes out as a thread, a block when even a thread cannot hold it.
        t: rule === 'P8b' && v.severity === 'warn' ? 'rule.P8bThread' : KNOWN_RULES.indexOf(rule) >= 0 ? 'rule.' + rule : 'rule.other' })),
    h('p', { class: 'violation-msg', testid: 'violation-message', user: v.message || '' }),
    where.length ? h('p', { class: 'violation-where' }, where[0], where[1] ? ' \u00b7 ' : null, where[1] || null) : null,
    others.length && wid ? h('div', { class: 'violation-posts' },
      h('span', { class: 'violation-posts-label', t: 'checks.posts' }),
      h('ul', { class: 'violation-links' }, others.map(function (id) { return h('li', null, postLink(wid, id)); }))) : null);
}

// A link to a post's details in the calendar, reading "“Start of its text…” (post 12)" once
// the post is fetched (the server's explanations name posts by their number).
export function postLink(wid, id) {
  var a = h('a', { class: 'violation-post', testid: 'violation-post', 'data-post-id': String(id),
    href: '#/w/' + Number(wid) + '/calendar?post=' + Number(id), t: 'checks.postNumber', tp: { id: Number(id) } });
  postSummary(wid, id).then(function (p) {
    if (p && typeof p.text === 'string' && p.text.trim()) setT(a, 'checks.postLink', { text: excerpt(p.text, 48), id: Number(id) });
  });
  return a;
}

// A post of the workspace (GET .../posts/ID), fetched once a minute at most; resolves null
// when it cannot be read.
var postCache = {};
var POST_CACHE_MS = 60000;
export function postSummary(wid, id) {
  var key = Number(wid) + ':' + Number(id);
  var hit = postCache[key];
  if (hit && Date.now() - hit.at < POST_CACHE_MS) return hit.promise;
  var promise = call('GET', '/workspaces/' + Number(wid) + '/posts/' + Number(id)).catch(function () { return null; });
  postCache[key] = { at: Date.now(), promise: promise };
  return promise;
}

// The findings worth showing, each once. A finding goes when an earlier one of the same
// rule on the same channel is about the same posts (a new post almost the same as each of
// a series' copies is one problem, not six); when it is of a window rule (the content mix,
// the caps per hour and day) and a bigger finding of that rule and channel names all its
// posts ("4 posts in an hour" covers the "3 posts in an hour" inside it); and when it
// mirrors a cross-post finding (a post going to Bluesky and Mastodon is found once from
// each side, at the same time).
export function uniqueFindings(violations) {
  var list = Array.isArray(violations) ? violations.filter(function (v) { return v && typeof v === 'object'; }) : [];
  var ids = list.map(function (v) {
    var seen = {};
    return (Array.isArray(v.posts) ? v.posts : []).map(Number).filter(function (id) {
      var ok = !seen[id];
      seen[id] = true;
      return ok;
    }).sort(function (a, b) { return a - b; });
  });
  function sameGroup(a, b) {
    return a.rule === b.rule && a.severity === b.severity &&
      (a.rule === MIRRORED_RULE ? (a.at || '') === (b.at || '') : (a.channel_id || 0) === (b.channel_id || 0));
  }
  function within(small, big) { return small.every(function (id) { return big.indexOf(id) >= 0; }); }
  return list.filter(function (v, i) {
    for (var j = 0; j < list.length; j++) {
      if (j === i || !sameGroup(v, list[j])) continue;
      var same = ids[i].join(',') === ids[j].join(',');
      if (same && j < i) return false;
      if (WINDOW_RULES.indexOf(v.rule) >= 0 && ids[i].length && within(ids[i], ids[j]) &&
          (ids[j].length > ids[i].length || (same && j < i))) return false;
    }
    return true;
  });
}

// Each finding once (uniqueFindings), blocking ones first.
export function blocksFirst(violations) {
  return uniqueFindings(violations).sort(function (a, b) { return (b.severity === 'block') - (a.severity === 'block'); });
}
