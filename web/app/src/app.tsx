// The app itself, which src/main.tsx loads once the session's start-up
// requests are on their way.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { BrowserRouter } from "react-router";
import { ApiError } from "./api/problem";
import { AuthProvider } from "./auth/AuthContext";
import type { Boot } from "./boot";
import { AppRoutes } from "./routes";

export function mountApp(root: HTMLElement, boot: Boot): void {
  const queryClient = new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 15_000,
        // A refusal (4xx) will not change by asking again.
        retry: (count, err) => !(err instanceof ApiError && err.status >= 400 && err.status < 500) && count < 2,
        refetchOnWindowFocus: true,
      },
    },
  });
  // The reads the start-up began become the queries' first fetch, so the
  // portal's hooks find them done (or under way) instead of asking again.
  // An answer already in is set directly: a fetch, even of a settled
  // promise, would leave the first render showing the query as loading.
  const seed = () => {
    for (const p of boot.prefetches) {
      if (p.result) queryClient.setQueryData(p.queryKey, p.result.data);
      else void queryClient.prefetchQuery({ queryKey: p.queryKey, queryFn: () => p.data });
    }
  };
  if (boot.settled) seed();
  else void boot.me.then(seed, () => undefined);

  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <AuthProvider boot={boot}>
          <BrowserRouter>
            <AppRoutes />
          </BrowserRouter>
        </AuthProvider>
      </QueryClientProvider>
    </StrictMode>,
  );
}
