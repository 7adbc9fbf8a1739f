// The cache of compiled specs (compiler/spec-cache.ts) as the CLI uses it: a spec compiled once
// is served from the cache the second time (seen in ENVC_DEBUG=cache lines and the entry file,
// never in timings); any change to the spec or to a file beside it that it loads compiles it
// again, so the cache never serves a stale environment; a corrupt entry is ignored and
// rebuilt; errors are never cached and always shown; --no-cache and ENVC_CACHE=0 bypass it;
// processes writing the same entry at once leave one whole entry.
import { describe, expect, it, beforeEach, afterAll } from "vitest";
import { execFile } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { runEnvc } from "../helpers.js";
import { cacheDir, cacheKey, readEntry, writeEntry, throughCache } from "../../compiler/spec-cache.js";
import { loadServedEnvs } from "../../server/load.js";
import { orderedKeys, parseJsonOrdered, stringifyOrdered } from "../../runtime/values.js";

const root = path.resolve(new URL("../..", import.meta.url).pathname);
const base = mkdtempSync(path.join(tmpdir(), "envc-cache-test-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));

const SPEC = (message: string) => `env Shop "A shop"

entity Item key item_id { item_id: string  price: number }
state { items: table Item }

query price_of(item_id: string) -> number "Price of an item." {
  let it = items[item_id] else "${message}"
  return it.price
}

action set_price(item_id: string, price: number) -> Item "Set a price." {
  let it = items[item_id] else "${message}"
  require price > 0.0 else "Prices are positive"
  it.price = price
  return it
}
`;
const SCENARIOS = (price: number) => `scenarios for Shop

scenario cheaper "Make the pen cheaper" {
  init from "state.json"
  task "Set the pen's price to ${price}."
  check "Is the pen's price ${price}?": items["pen"].price == ${price}
  solution { set_price(item_id: "pen", price: ${price}) }
}
`;

let cache: string;
let spec: string;
let dir: string;
let n = 0;
beforeEach(() => {
  n++;
  cache = path.join(base, `cache-${n}`);
  dir = path.join(base, `shop-${n}`);
  mkdirSync(dir);
  spec = path.join(dir, "shop.env");
  writeFileSync(spec, SPEC("No such item"));
  writeFileSync(path.join(dir, "scenarios.env"), SCENARIOS(1.5));
  writeFileSync(path.join(dir, "state.json"), JSON.stringify({ items: { pen: { item_id: "pen", price: 2 } } }));
  process.env.ENVC_CACHE_DIR = cache;
  process.env.ENVC_DEBUG = "cache";
  delete process.env.ENVC_CACHE;
});

const entries = () => {
  try {
    return readdirSync(cache).filter((f) => f.endsWith(".json"));
  } catch {
    return [];
  }
};
/** the entries of compiled specs (the others are validated states) */
const specEntries = () => entries().filter((f) => readFileSync(path.join(cache, f), "utf8").includes('"definition"'));
const call = (...args: string[]) => runEnvc(["call", spec, ...args]);

describe("the cache of compiled specs", () => {
  it("compiles a spec once and serves it from the cache the second time, with the same result", async () => {
    const first = await call("price_of", '{"item_id": "pen"}');
    expect(first.code).toBe(0);
    expect(first.err).toMatch(/envc: cache miss/);
    expect(first.err).toMatch(/envc: cache write/);
    expect(specEntries()).toHaveLength(1);
    const second = await call("price_of", '{"item_id": "pen"}');
    expect(second.err).toMatch(/envc: cache hit/);
    expect(second.err).not.toMatch(/cache write/);
    expect(second.out).toBe(first.out);
    expect(second.out).toContain('"value":2');
    // a failing call through the cached definition names the spec's location, as compiled
    const missing = await call("price_of", '{"item_id": "cap"}');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/cache hit/);
    expect(missing.out).toContain("No such item");
  });

  it("a changed spec is compiled again: the cache never serves the old environment", async () => {
    await call("price_of", '{"item_id": "cap"}');
    writeFileSync(spec, SPEC("Nothing called that"));
    const r = await call("price_of", '{"item_id": "cap"}');
    expect(r.err).toMatch(/cache miss/);
    expect(r.out).toContain("Nothing called that");
    expect(specEntries()).toHaveLength(2);
    // and back: the first entry is still good
    writeFileSync(spec, SPEC("No such item"));
    const back = await call("price_of", '{"item_id": "cap"}');
    expect(back.err).toMatch(/cache hit/);
    expect(back.out).toContain("No such item");
  });

  it("a changed scenarios file beside the spec is compiled again", async () => {
    const replay = () => runEnvc(["replay", spec, "--scenario", "cheaper"]);
    const first = await replay();
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/reward: 1 /);
    expect((await replay()).err).toMatch(/cache hit/);
    writeFileSync(path.join(dir, "scenarios.env"), SCENARIOS(1.25));
    const changed = await replay();
    expect(changed.err).toMatch(/cache miss/);
    expect(changed.out).toContain("PASS  Is the pen's price 1.25?");
    expect(changed.out).toMatch(/reward: 1 /);
  });

  it("the state is read anew each time; it is not part of what is cached", async () => {
    await call("price_of", '{"item_id": "pen"}');
    writeFileSync(path.join(dir, "state.json"), JSON.stringify({ items: { pen: { item_id: "pen", price: 7 } } }));
    const r = await call("price_of", '{"item_id": "pen"}');
    expect(r.err).toMatch(/cache hit/);
    expect(r.out).toContain('"value":7');
  });

  it("a state validated once is rebuilt from the cache the next time; a changed or invalid state is validated", async () => {
    const state = path.join(dir, "state.json");
    const first = await call("price_of", '{"item_id": "pen"}');
    expect(first.err.match(/cache write/g)).toHaveLength(2); // the spec, the state
    const second = await call("set_price", '{"item_id": "pen", "price": 3}');
    expect(second.err.match(/cache hit/g)).toHaveLength(2);
    expect(second.out).toContain('items["pen"].price: 2 -> 3');
    // states that do not fit are refused every time, never cached
    for (const bad of [{ pen: { item_id: "pen", price: "2" } }, { pen: { item_id: "pen", price: 2, extra: 1 } }]) {
      writeFileSync(state, JSON.stringify({ items: bad }));
      for (let i = 0; i < 2; i++) {
        const r = await call("price_of", '{"item_id": "pen"}');
        expect(r.code).toBe(1);
        expect(r.err).toMatch(/does not fit/);
      }
    }
    expect(entries()).toHaveLength(2);
    // a state whose JSON would not give it back exactly (-0 prints as 0) is validated every time
    writeFileSync(state, '{"items": {"pen": {"item_id": "pen", "price": -0.0}}}');
    for (let i = 0; i < 2; i++) expect((await call("price_of", '{"item_id": "pen"}')).err).not.toMatch(/cache write/);
    expect(entries()).toHaveLength(2);
  });

  it("a corrupt entry is ignored and rebuilt", async () => {
    await call("price_of", '{"item_id": "pen"}');
    const [entry] = specEntries();
    const file = path.join(cache, entry!);
    const good = readFileSync(file, "utf8");
    for (const bad of ["", "{", good.slice(0, good.length / 2), good.replace("No such item", "No such itex"), good.replace(/^envc-cache 1 [0-9a-f]+/, "envc-cache 1 00")]) {
      writeFileSync(file, bad);
      const r = await call("price_of", '{"item_id": "cap"}');
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/corrupt; ignored|cache miss/);
      expect(r.err).toMatch(/cache write/);
      expect(r.out).toContain("No such item");
      expect(readFileSync(file, "utf8")).toBe(good);
    }
  });

  it("a spec with errors is never cached, and its diagnostics are shown every time", async () => {
    writeFileSync(spec, SPEC("No such item").replace("return it.price", "return it.prise"));
    for (let i = 0; i < 2; i++) {
      const r = await call("price_of", '{"item_id": "pen"}');
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/ENV2003: Item has no field 'prise'/);
    }
    expect(entries()).toHaveLength(0);
  });

  it("--no-cache and ENVC_CACHE=0 neither read nor write the cache", async () => {
    const r = await call("price_of", '{"item_id": "pen"}', "--no-cache");
    expect(r.code).toBe(0);
    expect(entries()).toHaveLength(0);
    process.env.ENVC_CACHE = "0";
    expect((await call("price_of", '{"item_id": "pen"}')).code).toBe(0);
    expect(entries()).toHaveLength(0);
    expect(cacheDir({ ENVC_CACHE: "off" })).toBeUndefined();
    delete process.env.ENVC_CACHE;
    await call("price_of", '{"item_id": "pen"}');
    expect(specEntries()).toHaveLength(1);
    expect((await call("price_of", '{"item_id": "pen"}', "--no-cache")).err).not.toMatch(/cache/);
  });

  it("lives in $ENVC_CACHE_DIR, else $XDG_CACHE_HOME/envc, else ~/.cache/envc", () => {
    expect(cacheDir({ ENVC_CACHE_DIR: "/x/y" })).toBe("/x/y");
    expect(cacheDir({ XDG_CACHE_HOME: "/xdg" })).toBe("/xdg/envc");
    expect(cacheDir({ XDG_CACHE_HOME: "relative" })).toMatch(/\.cache\/envc$/);
    expect(cacheDir({})).toMatch(/\.cache\/envc$/);
  });

  it("serve's loader keeps the compile, not the states: a second load is a hit with the same environments", async () => {
    const lines: string[] = [];
    const options = { dir: cache, log: (l: string) => lines.push(l) };
    const a = await loadServedEnvs([dir], options);
    const b = await loadServedEnvs([dir], options);
    expect(lines.filter((l) => l.startsWith("cache hit"))).toHaveLength(1);
    expect(b.envs.map((e) => [e.def.name, e.scenarios.map((s) => s.def.id)])).toEqual(a.envs.map((e) => [e.def.name, e.scenarios.map((s) => s.def.id)]));
    const session = (r: typeof a) => r.envs[0]!.scenarios[0]!.initial.fork().call("set_price", { item_id: "pen", price: 3 });
    expect(session(b)).toEqual(session(a));
    expect(b.diagnostics).toEqual(a.diagnostics);
  });

  it("keys differ with any file's path or text; entries round-trip; a failed compile stores nothing", async () => {
    const k = cacheKey("x", [["a.env", "text"]]);
    expect(cacheKey("x", [["a.env", "text"]])).toBe(k);
    expect(cacheKey("x", [["b.env", "text"]])).not.toBe(k);
    expect(cacheKey("x", [["a.env", "text "]])).not.toBe(k);
    expect(cacheKey("y", [["a.env", "text"]])).not.toBe(k);
    expect(cacheKey("x", [["a.env", "te"], ["xt", ""]])).not.toBe(cacheKey("x", [["a.env", "tex"], ["t", ""]]));
    const options = { dir: cache };
    await writeEntry(k, { hello: [1, 2] }, options);
    expect(await readEntry(k, options)).toEqual({ hello: [1, 2] });
    // values keep the key order of their text (a dataset's states), array-index keys included
    await writeEntry(k, parseJsonOrdered('{"state": {"b": 1, "20": 2, "3": {"z": 0, "1": 1}}}'), options);
    const back = (await readEntry<Record<string, Record<string, unknown>>>(k, options))!;
    expect(orderedKeys(back.state!)).toEqual(["b", "20", "3"]);
    expect(stringifyOrdered(back)).toBe('{"state":{"b":1,"20":2,"3":{"z":0,"1":1}}}');
    expect(await readEntry(cacheKey("z", []), options)).toBeUndefined();
    const other = cacheKey("w", []);
    await expect(throughCache(other, options, async () => {
      throw new Error("errors");
    })).rejects.toThrow("errors");
    expect(await readEntry(other, options)).toBeUndefined();
    await throughCache(other, options, async () => ({ value: 1, keep: false }));
    expect(await readEntry(other, options)).toBeUndefined();
  });

  it("processes compiling the same spec at once all succeed and leave one whole entry", async () => {
    const tsx = path.join(root, "node_modules/.bin/tsx");
    const run = () => promisify(execFile)(tsx, [path.join(root, "cli/index.ts"), "call", spec, "price_of", '{"item_id": "pen"}'], {
      env: { ...process.env, ENVC_DEBUG: "" },
    });
    const results = await Promise.all([run(), run(), run()]);
    for (const r of results) expect(r.stdout).toContain('"value":2');
    expect(readdirSync(cache).filter((f) => !f.endsWith(".json"))).toEqual([]); // no temp file left
    expect(specEntries()).toHaveLength(1);
    expect(entries()).toHaveLength(2); // and the state
    const r = await call("price_of", '{"item_id": "pen"}');
    expect(r.err).toMatch(/cache hit/);
  });
});
