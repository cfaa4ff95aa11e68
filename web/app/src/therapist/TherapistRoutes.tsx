import { useQuery } from "@tanstack/react-query";
import { Link, Route, Routes, useParams } from "react-router";
import { api, unwrap } from "../api/client";
import { ApiError } from "../api/problem";
import { keys } from "../api/keys";
import { CoordinationThread } from "../components/CoordinationThread";
import { Badge, dataClassLabels, Empty, LoadError, Loading, Progress, Section } from "../components/ui";
import { formatDate, formatDateTime } from "../lib/time";

// The therapist view, loaded on demand: only clients with an active consent
// naming this therapist, read-only, only the consented classes. Every view
// of a client is recorded, and the client sees that it was.
export default function TherapistRoutes() {
  return (
    <Routes>
      <Route index element={<SharedClients />} />
      <Route path="clients/:clientId" element={<SharedClient />} />
    </Routes>
  );
}

function SharedClients() {
  const q = useQuery({ queryKey: keys.shared.all, queryFn: () => unwrap(api.GET("/shared/clients")) });
  return (
    <div className="page">
      <h1>Shared with me</h1>
      {q.isPending ? (
        <Loading />
      ) : q.isError ? (
        <LoadError error={q.error} retry={() => q.refetch()} />
      ) : q.data.items.length === 0 ? (
        <Empty title="No client shares anything with you right now.">
          <p>When a client signs a consent naming you, you get an e-mail; after you accept it, they appear here until the consent ends or is revoked.</p>
        </Empty>
      ) : (
        <ul className="client-cards">
          {q.data.items.map((c) => (
            <li key={c.client_id} className="card">
              <h2>
                <Link to={`/therapist/clients/${c.client_id}`}>{c.name}</Link>
              </h2>
              <p className="meta">
                Shares: {c.data_classes.map((d) => dataClassLabels[d]).join(", ")}
              </p>
              <p className="meta">Until {formatDateTime(c.expires_at)}</p>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function SharedClient() {
  const { clientId = "" } = useParams();
  const q = useQuery({
    queryKey: keys.shared.one(clientId),
    queryFn: () => unwrap(api.GET("/shared/clients/{client_id}", { params: { path: { client_id: clientId } } })),
    staleTime: 0,
  });
  if (q.isPending) return <Loading lines={8} />;
  if (q.isError) {
    const refused = q.error instanceof ApiError && (q.error.status === 403 || q.error.status === 404);
    return (
      <div className="page">
        <p>
          <Link to="/therapist">← Shared with me</Link>
        </p>
        {refused ? (
          <div className="alert" role="alert">
            <p>
              <strong>You no longer have access to this client.</strong>
            </p>
            <p>{q.error.message}</p>
          </div>
        ) : (
          <LoadError error={q.error} retry={() => q.refetch()} />
        )}
      </div>
    );
  }
  const v = q.data;
  const has = (c: string) => v.data_classes.includes(c as never);
  return (
    <div className="page">
      <p>
        <Link to="/therapist">← Shared with me</Link>
      </p>
      <h1>{v.name}</h1>
      <div className="scope card" aria-label="Consent scope">
        <p>
          <Badge tone="shared">Shared by the client</Badge> {v.data_classes.map((d) => dataClassLabels[d]).join(", ")}
        </p>
        <p className="meta">
          Until {formatDateTime(v.expires_at)}. The client can revoke this at any time, and sees each time you view it. Read-only.
        </p>
      </div>
      <div className="columns">
        <div>
          {has("goals") && (
            <Section title="Goals">
              {(v.goals ?? []).length === 0 ? (
                <Empty title="No goals." />
              ) : (
                <ul className="goals">
                  {v.goals?.map((g) => (
                    <li key={g.id} className="goal">
                      <p className="goal-title">{g.title}</p>
                      <p className="why">
                        <span className="why-label">Why:</span> {g.why}
                      </p>
                      <Progress value={g.progress_percent} label={`Progress on ${g.title}`} />
                    </li>
                  ))}
                </ul>
              )}
            </Section>
          )}
          {has("action_steps") && (
            <Section title="Action steps">
              {(v.action_steps ?? []).length === 0 ? (
                <Empty title="No action steps." />
              ) : (
                <ul className="plain">
                  {v.action_steps?.map((s) => (
                    <li key={s.id}>
                      {s.title} <Badge tone={s.status === "done" ? "ok" : "neutral"}>{s.status}</Badge>{" "}
                      <span className="meta">{s.completed_at ? `done ${formatDateTime(s.completed_at)}` : s.due_date ? `due ${formatDate(s.due_date)}` : ""}</span>
                    </li>
                  ))}
                </ul>
              )}
            </Section>
          )}
          {has("session_attendance") && (
            <Section title="Session attendance">
              {(v.sessions ?? []).length === 0 ? (
                <Empty title="No sessions." />
              ) : (
                <ul className="plain">
                  {v.sessions?.map((s) => (
                    <li key={s.id}>
                      {formatDateTime(s.starts_at)} · {s.duration_minutes} min <Badge>{s.status}</Badge>
                    </li>
                  ))}
                </ul>
              )}
            </Section>
          )}
          {has("session_summaries") && (
            <Section title="Session summaries">
              {(v.session_summaries ?? []).length === 0 ? (
                <Empty title="No summaries." />
              ) : (
                <ul className="plain">
                  {v.session_summaries?.map((s) => (
                    <li key={s.session_id}>
                      <p className="meta">{formatDateTime(s.starts_at)}</p>
                      <p>{s.summary}</p>
                    </li>
                  ))}
                </ul>
              )}
            </Section>
          )}
        </div>
        <div>{has("coordination_notes") && <CoordinationThread clientId={clientId} title="Coordination with the coach" />}</div>
      </div>
    </div>
  );
}
