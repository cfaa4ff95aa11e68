import { formatDate, fromLocalInput, startOfWeek, toLocalInput } from "./time";

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
});
