// The portal's reads as plain functions, without TanStack Query: the
// start-up script (src/boot.ts) calls them before the rest of the app has
// loaded, and queries.ts wraps the same functions in queries.
import { api, unwrap } from "./client";
import { keys } from "./keys";

const path = (id: string) => ({ params: { path: { client_id: id } } });

export const portalReads = {
  goals: (clientId: string) => unwrap(api.GET("/clients/{client_id}/goals", path(clientId))),
  steps: (clientId: string) => unwrap(api.GET("/clients/{client_id}/action-steps", { params: { path: { client_id: clientId }, query: { limit: 200 } } })),
  sessions: (clientId: string) => unwrap(api.GET("/clients/{client_id}/sessions", { params: { path: { client_id: clientId }, query: { limit: 200 } } })),
  consents: (clientId: string) => unwrap(api.GET("/clients/{client_id}/consents", path(clientId))),
  disclosures: (clientId: string) => unwrap(api.GET("/clients/{client_id}/disclosures", path(clientId))),
};

// portalKeys are the query keys of the reads above, which the start-up
// prefetch fills and the portal's hooks read.
export const portalKeys = {
  goals: keys.goals.ofClient,
  steps: keys.steps.ofClient,
  sessions: keys.sessions.ofClient,
  consents: keys.consents.ofClient,
  disclosures: keys.disclosures.ofClient,
} satisfies Record<keyof typeof portalReads, (clientId: string) => readonly unknown[]>;
