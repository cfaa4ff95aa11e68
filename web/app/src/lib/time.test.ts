import { compareIso, daysBetween, formatDate, fromLocalInput, relativeDay, startOfWeek, toLocalInput } from "./time";

describe("time", () => {
  it("never shifts a calendar date by the viewer's offset", () => {
    expect(formatDate("2026-12-05")).toMatch(/5/);
    expect(formatDate("2026-12-05")).toMatch(/2026/);
  });

  it("round-trips a wall-clock time through RFC 3339", () => {
    const local = "2026-12-06T10:00";
    expect(toLocalInput(new Date(fromLocalInput(local)))).toBe(local);
    expect(fromLocalInput(local)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it("starts weeks on Monday", () => {
    expect(startOfWeek(new Date(2026, 11, 6)).getDay()).toBe(1); // a Sunday
    expect(startOfWeek(new Date(2026, 11, 7)).getDate()).toBe(7); // a Monday
  });

  it("orders dates and instants in time, whatever the viewer's language", () => {
    expect(["2026-12-10", "2026-01-02", "2025-12-31", "2026-12-09"].sort(compareIso)).toEqual(["2025-12-31", "2026-01-02", "2026-12-09", "2026-12-10"]);
    expect(compareIso("2026-12-05T09:00:00Z", "2026-12-05T10:00:00Z")).toBeLessThan(0);
    expect(compareIso("2026-12-05", "2026-12-05")).toBe(0);
    expect(compareIso("9", "2026-12-05T10:00:00Z")).toBeGreaterThan(0); // "none" sorts last
  });

  it("counts calendar days, across months, years and a change of clocks", () => {
    expect(daysBetween("2026-12-05", "2026-12-05")).toBe(0);
    expect(daysBetween("2026-12-31", "2027-01-01")).toBe(1);
    expect(daysBetween("2026-03-28", "2026-03-30")).toBe(2); // Europe's clocks change on the 29th
    expect(daysBetween("2026-12-05", "2026-11-28")).toBe(-7);
  });

  it("says how far a near day is in words, and gives a far one as its date", () => {
    const today = "2026-12-05";
    expect(relativeDay("2026-12-05", today)).toBe("today");
    expect(relativeDay("2026-12-06", today)).toBe("tomorrow");
    expect(relativeDay("2026-12-04", today)).toBe("yesterday");
    expect(relativeDay("2026-12-09", today)).toBe("in 4 days");
    expect(relativeDay("2026-12-18", today)).toBe("in 13 days");
    expect(relativeDay("2026-12-02", today)).toBe("3 days ago");
    expect(relativeDay("2026-12-19", today)).toBe(formatDate("2026-12-19"));
    expect(relativeDay("2026-11-21", today)).toBe(formatDate("2026-11-21"));
  });
});
