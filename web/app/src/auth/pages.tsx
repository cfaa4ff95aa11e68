import { useState, type FormEvent } from "react";
import { Link, Navigate, useLocation, useNavigate } from "react-router";
import { api, unwrap } from "../api/client";
import { Field, FormError } from "../components/ui";
import { homeOf, useAuth } from "./AuthContext";
import { AuthShell } from "./AuthShell";
import { linkToken } from "./linkToken";
import { NewPasswordField } from "./NewPasswordField";

export function SignIn() {
  const auth = useAuth();
  const nav = useNavigate();
  const from = (useLocation().state as { from?: string } | null)?.from;
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [mfaToken, setMfaToken] = useState<string | null>(null);

  if (auth.status === "signed-in") return <Navigate to={from ?? homeOf(auth.me)} replace />;

  async function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget);
    setBusy(true);
    setError(null);
    try {
      if (mfaToken) {
        await auth.signInWithCode(mfaToken, String(f.get("code")));
      } else {
        const challenge = await auth.signIn(String(f.get("email")), String(f.get("password")));
        if (challenge) {
          setMfaToken(challenge);
          return;
        }
      }
      nav(from ?? "/", { replace: true });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthShell title={mfaToken ? "Two-step sign-in" : "Sign in"} lead={mfaToken ? "Enter the code from your authenticator app, or a recovery code." : "Welcome back."}>
      <form onSubmit={submit} noValidate>
        {mfaToken ? (
          <Field label="Code" name="code" error={error} autoComplete="one-time-code" inputMode="numeric" required autoFocus />
        ) : (
          <>
            <Field label="E-mail" name="email" type="email" error={error} autoComplete="email" required />
            <Field label="Password" name="password" type="password" error={error} autoComplete="current-password" required />
          </>
        )}
        <FormError error={error} fields={["email", "password", "code"]} />
        <button type="submit" className="primary wide" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p className="aside">
        New practice? <Link to="/register">Create an account</Link>
        <br />
        <Link to="/forgot-password">Forgot your password?</Link>
      </p>
    </AuthShell>
  );
}

export function Register() {
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget);
    setBusy(true);
    setError(null);
    try {
      const res = await unwrap(
        api.POST("/auth/register", {
          body: { practice_name: String(f.get("practice_name")), name: String(f.get("name")), email: String(f.get("email")), password: String(f.get("password")) },
        }),
      );
      setDone(res.message);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  if (done) {
    return (
      <AuthShell title="Check your mailbox">
        <p role="status">{done}</p>
        <p className="aside">
          Once the address is confirmed, <Link to="/signin">sign in</Link>.
        </p>
      </AuthShell>
    );
  }
  return (
    <AuthShell title="Create your practice" lead="For coaches. Your clients and their therapists join by invitation.">
      <form onSubmit={submit} noValidate>
        <Field label="Practice name" name="practice_name" error={error} required autoComplete="organization" />
        <Field label="Your name" name="name" error={error} required autoComplete="name" />
        <Field label="E-mail" name="email" type="email" error={error} required autoComplete="email" />
        <NewPasswordField error={error} />
        <FormError error={error} fields={["practice_name", "name", "email", "password"]} />
        <button type="submit" className="primary wide" disabled={busy}>
          {busy ? "Creating…" : "Create practice"}
        </button>
      </form>
      <p className="aside">
        Already have an account? <Link to="/signin">Sign in</Link>
      </p>
    </AuthShell>
  );
}

// ForgotPassword asks for a reset link. The answer is the same whether or
// not the address has an account, so the page never tells which.
export function ForgotPassword() {
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget);
    setBusy(true);
    setError(null);
    try {
      setDone((await unwrap(api.POST("/auth/password-reset", { body: { email: String(f.get("email")) } }))).message);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <AuthShell title="Reset your password" lead={done ? undefined : "We e-mail you a link to choose a new password. It works once, for 30 minutes."}>
      {done ? (
        <p role="status">{done}</p>
      ) : (
        <form onSubmit={submit} noValidate>
          <Field label="E-mail" name="email" type="email" error={error} required autoComplete="email" />
          <FormError error={error} fields={["email"]} />
          <button type="submit" className="primary wide" disabled={busy}>
            {busy ? "Sending…" : "Send the link"}
          </button>
        </form>
      )}
      <p className="aside">
        <Link to="/signin">Back to sign in</Link>
      </p>
    </AuthShell>
  );
}

// AcceptInvitation is the page of an invitation e-mail's link
// (/accept-invitation#token=…): the token stays in the fragment, which the
// browser never sends with the page request.
export function AcceptInvitation() {
  const auth = useAuth();
  const nav = useNavigate();
  const [token] = useState(linkToken);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [declined, setDeclined] = useState(false);

  if (declined) {
    return (
      <AuthShell title="Invitation declined">
        <p role="status">
          You declined the invitation. Tandem has let the client&apos;s coach know. Nothing is shared with you, and declining needed no account. You can close this page.
        </p>
      </AuthShell>
    );
  }

  async function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget);
    const name = String(f.get("name") ?? "").trim();
    const totp = String(f.get("totp_code") ?? "").trim();
    setBusy(true);
    setError(null);
    try {
      const pair = await unwrap(
        api.POST("/invitations/accept", {
          body: { token, password: String(f.get("password")), ...(name ? { name } : {}), ...(totp ? { totp_code: totp } : {}) },
        }),
      );
      history.replaceState(null, "", window.location.pathname);
      await auth.adopt(pair.refresh_token);
      nav("/", { replace: true });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <AuthShell title="Accept your invitation" lead="New to Tandem? Choose your name and a password. Already have an account with this e-mail? Enter its password; your name is kept.">
      {!token && (
        <p className="alert" role="alert">
          This link is incomplete. Open the link from your invitation e-mail again.
        </p>
      )}
      <form onSubmit={submit} noValidate>
        <Field label="Your name" name="name" error={error} autoComplete="name" />
        <NewPasswordField error={error} />
        <Field label="Authenticator code" name="totp_code" error={error} autoComplete="one-time-code" inputMode="numeric" hint="Only if your account has two-step sign-in." />
        <FormError error={error} fields={["name", "password", "totp_code"]} />
        <button type="submit" className="primary wide" disabled={busy || !token}>
          {busy ? "Accepting…" : "Accept invitation"}
        </button>
      </form>
      {token && (
        <DeclineInvitation
          token={token}
          onDeclined={() => {
            history.replaceState(null, "", window.location.pathname);
            setDeclined(true);
          }}
        />
      )}
    </AuthShell>
  );
}

// DeclineInvitation lets the therapist a client's consent names say no
// from the e-mailed link, without an account, after a confirm step: it ends
// the consent for good. Coach and portal invitations cannot be declined;
// the server's problem says so, and they simply expire unused.
function DeclineInvitation({ token, onDeclined }: { token: string; onDeclined: () => void }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function decline() {
    setBusy(true);
    setError(null);
    try {
      await unwrap(api.POST("/invitations/decline", { body: { token } }));
      onDeclined();
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  }

  return (
    <section className="aside" aria-labelledby="decline-invitation">
      <h2 id="decline-invitation">Not for you?</h2>
      {confirming ? (
        <div role="group" aria-label="Decline this invitation?" className="confirm">
          <p>
            Decline this invitation? The client&apos;s coach is told that you declined, nothing is shared with you, and the link stops working. Only the client can invite you again.
          </p>
          <div className="row">
            <button type="button" className="danger" autoFocus onClick={() => void decline()} disabled={busy}>
              {busy ? "Declining…" : "Yes, decline"}
            </button>
            <button type="button" className="secondary" onClick={() => setConfirming(false)} disabled={busy}>
              Go back
            </button>
          </div>
          <FormError error={error} />
        </div>
      ) : (
        <>
          <p>Invited to see a client&apos;s coaching progress? You can decline without creating an account.</p>
          <button type="button" className="secondary" onClick={() => setConfirming(true)}>
            Decline invitation
          </button>
        </>
      )}
    </section>
  );
}
