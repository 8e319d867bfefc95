/* tidings embed.js: <div data-tidings-feed="/feed.rss" data-limit="3"></div> on any page.
   Feed data is only ever set as text, or as an http(s) URL; never as HTML. */
(() => {
  'use strict';
  const w = window, d = document;
  if (w.tidings && w.tidings.refresh) return w.tidings.refresh(); // loaded twice

  // tidings lives where this script came from.
  const me = d.currentScript || [...d.querySelectorAll('script[src$="/embed.js"]')].pop();
  const base = new URL('.', me ? me.src : location.href).href;

  const CSS = `:where(.tidings-list){list-style:none;margin:0;padding:0;font:inherit}
:where(.tidings-item){display:flex;gap:.75em;padding:.6em 0;border-top:1px solid #8884}
:where(.tidings-item:first-child){border:0}
:where(.tidings-body){min-width:0;overflow-wrap:anywhere}
:where(.tidings-link,.tidings-text){font-weight:600}
:where(.tidings-meta){display:block;font-size:.85em;opacity:.75}
:where(.tidings-meta>*+*)::before{content:"\\b7";margin:0 .4em}
:where(.tidings-thumb){flex:none;width:4em;height:4em;object-fit:cover;border-radius:4px;background:#eee}
:where(.tidings-title){font:inherit;font-size:1.1em;font-weight:700;margin:0 0 .3em}
:where(.tidings-error,.tidings-empty){margin:0;font-size:.9em;opacity:.75}
@media (prefers-color-scheme:dark){:where(.tidings-thumb){background:#333}}`;

  const el = (tag, cls, text, attrs = {}) => {
    const e = d.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = String(text);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  };

  // An absolute http(s) URL, or null (javascript:, data:, junk).
  const web = (u) => {
    try {
      const url = new URL(typeof u === 'string' && u ? u : 'about:', base);
      return /^https?:$/.test(url.protocol) ? url.href : null;
    } catch (e) { return null; }
  };

  // The day the item was published, as its author saw it: 2022-09-27T00:00+01:00 is
  // Sep 27 for every reader, not Sep 26 west of London.
  const day = (iso) => {
    const m = /^(\d{4})-(\d\d)-(\d\d)/.exec(iso);
    return m && new Date(Date.UTC(m[1], m[2] - 1, m[3])).toLocaleDateString(undefined,
      { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' });
  };

  const on = (box, name) => box.hasAttribute(name) && box.getAttribute(name) !== 'false';

  const link = (href, text, cls, target) => href
    ? el('a', cls, text, target ? { href, target, rel: 'noopener' } : { href })
    : el('span', cls && 'tidings-text', text);

  const render = (box, { feed, items }) => {
    const title = (feed && feed.title) || 'Headlines';
    const target = box.getAttribute('data-target');
    const out = [];
    if (on(box, 'data-title')) {
      out.push(el('h2', 'tidings-title'));
      out[0].append(link(web(feed && feed.home_page_url), title, null, target));
    }
    const ul = el('ul', 'tidings-list', null, { 'aria-label': title });
    for (const it of items) {
      const li = ul.appendChild(el('li', 'tidings-item'));
      const src = on(box, 'data-images') && web(it.image);
      if (src) {
        const img = li.appendChild(el('img', 'tidings-thumb', null, { alt: '', loading: 'lazy', src }));
        img.onerror = () => { img.hidden = true; };
      }
      const body = li.appendChild(el('div', 'tidings-body'));
      body.append(link(web(it.url), it.title || 'Untitled', 'tidings-link', target));
      const meta = el('span', 'tidings-meta'), date = day(it.date);
      if (date) meta.append(el('time', 'tidings-date', date, { datetime: it.date }));
      if (it.author) meta.append(el('span', 'tidings-author', it.author));
      if (meta.firstChild) body.append(meta);
    }
    out.push(items.length ? ul : el('p', 'tidings-empty', 'No headlines yet'));
    box.textContent = '';
    box.append(...out);
  };

  const load = async (box) => {
    box.setAttribute('data-tidings-ready', 'loading');
    const feed = box.getAttribute('data-tidings-feed');
    const n = parseInt(box.getAttribute('data-limit'), 10);
    const url = `${base}headlines.json?feed=${encodeURIComponent(feed)}&limit=${n > 0 ? Math.min(n, 50) : 5}`;
    try {
      const res = await fetch(url, { mode: 'cors', credentials: 'omit' });
      const data = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(`${res.status} ${data.error || res.statusText}`);
      if (!Array.isArray(data.items)) throw new Error('not a headlines.json answer');
      render(box, data);
      box.setAttribute('data-tidings-ready', 'done');
    } catch (e) {
      console.warn(`tidings: no headlines for ${feed} from ${url}: ${e.message || e}`);
      box.textContent = '';
      box.append(el('p', 'tidings-error', 'Headlines unavailable'));
      box.setAttribute('data-tidings-ready', 'error');
    }
  };

  const refresh = () => {
    if (!d.getElementById('tidings-embed-style')) {
      // First in <head>, so the page's own rules win.
      d.head.prepend(el('style', null, CSS, { id: 'tidings-embed-style' }));
    }
    const boxes = d.querySelectorAll('[data-tidings-feed]:not([data-tidings-ready])');
    return Promise.all([...boxes].map(load)).then(() => {});
  };

  w.tidings = { refresh };
  refresh();
  if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', refresh);
})();
