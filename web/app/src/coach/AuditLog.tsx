import { useState } from "react";
import { useAuditEvents, type AuditEvent } from "../api/audit";
import { Empty, FormError, LoadError, Loading, Section, Select } from "../components/ui";
import { formatMoment, viewerZone } from "../lib/time";

// The actions a filter offers, grouped as people think of them.
export const auditActions = [
  "practice.registered",
  "practice.updated",
  "invitation.created",
  "invitation.accepted",
  "client.created",
  "client.updated",
  "client.archived",
  "client.deleted",
  "client.invited",
  "client.portal_linked",
  "client.erased",
  "goal.created",
  "goal.updated",
  "goal.deleted",
  "goal.progress_recorded",
  "action_step.created",
  "action_step.updated",
  "action_step.completed",
  "action_step.reopened",
  "action_step.deleted",
  "session.scheduled",
  "session.updated",
  "session.cancelled",
  "session.private_note_written",
  "consent.requested",
  "consent.signed",
  "consent.activated",
  "consent.declined",
  "consent.revoked",
  "consent.superseded",
  "therapist_invitation.created",
  "coordination_note.written",
  "export.requested",
  "export.downloaded",
  "erasure.requested",
  "erasure.cancelled",
  "history_bundle.issued",
  "history.imported",
  "history.removed",
  "retention.updated",
  "calendar_feed.created",
  "webhook.created",
  "webhook.updated",
  "webhook.deleted",
  "webhook.disabled",
  "webhook.delivery_replayed",
] as const;

// AuditLog is the owner's view of who did what to which record, newest
// first, a page at a time, in the viewer's time zone.
export function AuditLog() {
  const [action, setAction] = useState("");
  const events = useAuditEvents(action);
  const items = events.data?.pages.flatMap((p) => p.items) ?? [];
  // A later page that failed leaves the pages read so far in place.
  const moreError = events.isFetchNextPageError ? events.error : null;
  return (
    <Section title="Audit log">
      <p className="meta">Who did what to which record, and when (times in {viewerZone()}). The log holds no notes or other contents.</p>
      <div className="inline-form">
        <Select label="Action" name="action" value={action} onChange={(e) => setAction(e.currentTarget.value)}>
          <option value="">All actions</option>
          {auditActions.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </Select>
      </div>
      {events.isPending ? (
        <Loading lines={3} />
      ) : events.isError ? (
        <LoadError error={events.error} retry={() => events.refetch()} />
      ) : items.length === 0 ? (
        <Empty title={action ? `No ${action} events.` : "No events yet."} />
      ) : (
        <>
          <div className="table-scroll" role="region" aria-label="Audit events" tabIndex={0}>
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Action</th>
                  <th scope="col">Record</th>
                  <th scope="col">Who</th>
                  <th scope="col">From</th>
                </tr>
              </thead>
              <tbody>
                {items.map((e) => (
                  <AuditRow key={e.id} event={e} />
                ))}
              </tbody>
            </table>
          </div>
          {events.hasNextPage && (
            <button type="button" className="secondary small" disabled={events.isFetchingNextPage} onClick={() => events.fetchNextPage()}>
              {events.isFetchingNextPage ? "Loading…" : "Load more"}
            </button>
          )}
          <FormError error={moreError} />
        </>
      )}
    </Section>
  );
}

function AuditRow({ event: e }: { event: AuditEvent }) {
  const who = e.actor ? `${e.actor.name ?? "Unknown user"}${e.actor.role ? ` (${e.actor.role})` : ""}` : "Tandem";
  return (
    <tr>
      <td>
        <time dateTime={e.created_at}>{formatMoment(e.created_at)}</time>
      </td>
      <td>
        <code>{e.action}</code>
      </td>
      <td>
        {e.record_type}
        {e.record_id && <span className="meta"> {e.record_id.slice(-8)}</span>}
      </td>
      <td>{who}</td>
      <td className="meta">{e.ip || "—"}</td>
    </tr>
  );
}
