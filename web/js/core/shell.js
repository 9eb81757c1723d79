/* samtale dashboard: the shell around the sections: the top bar (workspace switcher, role,
 * language, log out), the navigation, and the main area where showSection() puts a
 * section's view with a fresh context (ctx: wid, role, section, alive()). Also the banners
 * above every section (a channel to reconnect, failed logins, and the notices sections give:
 * a section's notice(ctx)) and the page shown instead of a section while a workspace waits
 * for the person's two-step login. A section's badge(ctx) gives the count its navigation
 * link shows (the approvals waiting), refreshed on every page and by refreshBadges().
 *
 * On a narrow screen (NARROW, the same width as the media query in app.css) the navigation
 * waits behind the top bar's menu button, a disclosure: the button's aria-expanded says
 * whether the menu (#app-menu: the sections, the language and Log out) is open. While it is
 * open the main area is inert; Escape, the backdrop, the button again or choosing a section
 * close it. The top bar then shows the brand, the current section's name, the workspace
 * switcher and the button; on a wide screen the menu is the sidebar and the button is hidden.
 * Where a table has no room for its columns (a phone, a tablet, a small laptop) its rows
 * become cards of labelled lines: the shell labels each new row's cells with their column's
 * name (labelCells) as the sections draw them.
 */

import { DEFAULT_SECTION, state } from './state.js';
import { t, setT, updateTitle, formatDate, langSelect } from './lang.js';
import { h, setLink, append, clear, icon, brand, button, pageHeader, labelCells } from './dom.js';
import { call, allChannels } from './api.js';
import { SECTIONS, SECTION_BY_ID, parseRoute, membership, defaultWid, routeTo } from './router.js';
import { logOut } from './auth.js';
import { kindChip } from './post_util.js';

// The width up to which the navigation is behind the menu button (app.css says the same).
var NARROW = '(max-width: 860px)';

export function destroyShell() {
  if (state.shell) setMenu(false);
  state.shell = null;
}

export function ensureShell(app) {
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
  var sectionName = h('span', { class: 'topbar-section', testid: 'header-section' });
  var menuButton = h('button', { type: 'button', class: 'btn btn-secondary menu-button', testid: 'menu-button',
    'aria-expanded': 'false', 'aria-controls': 'app-menu', on: { click: function () { setMenu(!menuOpen(), true); } } },
    icon('menu'), icon('close'), h('span', { t: 'header.menu' }));
  // On a narrow screen the navigation's counts are behind the button: it shows them too.
  var menuCount = h('span', { class: 'nav-count menu-count', testid: 'menu-count', hidden: true });
  menuButton.appendChild(menuCount);

  var header = h('header', { class: 'topbar', testid: 'app-header' },
    h('div', { class: 'topbar-left' }, brand(), sectionName,
      h('div', { class: 'ws-switch' },
        h('label', { for: 'workspace-switcher', class: 'ws-label', t: 'header.workspace' }), wsSelect, role)),
    h('div', { class: 'topbar-right' },
      h('span', { class: 'user-email', testid: 'user-email', user: state.me.user.email, title: state.me.user.name || state.me.user.email }),
      langSelect('lang-switch'),
      button('header.logout', { kind: 'secondary', small: true, testid: 'logout', onClick: logOut })),
    menuButton);

  var links = {};
  var badges = {};
  function navItem(s) {
    var a = h('a', { class: 'nav-link', testid: 'nav-' + s.id.replace('settings/', ''), href: '#/', on: { click: chosen } },
      icon(s.icon), h('span', { t: s.nav }));
    if (s.badge) {
      badges[s.id] = h('span', { class: 'nav-count', testid: 'nav-count-' + s.id.replace('settings/', ''), hidden: true });
      a.appendChild(badges[s.id]);
    }
    links[s.id] = a;
    return h('li', null, a);
  }
  // A section chosen in the open menu closes it; the new page's heading takes the focus
  // (showSection), or this page's when the section was already on screen.
  function chosen(ev) {
    if (!menuOpen()) return;
    var same = ev.currentTarget.getAttribute('href') === location.hash;
    setMenu(false);
    if (same) { var heading = main.querySelector('h1'); if (heading) heading.focus(); }
  }
  var mainItems = SECTIONS.filter(function (s) { return !s.group; }).map(navItem);
  var settingsItems = SECTIONS.filter(function (s) { return s.group === 'settings'; }).map(navItem);
  var nav = h('nav', { class: 'nav', attrs: { 'aria-label': 'nav.label' }, testid: 'nav' },
    h('ul', { class: 'nav-list' }, mainItems),
    h('p', { class: 'nav-group', id: 'nav-settings-heading', testid: 'nav-settings' }, icon('settings'), h('span', { t: 'nav.settings' })),
    h('ul', { class: 'nav-list nav-sub', 'aria-labelledby': 'nav-settings-heading' }, settingsItems));
  // In the menu of a narrow screen: who is logged in, the language and Log out (the top
  // bar has no room for them there).
  var account = h('div', { class: 'menu-account', testid: 'menu-account' },
    h('p', { class: 'menu-email' }, icon('members'), h('span', { class: 'visually-hidden', t: 'account.who' }), ' ',
      h('span', { class: 'menu-email-text', testid: 'menu-email', user: state.me.user.email })),
    langSelect('menu-lang-switch'),
    button('header.logout', { kind: 'secondary', testid: 'menu-logout', onClick: logOut }));
  var menu = h('div', { class: 'sidebar', id: 'app-menu', testid: 'app-menu' }, nav, account,
    h('p', { class: 'nav-foot', t: 'app.footer' }));
  var backdrop = h('div', { class: 'menu-backdrop', testid: 'menu-backdrop', on: { click: function () { setMenu(false, true); } } });

  var main = h('main', { id: 'main', class: 'content', tabindex: '-1', testid: 'main' });
  var root = h('div', { class: 'shell' }, skip, header, h('div', { class: 'body' }, menu, backdrop, main));
  app.appendChild(root);
  // The sections add rows whenever their data arrives: each batch of changes is labelled.
  new MutationObserver(function () {
    main.querySelectorAll('table').forEach(labelCells);
  }).observe(main, { childList: true, subtree: true });
  state.shell = { root: root, userId: state.me.user.id, wsSelect: wsSelect, role: role, links: links, badges: badges,
    main: main, wid: null, sectionName: sectionName, menuButton: menuButton, menuCount: menuCount, menu: menu,
    counts: {} };
  watchMenu();
}

// Draws again the counts of the navigation's links (sections with a badge) for the
// workspace on screen: a count of 0, or none, hides the badge. The menu button (a narrow
// screen's navigation) shows them as well.
export function refreshBadges() {
  var s = state.shell;
  if (!s || !s.wid) return;
  var wid = s.wid;
  s.counts = {};
  drawMenuCount(s);
  SECTIONS.forEach(function (sec) {
    var el = s.badges && s.badges[sec.id];
    if (!el) return;
    sec.badge({ wid: wid, role: roleOf(wid) }).then(function (b) {
      if (state.shell !== s || s.wid !== wid) return;
      el.hidden = !b || !b.n;
      s.counts[sec.id] = b && b.n ? b : null;
      drawMenuCount(s);
      if (!b || !b.n) return;
      clear(el);
      append(el, countContent(b));
    }, function () { el.hidden = true; });
  });
}

function countContent(b) {
  return [h('span', { 'aria-hidden': 'true', text: String(b.n) }), h('span', { class: 'visually-hidden', t: b.key, tp: { n: b.n } })];
}

function drawMenuCount(s) {
  var shown = Object.keys(s.counts).map(function (id) { return s.counts[id]; }).filter(Boolean);
  var total = shown.reduce(function (sum, b) { return sum + b.n; }, 0);
  s.menuCount.hidden = !total;
  clear(s.menuCount);
  if (!total) return;
  append(s.menuCount, [h('span', { 'aria-hidden': 'true', text: String(total) }),
    shown.map(function (b) { return h('span', { class: 'visually-hidden', t: b.key, tp: { n: b.n } }); })]);
}

function menuOpen() {
  return !!(state.shell && state.shell.root.classList.contains('menu-open'));
}

// Opens or closes the menu of a narrow screen. Opening moves the focus to the current
// section's link (or the first); closing with restoreFocus gives it back to the button.
function setMenu(open, restoreFocus) {
  var s = state.shell;
  if (!s || open === menuOpen()) return;
  s.root.classList.toggle('menu-open', open);
  s.menuButton.setAttribute('aria-expanded', String(open));
  s.main.inert = open;
  if (open) {
    var target = s.menu.querySelector('.nav-link[aria-current="page"]') || s.menu.querySelector('.nav-link');
    if (target) target.focus();
  } else if (restoreFocus) {
    s.menuButton.focus();
  }
}

// Once per page: Escape closes the menu, and so does a screen that becomes wide (where the
// menu is the sidebar and the main area must not stay inert).
var watching = false;
function watchMenu() {
  if (watching) return;
  watching = true;
  document.addEventListener('keydown', function (ev) {
    if (ev.key === 'Escape' && menuOpen() && !document.querySelector('dialog[open]')) {
      ev.preventDefault();
      setMenu(false, true);
    }
  });
  var mq = window.matchMedia ? window.matchMedia(NARROW) : null;
  if (mq && mq.addEventListener) mq.addEventListener('change', function () { if (!mq.matches) setMenu(false); });
}

function roleOf(wid) { var m = membership(wid); return m ? m.role : null; }

export function updateShell(r) {
  var s = state.shell;
  var m = membership(r.wid);
  s.wid = r.wid;
  setMenu(false);
  refreshBadges();
  s.wsSelect.value = String(r.wid);
  s.wsSelect.title = m ? m.workspace_name : ''; // the whole name, where the field cuts it
  setT(s.role, 'role.' + (roleOf(r.wid) || 'viewer'));
  setT(s.sectionName, SECTION_BY_ID[r.section].nav);
  Object.keys(s.links).forEach(function (id) {
    var a = s.links[id];
    setLink(a, 'href', '#/w/' + r.wid + '/' + id);
    if (id === r.section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
}

export function showSection(r, fromNavigation) {
  var s = state.shell;
  var section = SECTION_BY_ID[r.section];
  var seq = ++state.viewSeq;
  var ctx = { wid: r.wid, role: roleOf(r.wid), section: section, params: r.params || {},
    alive: function () { return seq === state.viewSeq; } };
  clear(s.main);
  s.main.appendChild(h('div', { class: 'message', testid: 'page-message', role: 'alert', hidden: true }));
  if (state.me.failed_logins) s.main.appendChild(failedLoginsBanner(state.me.failed_logins));
  var banner = h('div', { class: 'reconnect-banner', testid: 'reconnect-banner', role: 'status', hidden: true });
  s.main.appendChild(banner);
  var m = membership(r.wid);
  // A workspace that asks for two-step login shows only where to turn it on.
  var gated = m && m.second_factor_required && section.id !== 'settings/account';
  if (!gated) SECTIONS.forEach(function (sec) { if (sec.notice) append(s.main, sec.notice(ctx)); });
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
