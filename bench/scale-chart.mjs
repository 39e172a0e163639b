// A self-contained SVG of the scale curves (no dependency, no script, no external font): a row per backend,
// a column per curve (callers, keys); x on a log scale, y = µs per call from 0, one line per path, a whisker
// per point for the min..max over the rounds and the median written next to it. The y axis follows the
// medians: a whisker longer than the axis (one noisy round) is cut at the top and marked with a cap.

const PANEL_W = 420;
const PANEL_H = 230;
const MARGIN = { left: 64, right: 44, top: 40, bottom: 46 };
const HEADER = 96;
const COLORS = { get: '#1f6fb4', '@Cache': '#d0452b', 'lru-cache': '#8a8a8a' };
/** The floor is drawn dashed: a reference, not a path of the library. */
const DASH = { 'lru-cache': ' stroke-dasharray="5 4"' };
const FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif"';

const esc = (text) =>
  String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const fmtCount = (n) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));
const fmtUs = (us) => (us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2));

/** A round tick step (1, 2, 2.5 or 5 × 10^k) giving at most 6 ticks up to `value`, and the axis maximum. */
function niceAxis(value) {
  const pow = 10 ** Math.floor(Math.log10(value || 1) - 1);
  for (const m of [1, 2, 2.5, 5, 10, 20, 25, 50, 100]) {
    const step = m * pow;
    if (value / step <= 6) return { max: Math.ceil(value / step) * step, step };
  }
  return { max: value, step: value / 5 };
}

function panel({ x0, y0, title, xs, xLabel, lines }) {
  const w = PANEL_W - MARGIN.left - MARGIN.right;
  const h = PANEL_H - MARGIN.top - MARGIN.bottom;
  const left = x0 + MARGIN.left;
  const top = y0 + MARGIN.top;
  const maxUs = Math.max(...lines.flatMap((l) => l.points.map((p) => p.nsPerCall.median / 1000)), 0.001);
  const axis = niceAxis(maxUs * 1.25);
  const logMin = Math.log10(xs[0]);
  const logSpan = Math.log10(xs[xs.length - 1]) - logMin || 1;
  const px = (x) => left + ((Math.log10(x) - logMin) / logSpan) * w;
  const py = (us) => top + h - (Math.min(us, axis.max) / axis.max) * h;
  /** Whether another line's median at `x` is above this one: then this label goes below its dot. */
  const lower = (line, p) =>
    lines.some(
      (o) =>
        o !== line && !DASH[o.path] && o.points.some((q) => q.x === p.x && q.nsPerCall.median > p.nsPerCall.median),
    );
  const out = [
    `<text x="${x0 + PANEL_W / 2}" y="${y0 + 22}" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="#fafafa" stroke="#bbb"/>`,
  ];
  for (let v = 0; v <= axis.max + axis.step / 2; v += axis.step) {
    const y = py(v).toFixed(1);
    out.push(`<line x1="${left}" x2="${left + w}" y1="${y}" y2="${y}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${left - 6}" y="${y}" dy="4" text-anchor="end" font-size="11">${+v.toFixed(2)}</text>`);
  }
  for (const x of xs) {
    const xp = px(x).toFixed(1);
    out.push(`<line x1="${xp}" x2="${xp}" y1="${top}" y2="${top + h}" stroke="#e3e3e3"/>`);
    out.push(`<text x="${xp}" y="${top + h + 16}" text-anchor="middle" font-size="11">${fmtCount(x)}</text>`);
  }
  out.push(
    `<text x="${left + w / 2}" y="${top + h + 36}" text-anchor="middle" font-size="12">${esc(xLabel)}</text>`,
    `<text transform="translate(${x0 + 16} ${top + h / 2}) rotate(-90)" text-anchor="middle" font-size="12">µs per call</text>`,
  );
  for (const line of lines) {
    const color = COLORS[line.path] ?? '#555';
    const pts = line.points.filter((p) => xs.includes(p.x)).sort((a, b) => a.x - b.x);
    if (pts.length === 0) continue;
    const path = pts.map((p) => `${px(p.x).toFixed(1)},${py(p.nsPerCall.median / 1000).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"${DASH[line.path] ?? ''}/>`);
    for (const p of pts) {
      const x = px(p.x);
      const y = py(p.nsPerCall.median / 1000);
      const cut = p.nsPerCall.max / 1000 > axis.max;
      out.push(
        `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${py(p.nsPerCall.min / 1000).toFixed(1)}" ` +
          `y2="${py(p.nsPerCall.max / 1000).toFixed(1)}" stroke="${color}" stroke-opacity="0.5" stroke-width="5"/>`,
        ...(cut
          ? [
              `<line x1="${(x - 5).toFixed(1)}" x2="${(x + 5).toFixed(1)}" y1="${top}" y2="${top}" stroke="${color}" stroke-width="2"/>`,
            ]
          : []),
        `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3.5" fill="${color}"/>`,
      );
      // The label of the higher line sits above its dot, the lower one's below, so close curves stay readable.
      // A floor (dashed) gets no labels: the table has its figures, and three rows of labels would collide.
      if (DASH[line.path]) continue;
      out.push(
        `<text x="${(x + 6).toFixed(1)}" y="${(y + (lower(line, p) ? 15 : -7)).toFixed(1)}" font-size="10" fill="${color}">` +
          `${esc(fmtUs(p.nsPerCall.median / 1000))}</text>`,
      );
    }
  }
  return out.join('\n');
}

/**
 * @param {object} data
 * @param {Array<{backend: string, path: string, curve: 'concurrency'|'keyspace', x: number,
 *   nsPerCall: {median: number, min: number, max: number}}>} data.points
 * @param {Array<{backend: string, path: string}>} data.series
 * @returns {string} the SVG document
 */
export function renderScaleChart({ points, series, callers, keyspaces, conditions, curveKeys, curveCallers }) {
  const backends = [...new Set(series.map((s) => s.backend))];
  const paths = [...new Set(series.map((s) => s.path))];
  const width = PANEL_W * 2;
  const height = HEADER + PANEL_H * backends.length + 10;
  const label = { get: 'CacheService.get hit', '@Cache': '@Cache provider hit', 'lru-cache': 'await lru.get() floor' };
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT}>`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="16" y="24" font-size="16" font-weight="bold">nestjs-cashews scale curves: cost per cache hit</text>`,
    `<text x="16" y="42" font-size="11" fill="#444">${esc(conditions)}</text>`,
    `<text x="16" y="58" font-size="11" fill="#444">Cost per call = batch wall time / calls (all callers together). ` +
      `The points of a panel run in interleaved rounds.</text>`,
    `<text x="16" y="72" font-size="11" fill="#444">Dot: median over the rounds; bar: min..max (capped when cut). ` +
      `Compare points within a panel: load moves between panels.</text>`,
  ];
  paths.forEach((path, i) => {
    const x = width - paths.length * 165 + i * 165;
    out.push(
      `<line x1="${x}" x2="${x + 20}" y1="86" y2="86" stroke="${COLORS[path] ?? '#555'}" stroke-width="3"${DASH[path] ?? ''}/>`,
      `<text x="${x + 26}" y="90" font-size="11">${esc(label[path] ?? path)}</text>`,
    );
  });
  backends.forEach((backend, row) => {
    const y0 = HEADER + row * PANEL_H;
    const lines = (curve) =>
      series
        .filter((s) => s.backend === backend)
        .map((s) => ({
          path: s.path,
          points: points.filter((p) => p.backend === backend && p.path === s.path && p.curve === curve),
        }));
    const name = backend === 'memory' ? 'mem://' : 'redis://';
    out.push(
      panel({
        x0: 0,
        y0,
        title: `${name} — concurrent callers (${fmtCount(curveKeys)} keys)`,
        xs: callers,
        xLabel: 'concurrent callers (log scale)',
        lines: lines('concurrency'),
      }),
      panel({
        x0: PANEL_W,
        y0,
        title: `${name} — keyspace (${curveCallers} callers)`,
        xs: keyspaces,
        xLabel: 'keys read at random (log scale)',
        lines: lines('keyspace'),
      }),
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
