// Charts drawn in the window as SVG: no network, no library. Every chart has a text title and
// description for screen readers, and numbers written on the bars.

const NS = "http://www.w3.org/2000/svg";

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  text?: string,
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

export interface Bar {
  label: string;
  value: number;
  /** What is written at the end of the bar (the value, formatted). */
  shown: string;
  /** Drawn in the warning colour (above a target, say). */
  alert?: boolean;
  /** How a screen reader says the label, where the label is drawn rather than written. */
  spoken?: string;
}

/** The chart's values in words, its description for screen readers: a bar's label and value,
 * one after the other, and what the chart is measured against. */
function described(bars: Bar[], against?: string): SVGDescElement {
  const values = bars.map((b) => `${b.spoken ?? b.label}: ${b.shown}`).join("; ");
  return svg("desc", {}, against ? `${values}. ${against}` : values);
}

/** A vertical bar chart with an optional target line. */
export function columnChart(title: string, bars: Bar[], target?: { value: number; label: string }): SVGSVGElement {
  const width = 560;
  const height = 220;
  const left = 36;
  const bottom = 28;
  const top = 16;
  const max = Math.max(1, target?.value ?? 0, ...bars.map((b) => b.value)) * 1.15;
  const plot = height - bottom - top;
  const step = (width - left) / Math.max(1, bars.length);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "chart" });
  root.append(svg("title", {}, title), described(bars, target?.label));
  const y = (v: number) => top + plot - (v / max) * plot;
  root.append(svg("line", { x1: left, x2: width, y1: y(0), y2: y(0), stroke: "#4a5560" }));
  bars.forEach((b, i) => {
    const x = left + i * step + step * 0.15;
    const w = step * 0.7;
    root.append(
      svg("rect", { x, y: y(b.value), width: w, height: Math.max(0, y(0) - y(b.value)), fill: b.alert ? "#a4161a" : "#0b5560" }),
      svg("text", { x: x + w / 2, y: height - 10, "text-anchor": "middle", "font-size": 12, fill: "#1b1f23" }, b.label),
    );
    if (b.value > 0) {
      root.append(svg("text", { x: x + w / 2, y: y(b.value) - 4, "text-anchor": "middle", "font-size": 11, fill: "#1b1f23" }, b.shown));
    }
  });
  if (target) {
    root.append(
      svg("line", { x1: left, x2: width, y1: y(target.value), y2: y(target.value), stroke: "#c2410c", "stroke-width": 2, "stroke-dasharray": "6 4" }),
      svg("text", { x: left + 4, y: y(target.value) - 4, "font-size": 11, fill: "#9a3412" }, target.label),
    );
  }
  return root;
}

/** A horizontal bar chart, one labelled line per bar. */
export function barChart(title: string, bars: Bar[]): SVGSVGElement {
  const width = 560;
  const row = 24;
  const labelWidth = 200;
  const height = Math.max(1, bars.length) * row + 8;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "chart" });
  root.append(svg("title", {}, title), described(bars));
  bars.forEach((b, i) => {
    const y = 4 + i * row;
    const w = ((width - labelWidth - 60) * b.value) / max;
    root.append(
      svg("text", { x: labelWidth - 8, y: y + 16, "text-anchor": "end", "font-size": 12, fill: "#1b1f23" }, b.label),
      svg("rect", { x: labelWidth, y: y + 3, width: Math.max(1, w), height: row - 8, fill: b.alert ? "#a4161a" : "#0b5560" }),
      svg("text", { x: labelWidth + w + 6, y: y + 16, "font-size": 12, fill: "#1b1f23" }, b.shown),
    );
  });
  return root;
}
