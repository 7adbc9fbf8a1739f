// rt.mapOf and rt.JsonValueSchema: zod's record and json schemas, keeping a "__proto__" key
// (zod drops it). mapOf wraps zod's parse in place for speed; the transform it falls back on
// when zod's internals change must give the same answers.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { mapOf, mapOfByTransform, JsonValueSchema, mapSet, DateSchema, parseJsonOrdered } from "../../runtime/index.js";
import { mapOfByTransform as direct } from "../../runtime/own-keys.js";

const cases: [string, string][] = [
  ["plain", '{"a": 1, "b": 2}'],
  ["__proto__ first", '{"__proto__": 1, "b": 2}'],
  ["__proto__ last", '{"a": 1, "__proto__": 2}'],
  ["bad value under __proto__", '{"a": 1, "__proto__": "x"}'],
  ["bad value elsewhere", '{"a": "y", "__proto__": 2}'],
  ["not an object", "5"],
  ["numeric keys keep their order", '{"b": 1, "10": 2, "__proto__": 3, "2": 4}'],
];

describe("rt.mapOf", () => {
  it("is zod's record schema, wrapped in place (no transform) while zod's internals allow", () => {
    const s = mapOf(z.string(), z.number());
    expect((s as unknown as { _zod: { def: { type: string } } })._zod.def.type).toBe("record");
    expect(direct).toBe(mapOfByTransform);
  });

  it.each(cases)("%s: both implementations agree, and keep __proto__ as an own key", (_name, text) => {
    const input = parseJsonOrdered(text);
    const a = mapOf(z.string(), z.number()).safeParse(input);
    const b = mapOfByTransform(z.record(z.string(), z.number()), z.string(), z.number()).safeParse(input);
    expect(a.success).toBe(b.success);
    if (a.success && b.success) {
      expect(Object.keys(a.data as object)).toEqual(Object.keys(b.data as object));
      expect(JSON.stringify(a.data)).toBe(JSON.stringify(b.data));
      if (text.includes("__proto__")) expect(Object.prototype.hasOwnProperty.call(a.data, "__proto__")).toBe(true);
      expect(Object.getPrototypeOf(a.data)).toBe(Object.prototype);
    } else {
      expect(a.error!.issues.map((i) => [i.path, i.message])).toEqual(b.error!.issues.map((i) => [i.path, i.message]));
    }
  });

  it("checks a date key's calendar under __proto__ too (refused: not a date)", () => {
    const r = mapOf(DateSchema, z.number()).safeParse(parseJsonOrdered('{"2024-01-01": 1, "__proto__": 2}'));
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(["__proto__"]);
    expect(r.error!.issues[0]!.message).toMatch(/^key /);
  });
});

describe("rt.JsonValueSchema", () => {
  it("keeps __proto__ keys at any depth, and is z.json() otherwise", () => {
    const v = parseJsonOrdered('{"a": [{"__proto__": {"b": 1}}], "__proto__": null}');
    const r = JsonValueSchema.safeParse(v);
    expect(r.success).toBe(true);
    expect(JSON.stringify(r.data)).toBe('{"a":[{"__proto__":{"b":1}}],"__proto__":null}');
    expect(JsonValueSchema.safeParse({ a: 1 }).data).toEqual({ a: 1 });
    expect(JsonValueSchema.safeParse({ a: () => 1 }).success).toBe(false);
  });
});

describe("rt.mapSet", () => {
  it("stores under __proto__ as an own entry, leaving the prototype alone", () => {
    const m: Record<string, number> = {};
    mapSet(m, "__proto__", 4);
    expect(Object.getPrototypeOf(m)).toBe(Object.prototype);
    expect(JSON.stringify(m)).toBe('{"__proto__":4}');
  });
});
