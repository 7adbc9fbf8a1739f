// The symbol table: what the declarations pass finds (enums, records, entities, the state,
// tool signatures, top-level names) and every later pass reads. Later passes get it read-only;
// only compiler/check/declarations.ts builds one.
import type * as A from "../../grammar/ast.js";
import type { IEntity, IEnum, IParam, IStateField, Type } from "../ir.js";

export type RecordT = Extract<Type, { k: "record" }>;

/** A tool's checked signature, found before any body is checked (bodies call each other). */
export interface ToolSig {
  decl: A.ToolDecl;
  params: IParam[];
  returnType?: Type;
}

export interface SymbolTable {
  readonly enums: ReadonlyMap<string, IEnum & { span: A.Span }>;
  /** the enums that list each value, in declaration order: a lookup per bound name or bare
   *  value, where a scan of every enum made large specs quadratic */
  readonly enumsByValue: ReadonlyMap<string, readonly IEnum[]>;
  readonly records: ReadonlyMap<string, { type: RecordT; span: A.Span; description?: string }>;
  readonly entities: ReadonlyMap<string, IEntity & { span: A.Span }>;
  readonly state: ReadonlyMap<string, IStateField & { span: A.Span }>;
  readonly tools: ReadonlyMap<string, ToolSig>;
  readonly topNames: ReadonlyMap<string, A.Span>;
}

/** The table while the declarations pass fills it. */
export interface SymbolBuilder extends SymbolTable {
  readonly enums: Map<string, IEnum & { span: A.Span }>;
  readonly enumsByValue: Map<string, IEnum[]>;
  readonly records: Map<string, { type: RecordT; span: A.Span; description?: string }>;
  readonly entities: Map<string, IEntity & { span: A.Span }>;
  readonly state: Map<string, IStateField & { span: A.Span }>;
  readonly tools: Map<string, ToolSig>;
  readonly topNames: Map<string, A.Span>;
}

export function emptySymbols(): SymbolBuilder {
  return {
    enums: new Map(), enumsByValue: new Map(), records: new Map(), entities: new Map(),
    state: new Map(), tools: new Map(), topNames: new Map(),
  };
}
