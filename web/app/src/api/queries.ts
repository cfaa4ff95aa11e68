// Queries and mutations shared by the features, one per resource, all
// keyed through keys.ts. A hand-written request or response type here
// would be a bug: every type comes from schema.gen.ts.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "./client";
import { keys } from "./keys";
import { portalKeys, portalReads } from "./portalReads";
import type { components } from "./schema.gen";

export type Schemas = components["schemas"];
export type ActionStep = Schemas["ActionStep"];
export type Goal = Schemas["Goal"];
export type ProgressEntry = Schemas["ProgressEntry"];
export type Session = Schemas["Session"];
export type Consent = Schemas["Consent"];
export type DataClass = Schemas["DataClass"];

const path = (id: string) => ({ params: { path: { client_id: id } } });

// The portal's reads, as options both the hooks and the start-up prefetch
// (src/app.tsx) use.
export const portalQueries = {
  goals: (clientId: string) => ({ queryKey: portalKeys.goals(clientId), queryFn: () => portalReads.goals(clientId) }),
  steps: (clientId: string) => ({ queryKey: portalKeys.steps(clientId), queryFn: () => portalReads.steps(clientId) }),
  sessions: (clientId: string) => ({ queryKey: portalKeys.sessions(clientId), queryFn: () => portalReads.sessions(clientId) }),
  // Consents and the disclosure log change through other people (the client
  // signs, a therapist views), so they are read again whenever they are shown
  // after a few seconds: long enough not to repeat what the first screen
  // has just loaded, short enough that coming back to a page shows news.
  consents: (clientId: string) => ({ queryKey: portalKeys.consents(clientId), queryFn: () => portalReads.consents(clientId), staleTime: 3_000 }),
  disclosures: (clientId: string) => ({ queryKey: portalKeys.disclosures(clientId), queryFn: () => portalReads.disclosures(clientId), staleTime: 3_000 }),
};

export const useGoals = (clientId: string) => useQuery(portalQueries.goals(clientId));
export const useSteps = (clientId: string) => useQuery(portalQueries.steps(clientId));
export const useClientSessions = (clientId: string) => useQuery(portalQueries.sessions(clientId));
export const useConsents = (clientId: string) => useQuery(portalQueries.consents(clientId));
export const useDisclosures = (clientId: string) => useQuery(portalQueries.disclosures(clientId));

// useProgress reads every progress entry of a metric goal, oldest first,
// following the pages to the end: a chart draws all of them.
export function useProgress(goalId: string) {
  return useQuery({
    queryKey: keys.progress.ofGoal(goalId),
    queryFn: async () => {
      const items: ProgressEntry[] = [];
      let cursor: string | undefined;
      do {
        const page = await unwrap(
          api.GET("/goals/{goal_id}/progress", { params: { path: { goal_id: goalId }, query: { limit: 200, ...(cursor ? { cursor } : {}) } } }),
        );
        items.push(...page.items);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      return items;
    },
  });
}

export function useCoordinationNotes(clientId: string, enabled = true) {
  return useQuery({
    queryKey: keys.notes.ofClient(clientId),
    queryFn: () => unwrap(api.GET("/clients/{client_id}/coordination-notes", path(clientId))),
    enabled,
  });
}

// useCompleteStep completes a step at once in the lists (optimistic) and
// puts it back if the API refuses.
export function useCompleteStep(clientId: string) {
  const qc = useQueryClient();
  const key = keys.steps.ofClient(clientId);
  type List = Schemas["ActionStepList"];
  return useMutation({
    mutationFn: ({ id, note }: { id: string; note?: string }) =>
      unwrap(api.POST("/action-steps/{step_id}/complete", { params: { path: { step_id: id } }, body: note ? { note } : {} })),
    onMutate: async ({ id, note }) => {
      await qc.cancelQueries({ queryKey: key });
      const before = qc.getQueryData<List>(key);
      if (before) {
        qc.setQueryData<List>(key, {
          ...before,
          items: before.items.map((s) => (s.id === id ? { ...s, status: "done", overdue: false, reflection: note ?? s.reflection, completed_at: new Date().toISOString() } : s)),
        });
      }
      return { before };
    },
    onError: (_e, _v, ctx) => {
      if (ctx?.before) qc.setQueryData(key, ctx.before);
    },
    onSettled: () => {
      qc.invalidateQueries({ queryKey: key });
      qc.invalidateQueries({ queryKey: keys.goals.ofClient(clientId) });
      qc.invalidateQueries({ queryKey: keys.dashboard });
    },
  });
}

export function useRevokeConsent(clientId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => unwrap(api.POST("/consents/{consent_id}/revoke", { params: { path: { consent_id: id } } })),
    onSettled: () => qc.invalidateQueries({ queryKey: keys.consents.ofClient(clientId) }),
  });
}

export function useCalendarFeed() {
  return useMutation({ mutationFn: () => unwrap(api.POST("/me/calendar-feed")) });
}
