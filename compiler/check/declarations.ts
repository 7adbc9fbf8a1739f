// The declarations pass: from the syntax tree to the symbol table. Declares every top-level
// name (enums, records, entities, invariants, tools), then resolves record and entity fields,
// the state block (which table stores which entity) and tool signatures, so that bodies can be
// checked in any order. Also the `limits { ... }` block.
import type * as A from "../../grammar/ast.js";
import { closest } from "../diagnostics.js";
import { MAX_MAX_STEPS as MAX_LIMIT_STEPS } from "../../runtime/budget.js";
import { isOptional, typeToString } from "../types.js";
import type { IParam } from "../ir.js";
import { refuseReserved } from "./scope.js";
import { resolveFields, resolveType } from "./type-nodes.js";
import { emptySymbols, type RecordT, type SymbolBuilder, type SymbolTable } from "./symbols.js";
import type { Sink } from "./sink.js";

/** The symbol table of `ast`, every problem with its declarations reported to `sink`. */
export function declarationsPass(ast: A.SpecFile, sink: Sink): SymbolTable {
  const sym = emptySymbols();
  declareNames(ast, sym, sink);
  resolveRecordFields(ast, sym, sink);
  resolveState(ast, sym, sink);
  resolveSignatures(ast, sym, sink);
  return sym;
}

function declareTop(sym: SymbolBuilder, sink: Sink, name: A.Ident, what: string): boolean {
  refuseReserved(sink, name, what === "enum" || what === "record" || what === "entity" ? "type" : what === "invariant" ? "invariant" : "tool");
  const prev = sym.topNames.get(name.name);
  if (prev) {
    sink.report("ENV2004", name.span, `'${name.name}' is already declared`, {
      related: [{ file: sink.file, span: prev, message: "first declared here" }],
      fix: `rename this ${what}`,
    });
    return false;
  }
  sym.topNames.set(name.name, name.span);
  return true;
}

function declareNames(ast: A.SpecFile, sym: SymbolBuilder, sink: Sink): void {
  let stateSeen: A.Span | undefined;
  for (const d of ast.decls) {
    switch (d.kind) {
      case "Enum":
        declareEnum(d, sym, sink);
        break;
      case "Record":
        if (declareTop(sym, sink, d.name, "record"))
          sym.records.set(d.name.name, { type: { k: "record", name: d.name.name, fields: [] }, span: d.name.span, description: d.description });
        break;
      case "Entity":
        declareEntity(d, sym, sink);
        break;
      case "State":
        if (stateSeen)
          sink.report("ENV2015", d.span, "A spec has only one state block", {
            related: [{ file: sink.file, span: stateSeen, message: "first state block" }],
            fix: "merge the fields into the first state block",
          });
        stateSeen ??= d.span;
        break;
      case "Invariant":
        declareTop(sym, sink, d.name, "invariant");
        break;
      case "Tool":
        declareTop(sym, sink, d.name, d.toolKind);
        break;
      case "Rule":
      case "Scenario":
      case "Limits":
        break;
    }
  }
}

function declareEnum(d: Extract<A.Decl, { kind: "Enum" }>, sym: SymbolBuilder, sink: Sink): void {
  if (!declareTop(sym, sink, d.name, "enum")) return;
  const values: string[] = [];
  const descriptions: (string | undefined)[] = [];
  for (const m of d.members) {
    if (values.includes(m.name.name)) {
      sink.report("ENV2006", m.name.span, `Enum ${d.name.name} lists '${m.name.name}' twice`);
      continue;
    }
    values.push(m.name.name);
    descriptions.push(m.description);
  }
  const en = { name: d.name.name, description: d.description, values, descriptions, span: d.name.span };
  sym.enums.set(d.name.name, en);
  for (const v of values) {
    const owners = sym.enumsByValue.get(v);
    if (owners) owners.push(en);
    else sym.enumsByValue.set(v, [en]);
  }
}

function declareEntity(d: Extract<A.Decl, { kind: "Entity" }>, sym: SymbolBuilder, sink: Sink): void {
  if (!declareTop(sym, sink, d.name, "entity")) return;
  const type: RecordT = { k: "record", name: d.name.name, fields: [], entity: d.name.name };
  sym.records.set(d.name.name, { type, span: d.name.span, description: d.description });
  sym.entities.set(d.name.name, {
    name: d.name.name, key: d.key.name, ...(d.external ? { externalKey: true } : {}), description: d.description, type, span: d.name.span,
  });
  if (d.keyWord.name !== "key")
    sink.report("ENV1001", d.keyWord.span, `Expected 'key' but found '${d.keyWord.name}'`, { fix: `write \`entity ${d.name.name} key <field> { ... }\`` });
  if (d.external && d.external.name !== "external")
    sink.report("ENV1001", d.external.span, `Expected 'external' or '{' but found '${d.external.name}'`, { fix: `write \`entity ${d.name.name} key ${d.key.name} { ... }\`` });
}

/** Fields of records and entities (declared first, so that they may refer to each other), and entity keys. */
function resolveRecordFields(ast: A.SpecFile, sym: SymbolBuilder, sink: Sink): void {
  for (const d of ast.decls) {
    if (d.kind !== "Record" && d.kind !== "Entity") continue;
    const target = sym.records.get(d.name.name);
    if (!target || target.span !== d.name.span) continue;
    target.type.fields.push(...resolveFields(sym, sink, d.fields, "field"));
    if (d.kind === "Entity") checkEntityKey(d, target.type, sink);
  }
}

function checkEntityKey(d: Extract<A.Decl, { kind: "Entity" }>, type: RecordT, sink: Sink): void {
  const keyField = type.fields.find((f) => f.name === d.key.name);
  if (d.external) {
    if (keyField)
      sink.report("ENV2012", d.key.span, `The external key '${d.key.name}' of ${d.name.name} is also a field`, {
        fix: `drop \`external\` (the records hold their key) or the field`,
      });
  } else if (!keyField) {
    const guess = closest(d.key.name, type.fields.map((f) => f.name));
    sink.report("ENV2012", d.key.span, `Entity ${d.name.name} has no field '${d.key.name}' to use as its key`, {
      fix: guess ? `did you mean \`${guess}\`?` : `add \`${d.key.name}: string\``,
    });
  } else if (keyField.type.k !== "string")
    sink.report("ENV3011", d.key.span, `Key field '${d.key.name}' of ${d.name.name} is ${typeToString(keyField.type)}; key fields are strings`, { fix: `declare \`${d.key.name}: string\`` });
}

function resolveState(ast: A.SpecFile, sym: SymbolBuilder, sink: Sink): void {
  for (const d of ast.decls) {
    if (d.kind !== "State") continue;
    // each name's first declaration, found once (a search per field was quadratic)
    const firstDecl = new Map<string, (typeof d.fields)[number]>();
    for (const x of d.fields) if (!firstDecl.has(x.name.name)) firstDecl.set(x.name.name, x);
    for (const f of resolveFields(sym, sink, d.fields, "state field", true)) {
      const decl = firstDecl.get(f.name)!;
      if (sym.state.has(f.name)) {
        sink.report("ENV2005", decl.name.span, `Duplicate state field '${f.name}'`);
        continue;
      }
      const table = f.type.k === "table" ? f.type.entity : undefined;
      if (table) {
        const entity = sym.entities.get(table)!;
        if (entity.table) {
          sink.report("ENV2013", decl.name.span, `Entity ${table} is already stored in table '${entity.table}'`, {
            related: [{ file: sink.file, span: sym.state.get(entity.table)!.span, message: "its table" }],
          });
          continue;
        }
        entity.table = f.name;
      }
      sym.state.set(f.name, { ...f, table, span: decl.name.span });
    }
  }
  for (const e of sym.entities.values())
    if (!e.table)
      sink.report("ENV4016", e.span, `Entity ${e.name} is not stored in any table`, {
        fix: `add \`${e.name.toLowerCase()}s: table ${e.name}\` to the state block`,
      });
}

function resolveSignatures(ast: A.SpecFile, sym: SymbolBuilder, sink: Sink): void {
  for (const d of ast.decls) {
    if (d.kind !== "Tool" || sym.tools.has(d.name.name) || sym.topNames.get(d.name.name) !== d.name.span) continue;
    const fields = resolveFields(sym, sink, d.params, "parameter");
    const params: IParam[] = fields.map((f) => ({
      name: f.name,
      type: f.type,
      description: f.description,
      required: !f.hasDefault && !isOptional(f.type),
      default: f.hasDefault ? f.default : undefined,
      hasDefault: f.hasDefault,
    }));
    const returnType = d.returnType ? resolveType(sym, sink, d.returnType) : undefined;
    sym.tools.set(d.name.name, { decl: d, params, returnType });
    if (d.toolKind !== "fn" && !d.description)
      sink.report("ENV4013", d.name.span, `Tool '${d.name.name}' has no description`, { fix: "add a string after the signature saying what it does" });
  }
}

/**
 * `limits { steps: N }`: the step budget of one tool call (runtime/env.ts). A whole number
 * from 1 to MAX_LIMIT_STEPS, given at most once.
 */
export function limitsPass(ast: A.SpecFile, sink: Sink): number | undefined {
  let steps: number | undefined;
  let seen: A.Span | undefined;
  for (const d of ast.decls) {
    if (d.kind !== "Limits") continue;
    if (seen) {
      sink.report("ENV3019", d.span, "A spec has one `limits { ... }` block", {
        related: [{ file: sink.file, span: seen, message: "first given here" }],
        fix: "merge the settings into the first block",
      });
      continue;
    }
    seen = d.span;
    steps = limitSteps(d, sink) ?? steps;
  }
  return steps;
}

function limitSteps(d: Extract<A.Decl, { kind: "Limits" }>, sink: Sink): number | undefined {
  let steps: number | undefined;
  const named = new Set<string>();
  for (const item of d.items) {
    if (item.name.name !== "steps") {
      sink.report("ENV3019", item.name.span, `Unknown limit '${item.name.name}': the limits are steps`, {
        fix: "write `steps: 500000` (evaluation steps one tool call may take)",
      });
      continue;
    }
    if (named.has("steps")) {
      sink.report("ENV3019", item.name.span, "'steps' is given twice");
      continue;
    }
    named.add("steps");
    const v = item.value;
    if (v.kind !== "Int" || v.value < 1 || v.value > MAX_LIMIT_STEPS) {
      sink.report("ENV3019", v.span, `steps is a whole number from 1 to ${MAX_LIMIT_STEPS.toLocaleString("en-US")}`, {
        fix: "write a whole number such as `steps: 500000`; the default is 100,000",
      });
      continue;
    }
    steps = v.value;
  }
  return steps;
}
