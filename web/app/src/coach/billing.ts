import type { components } from "../api/schema.gen";
import { formatMoment } from "../lib/time";

export type Subscription = components["schemas"]["BillingSubscription"];
export type Plan = components["schemas"]["BillingPlan"];
type LimitName = keyof components["schemas"]["BillingUsage"];

// The limits in the order the page shows them, with their words.
export const limitNames: { name: LimitName; one: string; many: string }[] = [
  { name: "active_clients", one: "active client", many: "active clients" },
  { name: "coaches", one: "coach", many: "coaches" },
  { name: "therapist_connections", one: "therapist connection", many: "therapist connections" },
];

const noun = (n: number, one: string, many: string) => (n === 1 ? one : many);

// usageLine says how much of one limit is used: "3 of 15 active clients",
// "3 active clients, unlimited" when the plan sets no limit, "No coaches
// on this plan" when it allows none.
export function usageLine(used: number, limit: number | undefined, one: string, many: string): string {
  if (limit === undefined || limit === null) return `${used} ${noun(used, one, many)}, unlimited`;
  if (limit === 0) return used === 0 ? `No ${many} on this plan` : `${used} ${noun(used, one, many)}; this plan allows none`;
  return `${used} of ${limit} ${noun(limit, one, many)}`;
}

// limitLine says what a plan allows: "Up to 15 active clients".
export function limitLine(limit: number | undefined, one: string, many: string): string {
  if (limit === undefined || limit === null) return `Unlimited ${many}`;
  if (limit === 0) return `No ${many}`;
  return `Up to ${limit} ${noun(limit, one, many)}`;
}

export type StatusWords = { badge: string; tone: "ok" | "warn" | "danger" | "neutral"; text: string };

// statusWords puts the subscription's status and access into plain words,
// with its deadlines in the viewer's time zone.
export function statusWords(s: Subscription): StatusWords {
  if (s.access === "read_only") {
    const why =
      s.status === "trial_ended"
        ? `The trial ended${s.trial_end ? ` on ${formatMoment(s.trial_end)}` : ""}.`
        : s.status === "canceled"
          ? "The subscription was cancelled."
          : s.status === "past_due" || s.status === "unpaid"
            ? "The payment failed and the grace period is over."
            : "The subscription is not active.";
    return {
      badge: "Read-only",
      tone: "danger",
      text: `${why} You and your coaches can read everything, but changes are refused until you subscribe. Nothing is deleted; clients and therapists are not affected.`,
    };
  }
  if (s.access === "grace") {
    return {
      badge: "Payment failed",
      tone: "warn",
      text: `The last payment failed. Everything keeps working until ${formatMoment(s.grace_ends_at)}; then the practice becomes read-only. Update the card in the billing portal.`,
    };
  }
  if (s.status === "trialing") {
    return { badge: "Trial", tone: "ok", text: s.trial_end ? `Free trial until ${formatMoment(s.trial_end)}.` : "Free trial." };
  }
  if (s.status === "active") {
    return { badge: "Active", tone: "ok", text: s.current_period_end ? `Active; the next payment is due on ${formatMoment(s.current_period_end)}.` : "Active." };
  }
  return { badge: s.status.replace(/_/g, " "), tone: "neutral", text: "The subscription is being set up; this page updates when Stripe confirms it." };
}

// subscribed: the practice pays through a Stripe subscription, so a change
// of plan goes through the billing portal rather than a second checkout
// (which would start a second subscription). The trial a practice starts
// with is Tandem's own and has no Stripe subscription behind it.
export function subscribed(s: Subscription): boolean {
  return ["active", "past_due", "unpaid", "incomplete", "paused"].includes(s.status) || (s.status === "trialing" && s.has_customer && !!s.current_period_end);
}
