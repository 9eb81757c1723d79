/* samtale dashboard: a single-page app with hash routing, no framework, no build step.
 *
 * This is its entry point (web/index.html loads it as <script type="module">): it puts
 * the sections into the router's table and starts the app. The code is native ES modules:
 *   i18n.js          every visible string, in each language
 *   core/            state.js (the shared state), lang.js (t, setT, dates), dom.js (the
 *                    safe DOM helpers), api.js (the API client), router.js (render and the
 *                    sections' table), auth.js (login and the pages before the app),
 *                    shell.js (header, navigation, banners), post_util.js (what the post
 *                    sections share)
 *   sections/        one module per section, each exporting its view(ctx); publishing.js
 *                    is a part of the channels section (a channel's publishing panel)
 * Core modules import each other in cycles (the API client draws the login page again when
 * a session ends, and the pages call the API). That is safe because no module uses an
 * import while it is being evaluated, only when its functions run; and no core module
 * imports a section, so a section reads and changes alone.
 *
 * Rules kept throughout these modules (the page runs under a strict Content-Security-Policy
 * and shows social content, which is hostile input):
 *  - the DOM is built with createElement and textContent, never innerHTML;
 *  - no inline styles or event handlers: classes and addEventListener only;
 *  - every visible string comes from web/js/i18n.js (through core/lang.js);
 *  - text from a person or a network (names, posts, messages, addresses, the server's error
 *    messages, which may quote input) sits in an element of its own with dir="auto"
 *    (setUserText, the h() prop `user`, userText()), and so does every string parameter of a
 *    translated sentence (setT): right-to-left text and format characters such as U+202E
 *    stay inside it and cannot reorder the words around it;
 *  - every address made into a link or sent to the browser passes checkedUrl(): absolute
 *    http(s) without credentials, or one of the dashboard's own #/ routes; anything else stays text.
 */

import { state } from './core/state.js';
import { t } from './core/lang.js';
import { setUserText } from './core/dom.js';
import { request } from './core/api.js';
import { defineSections, render } from './core/router.js';
import { calendarView } from './sections/calendar.js';
import { composerView } from './sections/composer.js';
import { inboxView } from './sections/inbox.js';
import { placeholderView } from './sections/placeholder.js';
import { channelsView } from './sections/channels.js';
import { membersView } from './sections/members.js';
import { tokensView } from './sections/tokens.js';
import { accountView } from './sections/account.js';
import { approvalsView, approvalsBadge, approvalsNotice } from './sections/approvals.js';
import { csvView } from './sections/csv.js';

defineSections([
  { id: 'calendar', nav: 'nav.calendar', icon: 'calendar', view: calendarView },
  { id: 'composer', nav: 'nav.composer', icon: 'composer', view: composerView },
  { id: 'approvals', nav: 'nav.approvals', icon: 'approvals', view: approvalsView, badge: approvalsBadge, notice: approvalsNotice },
  { id: 'inbox', nav: 'nav.inbox', icon: 'inbox', view: inboxView },
  { id: 'listening', nav: 'nav.listening', icon: 'listening', view: placeholderView },
  { id: 'people', nav: 'nav.people', icon: 'people', view: placeholderView },
  { id: 'goals', nav: 'nav.goals', icon: 'goals', view: placeholderView },
  { id: 'contests', nav: 'nav.contests', icon: 'contests', view: placeholderView },
  { id: 'settings/channels', nav: 'nav.channels', icon: 'channels', group: 'settings', view: channelsView },
  { id: 'settings/members', nav: 'nav.members', icon: 'members', group: 'settings', view: membersView },
  { id: 'settings/tokens', nav: 'nav.tokens', icon: 'tokens', group: 'settings', view: tokensView },
  { id: 'settings/import', nav: 'nav.import', icon: 'import', group: 'settings', view: csvView },
  { id: 'settings/account', nav: 'nav.account', icon: 'account', group: 'settings', view: accountView }
]);

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

// A module script runs once the document is parsed (unless loaded async); start then.
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
