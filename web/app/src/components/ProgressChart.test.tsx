import { render, screen, within } from "@testing-library/react";
import type { Goal } from "../api/queries";
import GoalChart, { goalSeries, layout, ProgressChart } from "./ProgressChart";

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
  it("says so when nothing is recorded yet", () => {
    render(<GoalChart goal={{ ...goal, current_value: null }} />);
    expect(screen.getByText("No progress recorded yet. The target is 21 km.")).toBeTruthy();
    expect(screen.queryByRole("img")).toBeNull();
    expect(goalSeries({ ...goal, metric: null })).toEqual([]);
  });

  it("names and summarises the chart, and lists its points in a table", () => {
    render(<GoalChart goal={goal} />);
    const img = screen.getByRole("img", { name: /Progress on Run a half marathon/ });
    expect(img.textContent).toContain("From 5 km (start) to 9 km (latest); target 21 km.");
    const table = screen.getByRole("table", { name: "Progress on Run a half marathon, target 21 km" });
    const rows = within(table).getAllByRole("row").map((r) => r.textContent);
    expect(rows).toEqual(["WhenValue (km)", "Start5", "Latest9"]);
  });

  it("draws one point without a line", () => {
    const { container } = render(<ProgressChart title="Sleep" points={[{ label: "1 Dec", value: 6.5 }]} target={8} unit="hours" />);
    expect(container.querySelectorAll("circle")).toHaveLength(1);
    expect(container.querySelector("path")).toBeNull();
  });
});
