import { useState, type FormEvent } from "react";
import { useMutation } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { Field, FormError, Section } from "../components/ui";
import { onField } from "./Reauth";

const fields = ["current_password", "new_password"] as const;

// PasswordCard changes the password (PUT /me/password): the current one
// proves it is you; every other device is signed out.
export function PasswordCard() {
  const [form, setForm] = useState(0);
  const change = useMutation({
    mutationFn: (body: { current_password: string; new_password: string }) => unwrap(api.PUT("/me/password", { body })),
    onSuccess: () => setForm((k) => k + 1),
  });
  const error = onField(change.error, "current_password");
  function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget);
    change.mutate({ current_password: String(f.get("current_password") ?? ""), new_password: String(f.get("new_password") ?? "") });
  }
  return (
    <Section title="Password">
      <form key={form} onSubmit={submit} noValidate>
        <Field label="Current password" name="current_password" type="password" autoComplete="current-password" required error={error} />
        <Field
          label="New password"
          name="new_password"
          type="password"
          autoComplete="new-password"
          required
          minLength={8}
          error={error}
          hint="At least 8 characters; a short sentence is easy to remember and hard to guess."
        />
        <FormError error={error} fields={fields} />
        <button type="submit" className="primary" disabled={change.isPending}>
          {change.isPending ? "Changing…" : "Change password"}
        </button>
      </form>
      {change.isSuccess && (
        <p className="notice" role="status">
          Your password is changed. Every other device is signed out; this one stays signed in.
        </p>
      )}
    </Section>
  );
}
