// Validates FHIR R4 resources (a JSON array of them on stdin) with FHIR.js (the npm "fhir"
// package, which checks structure, cardinality, data types and bound codes
// against the R4 definitions), then checks what FHIR.js leaves out and a
// receiving system relies on: every reference resolves within the resource
// (dom-3 and no dangling relative references), a Consent names a policy
// (ppc-1), and the narrative is there (dom-6). Prints a JSON array with,
// for each resource in turn, {"messages": [{"severity", "location",
// "message"}]}; the Go test decides which messages fail it.
"use strict";

const { Fhir } = require("fhir");

function readStdin() {
  return new Promise((resolve, reject) => {
    let data = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk) => (data += chunk));
    process.stdin.on("end", () => resolve(data));
    process.stdin.on("error", reject);
  });
}

// references returns [path, reference] for every Reference.reference in v.
function references(v, path, out) {
  if (Array.isArray(v)) {
    v.forEach((item, i) => references(item, `${path}[${i}]`, out));
  } else if (v !== null && typeof v === "object") {
    for (const [key, child] of Object.entries(v)) {
      if (key === "reference" && typeof child === "string") {
        out.push([`${path}.reference`, child]);
      } else if (key !== "contained") {
        references(child, `${path}.${key}`, out);
      }
    }
  }
  return out;
}

function receiverChecks(resource) {
  const messages = [];
  const error = (location, message) => messages.push({ severity: "error", location, message });
  const type = resource.resourceType;
  const contained = resource.contained || [];
  const ids = new Set();
  contained.forEach((c, i) => {
    const where = `${type}.contained[${i}]`;
    if (!c.id) error(where, "a contained resource has no id");
    if (c.contained) error(where, "dom-2: a contained resource contains resources");
    if (c.meta && (c.meta.versionId || c.meta.lastUpdated || c.meta.security)) {
      error(where, "dom-4/dom-5: a contained resource has meta.versionId, lastUpdated or security");
    }
    ids.add(c.id);
  });
  const used = new Set();
  // References inside contained resources count too (dom-3 looks at them all).
  for (const [where, ref] of references(resource, type, []).concat(references(contained, `${type}.contained`, []))) {
    if (ref.startsWith("#")) {
      if (!ids.has(ref.slice(1))) error(where, `reference ${ref} names no contained resource`);
      used.add(ref.slice(1));
    } else if (!/^[a-z][a-z0-9+.-]*:/i.test(ref)) {
      error(where, `relative reference ${ref} dangles: the receiver has no server to resolve it against`);
    }
  }
  for (const id of ids) {
    if (!used.has(id)) error(`${type}.contained`, `dom-3: contained resource #${id} is referenced from nowhere`);
  }
  if (!resource.text || typeof resource.text.div !== "string" || !/\S/.test(resource.text.div.replace(/<[^>]*>/g, ""))) {
    messages.push({ severity: "warning", location: type, message: "dom-6: the resource has no narrative (txt-2)" });
  } else if (!resource.text.div.startsWith('<div xmlns="http://www.w3.org/1999/xhtml"')) {
    error(`${type}.text.div`, "the narrative is not an XHTML div");
  }
  if (type === "Consent" && !(resource.policy && resource.policy.length) && !resource.policyRule) {
    error(type, "ppc-1: a Consent needs a policy or a policyRule");
  }
  return messages;
}

readStdin()
  .then((text) => {
    const resources = JSON.parse(text);
    if (!Array.isArray(resources)) {
      throw new Error("stdin holds no JSON array of resources");
    }
    const fhir = new Fhir();
    const results = resources.map((resource) => ({
      messages: fhir
        .validate(resource, { errorOnUnexpected: true })
        .messages.map(({ severity, location, message }) => ({ severity, location, message }))
        .concat(receiverChecks(resource)),
    }));
    process.stdout.write(JSON.stringify(results) + "\n");
  })
  .catch((err) => {
    process.stderr.write(`fhir-validate: ${err.stack || err}\n`);
    process.exit(1);
  });
