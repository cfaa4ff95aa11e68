import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { MemoryRouter } from "react-router";
import type { ReactNode } from "react";
import { vi } from "vitest";

const reloadMe = vi.hoisted(() => vi.fn(async () => {}));
vi.mock("../auth/AuthContext", () => ({ useAuth: () => ({ me: { name: "Maya", email: "maya@example.com", mfa_enabled: false, roles: ["client"] }, signOut: async () => {}, reloadMe }) }));

// The API answers from a table keyed "METHOD path"; each answer may look at
// the request. Calls are kept, with their bodies and headers.
type Call = { method: string; path: string; body?: unknown; headers?: Record<string, string> };
type Answer = { status: number; body?: unknown; etag?: string };
let table: Record<string, Answer | ((c: Call) => Answer)> = {};
const calls: Call[] = [];
function respond(method: string, path: string, init?: { body?: unknown; params?: { header?: Record<string, string> } }) {
  const call: Call = { method, path, body: init?.body, headers: init?.params?.header };
  calls.push(call);
  const entry = table[`${method} ${path}`];
  const a: Answer = typeof entry === "function" ? entry(call) : (entry ?? { status: 404, body: { type: "about:blank", title: "Not found", status: 404 } });
  const response = new Response(null, { status: a.status, headers: a.etag ? { ETag: a.etag } : {} });
  return Promise.resolve(a.status < 400 ? { data: a.body, response } : { error: a.body, response });
}
vi.mock("../api/client", async (importActual) => ({
  ...(await importActual<typeof import("../api/client")>()),
  api: {
    GET: (p: string, i?: never) => respond("GET", p, i),
    POST: (p: string, i?: never) => respond("POST", p, i),
    PUT: (p: string, i?: never) => respond("PUT", p, i),
    PATCH: (p: string, i?: never) => respond("PATCH", p, i),
    DELETE: (p: string, i?: never) => respond("DELETE", p, i),
  },
}));

import { PasswordCard } from "./PasswordCard";
import { EmailCard } from "./EmailCard";
import { TwoFactorCard, groups } from "./TwoFactorCard";
import { NotificationsCard, changes, kindsFor, ownZoneFor, suggestedZone, zoneOptions } from "./NotificationsCard";
import { DeliveriesCard, kindName, plainError } from "./DeliveriesCard";
import { deviceName } from "./DevicesCard";

const problem = (status: number, title: string, extra: object = {}) => ({ type: `https://tandem.invalid/problems/${status}`, title, status, ...extra });
const stepUp = { status: 401, body: { type: "https://tandem.invalid/problems/insufficient_user_authentication", title: "Sign in again", status: 401 } };

function show(ui: ReactNode, answers: typeof table) {
  table = answers;
  calls.length = 0;
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <MemoryRouter>{ui}</MemoryRouter>
    </QueryClientProvider>,
  );
}

// errorOf is the error text a field's aria-describedby points to.
function errorOf(label: string): string {
  const input = screen.getByLabelText(label);
  expect(input.getAttribute("aria-invalid")).toBe("true");
  const ids = (input.getAttribute("aria-describedby") ?? "").split(" ");
  return ids.map((id) => document.getElementById(id)?.textContent ?? "").join(" ");
}

const prefs = {
  daily_digest: true,
  session_reminders: true,
  consent_reminders: true,
  weekly_summary: false,
  digest_hour: 7,
  quiet_hours_start: null,
  quiet_hours_end: null,
  weekly_nudge_budget: 7,
  timezone: "UTC",
  updated_at: null,
};

describe("PasswordCard", () => {
  it("puts a wrong current password under its field", async () => {
    show(<PasswordCard />, { "PUT /me/password": { status: 401, body: problem(401, "The password is wrong.", { type: "https://tandem.invalid/problems/wrong_password" }) } });
    fireEvent.change(screen.getByLabelText("Current password"), { target: { value: "nope nope" } });
    fireEvent.change(screen.getByLabelText("New password"), { target: { value: "a long and quiet river" } });
    fireEvent.click(screen.getByRole("button", { name: "Change password" }));
    await waitFor(() => expect(errorOf("Current password")).toContain("The password is wrong."));
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("puts a refused new password under its field, then confirms a change", async () => {
    show(<PasswordCard />, {
      "PUT /me/password": (c) =>
        (c.body as { new_password: string }).new_password === "short"
          ? { status: 400, body: problem(400, "Invalid request", { errors: [{ field: "new_password", message: "must be at least 8 characters" }] }) }
          : { status: 204 },
    });
    fireEvent.change(screen.getByLabelText("Current password"), { target: { value: "a long and quiet river" } });
    fireEvent.change(screen.getByLabelText("New password"), { target: { value: "short" } });
    fireEvent.click(screen.getByRole("button", { name: "Change password" }));
    await waitFor(() => expect(errorOf("New password")).toContain("must be at least 8 characters"));
    fireEvent.change(screen.getByLabelText("New password"), { target: { value: "an even longer river" } });
    fireEvent.click(screen.getByRole("button", { name: "Change password" }));
    expect((await screen.findByRole("status")).textContent).toMatch(/Every other device is signed out/);
    expect((screen.getByLabelText("New password") as HTMLInputElement).value).toBe("");
  });
});

describe("EmailCard", () => {
  it("asks for the password when the sign-in is old, then sends the link", async () => {
    let fresh = false;
    show(<EmailCard current="maya@example.com" mfa={false} />, {
      "POST /me/email": () => (fresh ? { status: 202, body: { message: "Check the new address's mailbox." } } : stepUp),
      "POST /auth/reauth": () => {
        fresh = true;
        return { status: 204 };
      },
    });
    fireEvent.change(screen.getByLabelText("New e-mail address"), { target: { value: "maya@new.example" } });
    fireEvent.click(screen.getByRole("button", { name: "Send confirmation link" }));
    fireEvent.change(await screen.findByLabelText("Your password"), { target: { value: "a long and quiet river" } });
    fireEvent.click(screen.getByRole("button", { name: "Confirm and continue" }));
    expect((await screen.findByRole("status")).textContent).toMatch(/Check the new address's mailbox\. Open the link/);
    expect(calls.filter((c) => c.path === "/me/email").map((c) => c.body)).toEqual([{ email: "maya@new.example" }, { email: "maya@new.example" }]);
  });

  it("asks for the authenticator code when the API says two-step sign-in is on", async () => {
    show(<EmailCard current="maya@example.com" mfa={false} />, {
      "POST /me/email": stepUp,
      "POST /auth/reauth": { status: 400, body: problem(400, "Invalid request", { errors: [{ field: "totp_code", message: "is required: two-step sign-in is on" }] }) },
    });
    fireEvent.change(screen.getByLabelText("New e-mail address"), { target: { value: "maya@new.example" } });
    fireEvent.click(screen.getByRole("button", { name: "Send confirmation link" }));
    fireEvent.change(await screen.findByLabelText("Your password"), { target: { value: "a long and quiet river" } });
    fireEvent.click(screen.getByRole("button", { name: "Confirm and continue" }));
    await waitFor(() => expect(errorOf("Code from your authenticator app")).toContain("is required"));
  });

  it.each([
    ["wrong_code", "The code is wrong or was used already.", "Code from your authenticator app"],
    ["wrong_password", "The password is wrong.", "Your password"],
  ])("puts a step-up's %s next to the field it is about", async (kind, message, field) => {
    show(<EmailCard current="maya@example.com" mfa={true} />, {
      "POST /me/email": stepUp,
      "POST /auth/reauth": { status: 401, body: problem(401, "Unauthorized", { type: `https://tandem.invalid/problems/${kind}`, detail: message }) },
    });
    fireEvent.change(screen.getByLabelText("New e-mail address"), { target: { value: "maya@new.example" } });
    fireEvent.click(screen.getByRole("button", { name: "Send confirmation link" }));
    fireEvent.change(await screen.findByLabelText("Your password"), { target: { value: "a long and quiet river" } });
    fireEvent.change(screen.getByLabelText("Code from your authenticator app"), { target: { value: "000000" } });
    fireEvent.click(screen.getByRole("button", { name: "Confirm and continue" }));
    await waitFor(() => expect(errorOf(field)).toContain(message));
  });
});

describe("TwoFactorCard", () => {
  it("shows the key and link, puts a wrong code under its field, then shows the recovery codes", async () => {
    show(<TwoFactorCard enabled={false} />, {
      "POST /me/mfa/totp": { status: 201, body: { secret: "JBSWY3DPEHPK3PXP", otpauth_uri: "otpauth://totp/Tandem:maya?secret=JBSWY3DPEHPK3PXP", qr_png: "iVBORw0KGgo=" } },
      "POST /me/mfa/totp/confirm": (c) =>
        (c.body as { code: string }).code === "123456" ? { status: 200, body: { recovery_codes: ["aaaa-bbbb", "cccc-dddd"] } } : { status: 401, body: problem(401, "The code is wrong or was used already.") },
    });
    fireEvent.click(screen.getByRole("button", { name: "Set up two-step sign-in" }));
    expect(await screen.findByText("JBSW Y3DP EHPK 3PXP")).toBeTruthy();
    expect((screen.getByLabelText("Setup link (otpauth)") as HTMLInputElement).value).toMatch(/^otpauth:\/\/totp\//);
    expect(screen.getByRole("img", { name: /QR code/ })).toBeTruthy();
    const code = screen.getByLabelText("The 6-digit code the app shows now");
    fireEvent.change(code, { target: { value: "000000" } });
    fireEvent.click(screen.getByRole("button", { name: "Turn two-step sign-in on" }));
    await waitFor(() => expect(errorOf("The 6-digit code the app shows now")).toContain("The code is wrong"));
    fireEvent.change(code, { target: { value: "123 456" } });
    fireEvent.click(screen.getByRole("button", { name: "Turn two-step sign-in on" }));
    const codes = await screen.findByRole("status");
    expect(within(codes).getAllByRole("listitem").map((li) => li.textContent)).toEqual(["aaaa-bbbb", "cccc-dddd"]);
    expect(screen.getByText("On")).toBeTruthy();
    expect(reloadMe).toHaveBeenCalled();
    expect(screen.getByRole("button", { name: "Turn two-step sign-in off" })).toBeTruthy();
  });

  it("groups a secret in fours", () => {
    expect(groups("ABCDEFGHIJ")).toBe("ABCD EFGH IJ");
  });
});

describe("NotificationsCard", () => {
  it("sends only what changed, with the ETag as If-Match, and says it is saved", async () => {
    show(<NotificationsCard roles={["client"]} />, {
      "GET /me/notification-preferences": { status: 200, body: prefs, etag: '"v1"' },
      "PATCH /me/notification-preferences": (c) => ({ status: 200, body: { ...prefs, ...(c.body as object), updated_at: "2026-12-05T10:00:00Z" }, etag: '"v2"' }),
    });
    fireEvent.click(await screen.findByLabelText(/Session reminders/));
    fireEvent.change(screen.getByLabelText("Morning digest at"), { target: { value: "8" } });
    fireEvent.click(screen.getByRole("button", { name: "Save notification settings" }));
    expect((await screen.findByRole("status")).textContent).toBe("Saved.");
    const patch = calls.find((c) => c.method === "PATCH");
    expect(patch?.body).toEqual({ session_reminders: false, digest_hour: 8 });
    expect(patch?.headers).toEqual({ "If-Match": '"v1"' });
    expect((screen.getByLabelText(/Session reminders/) as HTMLInputElement).checked).toBe(false);
    expect(screen.getByText(/Last changed/)).toBeTruthy();
  });

  it("shows a refused budget under its field and a stale version with a way to reload", async () => {
    let stale = false;
    show(<NotificationsCard roles={["client"]} />, {
      "GET /me/notification-preferences": { status: 200, body: prefs, etag: '"v1"' },
      "PATCH /me/notification-preferences": () =>
        stale
          ? { status: 412, body: problem(412, "Precondition failed") }
          : { status: 400, body: problem(400, "Invalid request", { errors: [{ field: "weekly_nudge_budget", message: "must be at most 21" }] }) },
    });
    fireEvent.change(await screen.findByLabelText("Digests per week, at most"), { target: { value: "40" } });
    fireEvent.click(screen.getByRole("button", { name: "Save notification settings" }));
    await waitFor(() => expect(errorOf("Digests per week, at most")).toContain("must be at most 21"));
    stale = true;
    fireEvent.click(screen.getByRole("button", { name: "Save notification settings" }));
    expect(await screen.findByRole("button", { name: "Reload the latest version" })).toBeTruthy();
  });

  it("suggests a coach the browser's time zone while theirs is UTC, and sends it with the rest", async () => {
    const zone = vi.spyOn(Intl.DateTimeFormat.prototype, "resolvedOptions").mockReturnValue({ timeZone: "Australia/Sydney" } as Intl.ResolvedDateTimeFormatOptions);
    show(<NotificationsCard roles={["owner", "coach"]} />, {
      "GET /me/notification-preferences": { status: 200, body: prefs, etag: '"v1"' },
      "PATCH /me/notification-preferences": (c) => ({ status: 200, body: { ...prefs, ...(c.body as object), updated_at: "2026-12-05T10:00:00Z" }, etag: '"v2"' }),
    });
    const select = (await screen.findByLabelText("Your time zone")) as HTMLSelectElement;
    expect(select.value).toBe("Australia/Sydney");
    expect(screen.getByText(/Suggested from this browser/)).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Save notification settings" }));
    expect((await screen.findByRole("status")).textContent).toBe("Saved.");
    expect(calls.find((c) => c.method === "PATCH")?.body).toEqual({ timezone: "Australia/Sydney" });
    zone.mockRestore();
  });

  it("shows a refused time zone under its field", async () => {
    show(<NotificationsCard roles={["coach"]} />, {
      "GET /me/notification-preferences": { status: 200, body: { ...prefs, timezone: "Europe/Berlin" }, etag: '"v1"' },
      "PATCH /me/notification-preferences": { status: 400, body: problem(400, "Invalid request", { errors: [{ field: "timezone", message: "must be an IANA time zone such as Europe/Berlin" }] }) },
    });
    const select = (await screen.findByLabelText("Your time zone")) as HTMLSelectElement;
    expect(select.value).toBe("Europe/Berlin");
    fireEvent.change(select, { target: { value: "America/New_York" } });
    fireEvent.click(screen.getByRole("button", { name: "Save notification settings" }));
    await waitFor(() => expect(errorOf("Your time zone")).toContain("must be an IANA time zone"));
  });

  it("keeps a client's zone on their client record, and a saved zone even when the browser is elsewhere", () => {
    expect(ownZoneFor(["client"])).toBe(false);
    expect(ownZoneFor(["coach", "client"])).toBe(true);
    expect(ownZoneFor([])).toBe(true); // a therapist
    expect(suggestedZone("UTC", "Asia/Tokyo")).toBe("Asia/Tokyo");
    expect(suggestedZone("Europe/Berlin", "Asia/Tokyo")).toBe("Europe/Berlin");
    expect(zoneOptions("Etc/GMT+5")).toEqual(expect.arrayContaining(["UTC", "Etc/GMT+5"]));
  });

  it("sets and clears quiet hours together", () => {
    const f = new FormData();
    for (const k of ["daily_digest", "session_reminders", "consent_reminders"]) f.set(k, "on");
    f.set("digest_hour", "7");
    f.set("weekly_nudge_budget", "7");
    f.set("quiet", "on");
    f.set("quiet_hours_start", "22:00");
    f.set("quiet_hours_end", "07:00");
    expect(changes(prefs, f)).toEqual({ quiet_hours_start: "22:00", quiet_hours_end: "07:00" });
    f.delete("quiet");
    expect(changes({ ...prefs, quiet_hours_start: "22:00", quiet_hours_end: "07:00" }, f)).toEqual({ quiet_hours_start: null, quiet_hours_end: null });
    f.set("weekly_nudge_budget", "");
    expect(changes(prefs, f)).toEqual({});
  });

  it("shows each person the e-mails their roles get, and leaves the others alone", () => {
    expect(kindsFor(["client"]).map((k) => k.key)).toEqual(["daily_digest", "session_reminders", "consent_reminders"]);
    expect(kindsFor(["owner", "coach"]).map((k) => k.key)).toEqual(["session_reminders", "weekly_summary"]);
    expect(kindsFor([])).toHaveLength(4);
    const f = new FormData();
    f.set("session_reminders", "on");
    f.set("digest_hour", "7");
    f.set("weekly_nudge_budget", "7");
    expect(changes({ ...prefs, weekly_summary: true }, f, kindsFor(["client"]))).toEqual({ daily_digest: false, consent_reminders: false });
  });
});

describe("DeliveriesCard", () => {
  it("lists each e-mail's kind, time and status, and a failure in plain words", async () => {
    const base = { recipient: "maya@example.com", client_id: null, attempts: 1, send_after: "2026-12-05T09:00:00Z", created_at: "2026-12-05T09:00:00Z", updated_at: "2026-12-05T09:00:00Z" };
    show(<DeliveriesCard />, {
      "GET /me/deliveries": {
        status: 200,
        body: {
          items: [
            { ...base, id: "1", kind: "client-invitation", status: "sent", last_error: null, sent_at: "2026-12-05T09:00:05Z" },
            { ...base, id: "2", kind: "digest", status: "failed", attempts: 8, last_error: "550 5.1.1 <maya@example.com>: Recipient address rejected: User unknown", sent_at: null },
          ],
          next_cursor: null,
        },
      },
    });
    expect(await screen.findByText("Invitation to the client portal")).toBeTruthy();
    expect(screen.getByText("Sent")).toBeTruthy();
    expect(screen.getByText("Could not be delivered")).toBeTruthy();
    expect(screen.getByText(/this address does not exist/)).toBeTruthy();
    expect(screen.getByText(/8 attempts/)).toBeTruthy();
  });

  it("names kinds and errors in words", () => {
    expect(kindName("session-reminder")).toBe("Session reminder");
    expect(kindName("something-new")).toBe("Something new");
    expect(plainError("dial tcp 10.0.0.1:25: connect: connection refused")).toBe("Tandem could not reach the mail server.");
    expect(deviceName("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36")).toBe("Chrome on Linux");
  });
});
