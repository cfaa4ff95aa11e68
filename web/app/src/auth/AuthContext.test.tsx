import { render, screen } from "@testing-library/react";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import type { Boot, Me } from "../boot";
import { AuthProvider, useAuth } from "./AuthContext";

function Status() {
  const { status, me } = useAuth();
  return <p>{status + (me ? ` as ${me.name}` : "")}</p>;
}

function renderWith(boot: Boot) {
  const renders: string[] = [];
  function Spy() {
    const { status } = useAuth();
    renders.push(status);
    return <Status />;
  }
  render(
    <QueryClientProvider client={new QueryClient()}>
      <AuthProvider boot={boot}>
        <Spy />
      </AuthProvider>
    </QueryClientProvider>,
  );
  return renders;
}

const maya = { id: "u1", name: "Maya Client", roles: ["client"], client_id: "c1", email_verified: true } as unknown as Me;

describe("AuthProvider", () => {
  it("renders the signed-in page at once when the start-up has already settled", () => {
    const renders = renderWith({ me: Promise.resolve(maya), prefetches: [], settled: { me: maya }, ready: Promise.resolve() });
    expect(screen.getByText("signed-in as Maya Client")).toBeTruthy();
    expect(renders).not.toContain("loading");
  });

  it("waits for a start-up still under way", async () => {
    let resolve: (m: Me | null) => void = () => undefined;
    const renders = renderWith({ me: new Promise((r) => (resolve = r)), prefetches: [], settled: null, ready: Promise.resolve() });
    expect(screen.getByText("loading")).toBeTruthy();
    resolve(null);
    expect(await screen.findByText("signed-out")).toBeTruthy();
    expect(renders[0]).toBe("loading");
  });
});
