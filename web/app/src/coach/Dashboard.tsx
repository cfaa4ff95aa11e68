import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../api/client";
import { keys } from "../api/keys";
import { Badge, Empty, LoadError, Loading, Progress } from "../components/ui";
import { compareIso, formatDateTime } from "../lib/time";

// Dashboard puts the clients who need attention first: overdue steps, then
// the soonest session.
export function Dashboard() {
  const q = useQuery({ queryKey: keys.dashboard, queryFn: () => unwrap(api.GET("/dashboard", { params: { query: { limit: 200 } } })) });
  return (
    <div className="page">
      <div className="page-head">
        <h1>Dashboard</h1>
        <Link className="button primary" to="/coach/clients?new=1">
          Add a client
        </Link>
      </div>
      {q.isPending ? (
        <Loading lines={6} />
      ) : q.isError ? (
        <LoadError error={q.error} retry={() => q.refetch()} />
      ) : q.data.clients.length === 0 ? (
        <Empty title="No clients yet.">
          <p>
            <Link to="/coach/clients?new=1">Add your first client</Link>, then invite them to their portal.
          </p>
        </Empty>
      ) : (
        <>
          <dl className="totals">
            <div>
              <dt>Active clients</dt>
              <dd>{q.data.totals.clients}</dd>
            </div>
            <div>
              <dt>Overdue steps</dt>
              <dd>{q.data.totals.overdue_steps}</dd>
            </div>
            <div>
              <dt>Done in 7 days</dt>
              <dd>{q.data.totals.completed_steps_7d}</dd>
            </div>
          </dl>
          <ul className="client-cards">
            {[...q.data.clients]
              .sort((a, b) => b.overdue_steps - a.overdue_steps || compareIso(a.next_session_at ?? "9", b.next_session_at ?? "9"))
              .map((c) => (
                <li key={c.client_id} className="card client-card">
                  <div className="card-head">
                    <h2>
                      <Link to={`/coach/clients/${c.client_id}`}>{c.name}</Link>
                    </h2>
                    {c.overdue_steps > 0 ? <Badge tone="warn">{c.overdue_steps} overdue</Badge> : <Badge tone="ok">On track</Badge>}
                  </div>
                  <p className="meta">
                    {c.open_steps} open · {c.completed_steps_7d} done this week
                  </p>
                  {c.active_goals.map((g) => (
                    <div key={g.id} className="goal-line">
                      <span>{g.title}</span>
                      <Progress value={g.progress_percent} label={`${c.name}: ${g.title}`} />
                    </div>
                  ))}
                  <p className="meta">{c.next_session_at ? `Next session ${formatDateTime(c.next_session_at)}` : "No session scheduled"}</p>
                </li>
              ))}
          </ul>
        </>
      )}
    </div>
  );
}
