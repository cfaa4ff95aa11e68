import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useParams } from "react-router";
import { api, unwrap } from "../api/client";
import { keys } from "../api/keys";
import { useCompleteStep, useConsents, useDisclosures, useGoals, useSteps, type DataClass, type Goal } from "../api/queries";
import { Badge, dataClassLabels, Empty, Field, FormError, LoadError, Loading, Progress, Section, TextArea } from "../components/ui";
import { formatDate, formatDateTime } from "../lib/time";
import { CoordinationThread } from "../components/CoordinationThread";
import { SessionsCard } from "./SessionsCard";
import { ClientDataCard } from "./ClientDataCard";
import GoalChart from "../components/ProgressChart";

export function ClientPage() {
  const { clientId = "" } = useParams();
  const client = useQuery({ queryKey: keys.clients.one(clientId), queryFn: () => unwrap(api.GET("/clients/{client_id}", { params: { path: { client_id: clientId } } })) });
  if (client.isPending) return <Loading lines={8} />;
  if (client.isError) return <LoadError error={client.error} retry={() => client.refetch()} />;
  const c = client.data;
  return (
    <div className="page">
      <div className="page-head">
        <div>
          <h1>{c.name}</h1>
          <p className="meta">
            {[c.email, c.phone, c.timezone].filter(Boolean).join(" · ")} · <Badge tone={c.status === "active" ? "ok" : "neutral"}>{c.status}</Badge>
          </p>
        </div>
        <PortalInvite clientId={clientId} portal={c.portal} hasEmail={!!c.email} />
      </div>
      <div className="columns">
        <div>
          <GoalsAndSteps clientId={clientId} />
          <SessionsCard clientId={clientId} />
        </div>
        <div>
          <ConsentsCard clientId={clientId} />
          <CoordinationThread clientId={clientId} />
          <DisclosureLog clientId={clientId} />
          <ClientDataCard clientId={clientId} name={c.name} />
        </div>
      </div>
    </div>
  );
}

function PortalInvite({ clientId, portal, hasEmail }: { clientId: string; portal: string; hasEmail: boolean }) {
  const qc = useQueryClient();
  const inv = useQuery({
    queryKey: keys.clients.invitation(clientId),
    queryFn: async () => {
      const { data, response } = await api.GET("/clients/{client_id}/invitation", { params: { path: { client_id: clientId } } });
      return response.status === 404 ? null : (data ?? null);
    },
    enabled: portal !== "active",
  });
  const send = useMutation({
    mutationFn: () => unwrap(api.POST("/clients/{client_id}/invitation", { params: { path: { client_id: clientId } } })),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: keys.clients.invitation(clientId) });
      qc.invalidateQueries({ queryKey: keys.clients.one(clientId) });
    },
  });
  if (portal === "active") return <Badge tone="ok">Portal active</Badge>;
  return (
    <div className="invite">
      {inv.data && (
        <p className="meta" role="status">
          {inv.data.status === "sent" ? "Invitation sent" : `Invitation ${inv.data.status}`} {formatDateTime(inv.data.sent_at)}
          {inv.data.status === "sent" && `, expires ${formatDateTime(inv.data.expires_at)}`}
        </p>
      )}
      <button type="button" className="secondary" disabled={!hasEmail || send.isPending} onClick={() => send.mutate()} title={hasEmail ? undefined : "Add an e-mail address first"}>
        {inv.data ? "Send the invitation again" : "Invite to the portal"}
      </button>
      <FormError error={send.error} />
    </div>
  );
}

function GoalsAndSteps({ clientId }: { clientId: string }) {
  const goals = useGoals(clientId);
  const [adding, setAdding] = useState(false);
  return (
    <Section
      title="Goals and action steps"
      actions={
        <button type="button" className="secondary small" onClick={() => setAdding((a) => !a)} aria-expanded={adding}>
          {adding ? "Close" : "Set a goal"}
        </button>
      }
    >
      {adding && <AddGoal clientId={clientId} onDone={() => setAdding(false)} />}
      {goals.isPending ? (
        <Loading />
      ) : goals.isError ? (
        <LoadError error={goals.error} retry={() => goals.refetch()} />
      ) : goals.data.items.length === 0 ? (
        <Empty title="No goals yet.">
          <p>Set the first goal with the client: what they want, and why it matters to them.</p>
        </Empty>
      ) : (
        <ul className="goals">
          {goals.data.items.map((g) => (
            <GoalItem key={g.id} goal={g} clientId={clientId} />
          ))}
        </ul>
      )}
    </Section>
  );
}

const goalFields = ["title", "why", "target_date", "metric"];

function AddGoal({ clientId, onDone }: { clientId: string; onDone: () => void }) {
  const qc = useQueryClient();
  const add = useMutation({
    mutationFn: (body: { title: string; why: string; target_date?: string; metric?: { unit: string; baseline: number; target: number } }) =>
      unwrap(api.POST("/clients/{client_id}/goals", { params: { path: { client_id: clientId } }, body })),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: keys.goals.ofClient(clientId) });
      qc.invalidateQueries({ queryKey: keys.dashboard });
      onDone();
    },
  });
  function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget);
    const unit = String(f.get("unit") ?? "").trim();
    add.mutate({
      title: String(f.get("title")).trim(),
      why: String(f.get("why")).trim(),
      ...(f.get("target_date") ? { target_date: String(f.get("target_date")) } : {}),
      ...(unit ? { metric: { unit, baseline: Number(f.get("baseline") || 0), target: Number(f.get("target") || 0) } } : {}),
    });
  }
  return (
    <form onSubmit={submit} noValidate className="inline-form">
      <Field label="Goal" name="title" error={add.error} required autoFocus />
      <TextArea label="Why it matters to them" name="why" error={add.error} required rows={2} />
      <Field label="Target date" name="target_date" type="date" error={add.error} />
      <fieldset className="metric">
        <legend>Measure (optional)</legend>
        <Field label="Unit" name="unit" error={add.error} placeholder="km, hours…" />
        <Field label="Starting value" name="baseline" type="number" step="any" error={add.error} />
        <Field label="Target value" name="target" type="number" step="any" error={add.error} />
      </fieldset>
      <FormError error={add.error} fields={goalFields} />
      <button type="submit" className="primary" disabled={add.isPending}>
        Save goal
      </button>
    </form>
  );
}

function GoalItem({ goal, clientId }: { goal: Goal; clientId: string }) {
  const steps = useSteps(clientId);
  const complete = useCompleteStep(clientId);
  const mine = steps.data?.items.filter((s) => s.goal_id === goal.id) ?? [];
  return (
    <li className="goal">
      <div className="goal-head">
        <p className="goal-title">{goal.title}</p>
        <Badge>{goal.status}</Badge>
      </div>
      <p className="why">
        <span className="why-label">Why:</span> {goal.why}
      </p>
      <Progress value={goal.progress_percent} label={`Progress on ${goal.title}`} />
      {goal.metric && <GoalChart goal={goal} />}
      {goal.metric && <RecordProgress goal={goal} clientId={clientId} />}
      <ul className="steps compact">
        {mine.map((s) => (
          <li key={s.id} className={`step ${s.overdue ? "overdue" : ""}`}>
            <div className="step-main">
              <div>
                <p className={`step-title ${s.status === "done" ? "done" : ""}`}>{s.title}</p>
                <p className="meta">
                  {s.status === "done" ? `Done ${formatDateTime(s.completed_at)}` : s.due_date ? `Due ${formatDate(s.due_date)}` : "No due date"}
                  {s.overdue && (
                    <>
                      {" "}
                      <Badge tone="warn">Overdue</Badge>
                    </>
                  )}
                </p>
                {s.reflection && <p className="reflection">“{s.reflection}”</p>}
              </div>
              {s.status === "open" && (
                <button type="button" className="secondary small" onClick={() => complete.mutate({ id: s.id })} aria-label={`Mark “${s.title}” done`}>
                  Done
                </button>
              )}
            </div>
          </li>
        ))}
      </ul>
      <FormError error={complete.error} />
      <AddStep goalId={goal.id} goalTitle={goal.title} clientId={clientId} />
    </li>
  );
}

function RecordProgress({ goal, clientId }: { goal: Goal; clientId: string }) {
  const qc = useQueryClient();
  const [key, setKey] = useState(0);
  const record = useMutation({
    mutationFn: (value: number) => unwrap(api.POST("/goals/{goal_id}/progress", { params: { path: { goal_id: goal.id } }, body: { value } })),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: keys.goals.ofClient(clientId) });
      qc.invalidateQueries({ queryKey: keys.progress.ofGoal(goal.id) });
      qc.invalidateQueries({ queryKey: keys.dashboard });
      setKey((k) => k + 1);
    },
  });
  const metric = goal.metric!;
  return (
    <form
      key={key}
      className="row progress-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        record.mutate(Number(new FormData(e.currentTarget).get("value")));
      }}
    >
      <p className="meta">
        {goal.current_value ?? metric.baseline} of {metric.target} {metric.unit}
      </p>
      <Field label={`Today's value (${metric.unit})`} name="value" type="number" step="any" error={record.error} required />
      <button type="submit" className="secondary small" disabled={record.isPending}>
        Record
      </button>
      <FormError error={record.error} fields={["value"]} />
    </form>
  );
}

function AddStep({ goalId, goalTitle, clientId }: { goalId: string; goalTitle: string; clientId: string }) {
  const qc = useQueryClient();
  const [key, setKey] = useState(0);
  const add = useMutation({
    mutationFn: (body: { title: string; due_date?: string; recurrence?: "none" | "daily" | "weekly" }) =>
      unwrap(api.POST("/goals/{goal_id}/action-steps", { params: { path: { goal_id: goalId } }, body })),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: keys.steps.ofClient(clientId) });
      qc.invalidateQueries({ queryKey: keys.dashboard });
      setKey((k) => k + 1);
    },
  });
  function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget);
    const rec = String(f.get("recurrence") ?? "none") as "none" | "daily" | "weekly";
    add.mutate({ title: String(f.get("title")).trim(), ...(f.get("due_date") ? { due_date: String(f.get("due_date")) } : {}), recurrence: rec });
  }
  return (
    <form key={key} onSubmit={submit} noValidate className="add-step" aria-label={`Add a step to ${goalTitle}`}>
      <Field label="New step" name="title" error={add.error} required placeholder="A clearly defined next step" />
      <Field label="Due" name="due_date" type="date" error={add.error} />
      <div className="field">
        <label htmlFor={`rec-${goalId}`}>Repeats</label>
        <select id={`rec-${goalId}`} name="recurrence" defaultValue="none">
          <option value="none">No</option>
          <option value="daily">Daily</option>
          <option value="weekly">Weekly</option>
        </select>
      </div>
      <button type="submit" className="secondary" disabled={add.isPending}>
        Add step
      </button>
      <FormError error={add.error} fields={["title", "due_date", "recurrence"]} />
    </form>
  );
}

const classes: DataClass[] = ["goals", "action_steps", "session_attendance", "session_summaries", "coordination_notes"];

function ConsentsCard({ clientId }: { clientId: string }) {
  const consents = useConsents(clientId);
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const request = useMutation({
    mutationFn: (body: { therapist_name: string; therapist_email: string; data_classes: DataClass[]; purpose: string; expires_at: string }) =>
      unwrap(api.POST("/clients/{client_id}/consents", { params: { path: { client_id: clientId } }, body })),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: keys.consents.ofClient(clientId) });
      setOpen(false);
    },
  });
  function submit(ev: FormEvent<HTMLFormElement>) {
    ev.preventDefault();
    const f = new FormData(ev.currentTarget);
    const until = String(f.get("expires_at"));
    request.mutate({
      therapist_name: String(f.get("therapist_name")),
      therapist_email: String(f.get("therapist_email")),
      data_classes: f.getAll("data_classes").map(String) as DataClass[],
      purpose: String(f.get("purpose")),
      expires_at: until ? new Date(`${until}T23:59:00`).toISOString().replace(/\.\d{3}Z$/, "Z") : "",
    });
  }
  return (
    <Section
      title="Therapist consents"
      actions={
        <button type="button" className="secondary small" onClick={() => setOpen((o) => !o)} aria-expanded={open}>
          {open ? "Close" : "Request consent"}
        </button>
      }
    >
      {open && (
        <form onSubmit={submit} noValidate className="inline-form">
          <p className="hint">A request does nothing until the client reads, chooses and signs it in their portal.</p>
          <Field label="Therapist's name" name="therapist_name" error={request.error} required />
          <Field label="Therapist's e-mail" name="therapist_email" type="email" error={request.error} required />
          <fieldset className="field">
            <legend>Data classes to ask for</legend>
            {classes.map((c) => (
              <label key={c} className="check">
                <input type="checkbox" name="data_classes" value={c} defaultChecked={c === "goals"} /> {dataClassLabels[c]}
              </label>
            ))}
          </fieldset>
          <TextArea label="Purpose" name="purpose" error={request.error} required rows={2} />
          <Field label="Until" name="expires_at" type="date" error={request.error} required />
          <FormError error={request.error} fields={["therapist_name", "therapist_email", "purpose", "expires_at"]} />
          <button type="submit" className="primary" disabled={request.isPending}>
            Send request to the client
          </button>
        </form>
      )}
      {consents.isPending ? (
        <Loading lines={2} />
      ) : consents.isError ? (
        <LoadError error={consents.error} retry={() => consents.refetch()} />
      ) : consents.data.items.length === 0 ? (
        <Empty title="Nothing is shared with a therapist." />
      ) : (
        <ul className="plain">
          {consents.data.items.map((c) => (
            <li key={c.id}>
              <strong>{c.therapist_name}</strong> <Badge tone={c.status === "active" ? "ok" : c.status === "revoked" ? "danger" : "neutral"}>{c.signature ? c.status : "requested"}</Badge>
              <p className="meta">
                {c.data_classes.map((d) => dataClassLabels[d]).join(", ")} · until {formatDateTime(c.expires_at)}
              </p>
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

function DisclosureLog({ clientId }: { clientId: string }) {
  const list = useDisclosures(clientId);
  return (
    <Section title="Disclosure log">
      {list.isPending ? (
        <Loading lines={2} />
      ) : list.isError ? (
        <LoadError error={list.error} retry={() => list.refetch()} />
      ) : list.data.items.length === 0 ? (
        <Empty title="No therapist has viewed this client's data." />
      ) : (
        <table className="table">
          <caption className="visually-hidden">Every therapist read of this client's data</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Therapist</th>
              <th scope="col">Data</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((d) => (
              <tr key={d.id}>
                <td>{formatDateTime(d.disclosed_at)}</td>
                <td>{d.therapist_name}</td>
                <td>{d.data_classes.map((c) => dataClassLabels[c]).join(", ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}
