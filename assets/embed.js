/* tidings embed.js: headlines from a tidings feed server on any page.
 *   <div data-tidings-feed="/categories/operations/feed.rss" data-limit="3"></div>
 *   <script src="https://blog.example.com/embed.js" async></script>
 * Options: data-limit (5), data-images, data-title, data-target="_blank".
 * Feed data is only ever set as text or checked http(s) URLs, never as HTML. */
(() => {
  'use strict';
  const w = window, d = document;
  if (w.tidings && w.tidings.refresh) { w.tidings.refresh(); return; } // loaded twice

  // Where tidings lives: the folder this script was loaded from.
  const me = d.currentScript || [].slice.call(d.querySelectorAll('script[src$="/embed.js"]')).pop();
  const base = new URL('.', me ? me.src : location.href).href;

  const CSS = `
:where(.tidings-list){list-style:none;margin:0;padding:0;font:inherit}
:where(.tidings-item){display:flex;gap:.75em;align-items:flex-start;margin:0;padding:.6em 0;border-top:1px solid rgba(128,128,128,.3)}
:where(.tidings-item:first-child){border-top:0}
:where(.tidings-body){min-width:0}
:where(.tidings-link,.tidings-text){font-weight:600;overflow-wrap:anywhere}
:where(.tidings-meta){display:block;font-size:.85em;opacity:.75}
:where(.tidings-meta>*+*)::before{content:"\\b7";margin:0 .4em}
:where(.tidings-thumb){flex:none;width:4em;height:4em;object-fit:cover;border-radius:4px;background:#eee}
:where(.tidings-title){font:inherit;font-weight:700;font-size:1.1em;margin:0 0 .3em}
:where(.tidings-error,.tidings-empty){margin:0;font-size:.9em;opacity:.75}
@media (prefers-color-scheme:dark){:where(.tidings-thumb){background:#333}:where(.tidings-item){border-color:rgba(160,160,160,.25)}}`;

  const el = (tag, cls, text) => {
    const e = d.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  };

  // An absolute http(s) URL, or null for anything else (javascript:, data:, junk).
  const safeUrl = (u) => {
    if (typeof u !== 'string' || !u) return null;
    try {
      const url = new URL(u, base);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
    } catch (e) { return null; }
  };

  const flag = (box, name) => box.hasAttribute(name) && box.getAttribute(name) !== 'false';

  const link = (href, text, cls, target) => {
    if (!href) return el('span', cls === 'tidings-link' ? 'tidings-text' : null, text);
    const a = el('a', cls, text);
    a.setAttribute('href', href);
    if (target) { a.setAttribute('target', target); a.setAttribute('rel', 'noopener'); }
    return a;
  };

  const render = (box, data, images, target) => {
    const feed = data.feed || {};
    const title = typeof feed.title === 'string' && feed.title ? feed.title : 'Headlines';
    const out = [];
    if (flag(box, 'data-title')) {
      const h = el('h2', 'tidings-title');
      h.appendChild(link(safeUrl(feed.home_page_url), title, null, target));
      out.push(h);
    }
    const items = data.items;
    if (!items.length) out.push(el('p', 'tidings-empty', 'No headlines yet'));
    else {
      const ul = el('ul', 'tidings-list');
      ul.setAttribute('aria-label', title);
      for (const it of items) {
        const li = el('li', 'tidings-item');
        const src = images && safeUrl(it.image);
        if (src) {
          const img = el('img', 'tidings-thumb');
          img.setAttribute('alt', '');
          img.setAttribute('loading', 'lazy');
          img.setAttribute('width', '64');
          img.setAttribute('height', '64');
          img.addEventListener('error', () => { img.hidden = true; });
          img.setAttribute('src', src);
          li.appendChild(img);
        }
        const body = el('div', 'tidings-body');
        body.appendChild(link(safeUrl(it.url), String(it.title || 'Untitled'), 'tidings-link', target));
        const meta = el('span', 'tidings-meta');
        const date = new Date(it.date);
        if (it.date && !isNaN(date)) {
          const t = el('time', 'tidings-date',
            date.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' }));
          t.setAttribute('datetime', String(it.date));
          meta.appendChild(t);
        }
        if (it.author) meta.appendChild(el('span', 'tidings-author', String(it.author)));
        if (meta.firstChild) body.appendChild(meta);
        li.appendChild(body);
        ul.appendChild(li);
      }
      out.push(ul);
    }
    box.textContent = '';
    for (const e of out) box.appendChild(e);
  };

  const load = async (box) => {
    const feed = box.getAttribute('data-tidings-feed');
    let limit = parseInt(box.getAttribute('data-limit') || '5', 10);
    if (!(limit > 0)) limit = 5;
    limit = Math.min(limit, 50);
    const target = box.getAttribute('data-target') || '';
    box.setAttribute('data-tidings-ready', 'loading');
    box.setAttribute('aria-busy', 'true');
    const url = `${base}headlines.json?feed=${encodeURIComponent(feed)}&limit=${limit}`;
    const ctl = w.AbortController ? new AbortController() : null;
    const timer = ctl && setTimeout(() => ctl.abort(), 15000);
    try {
      const res = await fetch(url, { mode: 'cors', credentials: 'omit', signal: ctl && ctl.signal });
      const data = await res.json().catch(() => null);
      if (!res.ok) throw new Error(`HTTP ${res.status}${data && data.error ? ': ' + data.error : ''}`);
      if (!data || !Array.isArray(data.items)) throw new Error('not a headlines.json answer');
      render(box, data, flag(box, 'data-images'), target);
      box.setAttribute('data-tidings-ready', 'done');
    } catch (e) {
      console.warn(`tidings: no headlines for ${JSON.stringify(feed)} from ${url}:`, e && e.message || e);
      box.textContent = '';
      box.appendChild(el('p', 'tidings-error', 'Headlines unavailable'));
      box.setAttribute('data-tidings-ready', 'error');
    } finally {
      clearTimeout(timer);
      box.removeAttribute('aria-busy');
    }
  };

  const refresh = () => {
    if (!d.getElementById('tidings-embed-style')) {
      const s = el('style', null, CSS);
      s.id = 'tidings-embed-style';
      // First in <head>: the page's own rules come later and win.
      const head = d.head || d.documentElement;
      head.insertBefore(s, head.firstChild);
    }
    const boxes = d.querySelectorAll('[data-tidings-feed]:not([data-tidings-ready])');
    return Promise.all([].map.call(boxes, load)).then(() => undefined);
  };

  w.tidings = { refresh, base };
  refresh();
  if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', refresh);
})();
