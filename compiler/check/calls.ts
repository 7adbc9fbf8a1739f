// Call rules: tool and helper calls (arguments by name or position, defaults filled in),
// built-in functions and methods, both looked up in the one builtin table (compiler/builtins.ts,
// which the emitter reads too), and the lambdas given to collection methods.
import type * as A from "../../grammar/ast.js";
import { closest } from "../diagnostics.js";
import { isDate, isDatetime } from "../../runtime/dates.js";
import { T, optional, isOptional, typeToString, isStringLike, type Type } from "../types.js";
import type { IExpr } from "../ir.js";
import {
  builtinId, COLLECTION_METHODS, LIST_MUTATORS, STRING_METHODS, METHOD_ALIASES, GLOBALS, KEYED_METHODS, type MethodSig, type GlobalSig,
} from "../builtins.js";
import type { Cx, ExprRule } from "./context.js";
import type { ToolSig } from "./symbols.js";
import { elementType, receiverKind } from "./expressions.js";
import { checkPlace, checkPlaceRoot } from "./places.js";
import { effect, mutation } from "./purity.js";

type CallExpr = Extract<A.Expr, { kind: "Call" }>;

export const callRule: ExprRule<"Call"> = (cx, e) => {
  const span = e.span;
  // Enum.value(...) makes no sense; methods only
  if (e.callee.kind === "Member") return method(cx, e.callee.object, e.callee.name, e.args, span);
  if (e.callee.kind !== "Name") {
    cx.report("ENV3006", e.callee.span, "Only tools, helpers and built-in functions can be called");
    return { e: "lit", value: null, t: T.error, span };
  }
  const name = e.callee.name;
  if (cx.scope.lookup(name) || cx.sym.state.has(name)) {
    cx.report("ENV3006", e.callee.span, `'${name}' is a value, not a function`);
    return { e: "lit", value: null, t: T.error, span };
  }
  const tool = cx.sym.tools.get(name);
  if (tool) return toolCall(cx, tool, e, span);
  // `len(xs)` is `xs.len()`, and so are the other aliases; `min(xs)` is `xs.min()`
  if (METHOD_ALIASES.has(name) && e.args.length >= 1) return method(cx, e.args[0]!.value, { name, span: e.callee.span }, e.args.slice(1), span);
  if ((name === "min" || name === "max") && e.args.length === 1) return method(cx, e.args[0]!.value, { name, span: e.callee.span }, [], span);
  const g = GLOBALS[name];
  if (!g) {
    const guess = closest(name, [...cx.sym.tools.keys(), ...Object.keys(GLOBALS), ...METHOD_ALIASES]);
    cx.report("ENV2009", e.callee.span, `Unknown function '${name}'`, guess ? { fix: `did you mean \`${guess}\`?` } : {});
    for (const a of e.args) cx.expr(a.value);
    return { e: "lit", value: null, t: T.error, span };
  }
  return globalCall(cx, name, g, e);
};

function globalCall(cx: Cx, name: string, g: GlobalSig, e: CallExpr): IExpr {
  const span = e.span;
  if (e.args.some((a) => a.name)) cx.report("ENV2016", span, `Built-in '${name}' takes positional arguments only`);
  if (e.args.length < g.minArgs || (!g.variadic && e.args.length > g.params.length)) {
    cx.report("ENV3007", span, `'${name}' takes ${g.variadic ? `at least ${g.minArgs}` : g.minArgs === g.params.length ? g.minArgs : `${g.minArgs} to ${g.params.length}`} argument${g.params.length === 1 ? "" : "s"}, got ${e.args.length}`);
  }
  const args = e.args.map((a, i) => {
    const pt = g.params[Math.min(i, g.params.length - 1)]!;
    const x = cx.expr(a.value, pt.k === "json" ? undefined : pt);
    if (pt.k !== "json") cx.expectAssignable(x.t, pt, a.value.span);
    // days_between and date_of take strings: a literal one must still be a date or datetime
    if ((name === "days_between" || name === "date_of") && x.e === "lit" && typeof x.value === "string" && !isDate(x.value) && !isDatetime(x.value))
      cx.report("ENV3001", a.value.span, `${JSON.stringify(x.value)} is not a date or datetime (like 2024-05-01 or 2024-05-01T09:30:00)`);
    return x;
  });
  if (name === "new_id" && cx.kind !== "action" && cx.kind !== "fn") mutation(cx, span, "new_id draws from the id counter");
  else if (name === "new_id") cx.writes = true;
  const r = g.result(args.map((a) => a.t));
  if (typeof r === "string") {
    cx.report("ENV3001", span, r);
    return { e: "builtin", fn: builtinId("g", name), args, t: T.error, span };
  }
  return { e: "builtin", fn: builtinId("g", name), args, t: r, span };
}

function toolCall(cx: Cx, tool: ToolSig, e: CallExpr, span: A.Span): IExpr {
  const name = tool.decl.name.name;
  if (cx.kind === "check")
    cx.report("ENV5016", e.callee.span, `A check cannot call '${name}': checks read the final state directly`, {
      fix: "write the condition over the state, e.g. `accounts[\"A1\"].balance == 50`",
    });
  cx.calls.push({ callee: name, span });
  const slots: (IExpr | undefined)[] = tool.params.map(() => undefined);
  let positional = 0;
  for (const a of e.args) {
    let idx: number;
    if (a.name) {
      idx = tool.params.findIndex((p) => p.name === a.name!.name);
      if (idx < 0) {
        const guess = closest(a.name.name, tool.params.map((p) => p.name));
        cx.report("ENV2016", a.name.span, `'${name}' has no parameter '${a.name.name}'`, guess ? { fix: `did you mean \`${guess}\`?` } : {});
        cx.expr(a.value);
        continue;
      }
    } else idx = positional++;
    const p = tool.params[idx];
    if (!p) {
      cx.report("ENV3007", a.value.span, `'${name}' takes ${tool.params.length} argument${tool.params.length === 1 ? "" : "s"}`);
      cx.expr(a.value);
      continue;
    }
    const x = cx.expr(a.value, p.type);
    cx.expectAssignable(x.t, p.type, a.value.span);
    slots[idx] = x;
  }
  const args = tool.params.map((p, i) => {
    const given = slots[i];
    if (given) return given;
    if (p.required) cx.report("ENV3008", span, `Missing argument '${p.name}' for '${name}'`);
    return { e: "lit", value: (p.hasDefault ? p.default : null) as never, t: p.type, span } as IExpr;
  });
  return { e: "call", callee: name, args, t: tool.returnType ?? T.void, span };
}

function lambda(cx: Cx, arg: A.Expr, params: Type[], pairElem?: Type): IExpr {
  if (arg.kind !== "Lambda") {
    cx.report("ENV3009", arg.span, "Expected a function like `x => x.price`");
    cx.expr(arg);
    return { e: "lit", value: null, t: T.error, span: arg.span };
  }
  let types = params;
  let destructure = false;
  if (arg.params.length === 2 && pairElem?.k === "pair") {
    types = [pairElem.first, pairElem.second];
    destructure = true;
  } else if (arg.params.length !== params.length) {
    cx.report("ENV3009", arg.span, `This function takes ${arg.params.length} parameter${arg.params.length === 1 ? "" : "s"}; ${params.length} expected`);
  }
  cx.scope.push();
  arg.params.forEach((p, i) => cx.scope.bind(p, types[i] ?? T.error, "lambda"));
  const body = cx.expr(arg.body);
  cx.scope.pop();
  return { e: "lambda", params: arg.params.map((p) => p.name), body, destructure, t: { k: "lambda", params: types, result: body.t }, span: arg.span };
}

/** A method call `recv.name(args)` (or a global alias of one). */
function method(cx: Cx, recvAst: A.Expr, nameId: { name: string; span: A.Span }, rawArgs: A.Arg[], span: A.Span): IExpr {
  const name = nameId.name;
  const recv = cx.expr(recvAst);
  const rt = recv.t;
  const errorOut = (): IExpr => {
    for (const a of rawArgs) if (a.value.kind !== "Lambda") cx.expr(a.value);
    return { e: "lit", value: null, t: T.error, span };
  };
  if (rt.k === "error" || rt.k === "json") return errorOut();
  if (isOptional(rt)) {
    cx.report("ENV3002", recvAst.span, `This value may be null (${typeToString(rt)}); check it before calling '${name}'`);
    return errorOut();
  }
  if ((rt.k === "table" || rt.k === "map") && (KEYED_METHODS as readonly string[]).includes(name)) return keyedMethod(cx, recv, rt, name, rawArgs, span);
  const { sig, elem } = methodSig(cx, recv, recvAst, name);
  if (!sig) {
    const pool = rt.k === "list" ? [...Object.keys(COLLECTION_METHODS), ...Object.keys(LIST_MUTATORS)] :
      rt.k === "table" ? [...Object.keys(COLLECTION_METHODS), ...KEYED_METHODS] :
      rt.k === "map" ? [...KEYED_METHODS] : isStringLike(rt) ? Object.keys(STRING_METHODS) : [];
    const guess = closest(name, pool);
    cx.report("ENV2014", nameId.span, `${typeToString(rt)} has no method '${name}'`, guess ? { fix: `did you mean \`${guess}\`?` } : {});
    return errorOut();
  }
  if (rawArgs.some((a) => a.name)) cx.report("ENV2016", span, `Method '${name}' takes positional arguments only`);
  if (rawArgs.length < sig.minArgs || rawArgs.length > sig.args.length) {
    cx.report("ENV3007", span, `'${name}' takes ${sig.minArgs === sig.args.length ? sig.minArgs : `${sig.minArgs} to ${sig.args.length}`} argument${sig.args.length === 1 ? "" : "s"}, got ${rawArgs.length}`);
    return errorOut();
  }
  if (sig.mutates) {
    // the list itself is changed in place: its root must be writable, like an assignment's
    if (recv.e === "local" || recv.e === "state") checkPlaceRoot(cx, recv, span);
    else checkPlace(cx, recv, span);
    effect(cx, recv, span, name);
  }
  return methodResult(cx, recv, sig, elem, name, rawArgs, span);
}

/** keys, values, entries, get and len of tables and maps. */
function keyedMethod(cx: Cx, recv: IExpr, rt: Extract<Type, { k: "table" | "map" }>, name: string, rawArgs: A.Arg[], span: A.Span): IExpr {
  const valueT = rt.k === "table" ? cx.sym.entities.get(rt.entity)!.type : rt.value;
  const keyT = rt.k === "table" ? T.string : rt.key;
  const args = rawArgs.map((a) => cx.expr(a.value, keyT));
  const want = name === "get" ? 1 : 0;
  if (args.length !== want) cx.report("ENV3007", span, `'${name}' takes ${want} argument${want === 1 ? "" : "s"}`);
  const t: Type =
    name === "keys" ? { k: "list", elem: keyT } :
    name === "values" ? { k: "list", elem: valueT } :
    name === "entries" ? { k: "list", elem: { k: "pair", first: keyT, second: valueT } } :
    name === "get" ? optional(valueT) : T.int;
  return { e: "builtin", fn: builtinId(receiverKind(rt), name), args: [recv, ...args], t, span };
}

/** The signature of method `name` of the receiver's type, and the type of its elements. */
function methodSig(cx: Cx, recv: IExpr, recvAst: A.Expr, name: string): { sig?: MethodSig; elem: Type } {
  const rt = recv.t;
  if (rt.k === "list" || rt.k === "table")
    return { elem: elementType(cx, recv, recvAst.span), sig: COLLECTION_METHODS[name] ?? (rt.k === "list" ? LIST_MUTATORS[name] : undefined) };
  if (isStringLike(rt)) return { sig: STRING_METHODS[name], elem: T.string };
  if (rt.k === "map" && (name === "contains" || name === "count")) return { sig: COLLECTION_METHODS[name], elem: rt.value };
  return { elem: T.error };
}

/** Type a method's arguments (lambdas get the element type) and its result. */
function methodResult(cx: Cx, recv: IExpr, sig: MethodSig, elem: Type, name: string, rawArgs: A.Arg[], span: A.Span): IExpr {
  const rt = recv.t;
  const kind = receiverKind(rt);
  const args: IExpr[] = [];
  const resultArgs: Type[] = [];
  rawArgs.forEach((a, i) => {
    const spec = sig.args[i]!;
    if (spec.kind === "lambda") {
      const lam = lambda(cx, a.value, [elem], elem);
      args.push(lam);
      resultArgs.push(lam.t.k === "lambda" ? lam.t.result : T.error);
      return;
    }
    let pt: Type | undefined;
    if (["contains", "index_of", "append", "remove"].includes(name) && (rt.k === "list" || rt.k === "table")) pt = elem;
    else if (name === "insert_at") pt = i === 0 ? T.int : elem;
    else if (name === "slice") pt = T.int;
    else if (kind === "str" || name === "join") pt = T.string;
    const x = cx.expr(a.value, pt);
    if (pt) cx.expectAssignable(x.t, pt, a.value.span);
    args.push(x);
    resultArgs.push(x.t);
  });
  const r = sig.result(elem, resultArgs);
  if (typeof r === "string") {
    cx.report(r.includes("must return a bool") ? "ENV3003" : "ENV3001", span, r[0]!.toUpperCase() + r.slice(1));
    return { e: "builtin", fn: builtinId(kind, sig.id), args: [recv, ...args], t: T.error, span };
  }
  return { e: "builtin", fn: builtinId(kind, sig.id), args: [recv, ...args], t: r, span };
}
