import { fireEvent, screen } from "@testing-library/react";
import { vi } from "vitest";

const auth = { status: "signed-out", me: null, reloadMe: vi.fn(async () => undefined), signOut: vi.fn(async () => undefined) };
vi.mock("./AuthContext", () => ({ useAuth: () => auth, homeOf: () => "/portal" }));

vi.mock("../api/client", async (importActual) => ({
  ...(await importActual<typeof import("../api/client")>()),
  api: (await import("../test-render")).tableApi,
}));

import { calls, openPage, type Answers } from "../test-render";
import { ResetPassword, VerifyEmail } from "./linkPages";
import { ForgotPassword } from "./pages";

const open = (page: React.ReactNode, hash: string, table: Answers) => openPage(page, `/page${hash}`, table);

const gone = { status: 410, body: { type: "https://tandem.invalid/problems/gone", title: "Gone", status: 410, detail: "This link has already been used or has expired; ask for a new one." } };

describe("VerifyEmail", () => {
  it("sends the link's token when the person confirms, and says the address is confirmed", async () => {
    open(<VerifyEmail />, "#token=tok-1", { "/auth/verify-email": { status: 200, body: { email: "carla@example.com" } } });
    fireEvent.click(screen.getByRole("button", { name: "Confirm my address" }));
    expect(await screen.findByRole("heading", { name: "Address confirmed" })).toBeTruthy();
    expect(screen.getByRole("status").textContent).toBe("carla@example.com is confirmed.");
    expect(calls).toEqual([{ path: "/auth/verify-email", options: { body: { token: "tok-1" } } }]);
  });

  it("shows the problem's message for a spent link", async () => {
    open(<VerifyEmail />, "#token=tok-2", { "/auth/verify-email": gone });
    fireEvent.click(screen.getByRole("button", { name: "Confirm my address" }));
    expect((await screen.findByRole("alert")).textContent).toBe(gone.body.detail);
    expect(screen.getByText(/Sign in and open this page again/)).toBeTruthy();
  });

  it("says a link without its token is incomplete, and cannot be sent", () => {
    open(<VerifyEmail />, "", {});
    expect(screen.getByRole("alert").textContent).toMatch(/incomplete/);
    expect((screen.getByRole("button", { name: "Confirm my address" }) as HTMLButtonElement).disabled).toBe(true);
  });
});

describe("ResetPassword", () => {
  it("puts a refused password's message next to the field", async () => {
    open(<ResetPassword />, "#token=tok-3", {
      "/auth/password-reset/confirm": {
        status: 400,
        body: { type: "https://tandem.invalid/problems/validation", title: "Invalid request", status: 400, errors: [{ field: "password", message: "must be at least 8 characters" }] },
      },
    });
    const field = screen.getByLabelText("New password");
    expect(field.getAttribute("autocomplete")).toBe("new-password");
    expect(document.getElementById(field.getAttribute("aria-describedby") ?? "")?.textContent).toBe("At least 8 characters.");
    fireEvent.change(field, { target: { value: "short" } });
    fireEvent.click(screen.getByRole("button", { name: "Save the new password" }));
    expect(await screen.findByText("This field must be at least 8 characters.")).toBeTruthy();
    expect(field.getAttribute("aria-invalid")).toBe("true");
    expect(field.getAttribute("aria-describedby")).toMatch(/-error/);
    // The message sits at the field only, not once more above the button.
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("sets the new password with the link's token and sends the person to sign in", async () => {
    open(<ResetPassword />, "#token=tok-4", { "/auth/password-reset/confirm": { status: 204 } });
    fireEvent.change(screen.getByLabelText("New password"), { target: { value: "a long and quiet river" } });
    fireEvent.click(screen.getByRole("button", { name: "Save the new password" }));
    expect(await screen.findByRole("heading", { name: "Password changed" })).toBeTruthy();
    expect(screen.getByRole("link", { name: "Sign in" }).getAttribute("href")).toBe("/signin");
    expect(calls).toEqual([{ path: "/auth/password-reset/confirm", options: { body: { token: "tok-4", password: "a long and quiet river" } } }]);
  });

  it("offers a new link when this one is spent", async () => {
    open(<ResetPassword />, "#token=tok-5", { "/auth/password-reset/confirm": gone });
    fireEvent.change(screen.getByLabelText("New password"), { target: { value: "a long and quiet river" } });
    fireEvent.click(screen.getByRole("button", { name: "Save the new password" }));
    expect((await screen.findByRole("alert")).textContent).toBe(gone.body.detail);
    expect(screen.getByRole("link", { name: "Ask for a new link" }).getAttribute("href")).toBe("/forgot-password");
  });
});

describe("ForgotPassword", () => {
  it("asks for a link and shows the API's answer, whatever the address", async () => {
    open(<ForgotPassword />, "", { "/auth/password-reset": { status: 202, body: { message: "If this address has an account, a link is on its way." } } });
    fireEvent.change(screen.getByLabelText("E-mail"), { target: { value: "maya@example.com" } });
    fireEvent.click(screen.getByRole("button", { name: "Send the link" }));
    expect((await screen.findByRole("status")).textContent).toBe("If this address has an account, a link is on its way.");
    expect(calls).toEqual([{ path: "/auth/password-reset", options: { body: { email: "maya@example.com" } } }]);
  });
});
