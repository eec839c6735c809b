/** Small SVG charts drawn here, with no chart library. Colours come from CSS (--series-N). */

const W = 640;
const H = 220;
const PAD = { left: 76, right: 12, top: 12, bottom: 34 };

const color = (i) => `series series-${i % 8}`;

function niceMax(v) {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Stacked bars: one bar per label (day), one segment per series (model). */
export function StackedBars({ title, labels, series, format = String }) {
  const totals = labels.map((_, i) => series.reduce((s, x) => s + (x.values[i] || 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, labels.length);
  const barW = Math.min(48, slot * 0.6);
  const y = (v) => PAD.top + plotH - (v / max) * plotH;
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * max);
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        {ticks.map((v) => (
          <g key={v}>
            <line class="grid" x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} />
            <text class="axis" x={PAD.left - 6} y={y(v) + 4} text-anchor="end">{format(v)}</text>
          </g>
        ))}
        {labels.map((label, i) => {
          const x = PAD.left + slot * i + (slot - barW) / 2;
          let base = 0;
          return (
            <g key={label}>
              {series.map((s, si) => {
                const v = s.values[i] || 0;
                if (!v) return null;
                const top = y(base + v);
                const rect = <rect key={s.name} class={color(si)} x={x} y={top} width={barW} height={y(base) - top}>
                  <title>{`${label} · ${s.name}: ${format(v)}`}</title>
                </rect>;
                base += v;
                return rect;
              })}
              <text class="axis" x={x + barW / 2} y={H - PAD.bottom + 16} text-anchor="middle">{label.slice(5)}</text>
            </g>
          );
        })}
      </svg>
      <Legend names={series.map((s) => s.name)} />
    </figure>
  );
}

/** Horizontal bars: one per item, value labelled. */
export function HorizontalBars({ title, items, format = String }) {
  const max = Math.max(1, ...items.map((x) => x.value));
  const rowH = 26;
  const h = Math.max(rowH, items.length * rowH) + 8;
  const labelW = 180;
  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${h}`} role="img" aria-label={title}>
        {items.map((item, i) => {
          const w = ((W - labelW - 110) * item.value) / max;
          const yy = 4 + i * rowH;
          return (
            <g key={item.name}>
              <text class="axis label" x={labelW - 8} y={yy + 16} text-anchor="end">{item.name}</text>
              <rect class={color(i)} x={labelW} y={yy + 4} width={Math.max(1, w)} height={rowH - 10} />
              <text class="axis" x={labelW + w + 6} y={yy + 16}>{format(item.value)}</text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

function Legend({ names }) {
  if (!names.length) return null;
  return (
    <ul class="legend">
      {names.map((n, i) => (
        <li key={n}><svg width="10" height="10" aria-hidden="true"><rect class={color(i)} width="10" height="10" /></svg>{n}</li>
      ))}
    </ul>
  );
}
