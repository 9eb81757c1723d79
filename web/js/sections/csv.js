/* samtale dashboard, section Settings > Import and export: posts in and out as CSV files
 * (PRODUCT.md P14, docs/csv.md).
 *
 * Import: the person chooses a file; it is read here (FileReader, strictly as UTF-8, so a
 * file saved in another encoding is caught before it is sent), sent as JSON for a dry run,
 * and the rows that need a look are listed with their line and, in words, what is wrong
 * and what the checks found (the server's messages, in the page's language). When nothing
 * stops it, "Import" sends the same file for real, with an import id made for this file, so
 * that a second click or a retry after a lost answer creates nothing twice; a row that a
 * check blocks needs a reason ("Import anyway"). The server imports all rows or none.
 * Export: a link to the export, with the chosen state and separator; the browser downloads
 * it (the answer is an attachment).
 */

import { API, state } from '../core/state.js';
import { t, onLanguage } from '../core/lang.js';
import { h, append, clear, field, setFieldError, messageBox, button, pageHeader, roleNote, showError,
  checkedUrl } from '../core/dom.js';
import { call } from '../core/api.js';
import { violationItem, blocksFirst } from '../core/post_util.js';
import { uploadImage, MEDIA_BYTES_MAX } from './media.js'; // the images a file names (P16)

var FILE_MAX = 5 * 1024 * 1024;  // bytes, as the server's limit
var SHOWN_MAX = 200;             // rows listed at most (the rest are counted)
var STATES = ['draft', 'scheduled', 'published', 'failed', 'cancelled'];
var COLUMNS = ['text', 'channels', 'time', 'category', 'campaign', 'link', 'images', 'alt', 'variant'];
var IMAGES_MAX = 500;            // images chosen with one file, as the server takes
var UPLOADS_AT_ONCE = 3;         // the server reads at most four large bodies at once
var BUSY_TRIES = 5;              // a busy server (503) is asked again this many times

// A new id for one chosen file's import (the server's import_id: A-Z a-z 0-9 . _ : -).
function newImportId() {
  var b = new Uint8Array(16);
  window.crypto.getRandomValues(b);
  return 'web-' + Array.from(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
}

// The file's text, read as UTF-8 without replacing what is not UTF-8 (that would change
// the posts quietly). Rejects with 'tooBig', 'notUtf8' or 'read'.
function readFile(file) {
  return new Promise(function (resolve, reject) {
    if (file.size > FILE_MAX) { reject('tooBig'); return; }
    var r = new FileReader();
    r.onload = function () {
      try {
        resolve(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(new Uint8Array(r.result)));
      } catch (e) { reject('notUtf8'); }
    };
    r.onerror = function () { reject('read'); };
    r.readAsArrayBuffer(file);
  });
}

// The column a problem names: the file's own words for columns, ours for the rest.
function fieldName(f) {
  return COLUMNS.indexOf(f) >= 0 ? h('code', { class: 'csv-field', text: f })
    : h('span', { class: 'csv-field', t: 'csv.field.' + (['row', 'file', 'header'].indexOf(f) >= 0 ? f : 'row') });
}

function problemItem(p, testid) {
  return h('li', { class: 'csv-problem', testid: testid, 'data-field': String(p.field || '') },
    p.line ? h('span', { class: 'csv-line', t: 'csv.line', tp: { line: Number(p.line) } }) : null,
    fieldName(p.field), ' ',
    h('span', { class: 'csv-problem-msg', user: p.message || '' }));
}

export function csvView(ctx) {
  var wid = ctx.wid;
  var canWrite = ctx.role === 'owner' || ctx.role === 'editor';
  var base = '/workspaces/' + wid + '/posts';
  var page = h('section', { class: 'page', testid: 'section-import', 'aria-labelledby': 'page-title' },
    pageHeader('csv.title', 'csv.lead'));

  /* ---- import ---- */
  var current = null;          // { name, text, id, report, done }
  var importMsg = messageBox('csv-message');
  var report = h('div', { class: 'csv-report', testid: 'csv-report', hidden: true, tabindex: '-1' });
  var input = h('input', { type: 'file', accept: '.csv,text/csv,text/plain', testid: 'csv-file' });
  var fFile = field('csv-file-input', 'csv.file', input, { hint: 'csv.format', testid: 'csv-file' });
  // The images the file's images column names, chosen beside it: each is uploaded, and the
  // import names it by its file name ({"name": id}).
  var given = {};              // file name -> uploaded image id
  var imagesInput = h('input', { type: 'file', multiple: true, accept: 'image/jpeg,image/png,image/webp,image/gif',
    testid: 'csv-images' });
  var imagesStatus = h('p', { class: 'hint', testid: 'csv-images-status', role: 'status' });
  var fImages = field('csv-images-input', 'csv.images', imagesInput, { hint: 'csv.imagesHint', optional: true, testid: 'csv-images' });
  fImages.wrap.appendChild(imagesStatus);

  function givenImages() { return Object.keys(given).length ? given : undefined; }

  imagesInput.addEventListener('change', function () {
    var files = Array.prototype.slice.call(imagesInput.files || []).slice(0, IMAGES_MAX);
    setFieldError(fImages, null);
    if (!files.length) return;
    var failed = [];
    imagesStatus.textContent = t('csv.imagesUploading', { n: files.length });
    // A few at a time, and a busy answer asked again after the wait it names.
    function one(file, tries) {
      return uploadImage(wid, file).then(function (doc) {
        given[file.name] = Number(doc.id);
      }, function (e) {
        if (e.status === 503 && tries < BUSY_TRIES && ctx.alive()) {
          return new Promise(function (resolve) {
            window.setTimeout(resolve, 1000 * Math.min(Math.max(e.retryAfter || 1, 1), 10));
          }).then(function () { return one(file, tries + 1); });
        }
        failed.push(file.name + ': ' + e.message);
      });
    }
    var queue = files.filter(function (file) {
      if (file.size > MEDIA_BYTES_MAX) { failed.push(file.name); return false; }
      return true;
    });
    function worker() {
      var file = queue.shift();
      return file ? one(file, 0).then(worker) : Promise.resolve();
    }
    var workers = [];
    for (var w = 0; w < UPLOADS_AT_ONCE; w++) workers.push(worker());
    Promise.all(workers).then(function () {
      if (!ctx.alive()) return;
      imagesStatus.textContent = t('csv.imagesReady', { n: Object.keys(given).length });
      if (failed.length) setFieldError(fImages, t('csv.imagesFailed', { names: failed.join('; ') }));
      if (current && !current.done) check(); // the rows that name them are read again
    });
  });

  function check() {
    if (!current) return;
    var mine = current;
    importMsg.clear();
    importMsg.noticeKey('csv.checking', { name: mine.name });
    call('POST', base + '/import', { csv: mine.text, dry_run: true, images: givenImages() }).then(function (rep) {
      if (!ctx.alive() || current !== mine) return;
      importMsg.clear();
      mine.report = rep || {};
      showReport(mine);
    }, function (err) {
      if (!ctx.alive() || current !== mine) return;
      importMsg.clear();
      showError(importMsg, err);
    });
  }

  function doImport(reason) {
    var mine = current;
    var body = { csv: mine.text, import_id: mine.id, images: givenImages() };
    if (reason) body.override_reason = reason;
    importMsg.clear();
    return call('POST', base + '/import', body).then(function (rep) {
      if (!ctx.alive() || current !== mine) return;
      mine.done = true;
      showDone(rep || {});
    }, function (err) {
      if (!ctx.alive() || current !== mine) return;
      if (err.status === 422 && err.detail && Array.isArray(err.detail.rows)) {
        // Nothing was imported: the report says why (the queue may have changed since the check).
        mine.report = err.detail;
        showReport(mine);
        importMsg.error(err.message);
        return;
      }
      showError(importMsg, err);
    });
  }

  function counts(rep) {
    var rows = Array.isArray(rep.rows) ? rep.rows : [];
    var warned = rows.filter(function (r) { return !r.blocked && Array.isArray(r.violations) && r.violations.length; }).length;
    var ready = rows.filter(function (r) { return r.ok; }).length;
    var bits = [h('span', { class: 'pill pill-muted', testid: 'csv-count-rows', t: 'csv.count.rows', tp: { n: Number(rep.total) || 0 } }),
      h('span', { class: 'pill pill-ok', testid: 'csv-count-ready', t: 'csv.count.ready', tp: { n: ready } })];
    if (rep.with_problems) bits.push(h('span', { class: 'pill pill-danger', testid: 'csv-count-problems', t: 'csv.count.problems', tp: { n: Number(rep.with_problems) } }));
    if (rep.blocked) bits.push(h('span', { class: 'pill pill-danger', testid: 'csv-count-blocked', t: 'csv.count.blocked', tp: { n: Number(rep.blocked) } }));
    if (warned) bits.push(h('span', { class: 'pill pill-warn', testid: 'csv-count-warnings', t: 'csv.count.warnings', tp: { n: warned } }));
    return h('p', { class: 'csv-summary', testid: 'csv-summary' }, bits.map(function (b, i) { return [i ? ' ' : null, b]; }));
  }

  function rowItem(r) {
    var problems = Array.isArray(r.problems) ? r.problems : [];
    var viol = blocksFirst(Array.isArray(r.violations) ? r.violations : []);
    var status = problems.length ? 'problem' : r.blocked ? 'blocked' : 'warning';
    return h('li', { class: 'csv-row csv-row-' + status, testid: 'csv-row', 'data-line': String(r.line), 'data-status': status },
      h('div', { class: 'csv-row-head' },
        h('span', { class: 'csv-row-line', t: 'csv.line', tp: { line: Number(r.line) } }),
        h('span', { class: 'pill ' + (status === 'warning' ? 'pill-warn' : 'pill-danger'), t: 'csv.status.' + status })),
      problems.length ? h('ul', { class: 'csv-problems' }, problems.map(function (p) { return problemItem(p, 'csv-problem'); })) : null,
      viol.length ? h('ul', { class: 'violations' }, viol.map(function (v) { return violationItem(v); })) : null,
      r.violations_omitted ? h('p', { class: 'hint', t: 'csv.omitted', tp: { n: Number(r.violations_omitted) } }) : null);
  }

  function showReport(mine) {
    var rep = mine.report;
    var fileProblems = Array.isArray(rep.problems) ? rep.problems : [];
    var rows = (Array.isArray(rep.rows) ? rep.rows : []).filter(function (r) {
      return !r.ok || (Array.isArray(r.violations) && r.violations.length);
    });
    clear(report);
    append(report, h('h3', { class: 'csv-file-name', user: mine.name }));
    if (fileProblems.length) {
      append(report, [h('p', { class: 'csv-file-problems-title', t: 'csv.fileProblems' }),
        h('ul', { class: 'csv-problems csv-file-problems' }, fileProblems.map(function (p) { return problemItem(p, 'csv-file-problem'); }))]);
    } else {
      append(report, counts(rep));
      if (!rows.length) append(report, h('p', { class: 'checks-ok', testid: 'csv-all-good', t: 'csv.allGood' }));
      else {
        append(report, h('ol', { class: 'csv-rows', testid: 'csv-rows' }, rows.slice(0, SHOWN_MAX).map(rowItem)));
        if (rows.length > SHOWN_MAX) append(report, h('p', { class: 'hint', t: 'csv.moreRows', tp: { n: rows.length - SHOWN_MAX } }));
      }
    }
    append(report, actions(rep, fileProblems.length > 0));
    report.hidden = false;
    report.focus();
  }

  function actions(rep, unreadable) {
    var box = h('div', { class: 'csv-actions' });
    if (!canWrite) return box;
    if (unreadable || rep.with_problems || !rep.total) {
      append(box, h('p', { class: 'note', testid: 'csv-fix-first', t: 'csv.fixFirst' }));
      append(box, button('csv.checkAgain', { testid: 'csv-check-again', onClick: function () { input.click(); } }));
      return box;
    }
    if (rep.blocked) {
      var reason = h('textarea', { rows: '2', maxlength: '1000', testid: 'csv-override' });
      var fReason = field('csv-override-input', 'csv.overrideLabel', reason, { hint: 'csv.overrideHint', testid: 'csv-override' });
      var go = button('csv.importAnyway', { kind: 'danger', testid: 'csv-import-anyway', onClick: function () {
        var why = reason.value.trim();
        setFieldError(fReason, null);
        if (!why) { setFieldError(fReason, t('csv.err.reason')); reason.focus(); return; }
        go.disabled = true;
        doImport(why).then(function () { go.disabled = false; });
      } });
      append(box, [fReason.wrap, h('div', { class: 'form-actions' }, go)]);
      return box;
    }
    var imp = button('csv.import', { kind: 'primary', testid: 'csv-import', params: { n: Number(rep.total) } });
    imp.addEventListener('click', function () {
      imp.disabled = true;
      doImport(null).then(function () { imp.disabled = false; });
    });
    append(box, h('div', { class: 'form-actions' }, imp));
    return box;
  }

  function showDone(rep) {
    var n = Number(rep.created) || 0;
    clear(report);
    append(report, h('div', { class: 'done-box', testid: 'csv-done', role: 'status' },
      h('h2', { t: rep.already_imported ? 'csv.importedBefore' : 'csv.imported', tp: { n: rep.already_imported ? (Number(rep.total) || 0) : n } }),
      rep.approval_pending ? h('p', { testid: 'csv-approval', t: 'csv.approvalPending', tp: { n: Number(rep.approval_pending) } }) : null,
      h('p', null, h('a', { class: 'btn btn-secondary', testid: 'csv-to-calendar', href: '#/w/' + wid + '/calendar', t: 'csv.toCalendar' }))));
    report.hidden = false;
    report.focus();
  }

  input.addEventListener('change', function () {
    var file = input.files && input.files[0];
    setFieldError(fFile, null);
    importMsg.clear();
    report.hidden = true;
    current = null;
    if (!file) return;
    readFile(file).then(function (text) {
      if (!ctx.alive()) return;
      current = { name: file.name, text: text, id: newImportId(), report: null, done: false };
      check();
    }, function (why) {
      if (!ctx.alive()) return;
      setFieldError(fFile, t('csv.err.' + why));
    });
  });

  // The server words its messages in the page's language: ask again after a change.
  onLanguage(ctx, function () { if (current && current.report && !current.done) check(); });

  var importCard = h('div', { class: 'card csv-import-card', testid: 'csv-import-card' },
    h('h2', { t: 'csv.importHeading' }),
    canWrite ? [importMsg.el, fFile.wrap, fImages.wrap, report] : roleNote('csv.readOnly'));

  /* ---- export ---- */
  var stateSel = h('select', { testid: 'csv-export-state' },
    [h('option', { value: '', t: 'csv.state.all' })].concat(STATES.map(function (s) {
      return h('option', { value: s, t: 'csv.state.' + s });
    })));
  var sepSel = h('select', { testid: 'csv-export-separator' },
    h('option', { value: 'comma', t: 'csv.sep.comma' }), h('option', { value: 'semicolon', t: 'csv.sep.semicolon' }));
  var fState = field('csv-export-state', 'csv.exportState', stateSel);
  var fSep = field('csv-export-sep', 'csv.separator', sepSel, { hint: 'csv.separatorHint' });
  var link = h('a', { class: 'btn btn-primary', testid: 'csv-export-link', download: '', t: 'csv.download' });
  function updateLink() {
    var q = [];
    if (stateSel.value) q.push('state=' + encodeURIComponent(stateSel.value));
    if (sepSel.value === 'semicolon') q.push('separator=semicolon');
    var url = checkedUrl(location.origin + API + base + '/export' + (q.length ? '?' + q.join('&') : ''));
    if (url) link.setAttribute('href', url); else link.removeAttribute('href');
  }
  // Excel in Norwegian and Swedish expects semicolons.
  sepSel.value = state.lang === 'nb' || state.lang === 'sv' ? 'semicolon' : 'comma';
  stateSel.addEventListener('change', updateLink);
  sepSel.addEventListener('change', updateLink);
  updateLink();
  var exportCard = h('div', { class: 'card csv-export-card', testid: 'csv-export-card' },
    h('h2', { t: 'csv.exportHeading' }), h('p', { class: 'hint', t: 'csv.exportLead' }),
    h('div', { class: 'grid' }, fState.wrap, fSep.wrap),
    h('div', { class: 'form-actions' }, link));

  append(page, [importCard, exportCard]);
  return page;
}
