// Tests for runtime/dates.ts, the one home of the date rules: validity against a reference
// definition (a Date.UTC round trip) on random strings around the patterns, the reasons given
// for non-dates, the zod schemas generated code uses, day numbers and shifting, the edge values
// for the fuzzer, and the date built-ins (checked against tables produced by python3 and JS Date).
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  DateSchema, DatetimeSchema, EDGE_DATES, EDGE_DATETIMES, dateAdd, dateOf, dateOfDay, dateProblem, datetimeAdd, datetimeProblem,
  dayNumber, daysBetween, datetimeOfMinute, isDate, isDatetime, minuteNumber, shiftDay,
} from "../../runtime/dates.js";

// ---------------------------------------------------------------------------------------------
// The reference: fields that survive a round trip through Date.UTC are a real date and time.
// Years move by 2000 (five 400-year cycles of the Gregorian calendar, so the calendar is the
// same) to keep Date.UTC away from its 0-99 means 1900-1999 rule.
// ---------------------------------------------------------------------------------------------

const REF_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const REF_DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-](\d{2}):(\d{2}))?$/;

function roundTrips(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): boolean {
  if (y < 1) return false;
  const t = new Date(Date.UTC(y + 2000, mo - 1, d, h, mi, s));
  return t.getUTCFullYear() === y + 2000 && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d &&
    t.getUTCHours() === h && t.getUTCMinutes() === mi && t.getUTCSeconds() === s;
}

function referenceIsDate(s: string): boolean {
  const m = REF_DATE.exec(s);
  return !!m && roundTrips(+m[1]!, +m[2]!, +m[3]!);
}

function referenceIsDatetime(s: string): boolean {
  const m = REF_DATETIME.exec(s);
  if (!m) return false;
  const offsetOk = m[8] === undefined || roundTrips(2000, 1, 1, +m[8], +m[9]!);
  return offsetOk && roundTrips(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, m[6] === undefined ? 0 : +m[6]);
}

/** n digits, any value up to max, with the values at calendar edges drawn often */
const digits = (n: number, max: number, edges: string[]) =>
  fc.oneof(fc.integer({ min: 0, max }).map((v) => String(v).padStart(n, "0")), fc.constantFrom(...edges));
const dateLike = fc
  .tuple(
    digits(4, 9999, ["0000", "0001", "1900", "2000", "2023", "2024", "2100", "9999"]),
    digits(2, 19, ["00", "01", "02", "04", "06", "09", "11", "12", "13"]),
    digits(2, 39, ["00", "01", "28", "29", "30", "31", "32"]),
  )
  .map(([y, m, d]) => `${y}-${m}-${d}`);
const timeLike = fc
  .tuple(
    digits(2, 29, ["00", "23", "24"]),
    digits(2, 69, ["00", "59", "60"]),
    fc.option(fc.tuple(digits(2, 69, ["00", "59", "60"]), fc.constantFrom("", ".5", ".123456", ".1234567891", "."))),
    fc.constantFrom("", "Z", "z", "+05:30", "-23:59", "+24:00", "-05:60", "+0500", "+00:00"),
  )
  .map(([h, mi, sec, tz]) => `T${h}:${mi}${sec ? `:${sec[0]}${sec[1]}` : ""}${tz}`);
/** a few random edits: a character replaced, inserted or deleted */
const edited = (base: fc.Arbitrary<string>) =>
  fc
    .tuple(base, fc.array(fc.tuple(fc.nat(), fc.constantFrom("0", "9", "-", ":", "T", "t", " ", "Z", ".", "x", "\n", "２"), fc.constantFrom(0, 1, 2)), { maxLength: 2 }))
    .map(([s, edits]) => {
      for (const [at, c, how] of edits) {
        const i = at % (s.length + 1);
        s = how === 0 ? s.slice(0, i) + c + s.slice(i + 1) : how === 1 ? s.slice(0, i) + c + s.slice(i) : s.slice(0, i) + s.slice(i + 1);
      }
      return s;
    });
const aroundDates = fc.oneof(dateLike, edited(dateLike), fc.tuple(dateLike, timeLike).map(([d, t]) => d + t), fc.string({ maxLength: 12 }));
const aroundDatetimes = fc.oneof(fc.tuple(dateLike, timeLike).map(([d, t]) => d + t), edited(fc.tuple(dateLike, timeLike).map(([d, t]) => d + t)), dateLike);

describe("validity agrees with the reference (property)", () => {
  it("isDate, dateProblem and DateSchema agree with a Date.UTC round trip", () => {
    let real = 0;
    fc.assert(
      fc.property(aroundDates, (s) => {
        const want = referenceIsDate(s);
        if (want) real++;
        expect(isDate(s), JSON.stringify(s)).toBe(want);
        expect(dateProblem(s) === undefined).toBe(want);
        expect(DateSchema.safeParse(s).success).toBe(want);
      }),
      { numRuns: 4000, seed: 41 },
    );
    expect(real).toBeGreaterThan(200); // both answers came up often
  });

  it("isDatetime, datetimeProblem and DatetimeSchema agree with a Date.UTC round trip", () => {
    let real = 0;
    fc.assert(
      fc.property(aroundDatetimes, (s) => {
        const want = referenceIsDatetime(s);
        if (want) real++;
        expect(isDatetime(s), JSON.stringify(s)).toBe(want);
        expect(datetimeProblem(s) === undefined).toBe(want);
        expect(DatetimeSchema.safeParse(s).success).toBe(want);
      }),
      { numRuns: 4000, seed: 43 },
    );
    expect(real).toBeGreaterThan(100);
  });
});

describe("reasons", () => {
  it("say why a string is not a date, quoting it", () => {
    expect(dateProblem("2024-02-30")).toBe('"2024-02-30" is not a calendar date (2024-02 has 29 days)');
    expect(dateProblem("2024-06-31")).toBe('"2024-06-31" is not a calendar date (2024-06 has 30 days)');
    expect(dateProblem("2023-02-29")).toBe('"2023-02-29" is not a calendar date (2023-02 has 28 days)');
    expect(dateProblem("2024-13-01")).toBe('"2024-13-01" is not a calendar date (there is no month 13)');
    expect(dateProblem("2024-01-00")).toBe('"2024-01-00" is not a calendar date (there is no day 00)');
    expect(dateProblem("0000-01-01")).toBe('"0000-01-01" is not a calendar date (there is no year 0000)');
    expect(dateProblem("tomorrow")).toBe('"tomorrow" is not a date (YYYY-MM-DD, like 2024-05-01)');
    expect(dateProblem("2024-02-29")).toBeUndefined();
  });

  it("say why a string is not a datetime, quoting it", () => {
    expect(datetimeProblem("2024-01-01T10:00oops")).toBe('"2024-01-01T10:00oops" is not a datetime (YYYY-MM-DDTHH:MM[:SS], like 2024-05-01T09:30:00)');
    expect(datetimeProblem("2024-02-30T10:00")).toBe('"2024-02-30T10:00" is not a calendar datetime (2024-02 has 29 days)');
    expect(datetimeProblem("2024-01-01T24:00")).toBe('"2024-01-01T24:00" is not a calendar datetime (there is no hour 24)');
    expect(datetimeProblem("2024-01-01T10:60")).toBe('"2024-01-01T10:60" is not a calendar datetime (there is no minute 60)');
    expect(datetimeProblem("2024-01-01T10:00:60Z")).toBe('"2024-01-01T10:00:60Z" is not a calendar datetime (there is no second 60)');
    expect(datetimeProblem("2024-01-01T10:00+24:00")).toBe('"2024-01-01T10:00+24:00" is not a calendar datetime (+24:00 is not a time zone offset)');
    expect(datetimeProblem("2024-01-01T10:00:00.25-05:00")).toBeUndefined();
  });

  it("are the schemas' messages; non-strings get zod's type message", () => {
    const r = DateSchema.safeParse("2024-02-30");
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.message)).toEqual(['"2024-02-30" is not a calendar date (2024-02 has 29 days)']);
    expect(DatetimeSchema.safeParse("2024-01-01").error!.issues).toHaveLength(1);
    expect(DateSchema.safeParse(20240101).error!.issues[0]!.code).toBe("invalid_type");
  });
});

describe("day numbers and shifting", () => {
  it("dayNumber and dateOfDay are inverse, from 1970-01-01", () => {
    expect(dayNumber("1970-01-01")).toBe(0);
    expect(dayNumber("2024-03-01T23:59Z")).toBe(dayNumber("2024-02-29") + 1);
    expect(dateOfDay(dayNumber("0001-01-01"))).toBe("0001-01-01");
    expect(dateOfDay(19782)).toBe("2024-02-29");
    expect(() => dayNumber("2024-02-30")).toThrow(RangeError);
    expect(() => dateOfDay(dayNumber("9999-12-31") + 1)).toThrow(RangeError);
  });

  it("minuteNumber and datetimeOfMinute count wall-clock minutes from 1970-01-01T00:00", () => {
    expect(minuteNumber("1970-01-01T00:00")).toBe(0);
    expect(minuteNumber("1970-01-02")).toBe(1440);
    expect(minuteNumber("2024-05-01T09:30:59+05:00")).toBe(dayNumber("2024-05-01") * 1440 + 570);
    expect(datetimeOfMinute(-1)).toBe("1969-12-31T23:59:00");
    expect(datetimeOfMinute(minuteNumber("2024-02-29T23:59"))).toBe("2024-02-29T23:59:00");
    expect(() => minuteNumber("2024-01-01T24:00")).toThrow(RangeError);
    fc.assert(
      fc.property(fc.integer({ min: -1e9, max: 1e9 }), (m) => {
        const dt = datetimeOfMinute(m);
        expect(isDatetime(dt)).toBe(true);
        expect(minuteNumber(dt)).toBe(m);
        expect(dt).toBe(new Date(m * 60_000).toISOString().slice(0, 19)); // within JS Date's years here
      }),
      { numRuns: 500, seed: 53 },
    );
  });

  it("shiftDay moves the day of a date or datetime, clamps to years 0001-9999, never throws", () => {
    expect(shiftDay("2024-02-28", 1)).toBe("2024-02-29");
    expect(shiftDay("2023-02-28T10:00:00Z", 1)).toBe("2023-03-01");
    expect(shiftDay("0050-01-01", -1)).toBe("0049-12-31"); // no two-digit-year surprise
    expect(shiftDay("9999-12-30", 5)).toBe("9999-12-31");
    expect(shiftDay("0001-01-02", -5)).toBe("0001-01-01");
    expect(shiftDay("2024-02-30", 1)).toBeUndefined();
    expect(shiftDay("soon", 1)).toBeUndefined();
    expect(shiftDay("2024-01-01", NaN)).toBeUndefined();
    fc.assert(
      fc.property(aroundDatetimes, fc.integer({ min: -4_000_000, max: 4_000_000 }), (s, n) => {
        const r = shiftDay(s, n);
        if (r !== undefined) expect(isDate(r)).toBe(true);
        else expect(isDate(s) || isDatetime(s)).toBe(false);
      }),
      { numRuns: 1000, seed: 47 },
    );
  });

  it("the fuzzer's edge values hold real dates and look-alikes that are not", () => {
    for (const [edges, valid] of [[EDGE_DATES, isDate], [EDGE_DATETIMES, isDatetime]] as const) {
      expect(edges.some((s) => valid(s))).toBe(true);
      expect(edges.filter((s) => !valid(s)).length).toBeGreaterThan(5);
    }
    expect(EDGE_DATES).toEqual(expect.arrayContaining(["2024-02-30", "2024-06-31", "2023-02-29", "2024-02-29"]));
  });
});

// ---------------------------------------------------------------------------------------------
// The date built-ins
// ---------------------------------------------------------------------------------------------

/** The independent oracle: JS Date in UTC (valid for years 1970-9999 here). */
function viaDate(y: number, m: number, d: number, minutes = 0): Date {
  const t = new Date(0);
  t.setUTCFullYear(y, m - 1, d);
  return new Date(t.getTime() + minutes * 60_000);
}

const dateArb = fc
  .tuple(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }))
  .filter(([y, m, d]) => viaDate(y, m, d).getUTCDate() === d)
  .map(([y, m, d]) => `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`);

describe("isDate / isDatetime", () => {
  it("accepts real dates only", () => {
    const yes = ["2024-02-29", "2000-02-29", "2023-12-31", "0001-01-01", "9999-12-31", "1970-01-01"];
    const no = [
      "2023-02-29", "1900-02-29", "2024-13-01", "2024-00-10", "2024-01-00", "2024-04-31", "2024-01-32", "0000-01-01",
      " 2024-01-01", "2024-01-01\n", "2024-1-01", "24-01-01", "2024/01/01", "２０２４-01-01", "2024-01-01T00:00", "",
    ];
    for (const s of yes) expect(isDate(s), s).toBe(true);
    for (const s of no) expect(isDate(s), JSON.stringify(s)).toBe(false);
  });

  it("accepts real datetimes only", () => {
    const yes = [
      "2024-01-01T00:00", "2024-01-01T23:59:59", "2024-01-01T23:59:59.999999Z", "2024-02-29T12:00-05:00",
      "2024-01-01T12:00:00+23:59", "2024-01-01T12:00:00.1", "2024-01-01T12:00Z",
    ];
    const no = [
      "2024-01-01", "2024-01-01T24:00", "2024-01-01T12:60", "2024-01-01T12:00:60", "2024-01-01T12:00+24:00",
      "2024-01-01T12:00+05:60", "2024-01-01 12:00", "2024-01-01T12:00:00.", "2024-01-01T12", "2024-01-01t12:00",
      "2023-02-29T12:00", "2024-01-01T12:00:00z", "2024-01-01T12:00:00+0500", "2024-01-01T1:00", "2024-01-01T12:00\n",
    ];
    for (const s of yes) expect(isDatetime(s), s).toBe(true);
    for (const s of no) expect(isDatetime(s), JSON.stringify(s)).toBe(false);
  });

  it("agree with the calendar (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), (y, m, d) => {
        const s = `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
        const real = m >= 1 && m <= 12 && d >= 1 && viaDate(y, m, d).getUTCDate() === d;
        expect(isDate(s)).toBe(real);
        expect(isDatetime(`${s}T10:20:30Z`)).toBe(real);
      }),
      { numRuns: 2000, seed: 23 },
    );
  });
});

describe("dateAdd / daysBetween / dateOf", () => {
  // [date, days, Python's date + timedelta(days)], produced by python3
  const adds: [string, number, string][] = [
    ["2024-02-28", 2, "2024-03-01"],
    ["2024-02-28", 1, "2024-02-29"],
    ["2023-02-28", 1, "2023-03-01"],
    ["1900-02-28", 1, "1900-03-01"],
    ["2000-02-28", 1, "2000-02-29"],
    ["2024-03-01", -1, "2024-02-29"],
    ["2023-03-01", -1, "2023-02-28"],
    ["2024-12-31", 1, "2025-01-01"],
    ["2024-01-01", -1, "2023-12-31"],
    ["2024-01-31", 30, "2024-03-01"],
    ["1970-01-01", 0, "1970-01-01"],
    ["1970-01-01", -1, "1969-12-31"],
    ["0001-01-01", 0, "0001-01-01"],
    ["0001-01-01", 365, "0002-01-01"],
    ["9999-12-30", 1, "9999-12-31"],
    ["2024-06-15", 36525, "2124-06-16"],
    ["2024-06-15", -36525, "1924-06-15"],
    ["2024-06-15", -738000, "0003-11-18"],
    ["1600-02-28", 1, "1600-02-29"],
    ["2100-02-28", 1, "2100-03-01"],
  ];
  // [a, b, Python's (b - a).days]
  const betweens: [string, string, number][] = [
    ["2024-01-01", "2024-12-31", 365],
    ["2024-12-31", "2024-01-01", -365],
    ["2023-01-01", "2024-01-01", 365],
    ["2024-01-01", "2025-01-01", 366],
    ["1900-01-01", "2000-01-01", 36524],
    ["0001-01-01", "9999-12-31", 3652058],
    ["2024-02-28", "2024-03-01", 2],
    ["2023-02-28", "2023-03-01", 1],
  ];

  it("dateAdd matches Python", () => {
    for (const [d, n, want] of adds) expect(dateAdd(d, n), `${d} + ${n}`).toBe(want);
  });

  it("daysBetween matches Python, and takes the date part of datetimes", () => {
    for (const [a, b, want] of betweens) expect(daysBetween(a, b), `${a} -> ${b}`).toBe(want);
    expect(daysBetween("2024-01-01T23:59:59Z", "2024-01-02")).toBe(1);
    expect(daysBetween("2024-01-02T00:00", "2024-01-01T23:59+05:00")).toBe(-1);
    expect(daysBetween("2024-01-01T00:00:00.5-12:00", "2024-01-01T23:59:59+14:00")).toBe(0);
  });

  it("dateAdd agrees with JS Date in UTC, and daysBetween inverts it (property)", () => {
    fc.assert(
      fc.property(dateArb, fc.integer({ min: -100_000, max: 100_000 }), (d, n) => {
        const [y, m, day] = d.split("-").map(Number) as [number, number, number];
        const t = viaDate(y, m, day + n);
        const ty = t.getUTCFullYear();
        if (ty < 1 || ty > 9999) {
          expect(() => dateAdd(d, n)).toThrow(RangeError);
          return;
        }
        const r = dateAdd(d, n);
        expect(r).toBe(`${String(ty).padStart(4, "0")}-${t.toISOString().slice(5, 10)}`);
        expect(isDate(r)).toBe(true);
        expect(daysBetween(d, r)).toBe(n);
        expect(daysBetween(r, d)).toBe(0 - n);
      }),
      { numRuns: 2000, seed: 29 },
    );
  });

  it("dateOf gives the date part", () => {
    expect(dateOf("2024-05-06T07:08:09+02:00")).toBe("2024-05-06");
    expect(dateOf("2024-05-06T23:59")).toBe("2024-05-06");
    expect(dateOf("2024-05-06")).toBe("2024-05-06");
  });

  it("throw RangeError with a clear message on malformed input", () => {
    expect(() => dateAdd("2024-02-30", 1)).toThrow(/date_add: expected a date like "2024-02-28", got "2024-02-30"/);
    expect(() => dateAdd("2024-2-3", 1)).toThrow(RangeError);
    expect(() => dateAdd("2024-02-28T10:00", 1)).toThrow(RangeError);
    expect(() => dateAdd("2024-02-28", 1.5)).toThrow(/days must be a whole number/);
    expect(() => dateAdd("2024-02-28", NaN)).toThrow(RangeError);
    expect(() => dateAdd("9999-12-31", 1)).toThrow(/outside years 0001-9999/);
    expect(() => dateAdd("0001-01-01", -1)).toThrow(RangeError);
    expect(() => daysBetween("2024-01-01", "tomorrow")).toThrow(/days_between: expected a date or datetime/);
    expect(() => daysBetween("2024-13-01", "2024-01-01")).toThrow(RangeError);
    expect(() => dateOf("2024-01-01X")).toThrow(/date_of/);
    expect(() => dateOf(undefined as unknown as string)).toThrow(RangeError);
  });
});

describe("datetimeAdd", () => {
  // [input, minutes, expected]; the wall-clock values were checked with Python's datetime +
  // timedelta(minutes=...), the format is the input's (Python's isoformat would always add seconds)
  const cases: [string, number, string][] = [
    ["2024-12-31T23:30", 45, "2025-01-01T00:15"],
    ["2024-03-10T01:59:30", 1, "2024-03-10T02:00:30"],
    ["2024-02-28T23:59Z", 1, "2024-02-29T00:00Z"],
    ["2024-02-29T00:00:00+05:30", -1, "2024-02-28T23:59:00+05:30"],
    ["2024-01-01T00:00:00.123-08:00", -1, "2023-12-31T23:59:00.123-08:00"],
    ["2023-06-15T12:00", 525600, "2024-06-14T12:00"],
    ["2024-06-15T12:00:00", -527041, "2023-06-15T11:59:00"],
    ["2024-06-15T12:00", 0, "2024-06-15T12:00"],
    ["2024-06-15T12:00:00.1234567891Z", 1441, "2024-06-16T12:01:00.1234567891Z"],
    // fractional minutes: seconds and a fraction appear only when needed
    ["2024-06-15T12:00", 0.5, "2024-06-15T12:00:30"],
    ["2024-06-15T12:00:00", 0.001, "2024-06-15T12:00:00.06"],
    ["2024-06-15T12:00:00.5", -0.01, "2024-06-15T11:59:59.9"],
    ["2024-06-15T00:00", -1.5, "2024-06-14T23:58:30"],
    ["2024-06-15T12:34:56.789", 2.25, "2024-06-15T12:37:11.789"],
    ["2024-06-15T12:00", 1 / 3, "2024-06-15T12:00:20"],
    ["2024-06-15T12:00:00.500", 0.5, "2024-06-15T12:00:30.500"],
  ];

  it("adds minutes on the wall clock and keeps the input's format", () => {
    for (const [dt, m, want] of cases) expect(datetimeAdd(dt, m), `${dt} + ${m}`).toBe(want);
  });

  it("agrees with JS Date in UTC for whole minutes (property)", () => {
    const hm = fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 }));
    fc.assert(
      fc.property(
        dateArb.filter((d) => d >= "1971" && d < "9995"),
        hm,
        fc.integer({ min: -2_000_000, max: 2_000_000 }),
        fc.constantFrom("", "Z", "+05:30", "-11:00"),
        fc.boolean(),
        (d, [h, mi, s], minutes, tz, withSec) => {
          const p2 = (n: number) => String(n).padStart(2, "0");
          const dt = `${d}T${p2(h)}:${p2(mi)}${withSec ? `:${p2(s)}` : ""}${tz}`;
          const [y, m, day] = d.split("-").map(Number) as [number, number, number];
          const base = viaDate(y, m, day);
          const t = new Date(base.getTime() + ((h * 60 + mi) * 60 + (withSec ? s : 0)) * 1000 + minutes * 60_000);
          const iso = t.toISOString(); // years 1971-9994 plus at most ~4 years: plain "YYYY-MM-DDTHH:MM:SS.sssZ"
          const want = iso.slice(0, withSec ? 19 : 16) + tz;
          const got = datetimeAdd(dt, minutes);
          expect(got).toBe(want);
          expect(isDatetime(got)).toBe(true);
        },
      ),
      { numRuns: 2000, seed: 31 },
    );
  });

  it("throws RangeError on malformed input or minutes", () => {
    expect(() => datetimeAdd("2024-01-01T24:00", 1)).toThrow(/datetime_add: expected a datetime/);
    expect(() => datetimeAdd("2024-01-01", 1)).toThrow(RangeError);
    expect(() => datetimeAdd("2024-01-01T10:00", NaN)).toThrow(/minutes must be a finite number/);
    expect(() => datetimeAdd("2024-01-01T10:00", Infinity)).toThrow(RangeError);
    expect(() => datetimeAdd("9999-12-31T23:59", 1)).toThrow(/outside years 0001-9999/);
  });
});


describe("the caches of known dates and of datetime_add results", () => {
  it("answer as the checks do, also after they start over", () => {
    // more distinct datetimes than the caches hold, each asked twice
    for (let i = 0; i < 5000; i++) {
      const dt = datetimeOfMinute(28_000_000 + i * 37);
      expect(isDatetime(dt)).toBe(true);
      expect(isDatetime(dt)).toBe(true);
      expect(datetimeAdd(dt, 90)).toBe(datetimeOfMinute(28_000_000 + i * 37 + 90));
      expect(datetimeAdd(dt, 90)).toBe(datetimeOfMinute(28_000_000 + i * 37 + 90));
    }
    // a string that is no datetime is never remembered as one, however often it is asked
    for (let i = 0; i < 3; i++) {
      expect(isDatetime("2024-02-30T10:00")).toBe(false);
      expect(isDate("2024-06-31")).toBe(false);
      expect(() => datetimeAdd("2024-02-30T10:00", 5)).toThrow(RangeError);
    }
    expect(isDate("2024-02-29")).toBe(true);
    expect(isDate("2024-02-29")).toBe(true);
  });
});
