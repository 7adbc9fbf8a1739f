// The checker's structure (compiler/check/): a rule that throws is reported on its node and the
// check goes on; the one IR walker (compiler/ir-walk.ts) finds exactly the nodes a walk over
// every property finds, on every bundled and test spec, so no pass misses a child.
import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parseSpec } from "../../grammar/parser.js";
import { checkSpec } from "../../compiler/check.js";
import { RULES } from "../../compiler/check/rules.js";
import type { Rules } from "../../compiler/check/context.js";
import { checkSource } from "../../compiler/pipeline.js";
import { forEachChild, walkIr, type INode } from "../../compiler/ir-walk.js";
import type { IEnv } from "../../compiler/ir.js";

const SPEC = `env Boom "A rule that throws"

state {
  count: int = 0
}

action bump(by: int) -> int "Add to the count."
{
  require by != 42 else "Not that one"
  count += by
  return nope
}
`;

describe("the rule registry", () => {
  it("turns a rule that throws into an ENV0000 on the node it was checking, and checks the rest", () => {
    const rules: Rules = {
      ...RULES,
      expr: {
        ...RULES.expr,
        Int: (cx, e, expected) => {
          if (e.value === 42) throw new Error("boom");
          return RULES.expr.Int(cx, e, expected);
        },
      },
    };
    const { ast } = parseSpec(SPEC, "boom.env");
    const r = checkSpec(ast, rules);
    const got = r.diagnostics.map((d) => [d.code, d.span.start.line, d.span.start.column, d.message]);
    expect(got).toEqual([
      ["ENV0000", 9, 17, "Internal checker error (please report): boom"],
      ["ENV2001", 11, 10, "Unknown name 'nope'"],
    ]);
    expect(r.env?.tools.map((t) => t.name)).toEqual(["bump"]);
    // without the throwing rule, only the unknown name
    expect(checkSpec(ast).diagnostics.map((d) => d.code)).toEqual(["ENV2001"]);
  });
});

/** The IR nodes directly under `node`, found by looking at every property but types and spans. */
function reflectiveChildren(node: INode): INode[] {
  const out: INode[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (!v || typeof v !== "object") return;
    if ("e" in v || "s" in v) out.push(v as INode);
    else for (const [k, x] of Object.entries(v)) if (k !== "t" && k !== "span") visit(x);
  };
  for (const [k, v] of Object.entries(node)) if (k !== "t" && k !== "span" && !(k === "value" && "e" in node && node.e === "lit")) visit(v);
  return out;
}

function specFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) specFiles(p, out);
    else if (e.name.endsWith(".env") && e.name !== ".env") out.push(p);
  }
  return out;
}

describe("forEachChild", () => {
  it("gives the same children, in the same order, as a walk over every property, for every node of every spec", () => {
    const envs: IEnv[] = [];
    for (const f of [...specFiles("specs"), ...specFiles("tests")]) {
      const env = checkSource(readFileSync(f, "utf8"), f).env;
      if (env) envs.push(env);
    }
    expect(envs.length).toBeGreaterThan(20);
    let nodes = 0;
    const kinds = new Set<string>();
    for (const env of envs) {
      const roots: INode[] = [
        ...env.tools.flatMap((t) => t.body),
        ...env.invariants.map((i) => i.expr),
        ...env.scenarios.flatMap((s) => s.checks.map((c) => c.expr)),
      ];
      walkIr(roots, (n) => {
        nodes++;
        kinds.add("e" in n ? `e:${n.e}` : `s:${n.s}`);
        const structural: INode[] = [];
        forEachChild(n, (c) => structural.push(c));
        expect(structural).toEqual(reflectiveChildren(n));
      });
    }
    expect(nodes).toBeGreaterThan(10000);
    // every kind of node is met somewhere
    for (const k of ["lit", "str", "local", "state", "list", "record", "member", "index", "builtin", "call", "unary", "binary", "ternary", "lambda", "quant", "insert"])
      expect(kinds.has(`e:${k}`), k).toBe(true);
    for (const k of ["let", "assign", "expr", "if", "for", "require", "fail", "ensure", "return", "delete", "break"])
      expect(kinds.has(`s:${k}`), k).toBe(true);
  });
});
