// The checker's entry point; the checker itself is compiler/check/ (see its index.ts and
// docs/architecture.md). Kept so that importers need not know the folder's layout.
export { checkSpec, Checker, jsonToExpr, alwaysExits, assignable, type CheckResult, type ScenarioNames } from "./check/index.js";
