import { fireEvent, render, screen, within } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { MemoryRouter } from "react-router";
import { vi } from "vitest";

vi.mock("../auth/AuthContext", () => ({ useAuth: () => ({ me: { roles: ["owner", "coach"] } }) }));

// The API answers from a table by path; unwrap stays the real one.
let answers: Record<string, { status: number; body: unknown }> = {};
const answer = async (path: string) => {
  const a = answers[path] ?? { status: 404, body: { type: "about:blank", title: "Not found", status: 404 } };
  const response = new Response(null, { status: a.status });
  return a.status < 400 ? { data: a.body, response } : { error: a.body, response };
};
vi.mock("../api/client", async (importActual) => ({
  ...(await importActual<typeof import("../api/client")>()),
  api: { GET: (path: string) => answer(path), POST: (path: string) => answer(path) },
}));

import { BillingPage } from "./BillingPage";

function renderWith(table: typeof answers) {
  answers = table;
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <MemoryRouter>
        <BillingPage />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

describe("BillingPage", () => {
  it("says billing is not enabled on a server without Stripe", async () => {
    const off = { status: 404, body: { type: "https://tandem.invalid/problems/billing_disabled", title: "Billing is off", status: 404 } };
    renderWith({ "/billing/subscription": off, "/billing/plans": off });
    expect(await screen.findByRole("heading", { name: "Billing is not enabled" })).toBeTruthy();
    expect(screen.getByText(/self-hosted/)).toBeTruthy();
  });

  it("shows the trial, usage against limits and a subscribe button per plan", async () => {
    renderWith({
      "/billing/subscription": {
        status: 200,
        body: { plan: { id: "solo", name: "Solo", limits: { active_clients: 15 } }, status: "trialing", access: "full", trial_end: "2027-01-12T13:30:00Z", has_customer: false, usage: { active_clients: 3, coaches: 0, therapist_connections: 0 } },
      },
      "/billing/plans": { status: 200, body: { items: [{ id: "solo", name: "Solo", limits: { active_clients: 15 } }, { id: "team", name: "Team", limits: {} }] } },
    });
    expect(await screen.findByText(/Free trial until/)).toBeTruthy();
    expect(screen.getAllByText("3 of 15 active clients").length).toBeGreaterThan(0);
    expect(await screen.findByRole("button", { name: "Subscribe to Team" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Manage card, plan or cancel" })).toBeNull();
  });

  it("shows a refused checkout next to the plan's button", async () => {
    renderWith({
      "/billing/subscription": {
        status: 200,
        body: { plan: { id: "solo", name: "Solo", limits: {} }, status: "trialing", access: "full", has_customer: false, usage: { active_clients: 0, coaches: 0, therapist_connections: 0 } },
      },
      "/billing/plans": { status: 200, body: { items: [{ id: "solo", name: "Solo", limits: {} }, { id: "team", name: "Team", limits: {} }] } },
      "/billing/checkout-session": { status: 403, body: { type: "https://tandem.invalid/problems/email_unverified", title: "Forbidden", status: 403, detail: "Confirm your e-mail address first." } },
    });
    fireEvent.click(await screen.findByRole("button", { name: "Subscribe to Team" }));
    const card = screen.getByRole("button", { name: "Subscribe to Team" }).closest("li") as HTMLElement;
    expect((await within(card).findByRole("alert")).textContent).toBe("Confirm your e-mail address first.");
    expect(screen.getAllByRole("alert")).toHaveLength(1);
  });
});
