import { Field } from "../components/ui";

// NewPasswordField is where a signed-out page has a person choose a
// password (registering, accepting an invitation, a reset link): one field
// named "password", so the API's field error for it sits right under it,
// with the rule as a hint and autocomplete="new-password" so that password
// managers offer to generate and save one instead of filling in an old one.
export function NewPasswordField({ label = "Password", error }: { label?: string; error: unknown }) {
  return <Field label={label} name="password" type="password" error={error} required autoComplete="new-password" hint="At least 8 characters." />;
}
