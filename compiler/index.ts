// The compiler's public surface, the package export `envc/compiler`: check spec text, emit an
// environment's files, load a checked spec in memory (no build step), verify scenarios, fuzz
// an environment, render diagnostics, and work on files and folders as the CLI does.
// What the CLI and tests import from the modules directly stays available there.
export { checkSource, attachScenarioFiles, type CheckedSpec } from "./pipeline.js";
export { emitEnv, toolSchemas, type EmittedFile, type EmitOptions } from "./emit.js";
export { loadDefinition, loadScenarios } from "./load.js";
export {
  CODES, makeDiagnostic, hasErrors, sortDiagnostics, renderPretty, renderShort, toJson, explain, visible,
  type Diagnostic, type Severity, type Related,
} from "./diagnostics.js";
export {
  findSpecFiles, isSpecFile, checkFile, checkInputs, emitChecked, writeOutput, staleFiles, envFolderName,
  type FoundFiles, type EnvOutput,
} from "./project.js";
export { writeAtomic, checkOutputFile, OutputError } from "../util/output-files.js";
export { verifyAll, verifyScenarios, InitialStates, type ScenarioVerdict, type EnvVerdicts, type VerifyOptions } from "./verify.js";
export { loadDataset, type DatasetResult } from "./dataset.js";
export { fuzzEnv, type FuzzOptions, type FuzzReport, type Finding } from "./fuzz/engine.js";
export type { IEnv } from "./ir.js";
