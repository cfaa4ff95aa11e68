import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../api/client";
import { keys } from "../api/keys";
import { Empty, LoadError, Loading, Section } from "../components/ui";
import { addDays, formatTime, localDate, startOfWeek, viewerZone } from "../lib/time";
import { ScheduleForm } from "./SessionsCard";

// Calendar is the coach's week, in the viewer's time zone, with scheduling
// in place: a double booking is refused next to the start time.
export function Calendar() {
  const [week, setWeek] = useState(() => startOfWeek(new Date()));
  const [scheduling, setScheduling] = useState<{ day: Date } | null>(null);
  const [clientId, setClientId] = useState("");
  const from = week.toISOString();
  const to = addDays(week, 7).toISOString();
  const sessions = useQuery({ queryKey: keys.sessions.window(from, to), queryFn: () => unwrap(api.GET("/sessions", { params: { query: { from, to, limit: 200 } } })) });
  const clients = useQuery({ queryKey: keys.clients.all, queryFn: () => unwrap(api.GET("/clients", { params: { query: { limit: 200 } } })) });
  const nameOf = (id: string) => clients.data?.items.find((c) => c.id === id)?.name ?? "Client";
  const days = Array.from({ length: 7 }, (_, i) => addDays(week, i));
  const fmtDay = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });
  return (
    <div className="page">
      <div className="page-head">
        <h1>Week of {fmtDay.format(week)}</h1>
        <div className="row">
          <button type="button" className="secondary" onClick={() => setWeek(addDays(week, -7))}>
            Previous week
          </button>
          <button type="button" className="secondary" onClick={() => setWeek(startOfWeek(new Date()))}>
            This week
          </button>
          <button type="button" className="secondary" onClick={() => setWeek(addDays(week, 7))}>
            Next week
          </button>
        </div>
      </div>
      <p className="meta">Times in {viewerZone()}.</p>
      {scheduling && (
        <Section title={`Schedule on ${fmtDay.format(scheduling.day)}`}>
          <div className="field">
            <label htmlFor="cal-client">Client</label>
            <select id="cal-client" value={clientId} onChange={(e) => setClientId(e.target.value)}>
              <option value="">Choose a client</option>
              {clients.data?.items.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </div>
          {clientId ? (
            <ScheduleForm key={clientId + scheduling.day.toISOString()} clientId={clientId} start={withHour(scheduling.day, 9)} onDone={() => setScheduling(null)} />
          ) : (
            <p className="hint">Choose the client first.</p>
          )}
          <button type="button" className="link" onClick={() => setScheduling(null)}>
            Cancel
          </button>
        </Section>
      )}
      {sessions.isPending ? (
        <Loading lines={7} />
      ) : sessions.isError ? (
        <LoadError error={sessions.error} retry={() => sessions.refetch()} />
      ) : (
        <ol className="week">
          {days.map((d) => {
            const mine = sessions.data.items.filter((s) => localDate(new Date(s.starts_at)) === localDate(d));
            return (
              <li key={d.toISOString()} className={`day ${localDate(d) === localDate(new Date()) ? "today" : ""}`}>
                <h2 className="day-head">{fmtDay.format(d)}</h2>
                {mine.length === 0 ? (
                  <p className="meta">Free</p>
                ) : (
                  <ul className="plain">
                    {mine.map((s) => (
                      <li key={s.id} className={`slot slot-${s.status}`}>
                        <span className="slot-time">
                          {formatTime(s.starts_at)}–{formatTime(s.ends_at)}
                        </span>
                        <Link to={`/coach/clients/${s.client_id}`}>{nameOf(s.client_id)}</Link>
                        {s.status !== "scheduled" && <span className="meta"> ({s.status})</span>}
                      </li>
                    ))}
                  </ul>
                )}
                <button type="button" className="link small" onClick={() => setScheduling({ day: d })}>
                  Schedule
                </button>
              </li>
            );
          })}
        </ol>
      )}
      {sessions.data && sessions.data.items.length === 0 && <Empty title="No sessions this week." />}
    </div>
  );
}

function withHour(d: Date, h: number): Date {
  const c = new Date(d);
  c.setHours(h, 0, 0, 0);
  return c;
}
