// A small grouped horizontal bar chart as a standalone SVG (no dependency, readable on GitHub).
export interface BarGroup {
  label: string;
  bars: Array<{ series: string; value: number }>;
}

const PALETTE = ['#2f6f4e', '#c0612b', '#5b6b8c', '#9a9a9a', '#b59b2e', '#7a3f7a'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function barChart(opts: { title: string; unit: string; groups: BarGroup[]; digits?: number }): string {
  const series = [...new Set(opts.groups.flatMap((g) => g.bars.map((b) => b.series)))];
  const color = (s: string) => PALETTE[series.indexOf(s) % PALETTE.length]!;
  const max = Math.max(1e-9, ...opts.groups.flatMap((g) => g.bars.map((b) => (Number.isFinite(b.value) ? b.value : 0))));
  const labelW = 230;
  const plotW = 440;
  const barH = 16;
  const gap = 10;
  const top = 52;
  const rows: string[] = [];
  let y = top;
  for (const g of opts.groups) {
    rows.push(`<text x="${labelW - 8}" y="${y + barH - 3}" text-anchor="end" font-weight="bold">${esc(g.label)}</text>`);
    for (const b of g.bars) {
      const v = Number.isFinite(b.value) ? b.value : 0;
      const w = Math.max(1, (v / max) * plotW);
      rows.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${color(b.series)}"/>`);
      rows.push(`<text x="${labelW + w + 4}" y="${y + barH - 3}">${Number.isFinite(b.value) ? b.value.toFixed(opts.digits ?? 0) : 'n/a'} ${esc(opts.unit)}</text>`);
      y += barH + 2;
    }
    y += gap;
  }
  const legend = series
    .map((s, i) => `<rect x="${labelW + i * 130}" y="26" width="12" height="12" fill="${color(s)}"/><text x="${labelW + i * 130 + 16}" y="36">${esc(s)}</text>`)
    .join('');
  const height = y + 10;
  const width = labelW + plotW + 110;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="18" font-size="14" font-weight="bold">${esc(opts.title)}</text>
${legend}
${rows.join('\n')}
</svg>
`;
}
