import { limitLine, statusWords, subscribed, usageLine, type Subscription } from "./billing";
import { formatMoment } from "../lib/time";

const base: Subscription = {
  plan: { id: "solo", name: "Solo", limits: { active_clients: 15 } },
  status: "trialing",
  access: "full",
  has_customer: false,
  usage: { active_clients: 3, coaches: 0, therapist_connections: 1 },
};

describe("usage and limits in words", () => {
  it("counts against a limit, or says unlimited", () => {
    expect(usageLine(3, 15, "active client", "active clients")).toBe("3 of 15 active clients");
    expect(usageLine(1, undefined, "coach", "coaches")).toBe("1 coach, unlimited");
    expect(usageLine(0, 0, "coach", "coaches")).toBe("No coaches on this plan");
    expect(limitLine(1, "coach", "coaches")).toBe("Up to 1 coach");
    expect(limitLine(0, "coach", "coaches")).toBe("No coaches");
    expect(limitLine(undefined, "coach", "coaches")).toBe("Unlimited coaches");
  });
});

describe("statusWords", () => {
  it("says until when a trial runs", () => {
    const w = statusWords({ ...base, trial_end: "2027-01-12T13:30:00Z" });
    expect(w.badge).toBe("Trial");
    expect(w.text).toBe(`Free trial until ${formatMoment("2027-01-12T13:30:00Z")}.`);
  });

  it("gives the end of the grace period after a failed payment", () => {
    const w = statusWords({ ...base, status: "past_due", access: "grace", grace_ends_at: "2027-01-12T13:30:00Z", has_customer: true });
    expect(w.tone).toBe("warn");
    expect(w.text).toContain(`until ${formatMoment("2027-01-12T13:30:00Z")}`);
  });

  it("explains read-only, and that nothing is deleted", () => {
    const w = statusWords({ ...base, status: "trial_ended", access: "read_only" });
    expect(w.badge).toBe("Read-only");
    expect(w.text).toMatch(/The trial ended\. .*Nothing is deleted/);
  });
});

describe("subscribed", () => {
  it("sends plan changes of a paying practice to the portal, not to a second checkout", () => {
    expect(subscribed(base)).toBe(false);
    expect(subscribed({ ...base, has_customer: true })).toBe(false); // an abandoned checkout
    expect(subscribed({ ...base, status: "active", has_customer: true })).toBe(true);
    expect(subscribed({ ...base, status: "canceled", access: "read_only", has_customer: true })).toBe(false);
  });
});
