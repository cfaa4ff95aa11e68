// Times come from the API in UTC and are shown in the viewer's time zone;
// dates (YYYY-MM-DD) are calendar days and are never shifted.

// Creating an Intl.DateTimeFormat is slow (the first one loads locale
// data; on a throttled phone one costs milliseconds), so each format is
// made once, when first used, and never while the app's files evaluate.
function lazyFormat(options: Intl.DateTimeFormatOptions): () => Intl.DateTimeFormat {
  let format: Intl.DateTimeFormat | null = null;
  return () => (format ??= new Intl.DateTimeFormat(undefined, options));
}

const dateTimeFormat = lazyFormat({ weekday: "short", day: "numeric", month: "short", hour: "numeric", minute: "2-digit" });
const momentFormat = lazyFormat({ day: "numeric", month: "long", year: "numeric", hour: "numeric", minute: "2-digit" });
const timeFormat = lazyFormat({ hour: "numeric", minute: "2-digit" });
const dateFormat = lazyFormat({ day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
const shortDateFormat = lazyFormat({ day: "numeric", month: "short", timeZone: "UTC" });

export function viewerZone(): string {
  return dateTimeFormat().resolvedOptions().timeZone;
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "";
  return dateTimeFormat().format(new Date(iso));
}

// formatMoment is an instant with its year, for deadlines such as the end
// of a trial: "12 January 2027, 14:30" in the viewer's zone and locale.
export function formatMoment(iso: string | null | undefined): string {
  if (!iso) return "";
  return momentFormat().format(new Date(iso));
}

export function formatTime(iso: string): string {
  return timeFormat().format(new Date(iso));
}

// calendarDay is a calendar date (YYYY-MM-DD) as its midnight in UTC,
// which the formats below show in UTC: never shifted by the viewer's offset.
function calendarDay(date: string): Date {
  const [y, m, d] = date.slice(0, 10).split("-").map(Number);
  return new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1));
}

export function formatDate(date: string | null | undefined): string {
  if (!date) return "";
  return dateFormat().format(calendarDay(date));
}

// formatShortDate is a calendar date without its year ("5 Dec"), for a
// chart's axis.
export function formatShortDate(date: string): string {
  return shortDateFormat().format(calendarDay(date));
}

// daysBetween is how many calendar days to (YYYY-MM-DD) lies after from
// (YYYY-MM-DD); negative when it lies before.
export function daysBetween(from: string, to: string): number {
  return Math.round((calendarDay(to).getTime() - calendarDay(from).getTime()) / 86_400_000);
}

// relativeDay says how far a calendar day is from today, in words, within
// two weeks either side ("today", "tomorrow", "in 4 days", "3 days ago"),
// and gives any other day as its date. A step list is about what is near;
// and words need no date format, whose first use costs a throttled phone
// about 150 ms on the portal's first screen.
export function relativeDay(date: string, today: string): string {
  const days = daysBetween(today, date);
  if (days === 0) return "today";
  if (days === 1) return "tomorrow";
  if (days === -1) return "yesterday";
  if (days > 1 && days < 14) return `in ${days} days`;
  if (days < -1 && days > -14) return `${-days} days ago`;
  return formatDate(date);
}

// compareIso orders ISO 8601 dates, or instants written alike, in time:
// their text sorts that way code unit by code unit. localeCompare would
// collate them by the viewer's language instead, and its first use builds
// a collator, which costs a throttled phone a tenth of a second.
export function compareIso(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// today is the viewer's calendar day as YYYY-MM-DD.
export function today(now = new Date()): string {
  return localDate(now);
}

export function localDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

// fromLocalInput turns a datetime-local value (the viewer's wall clock) into RFC 3339.
export function fromLocalInput(value: string): string {
  return new Date(value).toISOString().replace(/\.\d{3}Z$/, "Z");
}

// toLocalInput is the datetime-local value of an instant, in the viewer's zone.
export function toLocalInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${localDate(d)}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

// startOfWeek is the Monday 00:00 of the viewer's week holding d.
export function startOfWeek(d: Date): Date {
  const s = new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const shift = (s.getDay() + 6) % 7;
  s.setDate(s.getDate() - shift);
  return s;
}

export function addDays(d: Date, n: number): Date {
  const c = new Date(d);
  c.setDate(c.getDate() + n);
  return c;
}
