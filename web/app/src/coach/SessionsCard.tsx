import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, unwrapWithETag } from "../api/client";
import { keys } from "../api/keys";
import { useClientSessions, type Session } from "../api/queries";
import { Badge, Empty, Field, FormError, LoadError, Loading, Section, Select, TextArea } from "../components/ui";
import { formatDateTime, fromLocalInput, toLocalInput } from "../lib/time";

export function SessionsCard({ clientId }: { clientId: string }) {
  const sessions = useClientSessions(clientId);
  const [open, setOpen] = useState(false);
  return (
    <Section
      title="Sessions"
      actions={
        <button type="button" className="secondary small" onClick={() => setOpen((o) => !o)} aria-expanded={open}>
          {open ? "Close" : "Schedule"}
        </button>
      }
    >
      {open && <ScheduleForm clientId={clientId} onDone={() => setOpen(false)} />}
      {sessions.isPending ? (
        <Loading lines={2} />
      ) : sessions.isError ? (
        <LoadError error={sessions.error} retry={() => sessions.refetch()} />
      ) : sessions.data.items.length === 0 ? (
        <Empty title="No sessions yet." />
      ) : (
        <ul className="plain">
          {[...sessions.data.items].reverse().map((s) => (
            <SessionItem key={s.id} session={s} clientId={clientId} />
          ))}
        </ul>
      )}
    </Section>
  );
}

type NewSession = { starts_at: string; duration_minutes: number; location?: string; agenda?: string };

// ScheduleForm books a session; a double booking comes back as a 409 that
// is shown next to the start time.
export function ScheduleForm({ clientId, onDone, start }: { clientId: string; onDone: () => void; start?: Date }) {
  const qc = useQueryClient();
  const schedule = useMutation({
    mutationFn: (body: NewSession) => unwrap(api.POST("/clients/{client_id}/sessions", { params: { path: { client_id: clientId } }, body })),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: keys.sessions.all });
      qc.invalidateQueries({ queryKey: keys.dashboard });
      onDone();
    },
  });
  const initial = start ?? nextHour();
  function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget);
    const at = String(f.get("starts_at"));
    schedule.mutate({
      starts_at: at ? fromLocalInput(at) : "",
      duration_minutes: Number(f.get("duration_minutes")),
      ...(String(f.get("location") ?? "").trim() ? { location: String(f.get("location")).trim() } : {}),
      ...(String(f.get("agenda") ?? "").trim() ? { agenda: String(f.get("agenda")).trim() } : {}),
    });
  }
  const conflict = schedule.error && (schedule.error as { status?: number }).status === 409 ? (schedule.error as Error).message : undefined;
  return (
    <form onSubmit={submit} noValidate className="inline-form">
      <Field label="Starts" name="starts_at" type="datetime-local" error={schedule.error} required defaultValue={toLocalInput(initial)} />
      {conflict && (
        <p className="field-error" role="alert">
          {conflict}
        </p>
      )}
      <Select label="Length" name="duration_minutes" error={schedule.error} defaultValue="60">
        {[30, 45, 60, 90].map((m) => (
          <option key={m} value={m}>
            {m} minutes
          </option>
        ))}
      </Select>
      <Field label="Where" name="location" error={schedule.error} placeholder="Video link or address" />
      <TextArea label="Agenda" name="agenda" error={schedule.error} rows={2} />
      {!conflict && <FormError error={schedule.error} fields={["starts_at", "duration_minutes", "location", "agenda"]} />}
      <button type="submit" className="primary" disabled={schedule.isPending}>
        Schedule session
      </button>
    </form>
  );
}

function nextHour(): Date {
  const d = new Date();
  d.setHours(d.getHours() + 1, 0, 0, 0);
  return d;
}

function SessionItem({ session, clientId }: { session: Session; clientId: string }) {
  const [open, setOpen] = useState(false);
  return (
    <li className="session-item">
      <button type="button" className="session-toggle" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
        <span>
          <strong>{formatDateTime(session.starts_at)}</strong> · {session.duration_minutes} min
        </span>
        <Badge tone={session.status === "scheduled" ? "neutral" : session.status === "completed" ? "ok" : "warn"}>{session.status}</Badge>
      </button>
      {open && <SessionEditor sessionId={session.id} clientId={clientId} />}
    </li>
  );
}

// SessionEditor edits what the client sees (the shared summary, the status)
// with the session's ETag, and the coach's private note beside it.
function SessionEditor({ sessionId, clientId }: { sessionId: string; clientId: string }) {
  const qc = useQueryClient();
  const key = ["sessions", sessionId] as const;
  const current = useQuery({ queryKey: key, queryFn: () => unwrapWithETag(api.GET("/sessions/{session_id}", { params: { path: { session_id: sessionId } } })) });
  const save = useMutation({
    mutationFn: ({ etag, body }: { etag: string; body: { summary?: string; status?: Session["status"]; starts_at?: string; duration_minutes?: number } }) =>
      unwrap(api.PATCH("/sessions/{session_id}", { params: { path: { session_id: sessionId }, header: { "If-Match": etag } }, body })),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: key });
      qc.invalidateQueries({ queryKey: keys.sessions.ofClient(clientId) });
    },
  });
  if (current.isPending) return <Loading lines={3} />;
  if (current.isError) return <LoadError error={current.error} retry={() => current.refetch()} />;
  const { data: s, etag } = current.data;
  function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget);
    const startsAt = fromLocalInput(String(f.get("starts_at")));
    const minutes = Number(f.get("duration_minutes"));
    save.mutate({
      etag,
      body: {
        summary: String(f.get("summary")),
        status: String(f.get("status")) as Session["status"],
        ...(startsAt !== s.starts_at.replace(/\.\d+Z$/, "Z") ? { starts_at: startsAt } : {}),
        ...(minutes !== s.duration_minutes ? { duration_minutes: minutes } : {}),
      },
    });
  }
  const conflict = save.error && (save.error as { status?: number }).status === 409 ? (save.error as Error).message : undefined;
  return (
    <div className="session-editor">
      <form onSubmit={submit} noValidate key={etag}>
        <Field label="Starts" name="starts_at" type="datetime-local" error={save.error} defaultValue={toLocalInput(new Date(s.starts_at))} />
        {conflict && (
          <p className="field-error" role="alert">
            {conflict}
          </p>
        )}
        <Select label="Length" name="duration_minutes" error={save.error} defaultValue={String(s.duration_minutes)}>
          {[...new Set([30, 45, 60, 90, s.duration_minutes])].map((m) => (
            <option key={m} value={m}>
              {m} minutes
            </option>
          ))}
        </Select>
        <Select label="Status" name="status" defaultValue={s.status} error={save.error}>
          {["scheduled", "completed", "cancelled", "no_show"].map((v) => (
            <option key={v} value={v}>
              {v.replace("_", "-")}
            </option>
          ))}
        </Select>
        <div className="labelled">
          <Badge tone="shared">The client sees this</Badge>
        </div>
        <TextArea label="Shared summary" name="summary" defaultValue={s.summary ?? ""} rows={3} error={save.error} />
        <FormError
          error={conflict ? null : save.error}
          fields={["summary", "status", "starts_at", "duration_minutes"]}
          onReload={() => {
            save.reset();
            current.refetch();
          }}
        />
        <button type="submit" className="primary" disabled={save.isPending}>
          Save session
        </button>
        {save.isSuccess && <span role="status"> Saved.</span>}
      </form>
      <PrivateNote sessionId={sessionId} />
    </div>
  );
}

function PrivateNote({ sessionId }: { sessionId: string }) {
  const qc = useQueryClient();
  const note = useQuery({
    queryKey: keys.sessions.note(sessionId),
    queryFn: async () => {
      const { data, response } = await api.GET("/sessions/{session_id}/private-note", { params: { path: { session_id: sessionId } } });
      if (response.status === 404) return { body: "" };
      if (!response.ok || !data) throw new Error("The private note could not be loaded.");
      return data;
    },
  });
  const save = useMutation({
    mutationFn: (body: string) => unwrap(api.PUT("/sessions/{session_id}/private-note", { params: { path: { session_id: sessionId } }, body: { body } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.sessions.note(sessionId) }),
  });
  return (
    <form
      className="private-note"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate(String(new FormData(e.currentTarget).get("body")));
      }}
    >
      <div className="labelled">
        <Badge tone="private">Only you</Badge> <span className="hint">Never shared with the client or a therapist. Psychotherapy notes do not belong in Tandem.</span>
      </div>
      {note.isPending ? (
        <Loading lines={2} />
      ) : (
        <TextArea label="Private note" name="body" defaultValue={note.data?.body ?? ""} rows={3} error={save.error} key={note.data?.body ?? ""} />
      )}
      <FormError error={save.error} fields={["body"]} />
      <button type="submit" className="secondary" disabled={save.isPending}>
        Save private note
      </button>
      {save.isSuccess && <span role="status"> Saved.</span>}
    </form>
  );
}
