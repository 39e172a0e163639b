import { createHash } from 'node:crypto';

/**
 * The stats page: one self-contained HTML document (inline CSS and JS, no external assets) that fetches
 * `<page path>/stats.json` every {@link REFRESH_MS} and renders, per cache instance, a chart of the hit ratio over
 * the last minutes (inline SVG), a table with a row per decorated method and decorator, and a table per backend.
 *
 * The document is static: nothing from the statistics is interpolated on the server. The script writes every
 * method name, key and URL with `textContent` / `setAttribute`, never as HTML, so a method or prefix named
 * `<img onerror=…>` is shown as text. The response carries a Content-Security-Policy that only allows this
 * script and style (by hash) and requests to the same origin.
 */
export const REFRESH_MS = 2000;

const STYLE = `
:root { color-scheme: light; --fg: #1d2330; --muted: #667085; --line: #e4e7ec; --bg: #f7f8fa; --card: #fff;
  --accent: #2f6fde; --good: #1a7f4b; --warn: #b54708; --bad: #c01048; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 16px; padding: 16px 24px; background: var(--card); border-bottom: 1px solid var(--line); }
header h1 { margin: 0; font-size: 18px; font-weight: 600; }
header .status { color: var(--muted); font-size: 13px; }
header .status.error { color: var(--bad); }
main { padding: 20px 24px; display: grid; gap: 20px; }
section.instance { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 16px 18px; }
section.instance h2 { margin: 0 0 2px; font-size: 16px; }
.sub { color: var(--muted); font-size: 12px; margin-bottom: 12px; word-break: break-all; }
.row { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; margin-bottom: 14px; }
.figure { flex: 0 0 auto; }
.figure .caption { font-size: 12px; color: var(--muted); margin-bottom: 4px; }
.kpis { display: flex; gap: 18px; flex-wrap: wrap; }
.kpi { min-width: 96px; }
.kpi .v { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
.kpi .l { font-size: 12px; color: var(--muted); }
svg.chart { display: block; background: #fbfcfe; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { font-size: 12px; font-weight: 600; color: var(--muted); background: #fafbfc; position: sticky; top: 0; }
th:first-child, td:first-child, th.text, td.text { text-align: left; }
td.method { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; white-space: normal; word-break: break-all; }
.tag { display: inline-block; padding: 1px 7px; border-radius: 10px; background: #eef3fd; color: var(--accent); font-size: 12px; }
.state-closed { color: var(--good); } .state-open { color: var(--bad); font-weight: 600; } .state-half-open { color: var(--warn); }
h3 { font-size: 13px; margin: 16px 0 6px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .04em; }
.empty { color: var(--muted); font-style: italic; padding: 8px 0; }
.scroll { overflow-x: auto; }
`;

const SCRIPT = `
(function () {
  'use strict';
  var REFRESH = ${REFRESH_MS};
  var here = location.pathname;
  var url = (here.endsWith('/') ? here : here + '/') + 'stats.json';
  var root = document.getElementById('instances');
  var status = document.getElementById('status');
  var SVG = 'http://www.w3.org/2000/svg';
  var COLUMNS = [
    ['calls', 'Calls'], ['hits', 'Hits'], ['misses', 'Misses'], ['stale', 'Stale'], ['hitRatio', 'Hit ratio'],
    ['executions', 'Executions'], ['executionsAvoided', 'Avoided'], ['errors', 'Errors'],
    ['meanDurationMs', 'Mean ms'], ['timeSavedMs', 'Time saved'], ['rejections', 'Rejected'], ['circuit', 'Circuit']
  ];
  var BACKEND_COLUMNS = [['commands', 'Commands'], ['errors', 'Errors'], ['hits', 'Hits'], ['misses', 'Misses']];

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) for (var name in attrs) node.setAttribute(name, attrs[name]);
    if (text !== undefined) node.textContent = String(text);
    return node;
  }
  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    for (var name in attrs) node.setAttribute(name, String(attrs[name]));
    return node;
  }
  function pct(x) { return (Math.round(x * 1000) / 10).toFixed(1) + '%'; }
  function ms(x) {
    if (x >= 60000) return (x / 60000).toFixed(1) + ' min';
    if (x >= 1000) return (x / 1000).toFixed(2) + ' s';
    return (Math.round(x * 10) / 10) + ' ms';
  }
  function fmt(field, m) {
    var v = m[field];
    if (field === 'hitRatio') return m.calls && m.misses + m.hits + m.stale > 0 ? pct(v) : '–';
    if (field === 'meanDurationMs') return m.executions + m.refreshes > 0 ? ms(v) : '–';
    if (field === 'timeSavedMs') return ms(v);
    if (field === 'circuit') return v || '';
    return String(v);
  }

  function chart(history, slots, bucketMs) {
    var W = 360, H = 120, L = 30, R = 6, T = 8, B = 18;
    var box = svg('svg', { width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, 'class': 'chart', role: 'img',
      'aria-label': 'Hit ratio per ' + bucketMs / 1000 + ' s, last ' + Math.round(slots * bucketMs / 60000) + ' min' });
    var plotH = H - T - B, step = (W - L - R) / slots;
    function y(f) { return T + (1 - f) * plotH; }
    [0, 0.5, 1].forEach(function (f) {
      box.appendChild(svg('line', { x1: L, x2: W - R, y1: y(f), y2: y(f), stroke: '#e4e7ec', 'stroke-width': 1 }));
      var t = svg('text', { x: L - 4, y: y(f) + 4, 'text-anchor': 'end', 'font-size': 10, fill: '#667085' });
      t.textContent = f * 100 + '%';
      box.appendChild(t);
    });
    [['-' + Math.round(slots * bucketMs / 60000) + ' min', L, 'start'], ['now', W - R, 'end']].forEach(function (a) {
      var t = svg('text', { x: a[1], y: H - 4, 'text-anchor': a[2], 'font-size': 10, fill: '#667085' });
      t.textContent = a[0];
      box.appendChild(t);
    });
    var most = 1;
    history.forEach(function (b) { most = Math.max(most, b.hits + b.misses + b.stale); });
    var points = [], offset = slots - history.length;
    history.forEach(function (b, i) {
      var total = b.hits + b.misses + b.stale;
      var x = L + (offset + i + 0.5) * step;
      if (total > 0) {
        var barH = (total / most) * plotH * 0.3;
        box.appendChild(svg('rect', { x: x - step * 0.35, y: T + plotH - barH, width: step * 0.7, height: barH,
          fill: '#d9e4f8', 'class': 'volume' }));
        points.push(x.toFixed(1) + ',' + y(b.hits / total).toFixed(1));
      }
    });
    box.appendChild(svg('polyline', { points: points.join(' '), fill: 'none', stroke: '#2f6fde', 'stroke-width': 2,
      'stroke-linejoin': 'round', 'class': 'ratio' }));
    points.forEach(function (p) {
      var xy = p.split(',');
      box.appendChild(svg('circle', { cx: xy[0], cy: xy[1], r: 2.5, fill: '#2f6fde' }));
    });
    return box;
  }

  function kpi(value, label) {
    var d = el('div', { 'class': 'kpi' });
    d.appendChild(el('div', { 'class': 'v' }, value));
    d.appendChild(el('div', { 'class': 'l' }, label));
    return d;
  }

  // An @Adaptive method: what it runs now and the figures behind it; the reason and since when on hover.
  function adaptiveNote(a) {
    var parts = [a.strategy + (a.ttlMs ? ' ' + ms(a.ttlMs) : ''), 'repeat ' + pct(a.repeatRatio),
      'changes ' + (a.changeIntervalMs === null ? '–' : 'every ' + ms(a.changeIntervalMs)),
      'fails ' + pct(a.failureRate)];
    return el('span', { 'class': 'adaptive', 'data-field': 'adaptive',
      title: a.reason + ' — since ' + new Date(a.since).toLocaleTimeString() + (a.shared ? ' (fleet decision)' : '') },
      ' → ' + parts.join(', '));
  }

  function methodsTable(methods) {
    if (!methods.length) return el('div', { 'class': 'empty' }, 'No decorated method has run yet.');
    var table = el('table', { 'class': 'methods' });
    var head = el('tr');
    head.appendChild(el('th', null, 'Method'));
    head.appendChild(el('th', { 'class': 'text' }, 'Decorator'));
    COLUMNS.forEach(function (c) { head.appendChild(el('th', c[0] === 'circuit' ? { 'class': 'text' } : null, c[1])); });
    table.appendChild(el('thead')).appendChild(head);
    var body = table.appendChild(el('tbody'));
    methods.forEach(function (m) {
      var tr = el('tr', { 'data-method': m.method, 'data-strategy': m.strategy });
      tr.appendChild(el('td', { 'class': 'method' }, m.method));
      var tdS = el('td', { 'class': 'text' });
      tdS.appendChild(el('span', { 'class': 'tag' }, '@' + m.strategy));
      if (m.adaptive) tdS.appendChild(adaptiveNote(m.adaptive));
      tr.appendChild(tdS);
      COLUMNS.forEach(function (c) {
        var attrs = { 'data-field': c[0] };
        if (c[0] === 'circuit') attrs['class'] = 'text' + (m.circuit ? ' state-' + m.circuit : '');
        tr.appendChild(el('td', attrs, fmt(c[0], m)));
      });
      body.appendChild(tr);
    });
    return table;
  }

  function backendsTable(backends) {
    var table = el('table', { 'class': 'backends' });
    var head = el('tr');
    head.appendChild(el('th', null, 'Prefix'));
    head.appendChild(el('th', { 'class': 'text' }, 'Backend'));
    BACKEND_COLUMNS.forEach(function (c) { head.appendChild(el('th', null, c[1])); });
    table.appendChild(el('thead')).appendChild(head);
    var body = table.appendChild(el('tbody'));
    backends.forEach(function (b) {
      var tr = el('tr', { 'data-prefix': b.prefix });
      tr.appendChild(el('td', { 'class': 'method' }, b.prefix || '(default)'));
      tr.appendChild(el('td', { 'class': 'text' }, b.url));
      BACKEND_COLUMNS.forEach(function (c) { tr.appendChild(el('td', { 'data-field': c[0] }, b[c[0]])); });
      body.appendChild(tr);
    });
    return table;
  }

  function render(data) {
    var sections = data.instances.map(function (s) {
      var section = el('section', { 'class': 'instance', 'data-cache': s.cache });
      section.appendChild(el('h2', null, s.cache));
      section.appendChild(el('div', { 'class': 'sub' }, s.url + ' · counting since ' + new Date(s.since).toLocaleTimeString()));
      var calls = 0, hits = 0, saved = 0, errors = 0;
      s.methods.forEach(function (m) {
        if (m.misses + m.hits + m.stale > 0) { calls += m.calls; hits += m.hits; }
        saved += m.timeSavedMs; errors += m.errors;
      });
      var row = el('div', { 'class': 'row' });
      var fig = el('div', { 'class': 'figure' });
      fig.appendChild(el('div', { 'class': 'caption' }, 'Hit ratio of cached methods per ' + data.bucketMs / 1000 + ' s (bars: calls)'));
      fig.appendChild(chart(s.history, data.buckets, data.bucketMs));
      row.appendChild(fig);
      var kpis = el('div', { 'class': 'kpis' });
      kpis.appendChild(kpi(calls ? pct(hits / calls) : '–', 'hit ratio (cached methods)'));
      kpis.appendChild(kpi(String(hits), 'hits'));
      kpis.appendChild(kpi(ms(saved), 'time saved'));
      kpis.appendChild(kpi(String(errors), 'errors'));
      row.appendChild(kpis);
      section.appendChild(row);
      section.appendChild(el('h3', null, 'Decorated methods'));
      section.appendChild(el('div', { 'class': 'scroll' })).appendChild(methodsTable(s.methods));
      section.appendChild(el('h3', null, 'Backends'));
      section.appendChild(el('div', { 'class': 'scroll' })).appendChild(backendsTable(s.backends));
      return section;
    });
    root.replaceChildren.apply(root, sections);
    document.body.setAttribute('data-generation', String(Number(document.body.getAttribute('data-generation') || 0) + 1));
  }

  function tick() {
    fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
      })
      .then(function (data) {
        render(data);
        status.className = 'status';
        status.textContent = 'updated ' + new Date(data.generatedAt).toLocaleTimeString() + ' · refreshes every ' + REFRESH / 1000 + ' s';
      })
      .catch(function (error) {
        status.className = 'status error';
        status.textContent = 'cannot load ' + url + ': ' + error.message;
      })
      .then(function () { setTimeout(tick, REFRESH); });
  }
  tick();
})();
`;

const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** Content-Security-Policy of the page: this script and style only, requests to the same origin only. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${hash(SCRIPT)}`,
  `style-src ${hash(STYLE)}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The page itself (static). */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="data:,">
<title>nestjs-cashews · usage stats</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>nestjs-cashews · usage stats</h1><span id="status" class="status">loading…</span></header>
<main id="instances"></main>
<script>${SCRIPT}</script>
</body>
</html>
`;
