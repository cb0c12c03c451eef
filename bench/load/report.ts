/**
 * Figures and the written report: percentiles, per-second timeline, an SVG chart drawn by hand
 * (throughput and latency over time with the phases marked) and the markdown document.
 */
import type { HttpEvent, LoginEvent } from './traffic.js';

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export interface LatencySummary {
  count: number;
  ok: number;
  failed: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  errors: Record<string, number>;
}

export function summarizeLogins(events: LoginEvent[], seconds: number): LatencySummary {
  const ok = events.filter((e) => e.ok);
  const ms = ok.map((e) => e.ms).sort((a, b) => a - b);
  const errors: Record<string, number> = {};
  for (const e of events) if (!e.ok) errors[e.code ?? 'UNKNOWN'] = (errors[e.code ?? 'UNKNOWN'] ?? 0) + 1;
  return {
    count: events.length,
    ok: ok.length,
    failed: events.length - ok.length,
    perSecond: seconds > 0 ? ok.length / seconds : 0,
    p50: percentile(ms, 50),
    p95: percentile(ms, 95),
    p99: percentile(ms, 99),
    errors,
  };
}

export function summarizeHttp(
  events: HttpEvent[],
): Record<string, { count: number; failed: number; p50: number; p95: number; errors: Record<string, number> }> {
  const out: Record<string, { count: number; failed: number; p50: number; p95: number; errors: Record<string, number> }> = {};
  for (const kind of ['page', 'healthz', 'token'] as const) {
    const ev = events.filter((e) => e.kind === kind);
    const ms = ev
      .filter((e) => e.ok)
      .map((e) => e.ms)
      .sort((a, b) => a - b);
    const errors: Record<string, number> = {};
    for (const e of ev) if (!e.ok) errors[e.code ?? 'UNKNOWN'] = (errors[e.code ?? 'UNKNOWN'] ?? 0) + 1;
    out[kind] = { count: ev.length, failed: ev.filter((e) => !e.ok).length, p50: percentile(ms, 50), p95: percentile(ms, 95), errors };
  }
  return out;
}

export interface TimelinePoint {
  /** second since the run started */
  s: number;
  ok: number;
  failed: number;
  p50: number;
  p95: number;
}

export function timeline(events: LoginEvent[], untilMs: number): TimelinePoint[] {
  const n = Math.ceil(untilMs / 1000);
  const bins: LoginEvent[][] = Array.from({ length: n }, () => []);
  for (const e of events) bins[Math.min(n - 1, Math.floor(e.t / 1000))]?.push(e);
  return bins.map((b, s) => {
    const ms = b
      .filter((e) => e.ok)
      .map((e) => e.ms)
      .sort((a, c) => a - c);
    return { s, ok: ms.length, failed: b.length - ms.length, p50: percentile(ms, 50), p95: percentile(ms, 95) };
  });
}

// ---------------------------------------------------------------- chart

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

/**
 * Two panels over one time axis: logins per second (succeeded, failed) and login latency
 * (p50, p95 per second, logarithmic: normal phases and overload differ a hundredfold), phases
 * shaded, events (kills, restarts) as dashed lines.
 */
export function renderChart(
  points: TimelinePoint[],
  phases: { label: string; from: number; to: number }[],
  title: string,
  marks: { t: number; label: string }[] = [],
): string {
  const W = 960;
  const H = 530;
  const L = 64;
  const R = 20;
  const panelH = 180;
  const top1 = 64;
  const top2 = top1 + panelH + 60;
  const n = Math.max(1, points.length);
  const x = (s: number) => L + (s / n) * (W - L - R);
  const rateMax = niceMax(Math.max(1, ...points.map((p) => p.ok + p.failed)));
  const lat = points.flatMap((p) => [p.p50, p.p95]).filter((v) => Number.isFinite(v) && v > 0);
  const latMin = 10 ** Math.floor(Math.log10(Math.max(1, Math.min(...lat, 100))));
  const latMax = niceMax(Math.max(1000, ...lat));
  const y1 = (v: number) => top1 + panelH - (v / rateMax) * panelH;
  const y2 = (v: number) => {
    const f = (Math.log10(Math.max(latMin, Math.min(v, latMax))) - Math.log10(latMin)) / (Math.log10(latMax) - Math.log10(latMin));
    return top2 + panelH - f * panelH;
  };
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${L}" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`);
  const shades = ['#f3f6fb', '#fbf6ee'];
  phases.forEach((ph, i) => {
    const a = x(ph.from / 1000);
    const b = x(ph.to / 1000);
    for (const top of [top1, top2])
      out.push(
        `<rect x="${a.toFixed(1)}" y="${top}" width="${Math.max(0, b - a).toFixed(1)}" height="${panelH}" fill="${shades[i % 2]}"/>`,
      );
    out.push(`<text x="${(a + 3).toFixed(1)}" y="${top1 - 6 - (i % 2) * 11}" font-size="10" fill="#555">${esc(ph.label)}</text>`);
  });
  marks.forEach((mk, i) => {
    const mx = x(mk.t / 1000).toFixed(1);
    out.push(`<line x1="${mx}" x2="${mx}" y1="${top1}" y2="${top2 + panelH}" stroke="#7f1d1d" stroke-dasharray="3,3"/>`);
    out.push(
      `<text x="${(Number(mx) + 3).toFixed(1)}" y="${top1 + 12 + (i % 3) * 12}" font-size="10" fill="#7f1d1d">${esc(mk.label)}</text>`,
    );
  });
  const tick = (yy: number, label: string) => {
    out.push(`<line x1="${L}" x2="${W - R}" y1="${yy.toFixed(1)}" y2="${yy.toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${L - 6}" y="${(yy + 4).toFixed(1)}" text-anchor="end" fill="#444">${label}</text>`);
  };
  const unit = (top: number, text: string) =>
    out.push(
      `<text x="14" y="${top + panelH / 2}" transform="rotate(-90 14 ${top + panelH / 2})" text-anchor="middle" fill="#444">${esc(text)}</text>`,
    );
  for (let k = 0; k <= 4; k++) {
    const v = (rateMax * k) / 4;
    tick(top1 + panelH - (k / 4) * panelH, Number.isInteger(v) ? String(v) : v.toFixed(1));
  }
  unit(top1, 'logins / s');
  for (let d = latMin; d <= latMax; d *= 10) {
    for (const m of [1, 2, 5]) if (d * m <= latMax) tick(y2(d * m), d * m >= 1000 ? `${(d * m) / 1000}s` : `${d * m}`);
  }
  unit(top2, 'login latency, ms (log scale)');
  for (let s = 0; s <= n; s += Math.max(10, Math.ceil(n / 12 / 10) * 10)) {
    out.push(`<text x="${x(s)}" y="${top2 + panelH + 16}" text-anchor="middle" fill="#444">${s}s</text>`);
  }
  const bw = Math.max(1, (W - L - R) / n - 0.5);
  for (const p of points) {
    if (p.ok)
      out.push(
        `<rect x="${x(p.s).toFixed(1)}" y="${y1(p.ok).toFixed(1)}" width="${bw.toFixed(1)}" height="${(top1 + panelH - y1(p.ok)).toFixed(1)}" fill="#3a7d44"/>`,
      );
    if (p.failed)
      out.push(
        `<rect x="${x(p.s).toFixed(1)}" y="${y1(p.ok + p.failed).toFixed(1)}" width="${bw.toFixed(1)}" height="${(y1(p.ok) - y1(p.ok + p.failed)).toFixed(1)}" fill="#c0392b"/>`,
      );
  }
  const line = (vals: number[], color: string) => {
    const segs: string[] = [];
    let cur: string[] = [];
    vals.forEach((v, i) => {
      if (Number.isFinite(v)) cur.push(`${x(i + 0.5).toFixed(1)},${y2(v).toFixed(1)}`);
      else if (cur.length) {
        segs.push(cur.join(' '));
        cur = [];
      }
    });
    if (cur.length) segs.push(cur.join(' '));
    for (const s of segs) out.push(`<polyline points="${s}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
  };
  line(
    points.map((p) => p.p95),
    '#d35400',
  );
  line(
    points.map((p) => p.p50),
    '#2c3e90',
  );
  const legend = [
    ['#3a7d44', 'succeeded logins/s'],
    ['#c0392b', 'failed logins/s'],
    ['#2c3e90', 'p50 latency'],
    ['#d35400', 'p95 latency'],
  ];
  legend.forEach(([c, t], i) => {
    const lx = L + i * 170;
    out.push(
      `<rect x="${lx}" y="${H - 22}" width="12" height="12" fill="${c}"/><text x="${lx + 18}" y="${H - 12}">${esc(t as string)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}

// ---------------------------------------------------------------- markdown helpers

export function fmt(v: number, digits = 0): string {
  return Number.isFinite(v) ? v.toFixed(digits) : '–';
}

export function table(head: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export function codes(errors: Record<string, number>): string {
  const e = Object.entries(errors).sort((a, b) => b[1] - a[1]);
  return e.length ? e.map(([k, v]) => `${k} ${v}`).join(', ') : 'none';
}
