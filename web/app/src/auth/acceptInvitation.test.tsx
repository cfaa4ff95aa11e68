import { fireEvent, screen } from "@testing-library/react";
import { vi } from "vitest";

const auth = { status: "signed-out", me: null, adopt: vi.fn(async () => undefined) };
vi.mock("./AuthContext", () => ({ useAuth: () => auth, homeOf: () => "/portal" }));

vi.mock("../api/client", async (importActual) => ({
  ...(await importActual<typeof import("../api/client")>()),
  api: (await import("../test-render")).tableApi,
}));

import { calls, openPage, type Answers } from "../test-render";
import { AcceptInvitation } from "./pages";

const open = (hash: string, table: Answers) => openPage(<AcceptInvitation />, `/accept-invitation${hash}`, table);

describe("AcceptInvitation: declining", () => {
  it("declines with the link's token only after the person confirms, and says so calmly", async () => {
    open("#token=tok-1", { "/invitations/decline": { status: 204 } });
    fireEvent.click(screen.getByRole("button", { name: "Decline invitation" }));
    expect(calls).toEqual([]);
    expect(screen.getByRole("group", { name: "Decline this invitation?" })).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Yes, decline" }));
    expect(await screen.findByRole("heading", { name: "Invitation declined" })).toBeTruthy();
    expect(screen.getByRole("status").textContent).toMatch(/declining needed no account/);
    expect(calls).toEqual([{ path: "/invitations/decline", options: { body: { token: "tok-1" } } }]);
    // The token leaves the address bar once spent.
    expect(window.location.hash).toBe("");
  });

  it("goes back to the invitation without sending anything", () => {
    open("#token=tok-2", {});
    fireEvent.click(screen.getByRole("button", { name: "Decline invitation" }));
    fireEvent.click(screen.getByRole("button", { name: "Go back" }));
    expect(screen.getByRole("button", { name: "Decline invitation" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Accept invitation" })).toBeTruthy();
    expect(calls).toEqual([]);
  });

  it("shows the problem's message when the invitation cannot be declined", async () => {
    const detail = "Only a therapist's invitation to a client's consent can be declined. This invitation expires on its own if you do not use it.";
    open("#token=tok-3", {
      "/invitations/decline": { status: 409, body: { type: "https://tandem.invalid/problems/invitation_not_declinable", title: "Conflict", status: 409, detail } },
    });
    fireEvent.click(screen.getByRole("button", { name: "Decline invitation" }));
    fireEvent.click(screen.getByRole("button", { name: "Yes, decline" }));
    expect((await screen.findByRole("alert")).textContent).toBe(detail);
    expect(screen.getByRole("button", { name: "Accept invitation" })).toBeTruthy();
  });

  it("offers no decline for a link without its token", () => {
    open("", {});
    expect(screen.queryByRole("button", { name: "Decline invitation" })).toBeNull();
  });
});

describe("AcceptInvitation: choosing a password", () => {
  it("offers a new password with its rule, and puts a refused password's message next to the field", async () => {
    open("#token=tok-4", {
      "/invitations/accept": {
        status: 400,
        body: { type: "https://tandem.invalid/problems/validation", title: "Invalid request", status: 400, errors: [{ field: "password", message: "must be at least 8 characters" }] },
      },
    });
    const field = screen.getByLabelText("Password");
    expect(field.getAttribute("autocomplete")).toBe("new-password");
    expect(document.getElementById(field.getAttribute("aria-describedby") ?? "")?.textContent).toBe("At least 8 characters.");
    fireEvent.change(field, { target: { value: "short" } });
    fireEvent.click(screen.getByRole("button", { name: "Accept invitation" }));
    expect(await screen.findByText("This field must be at least 8 characters.")).toBeTruthy();
    expect(field.getAttribute("aria-invalid")).toBe("true");
    expect(field.getAttribute("aria-describedby")).toMatch(/-hint .*-error$/);
    expect(screen.queryByRole("alert")).toBeNull();
    expect(calls).toEqual([{ path: "/invitations/accept", options: { body: { token: "tok-4", password: "short" } } }]);
  });
});
