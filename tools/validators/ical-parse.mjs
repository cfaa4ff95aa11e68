// Parses an iCalendar document from stdin with ical.js, the parser behind
// many web calendar clients, and prints what it read as JSON, for a Go test
// to compare with what Tandem meant to write. A document ical.js cannot
// parse, or one that misses what RFC 5545 requires, exits 1 with the reason.
import ICAL from "ical.js";

const text = await new Promise((resolve, reject) => {
  let data = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk) => (data += chunk));
  process.stdin.on("end", () => resolve(data));
  process.stdin.on("error", reject);
});

function fail(message) {
  process.stderr.write(`ical-parse: ${message}\n`);
  process.exit(1);
}

let calendar;
try {
  calendar = new ICAL.Component(ICAL.parse(text));
} catch (err) {
  fail(`ical.js cannot parse the document: ${err.message}`);
}
if (calendar.name !== "vcalendar") {
  fail(`the top-level component is ${calendar.name}, not vcalendar`);
}

// value is a property's single value as jCal has it (a date-time as
// "2026-03-01T12:00:00Z"), or null when absent; a repeated property fails.
function value(component, name) {
  const props = component.getAllProperties(name);
  if (props.length > 1) {
    fail(`${component.name} has ${props.length} ${name.toUpperCase()} properties`);
  }
  if (props.length === 0) {
    return null;
  }
  const v = props[0].getFirstValue();
  return v !== null && typeof v === "object" ? v.toString() : v;
}

function required(component, name) {
  const v = value(component, name);
  if (v === null || v === "") {
    fail(`${component.name} has no ${name.toUpperCase()}`);
  }
  return v;
}

const out = {
  version: required(calendar, "version"),
  prodid: required(calendar, "prodid"),
  calscale: value(calendar, "calscale"),
  method: value(calendar, "method"),
  name: value(calendar, "x-wr-calname"),
  events: calendar.getAllSubcomponents("vevent").map((vevent) => {
    const event = new ICAL.Event(vevent);
    return {
      uid: required(vevent, "uid"),
      dtstamp: required(vevent, "dtstamp"),
      start: required(vevent, "dtstart"),
      end: value(vevent, "dtend"),
      // ical.js's own view of the times, as an app built on it sees them.
      startUnix: event.startDate.toUnixTime(),
      endUnix: event.endDate.toUnixTime(),
      sequence: value(vevent, "sequence"),
      lastModified: value(vevent, "last-modified"),
      summary: value(vevent, "summary"),
      location: value(vevent, "location"),
      status: value(vevent, "status"),
      transp: value(vevent, "transp"),
    };
  }),
};
process.stdout.write(JSON.stringify(out) + "\n");
