import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "../api/client";
import { keys } from "../api/keys";
import { useCoordinationNotes } from "../api/queries";
import { Empty, FormError, LoadError, Loading, Section, TextArea } from "./ui";
import { formatDateTime } from "../lib/time";

// CoordinationThread is the exchange between the client's coach and a
// consented therapist; the client can read it too.
export function CoordinationThread({ clientId, title = "Coordination with the therapist" }: { clientId: string; title?: string }) {
  const notes = useCoordinationNotes(clientId);
  const qc = useQueryClient();
  const [key, setKey] = useState(0);
  const write = useMutation({
    mutationFn: (body: string) => unwrap(api.POST("/clients/{client_id}/coordination-notes", { params: { path: { client_id: clientId } }, body: { body } })),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: keys.notes.ofClient(clientId) });
      setKey((k) => k + 1);
    },
  });
  function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    write.mutate(String(new FormData(ev.currentTarget).get("body")));
  }
  return (
    <Section title={title}>
      <p className="hint">The client can read this thread. Psychotherapy notes do not belong here.</p>
      {notes.isPending ? (
        <Loading lines={2} />
      ) : notes.isError ? (
        <LoadError error={notes.error} retry={() => notes.refetch()} />
      ) : notes.data.items.length === 0 ? (
        <Empty title="No notes yet." />
      ) : (
        <ol className="thread">
          {notes.data.items.map((n) => (
            <li key={n.id} className={`note note-${n.author_role}`}>
              <p className="meta">
                <strong>{n.author_name}</strong> ({n.author_role}) · {formatDateTime(n.created_at)}
              </p>
              <p className="note-body">{n.body}</p>
            </li>
          ))}
        </ol>
      )}
      <form key={key} onSubmit={submit} noValidate>
        <TextArea label="Write a note" name="body" rows={2} error={write.error} required />
        <FormError error={write.error} fields={["body"]} />
        <button type="submit" className="secondary" disabled={write.isPending}>
          Send note
        </button>
      </form>
    </Section>
  );
}
