// The token of an e-mailed link travels in the URL fragment
// (#token=…), which the browser never sends to the server with the page
// request: only the API call the page makes carries it.
export function linkToken(): string {
  return new URLSearchParams(window.location.hash.slice(1)).get("token") ?? "";
}
