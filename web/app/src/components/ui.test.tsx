import { fireEvent, render, screen } from "@testing-library/react";
import { ApiError } from "../api/problem";
import { Field, FormError, Progress } from "./ui";

const problem = (status: number, errors: { field: string; message: string }[] = []) =>
  new ApiError(status, { type: "https://tandem.invalid/problems/x", title: "Refused", status, detail: "Refused.", errors });

describe("Field", () => {
  it("shows the API's field error next to its field and ties them together", () => {
    render(<Field label="E-mail" name="email" error={problem(400, [{ field: "email", message: "must be an e-mail address" }])} />);
    const input = screen.getByLabelText("E-mail");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    const described = input.getAttribute("aria-describedby") ?? "";
    expect(document.getElementById(described)?.textContent).toBe("This field must be an e-mail address.");
  });

  it("is not marked invalid for another field's error", () => {
    render(<Field label="Name" name="name" error={problem(400, [{ field: "email", message: "is required" }])} />);
    expect(screen.getByLabelText("Name").getAttribute("aria-invalid")).toBeNull();
  });
});

describe("FormError", () => {
  it("offers to reload when someone else changed the record (412)", () => {
    let reloaded = 0;
    render(<FormError error={problem(412)} onReload={() => reloaded++} />);
    expect(screen.getByRole("alert").textContent).toMatch(/Someone else changed this/);
    fireEvent.click(screen.getByRole("button", { name: "Reload the latest version" }));
    expect(reloaded).toBe(1);
  });

  it("stays silent when every field error sits next to its field", () => {
    const { container } = render(<FormError error={problem(400, [{ field: "email", message: "is required" }])} fields={["email"]} />);
    expect(container.textContent).toBe("");
  });

  it("announces a refusal no field explains", () => {
    render(<FormError error={problem(403)} fields={["email"]} />);
    expect(screen.getByRole("alert").textContent).toBe("Refused.");
  });
});

describe("Progress", () => {
  it("labels the bar and clamps the value", () => {
    render(<Progress value={140} label="Progress on running" />);
    const bar = screen.getByLabelText("Progress on running") as HTMLProgressElement;
    expect(bar.value).toBe(100);
    expect(screen.getByText("100%")).toBeTruthy();
  });
});
