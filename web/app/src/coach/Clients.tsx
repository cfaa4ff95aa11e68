import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useSearchParams } from "react-router";
import { api, unwrap } from "../api/client";
import { keys } from "../api/keys";
import { Badge, Empty, Field, FormError, LoadError, Loading, Section } from "../components/ui";
import { viewerZone } from "../lib/time";

export function Clients() {
  const [params] = useSearchParams();
  const q = useQuery({ queryKey: keys.clients.all, queryFn: () => unwrap(api.GET("/clients", { params: { query: { limit: 200 } } })) });
  return (
    <div className="page">
      <h1>Clients</h1>
      <AddClient open={params.get("new") === "1"} />
      <Section title="All clients">
        {q.isPending ? (
          <Loading />
        ) : q.isError ? (
          <LoadError error={q.error} retry={() => q.refetch()} />
        ) : q.data.items.length === 0 ? (
          <Empty title="No clients yet." />
        ) : (
          <ul className="plain">
            {q.data.items.map((c) => (
              <li key={c.id} className="client-row">
                <Link to={`/coach/clients/${c.id}`}>{c.name}</Link> <span className="meta">{c.email}</span>{" "}
                <Badge tone={c.portal === "active" ? "ok" : "neutral"}>portal: {c.portal}</Badge>
              </li>
            ))}
          </ul>
        )}
      </Section>
    </div>
  );
}

const clientFields = ["name", "email", "phone", "timezone"];

function AddClient({ open }: { open: boolean }) {
  const qc = useQueryClient();
  const nav = useNavigate();
  const [error, setError] = useState<unknown>(null);
  const create = useMutation({
    mutationFn: (body: { name: string; email?: string; phone?: string; timezone?: string }) => unwrap(api.POST("/clients", { body })),
    onSuccess: (c) => {
      qc.invalidateQueries({ queryKey: keys.clients.all });
      qc.invalidateQueries({ queryKey: keys.dashboard });
      nav(`/coach/clients/${c.id}`);
    },
    onError: setError,
  });
  function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget);
    const opt = (k: string) => (String(f.get(k) ?? "").trim() ? String(f.get(k)).trim() : undefined);
    setError(null);
    create.mutate({ name: String(f.get("name")).trim(), email: opt("email"), phone: opt("phone"), timezone: opt("timezone") });
  }
  return (
    <details className="card" open={open}>
      <summary>Add a client</summary>
      <form onSubmit={submit} noValidate className="grid-form">
        <Field label="Name" name="name" error={error} required autoFocus={open} />
        <Field label="E-mail" name="email" type="email" error={error} hint="Needed to invite them to the portal." />
        <Field label="Phone" name="phone" type="tel" error={error} />
        <Field label="Time zone" name="timezone" error={error} defaultValue={viewerZone()} hint="IANA name, such as Europe/Berlin." />
        <FormError error={error} fields={clientFields} />
        <button type="submit" className="primary" disabled={create.isPending}>
          Add client
        </button>
      </form>
    </details>
  );
}
