// The one home of the date and datetime rules: the patterns, calendar validity, the reasons a
// string is not a date (for argument errors, state load errors and check errors alike), day
// and minute numbers, the date built-ins (date_add, datetime_add, days_between, date_of), the zod schemas
// that generated code uses for date and datetime values, and the edge values the fuzzer tries.
// The checker, the emitter, the fuzzer, the fast argument path and state loading all use it,
// so that a value one of them accepts is one the date built-ins can take: a date that passes
// here never makes a built-in throw (only a result outside years 0001-9999 does).
// Assumes: dates are "YYYY-MM-DD" in the proleptic Gregorian calendar, years 0001-9999 as in
// Python's datetime; datetimes are "YYYY-MM-DDTHH:MM[:SS[.fraction]][Z|±HH:MM]" read as wall-clock
// fields (the offset is kept as text, never applied); no leap seconds, no hour 24. Everything
// is UTC-free arithmetic on the fields: no Date objects, no wall time.
import { z } from "zod";

/** A date: "2024-05-01". */
export const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
/** A datetime: "2024-05-01T09:30", with optional seconds, fraction and "Z" or "±HH:MM" offset. */
export const DATETIME_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?$/;

const MIN_DAY = -719162; // 0001-01-01, in days since 1970-01-01
const MAX_DAY = 2932896; // 9999-12-31

function d2(s: string, i: number): number {
  return (s.charCodeAt(i) - 48) * 10 + s.charCodeAt(i + 1) - 48;
}

function pad2(n: number): string {
  return n < 10 ? "0" + n : String(n);
}

/** Days in month m (1-12) of year y. */
export function daysInMonth(y: number, m: number): number {
  if (m === 2) return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Why the date fields at the start of s (already matched by a pattern) are not a real date. */
function dateFieldsProblem(s: string): string | undefined {
  const y = d2(s, 0) * 100 + d2(s, 2);
  const m = d2(s, 5);
  const d = d2(s, 8);
  if (y < 1) return "there is no year 0000";
  if (m < 1 || m > 12) return `there is no month ${s.slice(5, 7)}`;
  if (d < 1) return "there is no day 00";
  const dim = daysInMonth(y, m);
  return d > dim ? `${s.slice(0, 7)} has ${dim} days` : undefined;
}

/** Why the time fields of s (already matched by DATETIME_PATTERN) are not a real time. */
function timeFieldsProblem(s: string): string | undefined {
  if (d2(s, 11) > 23) return `there is no hour ${s.slice(11, 13)}`;
  if (d2(s, 14) > 59) return `there is no minute ${s.slice(14, 16)}`;
  if (s.length > 16 && s.charCodeAt(16) === 58 && d2(s, 17) > 59) return `there is no second ${s.slice(17, 19)}`;
  const n = s.length;
  const t = s.charCodeAt(n - 6);
  if ((t === 43 || t === 45) && (d2(s, n - 5) > 23 || d2(s, n - 2) > 59)) return `${s.slice(n - 6)} is not a time zone offset`;
  return undefined;
}

// Strings already found to be dates or datetimes. A state holds few distinct ones and tools
// test and shift the same ones over and over (a calendar's overlap checks, every result's type
// check while fuzzing), so the pattern and calendar checks run once per string. Bounded: past
// KNOWN_LIMIT entries a set starts over.
const KNOWN_LIMIT = 4096;
const knownDates = new Set<string>();
const knownDatetimes = new Set<string>();

function know(set: Set<string>, s: string): true {
  if (set.size >= KNOWN_LIMIT) set.clear();
  set.add(s);
  return true;
}

/** A "YYYY-MM-DD" string that names a real date. */
export function isDate(s: unknown): s is string {
  if (typeof s !== "string") return false;
  if (knownDates.has(s)) return true;
  return s.length === 10 && DATE_PATTERN.test(s) && dateFieldsProblem(s) === undefined && know(knownDates, s);
}

/** A "YYYY-MM-DDTHH:MM[:SS[.f...]][Z|±HH:MM]" string with real date and time fields. */
export function isDatetime(s: unknown): s is string {
  if (typeof s !== "string") return false;
  if (knownDatetimes.has(s)) return true;
  return s.length >= 16 && DATETIME_PATTERN.test(s) && dateFieldsProblem(s) === undefined && timeFieldsProblem(s) === undefined && know(knownDatetimes, s);
}

/** A value, quoted and shortened for a message. */
function shown(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v.length > 40 ? v.slice(0, 40) + "..." : v) : String(v);
}

/**
 * Why `s` is not a date, as a message that quotes it, or undefined for a date:
 * `"tomorrow" is not a date (YYYY-MM-DD, like 2024-05-01)`,
 * `"2024-02-30" is not a calendar date (2024-02 has 29 days)`.
 */
export function dateProblem(s: unknown): string | undefined {
  if (typeof s !== "string" || !DATE_PATTERN.test(s)) return `${shown(s)} is not a date (YYYY-MM-DD, like 2024-05-01)`;
  const why = dateFieldsProblem(s);
  return why === undefined ? undefined : `${shown(s)} is not a calendar date (${why})`;
}

/**
 * Why `s` is not a datetime, as a message that quotes it, or undefined for a datetime:
 * `"2024-01-01T10:00oops" is not a datetime (YYYY-MM-DDTHH:MM[:SS], like 2024-05-01T09:30:00)`,
 * `"2024-01-01T24:00" is not a calendar datetime (there is no hour 24)`.
 */
export function datetimeProblem(s: unknown): string | undefined {
  if (typeof s !== "string" || !DATETIME_PATTERN.test(s))
    return `${shown(s)} is not a datetime (YYYY-MM-DDTHH:MM[:SS], like 2024-05-01T09:30:00)`;
  const why = dateFieldsProblem(s) ?? timeFieldsProblem(s);
  return why === undefined ? undefined : `${shown(s)} is not a calendar datetime (${why})`;
}

/** The problem with `s` as a value of a date or datetime type. */
export function dateValueProblem(kind: "date" | "datetime", s: unknown): string | undefined {
  return kind === "date" ? dateProblem(s) : datetimeProblem(s);
}

// ---------------------------------------------------------------------------------------------
// Schemas for generated code: a string with one check, so that state loading and the zod path
// of argument checking give the messages above, and the fast argument path (fast-args.ts)
// recognises the check by its function and runs isDate / isDatetime itself.
// ---------------------------------------------------------------------------------------------

/** zod schema of a date value (generated code writes `rt.DateSchema`). */
export const DateSchema = z.string().refine(isDate, { error: (issue) => dateProblem(issue.input) });
/** zod schema of a datetime value (generated code writes `rt.DatetimeSchema`). */
export const DatetimeSchema = z.string().refine(isDatetime, { error: (issue) => datetimeProblem(issue.input) });

// ---------------------------------------------------------------------------------------------
// Day numbers
// ---------------------------------------------------------------------------------------------

/** Days since 1970-01-01 of the date at the start of s (fields already validated). */
function dayNumberOf(s: string): number {
  let y = d2(s, 0) * 100 + d2(s, 2);
  const m = d2(s, 5);
  const d = d2(s, 8);
  if (m <= 2) y -= 1;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** "YYYY-MM-DD" for a day number; RangeError outside years 0001-9999. */
function formatDay(day: number, what: string): string {
  if (!(day >= MIN_DAY && day <= MAX_DAY)) throw new RangeError(`${what}: the result is outside years 0001-9999`);
  const fromEpoch0 = day + 719468; // days since 0000-03-01
  const era = Math.floor(fromEpoch0 / 146097);
  const doe = fromEpoch0 - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const ys = y >= 1000 ? String(y) : y >= 100 ? "0" + y : y >= 10 ? "00" + y : "000" + y;
  return ys + "-" + pad2(m) + "-" + pad2(d);
}

/** Days since 1970-01-01 of a date, or of a datetime's date part; RangeError for anything else. */
export function dayNumber(s: string): number {
  return datePartDay(s, "day_number");
}

/** The date ("YYYY-MM-DD") of a day number (days since 1970-01-01); RangeError outside years 0001-9999. */
export function dateOfDay(day: number): string {
  if (!Number.isInteger(day)) throw new RangeError(`date_of_day: expected a whole number of days, got ${shown(day)}`);
  return formatDay(day, "date_of_day");
}

/**
 * Minutes since 1970-01-01T00:00 of a datetime's wall-clock fields (seconds and offset are
 * ignored), or of a date's midnight; RangeError for anything else.
 */
export function minuteNumber(s: string): number {
  const day = datePartDay(s, "minute_number");
  return s.length > 10 ? day * 1440 + d2(s, 11) * 60 + d2(s, 14) : day * 1440;
}

/** The datetime "YYYY-MM-DDTHH:MM:00" of a minute number; RangeError outside years 0001-9999. */
export function datetimeOfMinute(minute: number): string {
  if (!Number.isInteger(minute)) throw new RangeError(`datetime_of_minute: expected a whole number of minutes, got ${shown(minute)}`);
  const mod = minute - Math.floor(minute / 1440) * 1440;
  return formatDay((minute - mod) / 1440, "datetime_of_minute") + "T" + pad2(Math.floor(mod / 60)) + ":" + pad2(mod % 60) + ":00";
}

/**
 * The day of `base` (a date, or a datetime's date part) moved by `days`, as "YYYY-MM-DD",
 * clamped to years 0001-9999; undefined when `base` does not start with a calendar date.
 * Never throws. The fuzzer draws dates near the state's dates with it.
 */
export function shiftDay(base: string, days: number): string | undefined {
  if (typeof base !== "string" || !(isDate(base) || isDatetime(base)) || !Number.isFinite(days)) return undefined;
  return formatDay(Math.min(MAX_DAY, Math.max(MIN_DAY, dayNumberOf(base) + Math.trunc(days))), "shift_day");
}

// ---------------------------------------------------------------------------------------------
// The date built-ins of the language
// ---------------------------------------------------------------------------------------------

/** date + days: dateAdd("2024-02-28", 2) is "2024-03-01". */
export function dateAdd(date: string, days: number): string {
  if (!isDate(date)) throw new RangeError(`date_add: expected a date like "2024-02-28", got ${shown(date)}`);
  if (!Number.isInteger(days)) throw new RangeError(`date_add: days must be a whole number, got ${shown(days)}`);
  return formatDay(dayNumberOf(date) + days, "date_add");
}

/**
 * datetime + minutes, on the wall-clock fields: the time-zone suffix ("Z", "+02:00") is kept
 * as text, and so is the format (no seconds in, no seconds out). Fractional minutes are kept
 * to the microsecond; seconds (and a fraction) then appear in the output only when needed.
 */
export function datetimeAdd(dt: string, minutes: number): string {
  // pure, and called with the same few datetimes and durations again and again
  const key = typeof dt === "string" && typeof minutes === "number" ? minutes + " " + dt : undefined;
  if (key !== undefined) {
    const hit = added.get(key);
    if (hit !== undefined) return hit;
  }
  const out = datetimeAddOnce(dt, minutes);
  if (key !== undefined) {
    if (added.size >= KNOWN_LIMIT) added.clear();
    added.set(key, out);
  }
  return out;
}
const added = new Map<string, string>();

function datetimeAddOnce(dt: string, minutes: number): string {
  if (!isDatetime(dt)) throw new RangeError(`datetime_add: expected a datetime like "2024-02-28T09:30:00", got ${shown(dt)}`);
  if (!Number.isFinite(minutes)) throw new RangeError(`datetime_add: minutes must be a finite number, got ${shown(minutes)}`);
  const n = dt.length;
  const last = dt.charCodeAt(n - 1);
  const t = dt.charCodeAt(n - 6);
  const tzStart = last === 90 ? n - 1 : t === 43 || t === 45 ? n - 6 : n;
  const hasSec = n > 16 && dt.charCodeAt(16) === 58;
  const day = dayNumberOf(dt);
  const minuteOfDay = d2(dt, 11) * 60 + d2(dt, 14);
  const tz = tzStart === n ? "" : dt.slice(tzStart);
  if (Number.isInteger(minutes)) {
    const total = minuteOfDay + minutes;
    const mod = total - Math.floor(total / 1440) * 1440;
    const date = formatDay(day + (total - mod) / 1440, "datetime_add");
    const rest = hasSec ? dt.slice(16, tzStart) : "";
    return date + "T" + pad2(Math.floor(mod / 60)) + ":" + pad2(mod % 60) + rest + tz;
  }
  // fractional minutes: work in microseconds, keeping fraction digits beyond the sixth as text
  const frac = hasSec && n > 19 && dt.charCodeAt(19) === 46 ? dt.slice(20, tzStart) : "";
  const fracUs = frac === "" ? 0 : Number((frac + "00000").slice(0, 6));
  const beyond = frac.length > 6 ? frac.slice(6) : "";
  const sec = hasSec ? d2(dt, 17) : 0;
  const totalUs = (minuteOfDay * 60 + sec) * 1e6 + fracUs + Math.round(minutes * 6e7);
  const dayUs = 86400e6;
  const modUs = totalUs - Math.floor(totalUs / dayUs) * dayUs;
  const date = formatDay(day + Math.round((totalUs - modUs) / dayUs), "datetime_add");
  const us = modUs % 1e6;
  const s = (modUs - us) / 1e6;
  let fracOut = "";
  if (us !== 0 || frac !== "") {
    let digits = String(us).padStart(6, "0");
    if (beyond === "") {
      let keep = 6;
      while (keep > frac.length && digits.charCodeAt(keep - 1) === 48) keep--;
      digits = digits.slice(0, keep);
    }
    fracOut = digits === "" ? "" : "." + digits + beyond;
  }
  const withSec = hasSec || s % 60 !== 0 || fracOut !== "";
  const hm = pad2(Math.floor(s / 3600)) + ":" + pad2(Math.floor(s / 60) % 60);
  return date + "T" + hm + (withSec ? ":" + pad2(s % 60) + fracOut : "") + tz;
}

function datePartDay(s: string, what: string): number {
  if (!isDate(s) && !isDatetime(s))
    throw new RangeError(`${what}: expected a date or datetime like "2024-02-28", got ${shown(s)}`);
  return dayNumberOf(s);
}

/** Whole days from the date (part) of a to that of b: daysBetween("2024-02-28", "2024-03-01") is 2. */
export function daysBetween(a: string, b: string): number {
  return datePartDay(b, "days_between") - datePartDay(a, "days_between");
}

/** The date part of a datetime (a date is returned as is). */
export function dateOf(dt: string): string {
  if (isDatetime(dt)) return dt.slice(0, 10);
  if (isDate(dt)) return dt;
  throw new RangeError(`date_of: expected a datetime like "2024-02-28T09:30:00", got ${shown(dt)}`);
}

// ---------------------------------------------------------------------------------------------
// Edge values for the fuzzer
// ---------------------------------------------------------------------------------------------

/**
 * Date arguments worth trying: leap days and year ends that are dates, and strings that look
 * like dates but are not (a 30th of February, a 31st of June, a 29th of February in a common
 * year and in 2100, month 13 and 00, day 00, year 0000, a missing zero, a datetime). Every one
 * that is not a date must give an invalid-arguments result, never an environment fault.
 * Years 0001 and 9999 are left out: date_add past them is a fault by design (as in Python).
 */
export const EDGE_DATES: readonly string[] = Object.freeze([
  "", "2024-02-29", "2000-02-29", "1999-12-31", "2100-01-01", "2024-12-31",
  "2024-02-30", "2024-06-31", "2023-02-29", "2100-02-29", "2024-13-01", "2024-00-10", "2024-01-00", "0000-01-01",
  "2024-1-01", "2024-01-01T09:00:00",
]);

/** Datetime arguments worth trying, in the same spirit as EDGE_DATES. */
export const EDGE_DATETIMES: readonly string[] = Object.freeze([
  "", "2024-02-29T23:59:59", "1999-12-31T23:59", "2024-01-01T00:00:00Z", "2024-01-01T12:00:00.5+05:30",
  "2024-02-30T10:00", "2023-02-29T00:00:00", "2024-01-01T24:00", "2024-01-01T12:60", "2024-01-01T12:00:60",
  "2024-01-01T12:00+24:00", "2024-01-01T10:00oops", "2024-01-01", "2024-01-01 10:00",
]);
