// The pages of the links Tandem e-mails to prove an address
// (/verify-email#token=…) and to choose a new password
// (/reset-password#token=…). The paths are the ones the e-mails have
// always carried (account.VerifyPath, account.ResetPath).
import { useState, type FormEvent } from "react";
import { Link, useLocation, useNavigate } from "react-router";
import { api, unwrap } from "../api/client";
import { ApiError } from "../api/problem";
import { FormError } from "../components/ui";
import { homeOf, useAuth } from "./AuthContext";
import { AuthShell } from "./AuthShell";
import { linkToken } from "./linkToken";
import { NewPasswordField } from "./NewPasswordField";

// linkSpent: the API knows no such link (404), or it was used or has
// expired (410); only a new e-mail helps.
function linkSpent(err: unknown): boolean {
  return err instanceof ApiError && (err.status === 404 || err.status === 410);
}

function IncompleteLink() {
  return (
    <p className="alert" role="alert">
      This link is incomplete. Open the link from your e-mail again.
    </p>
  );
}

// useForgetToken drops the spent token from the address bar and history.
function useForgetToken(): () => void {
  const nav = useNavigate();
  const { pathname } = useLocation();
  return () => nav(pathname, { replace: true });
}

// VerifyEmail proves an address: a new account's, a changed one's, or a
// registration's that replaces an unverified account. It asks for a click
// rather than confirming on load, so a mail scanner that opens links does
// not spend the link.
export function VerifyEmail() {
  const auth = useAuth();
  const forgetToken = useForgetToken();
  const [token] = useState(linkToken);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [confirmed, setConfirmed] = useState<string | null>(null);

  async function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await unwrap(api.POST("/auth/verify-email", { body: { token } }));
      forgetToken();
      setConfirmed(res.email);
      // A signed-in tab shows the "confirm your address" banner until /me says otherwise.
      if (auth.status === "signed-in") await auth.reloadMe().catch(() => undefined);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  if (confirmed !== null) {
    return (
      <AuthShell title="Address confirmed">
        <p role="status">{confirmed} is confirmed.</p>
        <p className="aside">{auth.status === "signed-in" ? <Link to={homeOf(auth.me)}>Continue to Tandem</Link> : <Link to="/signin">Sign in</Link>}</p>
      </AuthShell>
    );
  }
  return (
    <AuthShell title="Confirm your e-mail address" lead="This proves the address is yours. Until you do, your account cannot invite anyone or take part in a consent.">
      {!token && <IncompleteLink />}
      {(!token || linkSpent(error)) && auth.status === "signed-in" && !auth.me?.email_verified && <ResendLink />}
      <form onSubmit={submit} noValidate>
        <FormError error={error} />
        {linkSpent(error) && auth.status !== "signed-in" && <p className="hint">Sign in and open this page again to have a new link sent.</p>}
        <button type="submit" className="primary wide" disabled={busy || !token}>
          {busy ? "Confirming…" : "Confirm my address"}
        </button>
      </form>
      <p className="aside">
        <Link to="/signin">Sign in</Link>
      </p>
    </AuthShell>
  );
}

// ResendLink sends a signed-in person a new link to their unconfirmed address.
function ResendLink() {
  const [error, setError] = useState<unknown>(null);
  const [sent, setSent] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function resend() {
    setBusy(true);
    setError(null);
    try {
      setSent((await unwrap(api.POST("/auth/verify-email/resend"))).message);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  if (sent) return <p role="status">{sent}</p>;
  return (
    <div>
      <FormError error={error} />
      <button type="button" className="secondary" onClick={resend} disabled={busy}>
        {busy ? "Sending…" : "Send me a new link"}
      </button>
    </div>
  );
}

// ResetPassword sets a new password with a reset link. The API ends every
// session of the account, this tab's included.
export function ResetPassword() {
  const auth = useAuth();
  const forgetToken = useForgetToken();
  const [token] = useState(linkToken);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);

  async function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const password = String(new FormData(ev.currentTarget).get("password") ?? "");
    setBusy(true);
    setError(null);
    try {
      await unwrap(api.POST("/auth/password-reset/confirm", { body: { token, password } }));
      forgetToken();
      if (auth.status === "signed-in") await auth.signOut();
      setDone(true);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  if (done) {
    return (
      <AuthShell title="Password changed">
        <p role="status">Your password is changed, and every session of your account has ended. Sign in with the new password.</p>
        <p className="aside">
          <Link to="/signin">Sign in</Link>
        </p>
      </AuthShell>
    );
  }
  return (
    <AuthShell title="Choose a new password" lead="The link works once, for 30 minutes. Every session of your account ends when you save.">
      {!token && <IncompleteLink />}
      <form onSubmit={submit} noValidate>
        <NewPasswordField label="New password" error={error} />
        <FormError error={error} fields={["password"]} />
        {linkSpent(error) && (
          <p>
            <Link to="/forgot-password">Ask for a new link</Link>
          </p>
        )}
        <button type="submit" className="primary wide" disabled={busy || !token}>
          {busy ? "Saving…" : "Save the new password"}
        </button>
      </form>
    </AuthShell>
  );
}
