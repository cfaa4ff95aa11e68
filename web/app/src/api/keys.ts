// One query-key factory per resource, so that a change invalidates exactly
// the lists and records it touches.
export const keys = {
  me: ["me"] as const,
  account: { signIns: ["me", "sessions"] as const, preferences: ["me", "notification-preferences"] as const, deliveries: ["me", "deliveries"] as const },
  dashboard: ["dashboard"] as const,
  clients: {
    all: ["clients"] as const,
    one: (id: string) => ["clients", id] as const,
    invitation: (id: string) => ["clients", id, "invitation"] as const,
  },
  goals: { ofClient: (clientId: string) => ["goals", clientId] as const },
  progress: { ofGoal: (goalId: string) => ["progress", goalId] as const },
  steps: { ofClient: (clientId: string) => ["steps", clientId] as const },
  sessions: {
    ofClient: (clientId: string) => ["sessions", "client", clientId] as const,
    window: (from: string, to: string) => ["sessions", "window", from, to] as const,
    all: ["sessions"] as const,
    note: (id: string) => ["sessions", id, "note"] as const,
  },
  consents: { ofClient: (clientId: string) => ["consents", clientId] as const, template: ["consent-template"] as const },
  disclosures: { ofClient: (clientId: string) => ["disclosures", clientId] as const },
  notes: { ofClient: (clientId: string) => ["coordination", clientId] as const },
  shared: { all: ["shared"] as const, one: (clientId: string) => ["shared", clientId] as const },
  practice: {
    members: ["members"] as const,
    invitations: ["practice-invitations"] as const,
    retention: ["retention"] as const,
    auditEvents: (action: string) => ["audit-events", action] as const,
  },
  billing: { subscription: ["billing", "subscription"] as const, plans: ["billing", "plans"] as const },
  exports: { one: (id: string) => ["exports", id] as const },
  historyImports: { ofClient: (clientId: string) => ["history-imports", clientId] as const },
  erasure: { mine: ["erasure", "me"] as const, ofClient: (clientId: string) => ["erasure", "client", clientId] as const },
};
