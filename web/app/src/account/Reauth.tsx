import { useState, type FormEvent } from "react";
import { api, unwrap } from "../api/client";
import { ApiError, fieldError } from "../api/problem";
import { Field, FormError } from "../components/ui";

// needsFreshSignIn: the API refused an act because the sign-in is older
// than five minutes (RFC 9470); a password (and code) lets it through.
export function needsFreshSignIn(e: unknown): boolean {
  return e instanceof ApiError && e.status === 401 && e.reason === "insufficient_user_authentication";
}

// ReauthForm asks for the password, and the authenticator code when
// two-step sign-in is on (or when the API says it is), sends them to
// POST /auth/reauth, then lets the act that asked run again.
export function ReauthForm({ mfa, purpose, onDone, onCancel }: { mfa: boolean; purpose: string; onDone: () => void; onCancel: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const askCode = mfa || !!fieldError(error, "totp_code");

  async function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget);
    const code = String(f.get("totp_code") ?? "").replace(/\s+/g, "");
    setBusy(true);
    setError(null);
    try {
      await unwrap(api.POST("/auth/reauth", { body: { password: String(f.get("password") ?? ""), ...(code ? { totp_code: code } : {}) } }));
      onDone();
    } catch (e) {
      // A wrong password and a wrong code are 401s of their own types.
      setError(onField(e, e instanceof ApiError && e.reason === "wrong_code" ? "totp_code" : "password"));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="reauth" onSubmit={submit} noValidate aria-label="Confirm it is you">
      <p className="hint">{purpose} needs you to confirm it is you: you signed in more than five minutes ago.</p>
      <Field label="Your password" name="password" type="password" error={error} required autoComplete="current-password" autoFocus />
      {askCode && <Field label="Code from your authenticator app" name="totp_code" inputMode="numeric" autoComplete="one-time-code" error={error} hint="Or one of your recovery codes." />}
      <FormError error={error} fields={["password", "totp_code"]} />
      <div className="row">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Checking…" : "Confirm and continue"}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

// onField puts a problem that names no field (such as "The password is
// wrong.", a 401) under the one field it is about, so that it sits
// next to what the person must correct. Step-up refusals stay as they are.
export function onField(e: unknown, field: string): unknown {
  if (!(e instanceof ApiError) || Object.keys(e.fields).length > 0 || needsFreshSignIn(e)) return e;
  if (e.status !== 401 && e.status !== 400) return e;
  return new ApiError(e.status, { ...e.problem, errors: [{ field, message: e.message }] });
}
