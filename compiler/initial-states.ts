// The initial states of scenarios, each built once (read, parsed, validated against the
// definition) and forked by every scenario that starts there; a state that cannot be built
// becomes a diagnostic at the scenario's `init`. Imports the runtime only, not the parser or
// checker, so that scenarios loaded from the cache of compiled specs use it too.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { Environment, StateError, parseJsonOrdered, JsonSyntaxError, type EnvDefinition } from "../runtime/index.js";
import { makeDiagnostic, type Diagnostic } from "./diagnostics.js";
import type { IScenario } from "./ir.js";

/** What of a scenario says where it starts: an IScenario, or one loaded from the cache. */
export type ScenarioStart = Pick<IScenario, "name" | "file" | "init" | "initSpan">;

/** The absolute path of a scenario's initial-state file (it is relative to the scenario's own file). */
export function initialFileOf(sc: ScenarioStart): string | undefined {
  return "file" in sc.init ? path.resolve(path.dirname(sc.file), sc.init.file) : undefined;
}

type Initial = { env: Environment } | { diagnostic: (sc: ScenarioStart) => Diagnostic };

/** Builds (and caches) the environment of each initial state; scenarios fork it. */
export class InitialStates {
  private byFile = new Map<string, Initial>();
  private byValue = new WeakMap<object, Initial>();
  constructor(private def: EnvDefinition) {}

  get(sc: ScenarioStart): Initial {
    if ("file" in sc.init) {
      const file = initialFileOf(sc)!;
      let got = this.byFile.get(file);
      if (!got) this.byFile.set(file, (got = this.fromFile(file, sc.init.file)));
      return got;
    }
    const value = sc.init.value;
    if (value === null || typeof value !== "object") return this.build(value);
    let got = this.byValue.get(value);
    if (!got) this.byValue.set(value, (got = this.build(value)));
    return got;
  }

  private fromFile(file: string, given: string): Initial {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (err as Error).message;
      return { diagnostic: (sc) => makeDiagnostic("ENV5006", sc.file, sc.initSpan, `Cannot read the initial state ${given} (${file}): ${reason}`, { fix: "the path is relative to the folder of the file that names it" }) };
    }
    let value: unknown;
    try {
      value = parseJsonOrdered(text);
    } catch (err) {
      const where = err instanceof JsonSyntaxError ? `${given}:${err.line}:${err.column}: ` : "";
      return { diagnostic: (sc) => makeDiagnostic("ENV5006", sc.file, sc.initSpan, `The initial state is not valid JSON: ${where}${(err as Error).message}`) };
    }
    return this.build(value);
  }

  private build(value: unknown): Initial {
    try {
      return { env: Environment.createFrom(this.def, value) };
    } catch (err) {
      if (!(err instanceof StateError)) throw err;
      const shown = err.problems.slice(0, 8).map((p) => `  ${p.path}: ${p.message}`);
      if (err.problems.length > 8) shown.push(`  ... and ${err.problems.length - 8} more`);
      return {
        diagnostic: (sc) =>
          makeDiagnostic("ENV5007", sc.file, sc.initSpan, `The initial state of scenario '${sc.name}' is invalid:\n${shown.join("\n")}`, {
            fix: "fix the state so that it matches the schema, its references resolve and the invariants hold",
          }),
      };
    }
  }
}
