import { useState, type FormEvent, type ReactNode } from "react";
import { api, unwrap } from "../api/client";
import { ApiError } from "../api/problem";
import { Field, FormError } from "./ui";

// A password confirmed here counts for a little less than the API's five
// minutes, so that a second act right after the first does not ask again.
const freshFor = 4 * 60_000;
let confirmedAt = 0;

function needsStepUp(e: unknown): boolean {
  return e instanceof ApiError && e.status === 401 && e.reason === "insufficient_user_authentication";
}

// StepUpAction runs an act that needs a recent sign-in (an export, an
// erasure request, a history bundle): it asks for the password first
// (POST /auth/reauth), then runs the act; if the API still finds the
// sign-in too old, it asks again. Errors sit under the password or the button.
export function StepUpAction({
  label,
  busyLabel,
  action,
  tone = "primary",
  children,
  onCancel,
}: {
  label: string;
  busyLabel: string;
  action: () => Promise<unknown>;
  tone?: "primary" | "secondary" | "danger";
  children?: ReactNode;
  onCancel?: () => void;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function run() {
    setBusy(true);
    setError(null);
    try {
      await action();
      setAsking(false);
    } catch (e) {
      if (needsStepUp(e)) {
        confirmedAt = 0;
        setAsking(true);
      } else {
        setError(e);
      }
    } finally {
      setBusy(false);
    }
  }

  async function confirm(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const password = String(new FormData(ev.currentTarget).get("password") ?? "");
    setBusy(true);
    setError(null);
    try {
      await unwrap(api.POST("/auth/reauth", { body: { password } }));
      confirmedAt = Date.now();
    } catch (e) {
      setError(e);
      setBusy(false);
      return;
    }
    await run();
  }

  if (!asking) {
    return (
      <div className="step-up">
        {children}
        <div className="row">
          <button type="button" className={tone} disabled={busy} onClick={() => (Date.now() - confirmedAt < freshFor ? run() : setAsking(true))}>
            {busy ? busyLabel : label}
          </button>
          {onCancel && (
            <button type="button" className="secondary" onClick={onCancel}>
              Cancel
            </button>
          )}
        </div>
        <FormError error={error} />
      </div>
    );
  }
  return (
    <form className="step-up" onSubmit={confirm} noValidate>
      {children}
      <Field label="Your password" name="password" type="password" error={error} required autoComplete="current-password" autoFocus hint="To confirm it is really you." />
      <FormError error={error} fields={["password"]} />
      <div className="row">
        <button type="submit" className={tone} disabled={busy}>
          {busy ? busyLabel : label}
        </button>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            setAsking(false);
            setError(null);
            onCancel?.();
          }}
        >
          Cancel
        </button>
      </div>
    </form>
  );
}
