/* samtale dashboard: the image picker of a post (P16), for the composer.
 *
 * mediaPicker(ctx, opts) builds a fieldset where a person chooses or drops up to four
 * images (JPEG, PNG, WebP, GIF; 20 MB each). Each is sent at once as the body of
 * POST .../media (its own type, not JSON) and shown from what the server stored
 * (GET .../media/{id}: upright, metadata such as the location already gone), never from a
 * local blob: URL, so the page's CSP stays img-src 'self' data:. Each image has its alt
 * text field (up to 1000 characters), marked required when the workspace requires alt
 * text, and a button to remove it. The composer reads value() into "media": [{id, alt}].
 */

import { API, state } from '../core/state.js';
import { t, setT } from '../core/lang.js';
import { h, clear, button } from '../core/dom.js';
import { workspace } from '../core/api.js';

export var MEDIA_MAX = 4;
export var MEDIA_BYTES_MAX = 20 * 1024 * 1024;
export var ALT_MAX = 1000;
var TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif'];

// opts: wid, onChange (called when the images or their alt texts change).
// Returns { el, value(), validate(), busy(), reset() }.
// Uploads one image file as POST .../media (the file itself as the body, typed as the file
// says; the server decides by its bytes): a promise of the stored image {id, sha256, ...},
// rejected with { message } in the page's language.
export function uploadImage(wid, file) {
  var type = TYPES.indexOf(file.type) >= 0 ? file.type : (/^image\//.test(file.type) ? file.type : 'application/octet-stream');
  var headers = { 'Accept': 'application/json', 'Content-Type': type, 'Accept-Language': state.lang };
  if (state.csrf) headers['X-CSRF-Token'] = state.csrf;
  return fetch(API + '/workspaces/' + wid + '/media', { method: 'POST', credentials: 'same-origin', headers: headers,
    body: file, cache: 'no-store' }).then(function (res) {
    return res.text().then(function (text) {
      var data = null;
      try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
      if (!res.ok) {
        var e = (data && data.error) || {};
        throw { message: e.message || t('error.http', { status: res.status }), status: res.status,
          retryAfter: Number(res.headers.get('Retry-After')) || 0 };
      }
      return data;
    });
  }, function () { throw { message: t('error.network') }; });
}

export function mediaPicker(ctx, opts) {
  var wid = opts.wid;
  var items = [];             // {id, row, alt, status, thumb} in order
  var requireAlt = false;
  var seq = 0;
  var changed = opts.onChange || function () {};

  var input = h('input', { type: 'file', id: 'c-media-input', class: 'media-input', multiple: true,
    accept: TYPES.join(','), testid: 'media-input' });
  var choose = h('label', { class: 'btn btn-secondary btn-small media-choose', for: 'c-media-input', testid: 'media-choose' },
    h('span', { t: 'media.choose' }));
  var drop = h('div', { class: 'media-drop', testid: 'media-drop' }, input, choose, h('span', { class: 'hint media-drop-hint', t: 'media.drop' }));
  var list = h('ol', { class: 'media-list', testid: 'media-list' });
  var err = h('p', { class: 'field-error', id: 'c-media-error', testid: 'media-error', role: 'alert', hidden: true });
  var legendReq = h('span', { class: 'optional', t: 'form.optional' });
  var el = h('fieldset', { class: 'fieldset media', testid: 'composer-media', 'aria-describedby': 'c-media-hint c-media-error' },
    h('legend', { class: 'label' }, h('span', { t: 'media.legend' }), legendReq),
    h('p', { class: 'hint', id: 'c-media-hint', t: 'media.hint', tp: { n: MEDIA_MAX } }),
    drop, list, err);

  input.addEventListener('change', function () {
    add(Array.prototype.slice.call(input.files || []));
    input.value = '';
  });
  drop.addEventListener('dragover', function (e) { e.preventDefault(); drop.classList.add('is-over'); });
  drop.addEventListener('dragleave', function () { drop.classList.remove('is-over'); });
  drop.addEventListener('drop', function (e) {
    e.preventDefault();
    drop.classList.remove('is-over');
    add(Array.prototype.slice.call((e.dataTransfer && e.dataTransfer.files) || []));
  });

  workspace(wid).then(function (ws) {
    requireAlt = !!(ws && ws.require_alt_text);
    items.forEach(markRequired);
  }, function () {});

  function showError(key, params) {
    if (!key) { err.hidden = true; err.textContent = ''; return; }
    setT(err, key, params);
    err.hidden = false;
  }

  function add(files) {
    showError(null);
    files.forEach(function (file) {
      if (items.length >= MEDIA_MAX) { showError('media.err.tooMany', { n: MEDIA_MAX }); return; }
      if (file.size > MEDIA_BYTES_MAX) { showError('media.err.tooBig', { name: file.name }); return; }
      var item = row(file);
      items.push(item);
      list.appendChild(item.row);
      upload(item, file);
    });
    changed();
  }

  function row(file) {
    var n = ++seq;
    var item = { id: null, uploading: true };
    var altId = 'c-media-alt-' + n;
    item.thumb = h('img', { class: 'media-thumb', alt: '', testid: 'media-thumb', hidden: true });
    item.wait = h('span', { class: 'media-wait muted', t: 'media.uploading', testid: 'media-uploading' });
    item.status = h('p', { class: 'field-error', id: altId + '-error', testid: 'media-item-error', hidden: true });
    item.alt = h('textarea', { id: altId, rows: '2', maxlength: String(ALT_MAX), testid: 'media-alt',
      'aria-describedby': altId + '-hint ' + altId + '-error' });
    item.altLabel = h('label', { class: 'label', for: altId },
      h('span', { t: 'media.alt.label', tp: { n: n } }), item.req = h('span', { class: 'required-mark', t: 'media.alt.required', hidden: true }));
    item.alt.addEventListener('input', function () { setItemError(item, null); changed(); });
    item.remove = button('media.remove', { small: true, testid: 'media-remove', onClick: function () {
      items = items.filter(function (x) { return x !== item; });
      if (item.row.parentNode) item.row.parentNode.removeChild(item.row);
      showError(null);
      changed();
    } });
    item.name = h('span', { class: 'media-name muted', user: file ? file.name : '' });
    item.row = h('li', { class: 'media-item', testid: 'media-item' },
      h('div', { class: 'media-frame' }, item.thumb, item.wait),
      h('div', { class: 'media-fields' },
        h('div', { class: 'media-head' }, item.name, item.remove),
        item.altLabel,
        item.alt,
        h('p', { class: 'hint', id: altId + '-hint', t: 'media.alt.hint' }),
        item.status));
    markRequired(item);
    return item;
  }

  function markRequired(item) {
    item.req.hidden = !requireAlt;
    item.alt.required = requireAlt;
    item.alt.setAttribute('aria-required', requireAlt ? 'true' : 'false');
  }

  function setItemError(item, key, params) {
    if (!key) {
      item.status.hidden = true;
      item.status.textContent = '';
      item.alt.removeAttribute('aria-invalid');
      return;
    }
    setT(item.status, key, params);
    item.status.hidden = false;
  }

  function upload(item, file) {
    uploadImage(wid, file).then(function (doc) {
      if (!ctx.alive() || items.indexOf(item) < 0) return;
      item.id = doc.id;
      item.uploading = false;
      item.thumb.src = API + '/workspaces/' + wid + '/media/' + doc.id;
      item.thumb.hidden = false;
      item.wait.hidden = true;
      item.row.setAttribute('data-media-id', String(doc.id));
      item.row.setAttribute('data-sha256', doc.sha256 || '');
      changed();
    }, function (e) {
      if (!ctx.alive() || items.indexOf(item) < 0) return;
      item.uploading = false;
      item.failed = true;
      item.wait.hidden = true;
      item.alt.disabled = true;
      setItemError(item, 'media.err.upload', { message: e.message });
      changed();
    });
  }

  return {
    el: el,
    // [{id, alt}] of the uploaded images, in order.
    value: function () {
      return items.filter(function (i) { return i.id; }).map(function (i) { return { id: i.id, alt: i.alt.value.trim() }; });
    },
    busy: function () { return items.some(function (i) { return i.uploading; }); },
    // False (and the first field at fault focused) while an image uploads, failed, or lacks
    // the alt text the workspace requires.
    validate: function () {
      var bad = null;
      showError(null);
      items.forEach(function (i) {
        setItemError(i, null);
        if (i.failed) { setItemError(i, 'media.err.failedStays'); bad = bad || i.remove; }
        else if (i.uploading) { showError('media.err.wait'); bad = bad || i.alt; }
        else if (requireAlt && !i.alt.value.trim()) {
          setItemError(i, 'media.err.altRequired');
          i.alt.setAttribute('aria-invalid', 'true');
          bad = bad || i.alt;
        }
      });
      if (bad) bad.focus();
      return !bad;
    },
    reset: function () {
      items = [];
      clear(list);
      showError(null);
    },
    // The images a post has already ([{id, alt}] of GET .../posts/{id}), for an edit or a
    // copy: shown from the server, nothing uploaded again.
    set: function (saved) {
      items = [];
      clear(list);
      showError(null);
      (Array.isArray(saved) ? saved : []).slice(0, MEDIA_MAX).forEach(function (m) {
        if (!m || !(Number(m.id) > 0)) return;
        var item = row(null);
        item.id = Number(m.id);
        item.uploading = false;
        item.alt.value = typeof m.alt === 'string' ? m.alt : '';
        item.thumb.src = API + '/workspaces/' + wid + '/media/' + item.id;
        item.thumb.hidden = false;
        item.wait.hidden = true;
        item.row.setAttribute('data-media-id', String(item.id));
        items.push(item);
        list.appendChild(item.row);
      });
      changed();
    }
  };
}
