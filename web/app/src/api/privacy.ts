// Queries and mutations of the privacy screens: exports, erasure requests,
// history bundles and imports, and the practice's retention settings. Every
// type comes from schema.gen.ts.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, unwrapWithETag } from "./client";
import { keys } from "./keys";
import { ApiError } from "./problem";
import type { Schemas } from "./queries";

export type ExportJob = Schemas["ExportJob"];
export type ErasureRequest = Schemas["ErasureRequest"];
export type HistoryBundle = Schemas["HistoryBundle"];
export type HistoryImport = Schemas["HistoryImport"];
export type Retention = Schemas["Retention"];
export type RetentionUpdate = Schemas["RetentionUpdate"];

const clientPath = (id: string) => ({ params: { path: { client_id: id } } });

export const startMyExport = () => unwrap(api.GET("/me/export"));
export const startClientExport = (clientId: string) => unwrap(api.GET("/clients/{client_id}/export", clientPath(clientId)));
export const requestMyErasure = () => unwrap(api.POST("/me/erasure-request"));
export const cancelMyErasure = () => unwrap(api.DELETE("/me/erasure-request"));
export const requestClientErasure = (clientId: string) => unwrap(api.POST("/clients/{client_id}/erasure-request", clientPath(clientId)));
export const cancelClientErasure = (clientId: string) => unwrap(api.DELETE("/clients/{client_id}/erasure-request", clientPath(clientId)));
export const fetchHistoryBundle = () => unwrap(api.GET("/me/history-bundle"));

// pendingOrNull is the pending erasure request, or null when none is
// pending (the API answers 404).
async function pendingOrNull(call: Promise<ErasureRequest>): Promise<ErasureRequest | null> {
  try {
    return await call;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

// useMyErasure is the calling client's pending erasure request, or null.
export function useMyErasure() {
  return useQuery({ queryKey: keys.erasure.mine, queryFn: () => pendingOrNull(unwrap(api.GET("/me/erasure-request"))) });
}

// useClientErasure is a client's pending erasure request as staff see it, or null.
export function useClientErasure(clientId: string) {
  return useQuery({
    queryKey: keys.erasure.ofClient(clientId),
    queryFn: () => pendingOrNull(unwrap(api.GET("/clients/{client_id}/erasure-request", clientPath(clientId)))),
  });
}

// useExportStatus follows an export while it is built, then stops asking.
export function useExportStatus(id: string | undefined) {
  return useQuery({
    queryKey: keys.exports.one(id ?? ""),
    queryFn: () => unwrap(api.GET("/exports/{export_id}", { params: { path: { export_id: id ?? "" } } })),
    enabled: !!id,
    refetchInterval: (q) => (q.state.data?.status === "ready" || q.state.data?.status === "downloaded" || q.state.data?.status === "failed" ? false : 1000),
  });
}

export function useHistoryImports(clientId: string) {
  return useQuery({ queryKey: keys.historyImports.ofClient(clientId), queryFn: () => unwrap(api.GET("/clients/{client_id}/history-imports", clientPath(clientId))) });
}

export function useImportHistory(clientId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (bundle: HistoryBundle) => unwrap(api.POST("/clients/{client_id}/history-imports", { ...clientPath(clientId), body: bundle })),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.historyImports.ofClient(clientId) }),
  });
}

export function useRemoveHistoryImport(clientId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (importId: string) => unwrap(api.DELETE("/clients/{client_id}/history-imports/{import_id}", { params: { path: { client_id: clientId, import_id: importId } } })),
    onSettled: () => qc.invalidateQueries({ queryKey: keys.historyImports.ofClient(clientId) }),
  });
}

// useRetention reads the settings with their ETag, which a change sends as If-Match.
export function useRetention() {
  return useQuery({ queryKey: keys.practice.retention, queryFn: () => unwrapWithETag(api.GET("/practice/retention")) });
}

export function useSaveRetention() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ etag, body }: { etag: string; body: RetentionUpdate }) => unwrapWithETag(api.PATCH("/practice/retention", { params: { header: { "If-Match": etag } }, body })),
    onSuccess: (saved) => qc.setQueryData(keys.practice.retention, saved),
  });
}
