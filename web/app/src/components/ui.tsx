import { useId, type ReactNode, type InputHTMLAttributes, type TextareaHTMLAttributes, type SelectHTMLAttributes } from "react";
import { ApiError, fieldError, formError } from "../api/problem";

type FieldProps = { label: string; name: string; error?: unknown; hint?: string };

function describe(id: string, hint?: string, message?: string) {
  return [hint ? `${id}-hint` : "", message ? `${id}-error` : ""].filter(Boolean).join(" ") || undefined;
}

function FieldShell({ id, label, hint, message, children }: { id: string; label: string; hint?: string; message?: string; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint && (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {children}
      {message && (
        <p className="field-error" id={`${id}-error`}>
          {message}
        </p>
      )}
    </div>
  );
}

// Field is a labelled input whose API field error, if any, sits right under it.
export function Field({ label, name, error, hint, ...rest }: FieldProps & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  const message = fieldError(error, name);
  return (
    <FieldShell id={id} label={label} hint={hint} message={message}>
      <input id={id} name={name} aria-invalid={message ? true : undefined} aria-describedby={describe(id, hint, message)} {...rest} />
    </FieldShell>
  );
}

export function TextArea({ label, name, error, hint, ...rest }: FieldProps & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const id = useId();
  const message = fieldError(error, name);
  return (
    <FieldShell id={id} label={label} hint={hint} message={message}>
      <textarea id={id} name={name} aria-invalid={message ? true : undefined} aria-describedby={describe(id, hint, message)} {...rest} />
    </FieldShell>
  );
}

export function Select({ label, name, error, hint, children, ...rest }: FieldProps & SelectHTMLAttributes<HTMLSelectElement>) {
  const id = useId();
  const message = fieldError(error, name);
  return (
    <FieldShell id={id} label={label} hint={hint} message={message}>
      <select id={id} name={name} aria-invalid={message ? true : undefined} aria-describedby={describe(id, hint, message)} {...rest}>
        {children}
      </select>
    </FieldShell>
  );
}

// FormError shows what no field shows: the problem's message, and for a
// 412 a way to load the latest version.
export function FormError({ error, fields = [], onReload }: { error: unknown; fields?: readonly string[]; onReload?: () => void }) {
  if (!error) return null;
  if (error instanceof ApiError && error.stale) {
    return (
      <div className="alert" role="alert">
        <p>{error.message}</p>
        {onReload && (
          <button type="button" className="secondary" onClick={onReload}>
            Reload the latest version
          </button>
        )}
      </div>
    );
  }
  const message = formError(error, fields);
  if (!message) return null;
  return (
    <div className="alert" role="alert">
      {message}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children && <div className="empty-body">{children}</div>}
    </div>
  );
}

// Loading keeps the space of what is coming, so nothing jumps when it arrives.
export function Loading({ lines = 3, label = "Loading" }: { lines?: number; label?: string }) {
  return (
    <div className="loading" role="status" aria-live="polite">
      <span className="visually-hidden">{label}…</span>
      {Array.from({ length: lines }, (_, i) => (
        <div key={i} className="skeleton" aria-hidden="true" />
      ))}
    </div>
  );
}

export function LoadError({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div className="alert" role="alert">
      <p>{error instanceof Error ? error.message : "This could not be loaded."}</p>
      {retry && (
        <button type="button" className="secondary" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Section({ title, id, actions, children, className }: { title: string; id?: string; actions?: ReactNode; children: ReactNode; className?: string }) {
  const hid = useId();
  return (
    <section className={`card ${className ?? ""}`} aria-labelledby={hid} id={id}>
      <div className="card-head">
        <h2 id={hid}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

// Progress is a labelled bar of a goal's progress.
export function Progress({ value, label }: { value: number; label: string }) {
  const v = Math.max(0, Math.min(100, Math.round(value)));
  return (
    <div className="progress">
      <progress max={100} value={v} aria-label={label} />
      <span className="progress-value">{v}%</span>
    </div>
  );
}

export function Badge({ tone = "neutral", children }: { tone?: "neutral" | "ok" | "warn" | "danger" | "private" | "shared"; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

export const dataClassLabels: Record<string, string> = {
  goals: "Goals",
  action_steps: "Action steps",
  session_attendance: "Session attendance",
  session_summaries: "Session summaries",
  coordination_notes: "Coordination notes",
};
