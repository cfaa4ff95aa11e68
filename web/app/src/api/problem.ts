import type { components } from "./schema.gen";

export type Problem = components["schemas"]["Problem"];

// ApiError is every failed API call: the problem document the API answered
// (RFC 9457), its field errors by field, and a message for people.
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  readonly fields: Record<string, string>;

  constructor(status: number, problem: Partial<Problem> | undefined) {
    const p: Problem = {
      type: problem?.type ?? "about:blank",
      title: problem?.title ?? "Request failed",
      status,
      ...problem,
    };
    super(messageFor(status, p));
    this.status = status;
    this.problem = p;
    this.fields = {};
    for (const e of p.errors ?? []) {
      if (!(e.field in this.fields)) this.fields[e.field] = sentence(e.field, e.message);
    }
  }

  // reason is the last segment of the problem type (csrf_refused, conflict…).
  get reason(): string {
    return problemReason(this.problem.type);
  }

  // stale: someone else changed the record since it was read (412).
  get stale(): boolean {
    return this.status === 412;
  }
}

function messageFor(status: number, p: Problem): string {
  if (status === 412) return "Someone else changed this while you were looking at it. Reload to see the latest version, then try again.";
  if (status === 0) return "Tandem cannot be reached. Check your connection and try again.";
  if (status >= 500) return "Something went wrong on our side. Try again in a moment." + (p.request_id ? ` (Reference ${p.request_id})` : "");
  return p.detail || p.title;
}

// sentence turns a field error into words: "must be at least 8 characters".
function sentence(field: string, message: string): string {
  const m = message.trim();
  const label = field.split(".").pop()?.replace(/_/g, " ") ?? field;
  if (/^(is|must|has|should|cannot|can't|does|was)\b/.test(m)) return `This ${label === "body" ? "request" : "field"} ${m}.`.replace(/\.\.$/, ".");
  return m.charAt(0).toUpperCase() + m.slice(1);
}

// fieldError returns the message for one form field: the exact field, or
// a nested one under it ("metric.unit" for "metric").
export function fieldError(err: unknown, field: string): string | undefined {
  if (!(err instanceof ApiError)) return undefined;
  if (err.fields[field]) return err.fields[field];
  const nested = Object.keys(err.fields).find((f) => f.startsWith(field + "."));
  return nested ? err.fields[nested] : undefined;
}

// formError is what a form shows above its button: the problem's message,
// unless every field error already sits next to a field of the form.
export function formError(err: unknown, fields: readonly string[]): string | undefined {
  if (!err) return undefined;
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
  const shown = Object.keys(err.fields).filter((f) => fields.some((name) => f === name || f.startsWith(name + ".")));
  if (shown.length > 0 && shown.length === Object.keys(err.fields).length) return undefined;
  const loose = Object.entries(err.fields).filter(([f]) => !shown.includes(f));
  return loose.length > 0 ? `${err.message} ${loose.map(([, m]) => m).join(" ")}` : err.message;
}

// problemReason is the last segment of a problem type
// (https://tandem.invalid/problems/wrong_password: wrong_password).
export function problemReason(type: string): string {
  return type.split("/").pop() ?? "";
}
