import { ApiError, fieldError, formError } from "./problem";

const validation = {
  type: "https://tandem.invalid/problems/validation",
  title: "Invalid request",
  status: 400,
  detail: "The request has invalid fields.",
  errors: [
    { field: "password", message: "must be at least 8 characters" },
    { field: "metric.unit", message: "is required" },
    { field: "password", message: "a second error of the same field is not shown" },
  ],
};

describe("ApiError", () => {
  it("maps each field error of a problem document to its field, first error only", () => {
    const e = new ApiError(400, validation);
    expect(e.fields.password).toBe("This field must be at least 8 characters.");
    expect(e.fields["metric.unit"]).toBe("This field is required.");
    expect(e.reason).toBe("validation");
    expect(e.message).toBe("The request has invalid fields.");
  });

  it("finds a nested field's error under its parent's name", () => {
    const e = new ApiError(400, validation);
    expect(fieldError(e, "metric")).toBe("This field is required.");
    expect(fieldError(e, "email")).toBeUndefined();
    expect(fieldError(new Error("plain"), "password")).toBeUndefined();
  });

  it("keeps the form-level message for what no field of the form shows", () => {
    const e = new ApiError(400, validation);
    expect(formError(e, ["password", "metric"])).toBeUndefined();
    expect(formError(e, ["password"])).toBe("The request has invalid fields. This field is required.");
    const conflict = new ApiError(409, { type: "https://tandem.invalid/problems/conflict", title: "Conflict", status: 409, detail: "The coach already has a session then." });
    expect(formError(conflict, ["starts_at"])).toBe("The coach already has a session then.");
  });

  it("says that someone else changed the record on a 412", () => {
    const e = new ApiError(412, { type: "https://tandem.invalid/problems/precondition_failed", title: "Precondition Failed", status: 412 });
    expect(e.stale).toBe(true);
    expect(e.message).toMatch(/Someone else changed this/);
  });

  it("never shows a server error's internals, only its reference", () => {
    const e = new ApiError(500, { type: "about:blank", title: "Internal Server Error", status: 500, detail: "pq: relation missing", request_id: "req-1" });
    expect(e.message).not.toMatch(/pq:/);
    expect(e.message).toMatch(/req-1/);
  });

  it("explains a network failure", () => {
    expect(new ApiError(0, undefined).message).toMatch(/cannot be reached/);
  });
});
