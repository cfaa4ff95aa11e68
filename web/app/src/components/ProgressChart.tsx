import { useId } from "react";
import { useProgress, type Goal, type ProgressEntry } from "../api/queries";
import { formatDate, formatShortDate } from "../lib/time";
import "./ProgressChart.css";

// A point of a metric over time: its label (a date, or "Start"), the
// shorter tick under it on the drawing (the label when absent), and value.
export type ChartPoint = { label: string; tick?: string; value: number };

// The drawing names every point's date up to this many points; beyond,
// only the first and the last (the table lists them all).
const maxTicks = 5;

// The drawing's size in SVG units; it scales to the card's width.
const W = 320;
const H = 140;
const pad = { left: 44, right: 12, top: 14, bottom: 26 };

// layout places the points (evenly, in order) and the target on the
// drawing: the value axis spans every value and the target, with a
// margin, rounded out to round numbers, so that the target line and every
// point are always inside and the axis reads 0 to 25, not 3.4 to 22.6.
export function layout(points: ChartPoint[], target: number) {
  const values = [...points.map((p) => p.value), target];
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  const margin = hi === lo ? Math.max(1, Math.abs(hi) * 0.1) : (hi - lo) * 0.05;
  lo -= margin;
  hi += margin;
  const step = 10 ** Math.floor(Math.log10(hi - lo)) / 2;
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const plotW = W - pad.left - pad.right;
  const plotH = H - pad.top - pad.bottom;
  const y = (v: number) => pad.top + ((hi - v) / (hi - lo)) * plotH;
  const x = (i: number) => pad.left + (points.length === 1 ? plotW / 2 : (i / (points.length - 1)) * plotW);
  return {
    points: points.map((p, i) => ({ ...p, x: x(i), y: y(p.value) })),
    targetY: y(target),
    lo,
    hi,
  };
}

// goalSeries is what the goal itself tells of its course, until its
// entries have loaded (or if they fail to): its baseline when it was set,
// and the latest recorded value.
export function goalSeries(goal: Goal): ChartPoint[] {
  if (!goal.metric || goal.current_value == null) return [];
  return [
    { label: "Start", value: goal.metric.baseline },
    { label: "Latest", value: goal.current_value },
  ];
}

// entrySeries is a metric goal's whole course: its baseline, then every
// progress entry in the API's order (by date, then as recorded).
export function entrySeries(goal: Goal, entries: ProgressEntry[]): ChartPoint[] {
  if (!goal.metric || entries.length === 0) return [];
  return [
    { label: "Start", value: goal.metric.baseline },
    ...entries.map((e) => ({ label: formatDate(e.recorded_on), tick: formatShortDate(e.recorded_on), value: e.value })),
  ];
}

// when is a point's label inside a sentence: "start", "latest", or its date.
const when = (label: string) => (label === "Start" || label === "Latest" ? label.toLowerCase() : label);

const num = (v: number) => new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 }).format(v);

// ProgressChart draws a metric's values over time against its target: a
// small SVG with a title and summary for screen readers, and the points
// as a table that only screen readers see.
export function ProgressChart({ title, points, target, unit }: { title: string; points: ChartPoint[]; target: number; unit: string }) {
  const id = useId();
  if (points.length === 0) {
    return (
      <p className="chart-empty">
        No progress recorded yet. The target is {num(target)} {unit}.
      </p>
    );
  }
  const l = layout(points, target);
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const summary =
    points.length === 1
      ? `${first.label}: ${num(first.value)} ${unit}; target ${num(target)} ${unit}.`
      : `From ${num(first.value)} ${unit} (${when(first.label)}) to ${num(last.value)} ${unit} (${when(last.label)}); target ${num(target)} ${unit}.`;
  const line = l.points.map((p, i) => `${i === 0 ? "M" : "L"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t ${id}-d`} className="chart-svg">
        <title id={`${id}-t`}>{title}</title>
        <desc id={`${id}-d`}>{summary}</desc>
        <line className="chart-axis" x1={pad.left} x2={W - pad.right} y1={H - pad.bottom} y2={H - pad.bottom} />
        <text className="chart-tick" x={pad.left - 6} y={pad.top + 4} textAnchor="end">
          {num(l.hi)}
        </text>
        <text className="chart-tick" x={pad.left - 6} y={H - pad.bottom} textAnchor="end">
          {num(l.lo)}
        </text>
        <line className="chart-target" x1={pad.left} x2={W - pad.right} y1={l.targetY} y2={l.targetY} />
        <text className="chart-target-label" x={W - pad.right} y={l.targetY - 4} textAnchor="end">
          Target {num(target)} {unit}
        </text>
        {l.points.length > 1 && <path className="chart-line" d={line} pathLength={1} />}
        {l.points.map((p, i) => (
          <g key={i}>
            <circle className="chart-point" cx={p.x} cy={p.y} r={4} />
            <text className="chart-tick" x={p.x} y={H - pad.bottom + 16} textAnchor={i === 0 && l.points.length > 1 ? "start" : i === l.points.length - 1 && l.points.length > 1 ? "end" : "middle"}>
              {points.length <= maxTicks || i === 0 || i === points.length - 1 ? (p.tick ?? p.label) : null}
            </text>
          </g>
        ))}
      </svg>
      {/* A table ignores width and overflow; the wrapper hides it. */}
      <div className="visually-hidden">
        <table>
          <caption>
            {title}, target {num(target)} {unit}
          </caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Value ({unit})</th>
            </tr>
          </thead>
          <tbody>
            {points.map((p, i) => (
              <tr key={i}>
                <td>{p.label}</td>
                <td>{num(p.value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </figure>
  );
}

// GoalChart is the chart of one metric goal, for the coach's client page
// and the client's portal: every progress entry, read from the API.
export default function GoalChart({ goal }: { goal: Goal }) {
  const entries = useProgress(goal.id);
  if (!goal.metric) return null;
  const points = entries.data ? entrySeries(goal, entries.data) : goalSeries(goal);
  return <ProgressChart title={`Progress on ${goal.title}`} points={points} target={goal.metric.target} unit={goal.metric.unit} />;
}
