// The import graph of envc's sources, read with TypeScript's own parser: every static import,
// `export ... from`, dynamic `import("...")`, `import x = require(...)` and `import("...")`
// type, with its line and whether it is type-only. A parser and not a regular expression,
// because specifiers also appear in strings and comments (the emitters' templates hold
// `from "./env.js"`, grammar/ast.ts's comments `init from "file.json"`), and because type-only
// imports matter to the rules (tests/architecture/import-rules.ts).
// Assumes ES module sources with relative specifiers ending in .js for .ts files (NodeNext);
// anything else (a package, node:fs) is recorded with no target.
import ts from "typescript";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";

export interface ImportEdge {
  /** the importing file, relative to the repository root with / separators: "cli/rollout.ts" */
  from: string;
  /** the specifier as written: "../synth/llm/index.js" */
  specifier: string;
  /** the imported source file, relative to the root ("llm/index.ts"); undefined for packages and node: modules */
  target?: string;
  line: number;
  kind: "import" | "export" | "dynamic" | "require" | "import-type";
  /** erased when compiled: `import type`, `export type`, or only `type` names, or an `import("x").T` type */
  typeOnly: boolean;
  /** the names imported or re-exported (empty for namespaces, side-effect imports and dynamic imports) */
  names: string[];
  /** a dynamic import whose specifier is not a string literal, so that it cannot be resolved */
  computed?: boolean;
}

/** Every .ts file (not .d.ts) under the given top-level folders, relative to `root`, sorted. */
export function sourceFiles(root: string, folders: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(rel);
    }
  };
  for (const f of folders) if (existsSync(path.join(root, f))) walk(f);
  return out.sort();
}

/** The repository-relative .ts file a relative specifier names, as NodeNext resolves `.js` to its `.ts` source. */
function resolve(root: string, from: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  const abs = path.resolve(root, path.dirname(from), specifier);
  const candidates = [abs.replace(/\.js$/, ".ts"), abs, `${abs}.ts`, path.join(abs, "index.ts")];
  // a file that is not there is still named, so that a rule can speak of it (tsc reports it missing)
  const found = candidates.find((c) => existsSync(c) && statSync(c).isFile()) ?? candidates[0]!;
  return path.relative(root, found).split(path.sep).join("/");
}

/** The imports of one file's text. */
export function importsOfText(root: string, file: string, text: string): ImportEdge[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const edges: ImportEdge[] = [];
  const add = (node: ts.Node, specifier: string, kind: ImportEdge["kind"], typeOnly: boolean, names: string[], computed = false) => {
    const target = computed ? undefined : resolve(root, file, specifier);
    edges.push({
      from: file, specifier, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, kind, typeOnly, names,
      ...(target ? { target } : {}), ...(computed ? { computed } : {}),
    });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : [];
      const names = [...(clause?.name ? ["default"] : []), ...named.map((e) => (e.propertyName ?? e.name).text)];
      // `import { type A, type B }` is erased like `import type { A, B }`; a bare `import "x"` never is
      const typeOnly = !!clause && (clause.isTypeOnly || (!clause.name && !!clause.namedBindings && ts.isNamedImports(clause.namedBindings) && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(node, node.moduleSpecifier.text, "import", typeOnly, names);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const named = node.exportClause && ts.isNamedExports(node.exportClause) ? node.exportClause.elements : [];
      const typeOnly = node.isTypeOnly || (named.length > 0 && named.every((e) => e.isTypeOnly));
      add(node, node.moduleSpecifier.text, "export", typeOnly, named.map((e) => (e.propertyName ?? e.name).text));
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference) && ts.isStringLiteral(node.moduleReference.expression)) {
      add(node, node.moduleReference.expression.text, "require", node.isTypeOnly, []);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteralLike(arg)) add(node, arg.text, "dynamic", false, []);
      else add(node, arg ? arg.getText(sf) : "", "dynamic", false, [], true);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node, node.argument.literal.text, "import-type", true, []);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return edges;
}

/** The imports of every source file under `folders`. */
export function importGraph(root: string, folders: readonly string[]): { files: string[]; edges: ImportEdge[] } {
  const files = sourceFiles(root, folders);
  return { files, edges: files.flatMap((f) => importsOfText(root, f, readFileSync(path.join(root, f), "utf8"))) };
}
