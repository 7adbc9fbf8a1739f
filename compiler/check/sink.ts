// Where the checker's passes report diagnostics: one list per spec, and the file they point
// at (the spec's own, or a `scenarios for` file / dataset while checking scenarios there).
import type * as A from "../../grammar/ast.js";
import { makeDiagnostic, type Code, type Diagnostic, type Related } from "../diagnostics.js";

export const ZERO_SPAN: A.Span = { start: { offset: 0, line: 1, column: 1 }, end: { offset: 0, line: 1, column: 1 } };

export class Sink {
  readonly diags: Diagnostic[] = [];
  /** set while checking scenarios written in another file (`scenarios for`, JSONL) */
  fileOverride?: string;

  constructor(readonly specFile: string) {}

  get file(): string {
    return this.fileOverride ?? this.specFile;
  }

  report(code: Code, span: A.Span, message: string, extra: { related?: Related[]; fix?: string } = {}): void {
    this.diags.push(makeDiagnostic(code, this.file, span, message, extra));
  }

  /** A bug in the checker, reported at the node it was checking instead of crashing. */
  internal(span: A.Span, err: unknown): void {
    this.diags.push(makeDiagnostic("ENV0000", this.file, span, `Internal checker error (please report): ${(err as Error).message}`));
  }

  /** Run `fn` with diagnostics pointing at `file` (the spec's own when undefined or the spec). */
  inFile<R>(file: string | undefined, fn: () => R): R {
    const saved = this.fileOverride;
    if (file !== undefined) this.fileOverride = file === this.specFile ? undefined : file;
    try {
      return fn();
    } finally {
      this.fileOverride = saved;
    }
  }
}
