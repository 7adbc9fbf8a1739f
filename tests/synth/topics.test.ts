// Pieces of topic mining that need no server: reading task files (errors name the line), the
// lexical similarity that finds near-duplicate descriptions, names of folders and envs.
import { describe, expect, it } from "vitest";
import { parseTasks, parseDescriptions, words, jaccard, cosine } from "../../synth/topics.js";
import { InputError, slug, pascal } from "../../synth/run.js";

describe("topic mining", () => {
  it("reads tasks, naming the line of a bad one", () => {
    expect(parseTasks('{"id": "a", "task": " Book a room "}\n\n{"text": "Cancel order 7"}\n', "t.jsonl")).toEqual([
      { id: "a", task: "Book a room" },
      { id: "line-3", task: "Cancel order 7" },
    ]);
    expect(() => parseTasks('{"id": "a", "task": "x"}\n{"id": "b"}\n', "t.jsonl")).toThrow(new InputError('t.jsonl:2: expected {"id": "...", "task": "the task text"}'));
    expect(() => parseTasks("{oops\n", "t.jsonl")).toThrow(/^t\.jsonl:1: not valid JSON/);
    expect(() => parseTasks('{"id": "a", "task": "x"}\n{"id": "a", "task": "y"}\n', "t.jsonl")).toThrow("t.jsonl:2: task id 'a' appears twice");
    expect(() => parseDescriptions('{"name": "Hotel Booking", "summary": "s"}\n{"name": "hotel-booking", "summary": "t"}\n', "d.jsonl")).toThrow("d.jsonl:2: the name 'hotel-booking' appears twice");
  });

  it("scores near-identical descriptions as similar and different ones as not", () => {
    const a = words("hotel booking: Guests book rooms in hotels and staff manage reservations.");
    const b = words("hotel reservations: Guests reserve hotel rooms and staff manage bookings.");
    const c = words("library loans: Members borrow and return copies of books.");
    expect(jaccard(a, b)).toBeGreaterThanOrEqual(0.6);
    expect(jaccard(a, c)).toBeLessThan(0.2);
    expect(cosine([1, 0, 1], [1, 0, 1])).toBeCloseTo(1);
    expect(cosine([1, 0], [0, 1])).toBe(0);
  });

  it("makes folder and env names", () => {
    expect(slug("A Hotel Booking System!")).toBe("a-hotel-booking-system");
    expect(slug("Ünïcode café ordering")).toBe("unicode-cafe-ordering");
    expect(pascal("hotel-booking")).toBe("HotelBooking");
    expect(pascal("3d-printing")).toBe("Env3dPrinting");
  });
});
