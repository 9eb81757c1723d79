/* samtale dashboard: the client of the server's JSON API (/api/v1).
 *
 * request() sends one request (with the CSRF token on anything that changes data) and
 * rejects with an ApiError that carries the server's code, message, field and findings;
 * call() is the same for the signed-in app, and also handles an ended session, a required
 * password change and a workspace that asks for two-step login. Lists come a page at a
 * time: pager() for tables with a "Show more" button, queueAll() and allChannels() for
 * whole lists. workspace() keeps workspaces fetched once; refreshMe() reloads who is
 * logged in and draws the page again.
 */

import { API, PAGE_SIZE, state } from './state.js';
import { t } from './lang.js';
import { render } from './router.js';
import { destroyShell } from './shell.js';

export function ApiError(status, code, message, field, retryAfter, violations, detail) {
  this.detail = detail || {};   // the whole error object (a login's second-factor challenge)
  this.status = status;
  this.code = code;
  this.message = message;
  this.field = field || null;
  this.retryAfter = retryAfter || null;
  this.violations = Array.isArray(violations) ? violations : []; // a check_blocked answer lists them
  this.handled = false;
}

export function request(method, path, body) {
  var headers = { 'Accept': 'application/json' };
  var opts = { method: method, credentials: 'same-origin', headers: headers, cache: 'no-store' };
  if (method === 'POST' || method === 'PATCH' || method === 'PUT') {
    headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body === undefined ? {} : body);
  }
  if (method !== 'GET' && method !== 'HEAD' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
  // The server words its messages (errors, the checks' explanations) in this language.
  headers['Accept-Language'] = state.lang;
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
export function call(method, path, body) {
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
export function queueAll(path) {
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
export function pager(path, moreBtn, onPage, onError) {
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

export function workspace(wid) {
  if (state.workspaces[wid]) return Promise.resolve(state.workspaces[wid]);
  return call('GET', '/workspaces/' + wid).then(function (ws) {
    state.workspaces[wid] = ws;
    return ws;
  });
}

// Every channel of a workspace, following the list's pages.
export function allChannels(wid) {
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

export function refreshMe() {
  return call('GET', '/me').then(function (me) {
    state.me = me;
    if (me.csrf_token) state.csrf = me.csrf_token;
    state.shell = null;
    render();
  }, function () { /* handled by call() */ });
}
