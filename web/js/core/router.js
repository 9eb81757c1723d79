/* samtale dashboard: hash routing and the table of sections.
 *
 * Addresses are #/w/WORKSPACE/SECTION (#/login, #/password and #/invite/SECRET for the
 * pages before the app). render() decides what the address shows: an invitation, the
 * login, a required password change, or a section in the shell. The sections are not
 * imported here: main.js hands their table to defineSections() before the first render,
 * so that the sections can import this module without a cycle. Also the return from a
 * Mastodon instance (#/channels?connected=ID), kept for the channels page.
 */

import { LS_WORKSPACE, DEFAULT_SECTION, SS_CONNECT, state } from './state.js';
import { checkedUrl } from './dom.js';
import { showLogin, showPasswordChange, INVITE_ROUTE, showInvitation, showNoWorkspace } from './auth.js';
import { destroyShell, ensureShell, updateShell, showSection } from './shell.js';

// The dashboard's sections in the navigation's order: { id, nav (its name's i18n key), icon,
// group, view(ctx) giving the section's element }. Filled once, by defineSections().
export var SECTIONS = [];
export var SECTION_BY_ID = {};

// Registers the sections; main.js calls it once, before the first render.
export function defineSections(list) {
  list.forEach(function (s) {
    SECTIONS.push(s);
    SECTION_BY_ID[s.id] = s;
  });
}

// #/w/WORKSPACE/SECTION, optionally with ?key=value&... (a section's own parameters, e.g.
// #/w/1/composer?edit=12 or #/w/1/calendar?post=12): { wid, section, params }.
export function parseRoute(hash) {
  var m = /^#\/w\/(\d+)\/([a-z]+(?:\/[a-z]+)?)(?:\?([^#]*))?$/.exec(hash || '');
  var params = {};
  if (!m) return null;
  if (m[3]) {
    try {
      new URLSearchParams(m[3]).forEach(function (v, k) { params[k] = v; });
    } catch (e) { params = {}; }
  }
  return { wid: Number(m[1]), section: m[2], params: params };
}

export function membership(wid) {
  var ms = (state.me && state.me.memberships) || [];
  for (var i = 0; i < ms.length; i++) if (Number(ms[i].workspace_id) === wid) return ms[i];
  return null;
}

export function defaultWid() {
  var saved = null;
  try { saved = Number(window.localStorage.getItem(LS_WORKSPACE)); } catch (e) { saved = null; }
  if (saved && membership(saved)) return saved;
  return Number(state.me.memberships[0].workspace_id);
}

// Goes to a section; params (optional) become its ?query (see parseRoute).
export function routeTo(wid, section, params) {
  var q = params ? new URLSearchParams(params).toString() : '';
  var href = checkedUrl('#/w/' + Number(wid) + '/' + section + (q ? '?' + q : ''));
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

export function setPendingConnect(p) {
  try {
    if (p) window.sessionStorage.setItem(SS_CONNECT, JSON.stringify(p));
    else window.sessionStorage.removeItem(SS_CONNECT);
  } catch (e) { /* private mode: the return still works, without "Try again" */ }
}

export function render(fromNavigation) {
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
  // The section's parameters stay in the address: a reload or the back button shows the
  // same thing (the post being edited), and a link to the bare section is a real change.
  var query = r.params ? new URLSearchParams(r.params).toString() : '';
  var target = '#/w/' + r.wid + '/' + r.section + (query ? '?' + query : '');
  if (location.hash !== target) history.replaceState(null, '', target);
  try { window.localStorage.setItem(LS_WORKSPACE, String(r.wid)); } catch (e) { /* ignore */ }

  ensureShell(app);
  updateShell(r);
  showSection(r, fromNavigation);
}
