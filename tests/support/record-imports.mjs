// Preloaded with `node --import ./tests/support/record-imports.mjs`: appends the URL of every
// module the process imports (ES modules, and CommonJS ones reached by import) to the file
// named by $RECORD_IMPORTS, one a line. Used to check what a command loads.
import { register } from "node:module";

const hooks = `
import { appendFileSync } from "node:fs";
const out = process.env.RECORD_IMPORTS;
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (out) appendFileSync(out, r.url + "\\n");
  return r;
}`;
register("data:text/javascript," + encodeURIComponent(hooks));
