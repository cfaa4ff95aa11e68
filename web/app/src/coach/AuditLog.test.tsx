import { fireEvent, render, screen, within } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { vi } from "vitest";

// The API answers GET /practice/audit-events from pages keyed by the
// cursor and the action asked for; unwrap stays the real one.
type Query = { cursor?: string; action?: string; limit?: number };
const calls: Query[] = [];
let pages: Record<string, { items: unknown[]; next_cursor: string | null }> = {};
vi.mock("../api/client", async (importActual) => ({
  ...(await importActual<typeof import("../api/client")>()),
  api: {
    GET: async (_path: string, opts: { params: { query: Query } }) => {
      const q = opts.params.query;
      calls.push(q);
      const body = pages[`${q.action ?? ""}|${q.cursor ?? ""}`] ?? { items: [], next_cursor: null };
      return { data: body, response: new Response(null, { status: 200 }) };
    },
  },
}));

import { AuditLog } from "./AuditLog";

const event = (id: string, action: string, at: string, actor: unknown = { user_id: "u1", name: "Olga Owner", role: "owner" }) => ({
  id,
  created_at: at,
  action,
  record_type: "client",
  record_id: `0193c0de-0000-7000-8000-00000000000${id}`,
  actor,
  ip: "192.0.2.1",
  request_id: `req-${id}`,
});

function renderLog() {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <AuditLog />
    </QueryClientProvider>,
  );
}

describe("AuditLog", () => {
  beforeEach(() => {
    calls.length = 0;
    pages = {
      "|": { items: [event("3", "client.created", "2026-03-01T09:30:00Z"), event("2", "client.updated", "2026-03-01T09:00:00Z")], next_cursor: "c1" },
      "|c1": { items: [event("1", "client.erased", "2026-02-28T23:30:00Z", null)], next_cursor: null },
      "client.created|": { items: [event("3", "client.created", "2026-03-01T09:30:00Z")], next_cursor: null },
    };
  });

  it("lists events newest first in the viewer's zone and loads more", async () => {
    renderLog();
    const table = await screen.findByRole("table");
    const rows = () => within(table).getAllByRole("row").slice(1);
    expect(rows()).toHaveLength(2);
    expect(within(rows()[0]!).getByText("client.created")).toBeTruthy();
    expect(within(rows()[0]!).getByText("Olga Owner (owner)")).toBeTruthy();
    // The time is shown as the viewer's clock reads it (tests run in UTC unless TZ says otherwise).
    const shown = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "long", year: "numeric", hour: "numeric", minute: "2-digit" }).format(new Date("2026-03-01T09:30:00Z"));
    expect(within(rows()[0]!).getByText(shown)).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Load more" }));
    await within(table).findByText("client.erased");
    expect(rows()).toHaveLength(3);
    expect(within(rows()[2]!).getByText("Tandem")).toBeTruthy();
    expect(calls.at(-1)?.cursor).toBe("c1");
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
  });

  it("filters by action", async () => {
    renderLog();
    await screen.findByRole("table");
    fireEvent.change(screen.getByLabelText("Action"), { target: { value: "client.created" } });
    await screen.findByText((_, el) => el?.tagName === "TBODY" && el.querySelectorAll("tr").length === 1);
    expect(calls.at(-1)).toMatchObject({ action: "client.created", cursor: undefined });
    expect(within(screen.getByRole("table")).queryByText("client.updated")).toBeNull();
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
  });
});
