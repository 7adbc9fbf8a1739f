// Which locals must hold writable copies of state records: those that are the root of an
// assignment or a list mutation, and, transitively, the locals they were read from. The emitter
// copies a record on read only for these (a read-only record is shared with the state).
import type { IExpr, IStmt } from "../ir.js";
import { walkIr, isExpr } from "../ir-walk.js";
import { isListMutator } from "../builtins.js";

/** Set `writable` on the lets and loops of `body` whose locals are written through. */
export function markWritable(body: IStmt[]): void {
  const roots = new Set<string>();
  const sources = new Map<string, Set<string>>();
  const lets: Extract<IStmt, { s: "let" | "for" }>[] = [];
  const mutated = (e: IExpr) =>
    walkIr(e, (n) => {
      if (isExpr(n) && n.e === "builtin" && isListMutator(n.fn)) addAll(roots, localRoots(n.args[0]!));
    });
  walkIr(body, (n) => {
    if (isExpr(n)) {
      mutated(n);
      return false;
    }
    if (n.s === "let") {
      lets.push(n);
      sources.set(n.name, localRoots(n.value));
      mutated(n.value); // not the else message: it has always been left out
      return false;
    }
    if (n.s === "for") {
      lets.push(n);
      const acc = localRoots(n.iterable);
      sources.set(n.name, acc);
      if (n.second) sources.set(n.second, acc);
    } else if (n.s === "assign" && n.target.e !== "local") addAll(roots, localRoots(n.target));
  });
  closeOver(roots, sources);
  for (const s of lets) {
    if (s.s === "let" && roots.has(s.name)) s.writable = true;
    if (s.s === "for" && (roots.has(s.name) || (s.second !== undefined && roots.has(s.second)))) s.writable = true;
  }
}

/** The locals a value may be (part of): `x.f[i]`, `x.find(...)`, either branch of `?:` and `??`. */
function localRoots(e: IExpr, acc = new Set<string>()): Set<string> {
  if (e.e === "local") acc.add(e.name);
  else if (e.e === "member" || e.e === "index") localRoots(e.object, acc);
  else if (e.e === "builtin" && e.args.length) localRoots(e.args[0]!, acc);
  else if (e.e === "ternary") {
    localRoots(e.then, acc);
    localRoots(e.otherwise, acc);
  } else if (e.e === "binary" && e.op === "??") {
    localRoots(e.left, acc);
    localRoots(e.right, acc);
  }
  return acc;
}

function addAll(to: Set<string>, from: Iterable<string>): void {
  for (const x of from) to.add(x);
}

/** Add to `roots` every local a root was read from, to a fixpoint. */
function closeOver(roots: Set<string>, sources: Map<string, Set<string>>): void {
  let changed = true;
  while (changed) {
    changed = false;
    for (const r of [...roots]) {
      for (const src of sources.get(r) ?? []) {
        if (!roots.has(src)) {
          roots.add(src);
          changed = true;
        }
      }
    }
  }
}
