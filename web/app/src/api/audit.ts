// The practice's audit log, for the owner: pages newest first, filtered by
// action. Every type comes from schema.gen.ts.
import { useInfiniteQuery } from "@tanstack/react-query";
import { api, unwrap } from "./client";
import { keys } from "./keys";
import type { Schemas } from "./queries";

export type AuditEvent = Schemas["AuditEvent"];

const pageSize = 25;

// useAuditEvents reads the log a page at a time; an empty action is every action.
export function useAuditEvents(action: string) {
  return useInfiniteQuery({
    queryKey: keys.practice.auditEvents(action),
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(api.GET("/practice/audit-events", { params: { query: { limit: pageSize, cursor: pageParam, action: action || undefined } } })),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
}
