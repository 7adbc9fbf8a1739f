// The rule registry: for each kind of syntax node, the rule that checks it and lowers it to the
// IR. A new expression or statement kind gets its rule here (TypeScript refuses a table that
// misses a kind); a new check on an existing kind goes into that kind's rule.
import type { Rules } from "./context.js";
import { expressionRules } from "./expressions.js";
import { callRule } from "./calls.js";
import { binaryRule, unaryRule } from "./operators.js";
import { statementRules } from "./statements.js";

export const RULES: Rules = {
  expr: { ...expressionRules, Call: callRule, Unary: unaryRule, Binary: binaryRule },
  stmt: statementRules,
};
