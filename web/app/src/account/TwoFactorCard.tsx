import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import type { components } from "../api/schema.gen";
import { useAuth } from "../auth/AuthContext";
import { Badge, Field, FormError, Section } from "../components/ui";
import { needsFreshSignIn, onField, ReauthForm } from "./Reauth";

type Enrolment = components["schemas"]["TotpEnrolment"];

// groups spaces a base32 secret in fours, as authenticator apps show it.
export function groups(secret: string): string {
  return secret.replace(/\s+/g, "").replace(/(.{4})(?=.)/g, "$1 ");
}

// TwoFactorCard turns two-step sign-in (TOTP) on and off. Enrolment and
// turning it off need a fresh sign-in; the recovery codes are shown once.
export function TwoFactorCard({ enabled }: { enabled: boolean }) {
  const [on, setOn] = useState(enabled);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [turningOff, setTurningOff] = useState(false);
  // The layout's notice of a required enrolment reads /me.
  const { reloadMe } = useAuth();
  const enrol = useMutation({ mutationFn: () => unwrap(api.POST("/me/mfa/totp")) });
  const disable = useMutation({
    mutationFn: () => unwrap(api.DELETE("/me/mfa/totp")),
    onSuccess: () => {
      setOn(false);
      setTurningOff(false);
      setCodes(null);
      enrol.reset();
      void reloadMe();
    },
  });

  return (
    <Section title="Two-step sign-in" actions={<Badge tone={on ? "ok" : "neutral"}>{on ? "On" : "Off"}</Badge>}>
      {codes && <RecoveryCodes codes={codes} />}
      {on ? (
        <>
          <p>Signing in asks for a code from your authenticator app after your password.</p>
          {needsFreshSignIn(disable.error) ? (
            <ReauthForm mfa purpose="Turning two-step sign-in off" onDone={() => disable.mutate()} onCancel={() => disable.reset()} />
          ) : turningOff ? (
            <div className="row" role="group" aria-label="Turn two-step sign-in off?">
              <button type="button" className="danger" autoFocus disabled={disable.isPending} onClick={() => disable.mutate()}>
                Yes, turn it off
              </button>
              <button type="button" className="secondary" onClick={() => setTurningOff(false)}>
                Keep it on
              </button>
            </div>
          ) : (
            <button type="button" className="secondary" onClick={() => setTurningOff(true)}>
              Turn two-step sign-in off
            </button>
          )}
          {!needsFreshSignIn(disable.error) && <FormError error={disable.error} />}
        </>
      ) : enrol.data ? (
        <Confirm
          enrolment={enrol.data}
          onConfirmed={(c) => {
            setCodes(c);
            setOn(true);
            enrol.reset();
            void reloadMe();
          }}
          onCancel={() => enrol.reset()}
        />
      ) : (
        <>
          <p>Protect your account with a code from an authenticator app (such as one on your phone) each time you sign in.</p>
          {needsFreshSignIn(enrol.error) ? (
            <ReauthForm mfa={false} purpose="Setting up two-step sign-in" onDone={() => enrol.mutate()} onCancel={() => enrol.reset()} />
          ) : (
            <>
              <button type="button" className="primary" disabled={enrol.isPending} onClick={() => enrol.mutate()}>
                {enrol.isPending ? "Starting…" : "Set up two-step sign-in"}
              </button>
              <FormError error={enrol.error} />
            </>
          )}
        </>
      )}
    </Section>
  );
}

// Confirm shows the secret three ways (QR code, typed key, otpauth link)
// and asks for the first code, which turns two-step sign-in on.
function Confirm({ enrolment, onConfirmed, onCancel }: { enrolment: Enrolment; onConfirmed: (codes: string[]) => void; onCancel: () => void }) {
  const confirm = useMutation({
    mutationFn: (code: string) => unwrap(api.POST("/me/mfa/totp/confirm", { body: { code } })),
    onSuccess: (r) => onConfirmed(r.recovery_codes),
  });
  const error = onField(confirm.error, "code");
  function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    confirm.mutate(String(new FormData(ev.currentTarget).get("code") ?? "").replace(/\s+/g, ""));
  }
  return (
    <div className="totp">
      <ol className="totp-steps">
        <li>
          <p>Open your authenticator app and add an account. Scan this code with the app:</p>
          <img className="totp-qr" src={`data:image/png;base64,${enrolment.qr_png}`} alt="QR code of your two-step sign-in key (the same key is written out below)" width={180} height={180} />
        </li>
        <li>
          <p>Or type this key into the app (a time-based key; spaces do not matter):</p>
          <p className="totp-secret">
            <code>{groups(enrolment.secret)}</code>
          </p>
          <details>
            <summary>Show the setup link instead</summary>
            <p className="hint">Some apps and password managers accept this link when pasted.</p>
            <input readOnly value={enrolment.otpauth_uri} aria-label="Setup link (otpauth)" onFocus={(e) => e.currentTarget.select()} />
          </details>
        </li>
        <li>
          <form onSubmit={submit} noValidate>
            <Field label="The 6-digit code the app shows now" name="code" inputMode="numeric" autoComplete="one-time-code" required error={error} />
            <FormError error={error} fields={["code"]} />
            <div className="row">
              <button type="submit" className="primary" disabled={confirm.isPending}>
                {confirm.isPending ? "Checking…" : "Turn two-step sign-in on"}
              </button>
              <button type="button" className="secondary" onClick={onCancel}>
                Cancel
              </button>
            </div>
          </form>
        </li>
      </ol>
    </div>
  );
}

function RecoveryCodes({ codes }: { codes: string[] }) {
  return (
    <div className="notice recovery" role="status">
      <p>
        <strong>Two-step sign-in is on.</strong> Keep these recovery codes somewhere safe, such as a password manager or on paper. Each works once in place of a code if you lose your phone.
        They are shown only now.
      </p>
      <ul className="recovery-codes">
        {codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ul>
    </div>
  );
}
