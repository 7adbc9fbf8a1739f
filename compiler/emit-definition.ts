// The environment's runtime definition as JavaScript source: zod schemas, tool functions,
// tables, invariants, tool schemas; and each scenario check as a function. Shared by the
// TypeScript module (emit.ts, typed, through ts-morph) and by loading a spec in memory
// (`definitionScript`, plain JavaScript evaluated with no TypeScript anywhere), so that the two
// cannot drift apart. Sees only the IR; imports neither ts-morph nor prettier.
import type { IEnv, Type, FieldType, IScenario } from "./ir.js";
import type { Span } from "../grammar/ast.js";
import type { ScenarioDef } from "../runtime/index.js";
import { stripOptional, isOptional } from "./ir.js";
import { JsEmitter, toolFn, propKey, propAccess, jsValue } from "./emit-js.js";
import { invariantReads, perRecordJoins } from "./invariant-reads.js";

export function pascal(name: string): string {
  return name.replace(/(^|[_-])([a-z])/g, (_, __, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, "");
}

// ---------- zod ----------

// dates and datetimes: the runtime's schemas (runtime/dates.ts), which check the calendar
/** How a zod expression names one of the spec's named schemas: a const (`XSchema`), or a call of its maker (`XSchema()`). */
type Named = (schema: string) => string;
const asConst: Named = (schema) => schema;
const asMaker: Named = (schema) => `${schema}()`;

export function zodType(t: Type, named: Named = asConst): string {
  switch (t.k) {
    case "string":
    case "ref":
      return "z.string()";
    case "date":
      return "rt.DateSchema";
    case "datetime":
      return "rt.DatetimeSchema";
    case "int":
      return "z.number().int()";
    case "number":
      return "z.number()";
    case "bool":
      return "z.boolean()";
    case "json":
    case "error":
    case "lambda":
    case "pair":
      return "rt.JsonValueSchema";
    case "null":
    case "void":
      return "z.null()";
    case "enum":
      return t.name ? named(`${t.name}Schema`) : `z.enum(${JSON.stringify(t.values)})`;
    case "list":
      return `z.array(${zodType(t.elem, named)})`;
    case "map": {
      // date and datetime keys are checked like values; other keys are any string (also
      // "__proto__": rt.mapOf is z.record keeping that key, which z.record drops)
      const key = stripOptional(t.key);
      return `rt.mapOf(${key.k === "date" || key.k === "datetime" ? zodType(key, named) : "z.string()"}, ${zodType(t.value, named)})`;
    }
    case "record":
      return t.name ? `z.lazy(() => ${named(`${t.name}Schema`)})` : zodObject(t.fields, named);
    case "optional":
      return `${zodType(t.inner, named)}.nullable()`;
    case "table":
      return `rt.mapOf(z.string(), ${named(`${t.entity}Schema`)})`;
  }
}

function zodField(f: { type: Type; hasDefault: boolean; default?: unknown }, named: Named): string {
  let s = zodType(f.type, named);
  if (f.hasDefault) s += `.default(${jsValue(f.default)})`;
  else if (isOptional(f.type)) s += ".optional()";
  return s;
}

export function zodObject(fields: FieldType[], named: Named = asConst): string {
  return `z.strictObject({ ${fields.map((f) => `${propKey(f.name)}: ${zodField(f, named)}`).join(", ")} })`;
}

// ---------- JSON schema (OpenAI tools) ----------

function jsonSchema(t: Type, description?: string): Record<string, unknown> {
  const base = stripOptional(t);
  let s: Record<string, unknown>;
  switch (base.k) {
    case "string":
    case "ref":
      s = { type: "string" };
      break;
    case "date":
      s = { type: "string", format: "date" };
      break;
    case "datetime":
      s = { type: "string", format: "date-time" };
      break;
    case "int":
      s = { type: "integer" };
      break;
    case "number":
      s = { type: "number" };
      break;
    case "bool":
      s = { type: "boolean" };
      break;
    case "enum":
      s = { type: "string", enum: base.values };
      break;
    case "list":
      s = { type: "array", items: jsonSchema(base.elem) };
      break;
    case "map":
      s = { type: "object", additionalProperties: jsonSchema(base.value) };
      break;
    case "record":
      s = {
        type: "object",
        properties: Object.fromEntries(base.fields.map((f) => [f.name, jsonSchema(f.type, f.description)])),
        required: base.fields.filter((f) => !isOptional(f.type) && !f.hasDefault).map((f) => f.name),
      };
      break;
    default:
      s = {};
  }
  if (description) s = { ...s, description };
  return s;
}

export function toolSchemas(env: IEnv): unknown[] {
  return env.tools
    .filter((t) => t.kind !== "fn")
    .map((t) => ({
      type: "function",
      function: {
        name: t.name,
        description: t.description ?? "",
        parameters: {
          type: "object",
          properties: Object.fromEntries(
            t.params.map((p) => {
              const s = jsonSchema(p.type, p.description);
              if (p.hasDefault && p.default !== null) s.default = p.default;
              return [p.name, s];
            }),
          ),
          required: t.params.filter((p) => p.required).map((p) => p.name),
        },
      },
    }));
}

// ---------- refs ----------

function joinPath(path: string | null, suffix: string): string {
  return path === null ? JSON.stringify(suffix) : `${path} + ${JSON.stringify(suffix)}`;
}

/** Entities' tables by entity name (the first entity of a name), for lookups per reference. */
function tablesOf(env: IEnv): Map<string, string | undefined> {
  const tables = new Map<string, string | undefined>();
  for (const e of env.entities) if (!tables.has(e.name)) tables.set(e.name, e.table);
  return tables;
}

/** Code that pushes every reference a record holds, as [path, table, key]. */
function refsCode(tables: ReadonlyMap<string, string | undefined>, t: Type, access: string, path: string | null, depth = 0): string[] {
  const base = stripOptional(t);
  const guard = (code: string[]) => (isOptional(t) ? [`if (${access} != null) {`, ...code, "}"] : code);
  if (base.k === "ref") {
    const table = tables.get(base.entity);
    if (!table || path === null) return [];
    return guard([`out.push([${path}, ${JSON.stringify(table)}, ${access}]);`]);
  }
  if (base.k === "list") {
    const i = `i${depth}`;
    const inner = refsCode(tables, base.elem, `${access}[${i}]`, `${path ?? '""'} + "[" + ${i} + "]"`, depth + 1);
    if (!inner.length) return [];
    return guard([`for (let ${i} = 0; ${i} < ${access}.length; ${i}++) {`, ...inner, "}"]);
  }
  if (base.k === "map") {
    const k = `k${depth}`;
    const inner = refsCode(tables, base.value, `${access}[${k}]`, `${path ?? '""'} + "." + ${k}`, depth + 1);
    if (!inner.length) return [];
    return guard([`for (const ${k} of Object.keys(${access})) {`, ...inner, "}"]);
  }
  if (base.k === "record" && depth < 4) {
    const inner = base.fields.flatMap((f) =>
      refsCode(tables, f.type, `${access}${/^[A-Za-z_]\w*$/.test(f.name) ? "." + f.name : `[${JSON.stringify(f.name)}]`}`, joinPath(path, path === null ? f.name : "." + f.name), depth + 1),
    );
    return inner.length ? guard(inner) : [];
  }
  return [];
}


// ---------- the definition ----------

/** `XSchema` initializers of the named enums and records, in declaration order. */
export function namedSchemas(env: IEnv, named: Named = asConst): { enums: { name: string; init: string }[]; records: { name: string; init: string }[] } {
  return {
    enums: env.enums.map((en) => ({ name: `${en.name}Schema`, init: `z.enum(${JSON.stringify(en.values)})` })),
    records: env.records.map((r) => ({ name: `${r.name}Schema`, init: zodObject(r.type.fields, named) })),
  };
}

/** The initializer of `StateSchema`: tables default to empty. */
export function stateSchemaInit(env: IEnv): string {
  return zodObject(env.state.map((f) => (f.table ? { ...f, hasDefault: true, default: {} } : f)));
}

/** The initializer of `ArgSchemas`: each agent tool's argument schema by name. */
export function argSchemasInit(env: IEnv): string {
  const agentTools = env.tools.filter((t) => t.kind !== "fn");
  return `{ ${agentTools.map((t) => `${propKey(t.name)}: ${argSchema(t)}`).join(", ")} }`;
}

function argSchema(t: IEnv["tools"][number], named: Named = asConst): string {
  return zodObject(t.params.map((p) => ({ name: p.name, type: p.type, hasDefault: p.hasDefault, default: p.default })), named);
}

export interface DefinitionOptions {
  /** a name the tool schemas are bound to, instead of writing them out */
  toolSchemasFrom?: string;
  /**
   * every zod schema made on first use: a named one by its maker `XSchema()` (see
   * definitionScript), each tool's argument schema by the i-th function of `$argSchemas`, kept
   * in `$args[i]`, instead of `ArgSchemas.<tool>`. Zod schemas are slow to make, and a spec of
   * thousands of entities and tools mostly has few of them used in one command.
   */
  lazySchemas?: boolean;
}

/**
 * The initializer of `definition` (an rt.EnvDefinition), given the emitter that lowered the
 * tool bodies; `typed` adds the TypeScript annotations the generated env.ts carries.
 */
export function definitionInit(env: IEnv, js: JsEmitter, typed: boolean, options: DefinitionOptions = {}): string {
  const named = options.lazySchemas ? asMaker : asConst;
  const agentTools = env.tools.filter((t) => t.kind !== "fn");
  const any = typed ? ": any" : "";
  const byName = new Map<string, IEnv["entities"][number]>();
  for (const e of env.entities) if (!byName.has(e.name)) byName.set(e.name, e);
  const entityTables = tablesOf(env);
  const tables = env.state.filter((f) => f.table).map((f) => {
    const entity = byName.get(f.table!)!;
    const refs = refsCode(entityTables, entity.type, "r", null);
    const refsFn = refs.length ? `(r${any}) => { const out${typed ? ": [string, string, string][]" : ""} = []; ${refs.join("\n")} return out; }` : "undefined";
    const record = options.lazySchemas ? `get record() { return ${entity.name}Schema(); }` : `record: ${entity.name}Schema`;
    return `{ name: ${JSON.stringify(f.name)}, entity: ${JSON.stringify(entity.name)}, key: ${JSON.stringify(entity.key)}, ${entity.externalKey ? "externalKey: true, " : ""}${record}, refs: ${refsFn} }`;
  });
  const globals = env.state.filter((f) => !f.table).map(
    (f) => `{ name: ${JSON.stringify(f.name)}, schema: ${zodType(f.type, named)}, hasDefault: ${f.hasDefault || isOptional(f.type)}, default: ${jsValue(f.hasDefault ? f.default : null)} }`,
  );
  const tools = agentTools.map((t, i) => {
    const args = options.lazySchemas
      ? `get args() { return ($args[${i}] ??= $argSchemas[${i}]()); }`
      : `args: ArgSchemas${t.name === "__proto__" ? '["__proto__"]' : propAccess(t.name)}`;
    return `{ name: ${JSON.stringify(t.name)}, kind: ${JSON.stringify(t.kind)}, description: ${JSON.stringify(t.description ?? "")}, ${args}, run: ${toolFn(t.name)}, location: ${js.loc(t.span)} }`;
  });
  const invariants = env.invariants.map((inv) => {
    const pr = js.perRecordCheck(inv);
    return `{ name: ${JSON.stringify(inv.name)}, description: ${JSON.stringify(inv.description ?? "")}, location: ${js.loc(inv.span)}, reads: ${JSON.stringify(invariantReads(env, inv))}, check: ($s${typed ? ": rt.Ctx" : ""}) => ${js.invariantCheck(inv)}${pr ? `, perRecord: { table: ${JSON.stringify(inv.perRecord!.table)}, check: ${pr}, joins: ${JSON.stringify(perRecordJoins(env, inv) ?? {})} }` : ""} }`;
  });
  return `{
        name: ${JSON.stringify(env.name)},
        title: ${JSON.stringify(env.title ?? "")},
        description: ${JSON.stringify(env.description ?? "")},
        specFile: ${JSON.stringify(env.file)},
        rules: ${JSON.stringify(env.rules)},
        tables: [${tables.join(", ")}],
        globals: [${globals.join(", ")}],
        tools: [${tools.join(", ")}],
        invariants: [${invariants.join(", ")}],
        toolSchemas: ${options.toolSchemasFrom ?? jsValue(toolSchemas(env))},${env.maxSteps !== undefined ? `\n        maxSteps: ${env.maxSteps},` : ""}
      }`;
}

/**
 * The definition as plain JavaScript: the body of a function of `rt` (the runtime), `z` (zod)
 * and `toolSchemas` (toolSchemas(env), kept as data: JSON.parse reads it much faster than the
 * engine compiles it as a literal, which matters for specs of thousands of tools) that returns
 * the rt.EnvDefinition. The same declarations, in the same order, as the generated env.ts,
 * less its types, its class and StateSchema (which the definition does not use), except that
 * each zod schema is made when first used (DefinitionOptions.lazySchemas): a named schema
 * `XSchema` is a function that makes it once.
 */
export function definitionScript(env: IEnv): string {
  const js = new JsEmitter(env, false);
  const { enums, records } = namedSchemas(env, asMaker);
  const out = ['"use strict";', "const $once = (make) => { let made; return () => (made ??= make()); };"];
  for (const s of [...enums, ...records]) out.push(`const ${s.name} = $once(() => ${s.init});`);
  const agentTools = env.tools.filter((t) => t.kind !== "fn");
  out.push(`const $args = [], $argSchemas = [${agentTools.map((t) => `() => ${argSchema(t, asMaker)}`).join(", ")}];`);
  for (const t of env.tools) out.push(`function ${toolFn(t.name)}($s, $a) {\n${js.toolBody(t)}\n}`);
  out.push(`return ${definitionInit(env, js, false, { toolSchemasFrom: "toolSchemas", lazySchemas: true })};`);
  return out.join("\n");
}

// ---------- scenario checks ----------

/** file:line:col of a scenario's check, as faults and reports name it. */
export function checkLocation(sc: IScenario, i: number): string {
  const span = sc.checks[i]!.span;
  return `${sc.file}:${span.start.line}:${span.start.column}`;
}

/** Each check of a scenario as the source of an arrow function `($s, $i) => bool`, `($s, $i, reply) => bool` for an answer check. */
export function scenarioCheckSources(env: IEnv, sc: IScenario, typed: boolean): string[] {
  const js = new JsEmitter(env, typed, sc.file);
  const ctx = typed ? ": rt.Ctx" : "";
  return sc.checks.map((c) => `($s${ctx}, $i${ctx}${c.readsReply ? `, reply${typed ? ": string" : ""}` : ""}) => ${js.scenarioCheck(c)}`);
}

/** file:line:col of a scenario's outcome. */
export function outcomeLocation(sc: IScenario, i: number): string {
  const span = sc.outcomes![i]!.span;
  return `${sc.file}:${span.start.line}:${span.start.column}`;
}

/** A scenario's reply, outcomes and reward mode as the runtime's ScenarioDef has them (only those it has). */
export function scenarioExtras(sc: IScenario): Pick<ScenarioDef, "reply" | "outcomes" | "reward"> {
  return {
    ...(sc.reply !== undefined ? { reply: sc.reply } : {}),
    ...(sc.outcomes?.length
      ? { outcomes: sc.outcomes.map((o, i) => ({ text: o.text, location: outcomeLocation(sc, i), ...(o.fields ? { fields: o.fields } : {}) })) }
      : {}),
    ...(sc.reward ? { reward: sc.reward } : {}),
  };
}

/**
 * A scenario as the loader needs it, all plain data: its runtime definition less the check
 * functions, each check's JavaScript source, and where its initial state is named (for
 * diagnostics about that state). Serializable, so that compiled scenarios can be cached.
 */
export interface ScenarioSource {
  def: Omit<ScenarioDef, "checks"> & { checks: { text: string; location: string; readsReply?: boolean }[] };
  checks: string[];
  init: IScenario["init"];
  initSpan: Span;
}

export function scenarioSources(env: IEnv, scenarios: readonly IScenario[] = env.scenarios): ScenarioSource[] {
  return scenarios.map((sc) => ({
    def: {
      id: sc.name,
      ...(sc.description !== undefined ? { description: sc.description } : {}),
      task: sc.task,
      ...(sc.persona !== undefined ? { persona: sc.persona } : {}),
      ...("file" in sc.init ? { initialFile: sc.init.file } : { initial: sc.init.value }),
      source: sc.file,
      checks: sc.checks.map((c, i) => ({ text: c.text, location: checkLocation(sc, i), ...(c.readsReply ? { readsReply: true } : {}) })),
      solution: sc.solution.map((s) => ({ name: s.tool, arguments: s.args })),
      ...scenarioExtras(sc),
    },
    checks: scenarioCheckSources(env, sc, false),
    init: sc.init,
    initSpan: sc.initSpan,
  }));
}

/**
 * A checked environment compiled for loading, as plain data (what the cache of compiled specs
 * stores): its definition script and its scenarios (`scenarios`: the env's own by default;
 * callers add a dataset's).
 */
export interface CompiledEnv {
  name: string;
  file: string;
  /** definitionScript(env), and the toolSchemas(env) it takes */
  definition: string;
  toolSchemas: unknown[];
  scenarios: ScenarioSource[];
}

export function compiledEnv(env: IEnv, scenarios: readonly IScenario[] = env.scenarios): CompiledEnv {
  return { name: env.name, file: env.file, definition: definitionScript(env), toolSchemas: toolSchemas(env), scenarios: scenarioSources(env, scenarios) };
}
