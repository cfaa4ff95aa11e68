// Shared setup of the page tests of the signed-out pages: the page renders
// in a router, and the API answers from a table by path and records each
// call's path and options. A test file installs the table in place of the
// typed client, keeping the real unwrap:
//
//   vi.mock("../api/client", async (importActual) => ({
//     ...(await importActual<typeof import("../api/client")>()),
//     api: (await import("../test-render")).tableApi,
//   }));
import type { ReactNode } from "react";
import { render } from "@testing-library/react";
import { MemoryRouter } from "react-router";

// Answers are the API's answers by path (the spec's path, "/auth/verify-email").
export type Answers = Record<string, { status: number; body?: unknown }>;

let answers: Answers = {};

// calls are the API calls since the page was opened, in order.
export const calls: { path: string; options: unknown }[] = [];

async function answer(path: string, options?: unknown) {
  calls.push({ path, options });
  const a = answers[path] ?? { status: 404, body: { type: "about:blank", title: "Not found", status: 404 } };
  const response = new Response(null, { status: a.status });
  return a.status < 400 ? { data: a.body, response } : { error: a.body, response };
}

// tableApi stands in for api of src/api/client.
export const tableApi = { GET: answer, POST: answer };

// openPage renders a page at url (the e-mailed link's token goes in its
// fragment) with the API answering from table, and forgets earlier calls.
export function openPage(page: ReactNode, url: string, table: Answers) {
  answers = table;
  calls.length = 0;
  window.history.replaceState(null, "", url);
  render(<MemoryRouter>{page}</MemoryRouter>);
}
