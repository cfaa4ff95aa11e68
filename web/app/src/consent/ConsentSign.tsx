import { useState, type FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api, unwrap } from "../api/client";
import { fieldError } from "../api/problem";
import { keys } from "../api/keys";
import { useConsents, type DataClass } from "../api/queries";
import { useAuth } from "../auth/AuthContext";
import { dataClassLabels, Field, FormError, LoadError, Loading, Section, TextArea } from "../components/ui";
import { addDays, localDate } from "../lib/time";

const classes: DataClass[] = ["goals", "action_steps", "session_attendance", "session_summaries", "coordination_notes"];
const fields = ["therapist_name", "therapist_email", "data_classes", "purpose", "expires_at", "signature_name", "password"] as const;

// ConsentSign shows the exact consent text and lets the client choose what
// to share, with whom, for how long, and sign it with their typed name and
// their password (a fresh proof of who they are).
export default function ConsentSign() {
  const { me } = useAuth();
  const clientId = me?.client_id ?? "";
  const nav = useNavigate();
  const qc = useQueryClient();
  const [params] = useSearchParams();
  const requestId = params.get("request");
  // A renewal (the link of a consent-expiry e-mail) starts from the
  // consent that ends: the same therapist, classes and purpose, signed anew.
  const renewId = params.get("renew");
  const consents = useConsents(clientId);
  const request = consents.data?.items.find((c) => c.id === (requestId ?? renewId));
  const template = useQuery({ queryKey: keys.consents.template, queryFn: () => unwrap(api.GET("/consent-templates/current")) });
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  if (template.isPending || ((requestId || renewId) && consents.isPending)) return <Loading lines={8} />;
  if (template.isError) return <LoadError error={template.error} retry={() => template.refetch()} />;

  const classesError = fieldError(error, "data_classes");
  const defaultExpiry = localDate(addDays(new Date(), 182));
  const maxExpiry = localDate(addDays(new Date(), 364));

  async function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    if (!template.data) return;
    const f = new FormData(ev.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await unwrap(api.POST("/auth/reauth", { body: { password: String(f.get("password")) } }));
      const expiry = String(f.get("expires_at"));
      await unwrap(
        api.POST("/clients/{client_id}/consents", {
          params: { path: { client_id: clientId } },
          body: {
            therapist_name: String(f.get("therapist_name")),
            therapist_email: String(f.get("therapist_email")),
            data_classes: f.getAll("data_classes").map(String) as DataClass[],
            purpose: String(f.get("purpose")),
            expires_at: expiry ? new Date(`${expiry}T23:59:00`).toISOString().replace(/\.\d{3}Z$/, "Z") : "",
            template_version: template.data.version,
            template_sha256: template.data.sha256,
            signature_name: String(f.get("signature_name")),
            ...(requestId ? { request_id: requestId } : {}),
          },
        }),
      );
      await qc.invalidateQueries({ queryKey: keys.consents.ofClient(clientId) });
      nav("/portal", { replace: true });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="page narrow">
      <p>
        <Link to="/portal">← Back</Link>
      </p>
      <h1>Share with a therapist</h1>
      <Section title={`Consent text (version ${template.data.version})`}>
        <div className="consent-text" tabIndex={0} aria-label="Consent text">
          {template.data.text.split(/\n{2,}/).map((p, i) => (
            <p key={i}>{p}</p>
          ))}
        </div>
      </Section>
      <form onSubmit={submit} noValidate className="card">
        <Field label="Therapist's full name" name="therapist_name" error={error} required defaultValue={request?.therapist_name} autoComplete="off" />
        <Field label="Therapist's e-mail" name="therapist_email" type="email" error={error} required defaultValue={request?.therapist_email} autoComplete="off" hint="They get an invitation; nothing is shared until they accept it." />
        <fieldset className="field" aria-describedby={classesError ? "classes-hint classes-error" : "classes-hint"}>
          <legend>What they may see</legend>
          <p className="hint" id="classes-hint">
            Private session notes are never shared.
          </p>
          {classes.map((c) => (
            <label key={c} className="check">
              <input type="checkbox" name="data_classes" value={c} defaultChecked={request ? request.data_classes.includes(c) : c === "goals" || c === "action_steps"} /> {dataClassLabels[c]}
            </label>
          ))}
          {classesError && (
            <p className="field-error" id="classes-error">
              {classesError}
            </p>
          )}
        </fieldset>
        <TextArea label="Purpose" name="purpose" error={error} required rows={2} defaultValue={request?.purpose ?? "Coordinating my coaching with my therapy."} />
        <Field label="Share until" name="expires_at" type="date" error={error} required defaultValue={defaultExpiry} max={maxExpiry} hint="At most one year. You can revoke it earlier at any time." />
        <Field label="Sign with your full name" name="signature_name" error={error} required autoComplete="name" />
        <Field label="Your password" name="password" type="password" error={error} required autoComplete="current-password" hint="To confirm it is really you signing." />
        <FormError error={error} fields={fields} />
        <button type="submit" className="primary wide" disabled={busy}>
          {busy ? "Signing…" : "Sign and share"}
        </button>
      </form>
    </div>
  );
}
