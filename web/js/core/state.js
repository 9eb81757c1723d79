/* samtale dashboard: the shared state and the product's words.
 *
 * `state` is the one object every module reads and changes: who is logged in, the CSRF
 * token, the chosen language, the shell on screen, what the calendar opens on next. Beside
 * it the constants of the server's vocabulary (channel kinds and statuses, roles, token
 * scopes) and the storage keys of the browser. Imports only the dictionary (i18n.js), so
 * it can be evaluated first: the language is chosen while this module loads.
 */

import * as I from '../i18n.js';

export var API = '/api/v1';
export var LS_LANG = 'samtale.lang';
export var LS_WORKSPACE = 'samtale.workspace';
export var DEFAULT_SECTION = 'settings/channels';
export var PAGE_SIZE = 50;

export var KINDS = ['bluesky', 'mastodon', 'feed', 'jetstream', 'file', 'webhook'];
export var READING_KINDS = ['bluesky', 'mastodon']; // the kinds whose mentions and messages samtale reads
export var STATUSES = ['active', 'reconnect', 'paused', 'error', 'disabled'];
export var SS_CONNECT = 'samtale.connecting'; // a Mastodon connection under way, kept across the trip to the instance
export var ROLES = ['owner', 'editor', 'agent', 'viewer'];
// Every scope the server knows (src/core/auth.c), in the groups the token form shows them in.
export var SCOPE_GROUPS = [
  { id: 'posts', scopes: ['posts:read', 'posts:write', 'posts:approve'] },
  { id: 'channels', scopes: ['channels:read', 'channels:write'] },
  { id: 'team', scopes: ['workspaces:read', 'workspaces:write', 'members:read', 'members:write'] },
  { id: 'security', scopes: ['tokens:read', 'tokens:write', 'audit:read'] }
];
export var SCOPES = SCOPE_GROUPS.reduce(function (all, g) { return all.concat(g.scopes); }, []);

export var state = {
  lang: initialLang(),
  me: null,
  csrf: null,
  oneTimePassword: null, // the one-time password just typed, kept in memory until changed
  afterLogin: null,      // the route asked for before the login page was shown
  loginNotice: null,     // i18n key of a notice for the login page
  workspaces: {},        // wid -> Workspace, fetched on demand
  shell: null,
  titleKey: null,        // the current section's name, for the window title
  calendarView: 'week',  // the calendar's last view: week, month or list
  calendarFocus: null,   // an instant the calendar opens on next (after scheduling a post)
  connectReturn: null,   // the outcome of a trip to a Mastodon instance, for the channels page
  viewSeq: 0
};

function initialLang() {
  var saved = null;
  try { saved = window.localStorage.getItem(LS_LANG); } catch (e) { saved = null; }
  if (saved && I.has(saved)) return saved;
  return I.fromNavigator(navigator.languages || [navigator.language || 'en']);
}
