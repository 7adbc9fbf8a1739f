// The compiler's name for util/output-files.ts (writeAtomic and the checks of output paths),
// which moved there so that llm/ can write its cache through it without importing the
// compiler. Kept so that the compiler's modules, its public surface (compiler/index.ts) and
// code written against this path keep working; new code imports util/output-files.js.
export * from "../util/output-files.js";
