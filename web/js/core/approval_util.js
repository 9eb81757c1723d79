/* samtale dashboard: what the post sections share about approval (PRODUCT.md P12).
 *
 * A workspace can make some members' posts wait for an approver (its `approval` setting,
 * told per membership by GET /me: approval, posts_need_approval, can_approve). Here: who
 * may write posts in the composer (agents too while their posts need approval), the
 * "awaiting approval" mark and the details block the calendar shows for an occurrence of a
 * post that waits, and the composer's words for a post sent for approval. The Approvals
 * section itself is sections/approvals.js.
 */

import { h } from './dom.js';
import { membership } from './router.js';

export var APPROVAL_STATES = ['none', 'pending', 'changes_requested', 'approved', 'rejected'];

// The membership's approval facts for workspace wid ({} when unknown).
export function approvalOf(wid) {
  var m = membership(Number(wid));
  return {
    mode: m && m.approval ? m.approval : 'off',
    needs: !!(m && m.posts_need_approval),
    canApprove: !!(m && m.can_approve)
  };
}

// Whether ctx's member may write posts: owners and editors, and agents while their posts
// need approval (the server decides the same way).
export function canWritePosts(ctx) {
  if (ctx.role === 'owner' || ctx.role === 'editor') return true;
  return ctx.role === 'agent' && approvalOf(ctx.wid).needs;
}

// True when a post (an answer of POST .../posts) was sent for approval instead of queued.
export function sentForApproval(post) {
  return !!(post && post.approval && post.approval.state === 'pending');
}

function waitingState(o) {
  var st = o && o.approval && o.approval.state;
  return st === 'pending' || st === 'changes_requested' ? st : null;
}

// The calendar card's mark for an occurrence of a post that waits for approval, or null.
export function approvalMark(o) {
  var st = waitingState(o);
  if (!st) return null;
  return h('span', { class: 'occ-approval occ-approval-' + st, testid: 'occurrence-approval', 'data-approval': st,
    t: st === 'pending' ? 'approval.mark.pending' : 'approval.mark.changes' });
}

// The details panel's block for such an occurrence: the server's words (why a due one has
// not gone out) and the way to the queue; null when it does not wait.
export function approvalDetails(o, wid) {
  var st = waitingState(o);
  if (!st) return null;
  return h('div', { class: 'details-approval', testid: 'details-approval', role: 'status' },
    h('p', { class: 'details-approval-title', t: st === 'pending' ? 'approval.mark.pending' : 'approval.mark.changes' }),
    h('p', { user: o.approval.message || '' }),
    h('p', null, h('a', { href: '#/w/' + wid + '/approvals', testid: 'details-approval-link', t: 'approval.toQueue' })));
}

// Whether an occurrence waits for approval (the calendar need not reload fast for it).
export function waitsForApproval(o) {
  return !!waitingState(o);
}
