import { fireEvent, render, screen } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { MemoryRouter, Route, Routes } from "react-router";
import { vi } from "vitest";

// The API answers from a table by path; declining flips what it answers.
let declined = false;
const posts: string[] = [];
const consent = { client_id: "c1", name: "Maya Client", consent_id: "k1", data_classes: ["goals"], expires_at: "2027-06-01T00:00:00Z", goals: [] };
const answer = async (path: string) => {
  const refused = { type: "https://tandem.invalid/problems/consent_declined", title: "Forbidden", status: 403, detail: "This consent was declined." };
  const table: Record<string, { status: number; body: unknown }> = {
    "/shared/clients": { status: 200, body: { items: declined ? [] : [consent], next_cursor: null } },
    "/shared/clients/{client_id}": declined ? { status: 403, body: refused } : { status: 200, body: consent },
    "/consents/{consent_id}/decline": { status: 200, body: { id: "k1", status: "declined" } },
  };
  const a = table[path]!;
  const response = new Response(null, { status: a.status });
  return a.status < 400 ? { data: a.body, response } : { error: a.body, response };
};
vi.mock("../api/client", async (importActual) => ({
  ...(await importActual<typeof import("../api/client")>()),
  api: {
    GET: (path: string) => answer(path),
    POST: (path: string) => {
      posts.push(path);
      declined = path === "/consents/{consent_id}/decline";
      return answer(path);
    },
  },
}));

import TherapistRoutes from "./TherapistRoutes";

function renderAt(path: string) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <MemoryRouter initialEntries={[path]}>
        <Routes>
          <Route path="/therapist/*" element={<TherapistRoutes />} />
        </Routes>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

describe("a therapist declines a consent", () => {
  beforeEach(() => {
    declined = false;
    posts.length = 0;
  });

  it("asks first, and keeping it changes nothing", async () => {
    renderAt("/therapist/clients/c1");
    fireEvent.click(await screen.findByRole("button", { name: "Decline this consent" }));
    const confirm = screen.getByRole("group", { name: "Decline Maya Client's consent?" });
    expect(confirm.textContent).toMatch(/only they can sign a new consent/);
    // The confirm button takes the focus, so a keyboard user lands on the choice.
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Yes, decline" }));
    fireEvent.click(screen.getByRole("button", { name: "Keep sharing" }));
    expect(screen.getByRole("button", { name: "Decline this consent" })).toBeTruthy();
    expect(posts).toEqual([]);
  });

  it("declines on the second step and says so on the list", async () => {
    renderAt("/therapist/clients/c1");
    fireEvent.click(await screen.findByRole("button", { name: "Decline this consent" }));
    fireEvent.click(screen.getByRole("button", { name: "Yes, decline" }));
    expect((await screen.findByRole("status")).textContent).toMatch(/You declined Maya Client's consent/);
    expect(screen.getByRole("heading", { name: "Shared with me" })).toBeTruthy();
    expect(await screen.findByText("No client shares anything with you right now.")).toBeTruthy();
    expect(posts).toEqual(["/consents/{consent_id}/decline"]);
  });
});
