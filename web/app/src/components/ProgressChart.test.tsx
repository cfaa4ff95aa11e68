import { render, screen, waitFor, within } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { vi } from "vitest";
import type { Goal, ProgressEntry } from "../api/queries";

// The API answers the entries' pages from a table by cursor; unwrap stays the real one.
type Page = { items: ProgressEntry[]; next_cursor: string | null };
let pages: Record<string, Page | { status: number }> = {};
const asked: { path: string; goal_id: string; cursor?: string; limit?: number }[] = [];
vi.mock("../api/client", async (importActual) => ({
  ...(await importActual<typeof import("../api/client")>()),
  api: {
    GET: async (path: string, opts: { params: { path: { goal_id: string }; query?: { cursor?: string; limit?: number } } }) => {
      asked.push({ path, goal_id: opts.params.path.goal_id, ...opts.params.query });
      const p = pages[opts.params.query?.cursor ?? ""] ?? { status: 500 };
      if ("status" in p) return { error: { title: "Boom", status: p.status }, response: new Response(null, { status: p.status }) };
      return { data: p, response: new Response(null, { status: 200 }) };
    },
  },
}));

import GoalChart, { entrySeries, goalSeries, layout, ProgressChart } from "./ProgressChart";

const entry = (id: string, recorded_on: string, value: number): ProgressEntry => ({
  id,
  goal_id: "g1",
  recorded_on,
  value,
  note: null,
  created_at: `${recorded_on}T09:00:00Z`,
});

function renderChart(g: Goal) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={qc}>
      <GoalChart goal={g} />
    </QueryClientProvider>,
  );
}

const rowsOf = (name: string) =>
  within(screen.getByRole("table", { name }))
    .getAllByRole("row")
    .map((r) => r.textContent);

beforeEach(() => {
  pages = {};
  asked.length = 0;
});

const goal: Goal = {
  id: "g1",
  client_id: "c1",
  title: "Run a half marathon",
  description: null,
  why: "To finish what I start.",
  target_date: null,
  status: "active",
  metric: { unit: "km", baseline: 5, target: 21 },
  current_value: 9,
  progress_percent: 25,
  created_at: "2026-12-01T10:00:00Z",
  updated_at: "2026-12-01T10:00:00Z",
};

describe("layout", () => {
  it("spreads the points evenly and keeps every value and the target inside, higher values higher", () => {
    const l = layout(
      [
        { label: "1 Dec", value: 5 },
        { label: "3 Dec", value: 9 },
        { label: "5 Dec", value: 7 },
      ],
      21,
    );
    const [a, b, c] = l.points;
    expect(b!.x - a!.x).toBeCloseTo(c!.x - b!.x);
    expect(b!.y).toBeLessThan(c!.y);
    expect(c!.y).toBeLessThan(a!.y);
    expect(l.targetY).toBeLessThan(b!.y);
    // The axis runs between round numbers around every value and the target.
    expect([l.lo, l.hi]).toEqual([0, 25]);
    for (const y of [...l.points.map((p) => p.y), l.targetY]) {
      expect(y).toBeGreaterThan(0);
      expect(y).toBeLessThan(140);
    }
  });

  it("draws a flat series when every value equals the target", () => {
    const l = layout([{ label: "Start", value: 3 }], 3);
    expect(l.hi).toBeGreaterThan(l.lo);
    expect(l.points[0]!.y).toBeCloseTo(l.targetY);
  });
});

describe("ProgressChart", () => {
  it("says so when nothing is recorded yet", async () => {
    pages = { "": { items: [], next_cursor: null } };
    renderChart({ ...goal, current_value: null });
    expect(await screen.findByText("No progress recorded yet. The target is 21 km.")).toBeTruthy();
    expect(screen.queryByRole("img")).toBeNull();
    expect(goalSeries({ ...goal, metric: null })).toEqual([]);
    expect(entrySeries(goal, [])).toEqual([]);
  });

  it("draws every entry after the baseline, following the pages, and lists them in a table", async () => {
    pages = {
      "": { items: [entry("e1", "2026-12-01", 6), entry("e2", "2026-12-03", 7.5)], next_cursor: "c2" },
      c2: { items: [entry("e3", "2026-12-03", 8), entry("e4", "2026-12-05", 9)], next_cursor: null },
    };
    const { container } = renderChart(goal);
    const name = "Progress on Run a half marathon, target 21 km";
    await waitFor(() => expect(rowsOf(name)).toHaveLength(6));
    const d = (iso: string) =>
      new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }).format(new Date(`${iso}T00:00:00Z`));
    expect(rowsOf(name)).toEqual(["WhenValue (km)", "Start5", `${d("2026-12-01")}6`, `${d("2026-12-03")}7.5`, `${d("2026-12-03")}8`, `${d("2026-12-05")}9`]);
    expect(container.querySelectorAll("circle")).toHaveLength(5);
    const img = screen.getByRole("img", { name: /Progress on Run a half marathon/ });
    expect(img.textContent).toContain(`From 5 km (start) to 9 km (${d("2026-12-05")}); target 21 km.`);
    expect(asked.map((a) => [a.path, a.goal_id, a.cursor, a.limit])).toEqual([
      ["/goals/{goal_id}/progress", "g1", undefined, 200],
      ["/goals/{goal_id}/progress", "g1", "c2", 200],
    ]);
  });

  it("shows what the goal tells (start and latest) while the entries load or if they fail", async () => {
    renderChart(goal); // no page in the table: the API answers 500
    const name = "Progress on Run a half marathon, target 21 km";
    expect(rowsOf(name)).toEqual(["WhenValue (km)", "Start5", "Latest9"]);
    await waitFor(() => expect(asked).toHaveLength(1));
    expect(rowsOf(name)).toEqual(["WhenValue (km)", "Start5", "Latest9"]);
  });

  it("names only the first and last dates on a long series, and every one in the table", () => {
    const points = Array.from({ length: 8 }, (_, i) => ({ label: `Day ${i + 1}`, tick: `D${i + 1}`, value: i }));
    const { container } = render(<ProgressChart title="Steps" points={points} target={10} unit="k" />);
    const ticks = [...container.querySelectorAll("g text")].map((t) => t.textContent).filter(Boolean);
    expect(ticks).toEqual(["D1", "D8"]);
    expect(rowsOf("Steps, target 10 k")).toHaveLength(9);
  });

  it("draws one point without a line", () => {
    const { container } = render(<ProgressChart title="Sleep" points={[{ label: "1 Dec", value: 6.5 }]} target={8} unit="hours" />);
    expect(container.querySelectorAll("circle")).toHaveLength(1);
    expect(container.querySelector("path")).toBeNull();
  });
});
