/**
 * A uPlot chart (https://github.com/leeoniya/uPlot: canvas, about 20 KB gzipped) of counts and a rate
 * per group: counts as bars (per UTC day on a time axis, or per category), the rate as a line
 * with points on a 0-100 % axis of its own. A canvas says nothing to
 * a screen reader, so the chart is `aria-hidden` and every page shows the same figures in a table.
 *
 * @module
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from './ui';

/** The chart's data: one label per point (a `YYYY-MM-DD` day or a category), a count and a rate (0-100) each. */
export interface ChartData {
  labels: string[];
  counts: number[];
  rates: Array<number | null>;
  countLabel: string;
  rateLabel: string;
  /** Days: a time axis; otherwise categories. */
  time: boolean;
}

/** The chart (hidden from assistive technology; the caller shows the table alternative). */
export function BarLineChart({ data, width = 720, height = 300 }: { data: ChartData; width?: number; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const xs = data.time ? data.labels.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000) : data.labels.map((_l, i) => i);
    const options: uPlot.Options = {
      width,
      height,
      // Half a step of padding either side, so the first and last bars are whole.
      scales: {
        x: data.time ? { time: true, range: [(xs[0] ?? 0) - 43_200, (xs[xs.length - 1] ?? 0) + 43_200] } : { time: false, range: [-0.5, Math.max(data.labels.length - 0.5, 0.5)] },
        rate: { range: [0, 100] },
      },
      axes: [
        data.time ? {} : { splits: () => data.labels.map((_l, i) => i), values: (_u, splits) => splits.map((i) => data.labels[i] ?? '') },
        { label: data.countLabel },
        { scale: 'rate', side: 1, label: data.rateLabel, grid: { show: false }, values: (_u, splits) => splits.map((v) => `${v}%`) },
      ],
      series: [
        {},
        { label: data.countLabel, stroke: '#1f5fbf', fill: 'rgba(31,95,191,0.35)', paths: uPlot.paths.bars!({ size: [0.6, 80] }), points: { show: false } },
        { label: data.rateLabel, scale: 'rate', stroke: '#1b7f3b', width: 2, points: { show: true, size: 7 } },
      ],
    };
    const plot = new uPlot(options, [xs, data.counts, data.rates], box.current);
    return () => plot.destroy();
  }, [data, width, height]);
  return html`<div class="chart" ref=${box} aria-hidden="true"></div>`;
}
