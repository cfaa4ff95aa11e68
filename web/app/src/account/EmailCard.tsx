import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { Field, FormError, Section } from "../components/ui";
import { needsFreshSignIn, ReauthForm } from "./Reauth";

// EmailCard changes the e-mail address (POST /me/email, a fresh sign-in
// needed): nothing changes until the link mailed to the new address is used.
export function EmailCard({ current, mfa }: { current: string; mfa: boolean }) {
  const [email, setEmail] = useState("");
  const change = useMutation({ mutationFn: (address: string) => unwrap(api.POST("/me/email", { body: { email: address } })) });
  const confirming = needsFreshSignIn(change.error);
  function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    change.mutate(email.trim());
  }
  return (
    <Section title="E-mail address">
      <p>
        Tandem writes to <strong>{current}</strong>.
      </p>
      <form onSubmit={submit} noValidate>
        <Field
          label="New e-mail address"
          name="email"
          type="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          error={confirming ? null : change.error}
          hint="We send a confirmation link to the new address. Your address changes only when you open that link; until then you keep using this one. We also let your current address know."
        />
        {!confirming && <FormError error={change.error} fields={["email"]} />}
        {!confirming && (
          <button type="submit" className="primary" disabled={change.isPending || !email.trim()}>
            {change.isPending ? "Sending…" : "Send confirmation link"}
          </button>
        )}
      </form>
      {confirming && <ReauthForm mfa={mfa} purpose="Changing your e-mail address" onDone={() => change.mutate(email.trim())} onCancel={() => change.reset()} />}
      {change.isSuccess && (
        <p className="notice" role="status">
          {change.data.message} Open the link in that e-mail to finish; it is valid for a limited time. If nothing arrives, check the address and your spam folder.
        </p>
      )}
    </Section>
  );
}
