/* samtale dashboard: the view of a section that is not built yet (listening, people, goals,
 * contests): what it will do, and where to start meanwhile.
 */

import { h, icon, pageHeader } from '../core/dom.js';

export function placeholderView(ctx) {
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
