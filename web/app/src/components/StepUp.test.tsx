import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { ApiError } from "../api/problem";
import { StepUpAction } from "./StepUp";

const stale = () => new ApiError(401, { type: "https://tandem.invalid/problems/insufficient_user_authentication", title: "Sign in again", status: 401, detail: "Confirm your password first." });

// The API client, answering /auth/reauth with 204 and keeping the paths called.
const calls = vi.hoisted(() => [] as string[]);
vi.mock("../api/client", async (original) => ({
  ...(await original<typeof import("../api/client")>()),
  api: {
    POST: async (path: string) => {
      calls.push(`POST ${path}`);
      return { response: new Response(null, { status: 204 }) };
    },
  },
}));

describe("StepUpAction", () => {
  beforeEach(() => {
    calls.length = 0;
  });

  it("asks for the password, confirms it, then runs the act", async () => {
    const action = vi.fn(async () => {});
    render(<StepUpAction label="Export my data" busyLabel="Starting…" action={action} />);
    fireEvent.click(screen.getByRole("button", { name: "Export my data" }));
    expect(action).not.toHaveBeenCalled();
    fireEvent.change(screen.getByLabelText("Your password"), { target: { value: "a long and quiet river" } });
    fireEvent.click(screen.getByRole("button", { name: "Export my data" }));
    await waitFor(() => expect(action).toHaveBeenCalledTimes(1));
    expect(calls).toEqual(["POST /auth/reauth"]);
  });

  it("asks again when the API finds the sign-in too old", async () => {
    let first = true;
    const action = vi.fn(async () => {
      if (first) {
        first = false;
        throw stale();
      }
    });
    render(<StepUpAction label="Download my history" busyLabel="Preparing…" action={action} />);
    // Confirmed moments ago by the test above: the act runs at once, and is refused.
    fireEvent.click(screen.getByRole("button", { name: "Download my history" }));
    const field = await screen.findByLabelText("Your password");
    fireEvent.change(field, { target: { value: "a long and quiet river" } });
    fireEvent.click(screen.getByRole("button", { name: "Download my history" }));
    await waitFor(() => expect(action).toHaveBeenCalledTimes(2));
    await waitFor(() => expect(screen.queryByLabelText("Your password")).toBeNull());
  });
});
