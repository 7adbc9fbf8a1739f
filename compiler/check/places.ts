// Places: what may be assigned, deleted or changed in place. A state field (not a whole table),
// a record field (not an entity's key), a map or list entry, or a path below one of them or
// below a local; never a parameter. Shared by assignments, `delete` and list mutators.
import type * as A from "../../grammar/ast.js";
import { stripOptional, type Type } from "../types.js";
import type { IExpr } from "../ir.js";
import type { Cx } from "./context.js";

/** A place is a state field, a table/map entry or a path below one, or a path below a local. */
export function checkPlace(cx: Cx, target: IExpr, span: A.Span): void {
  if (target.e === "state") {
    if (target.table) cx.report("ENV4005", span, `Cannot replace the whole table '${target.field}'`, { fix: "insert, delete or assign its records' fields" });
    return;
  }
  if (target.e === "member") {
    const objT = stripOptional(target.object.t);
    if (objT.k === "record" && objT.entity) {
      const ent = cx.sym.entities.get(objT.entity);
      if (ent && ent.key === target.name) {
        cx.report("ENV4003", span, `'${target.name}' is the key of ${ent.name}; it cannot be changed`, {
          fix: "insert a new record with the new key and delete the old one",
        });
      }
    }
    checkPlaceRoot(cx, target.object, span);
    return;
  }
  if (target.e === "index") {
    if (target.mode === "string") cx.report("ENV4005", span, "Strings cannot be changed in place");
    if (target.mode === "table") {
      cx.report("ENV4005", span, "Assign fields of a record (`t[k].f = v`) or use insert; a whole table entry cannot be replaced", { fix: "use `insert` for new records" });
      return;
    }
    checkPlaceRoot(cx, target.object, span);
    return;
  }
  if (target.t.k !== "error") cx.report("ENV4005", span, "This is not something that can be assigned", { fix: "assign a state field, a record field, a list element or a map entry" });
}

export function checkPlaceRoot(cx: Cx, obj: IExpr, span: A.Span): void {
  if (obj.e === "local") {
    const local = cx.scope.lookup(obj.name);
    if (local?.kind === "param") cx.report("ENV4009", span, `Parameter '${obj.name}' is read-only`, { fix: "look the record up again by its key and change that" });
    return;
  }
  if (obj.e === "state") return;
  if (obj.e === "member" || obj.e === "index") return checkPlaceRoot(cx, obj.object, span);
  if (obj.e === "builtin" && (obj.fn.endsWith(".find") || obj.fn.endsWith(".first") || obj.fn.endsWith(".last") || obj.fn.endsWith(".get"))) return;
  if (obj.t.k !== "error") cx.report("ENV4005", span, "Only paths rooted in the state or a local variable can be assigned");
}

/** The type a place was declared with, not the one a null test narrowed it to. */
export function declaredType(cx: Cx, target: IExpr): Type {
  if (target.e === "local") return cx.scope.lookup(target.name)?.type ?? target.t;
  if (target.e === "state") return cx.sym.state.get(target.field)?.type ?? target.t;
  if (target.e === "member") {
    const ot = stripOptional(target.object.t);
    if (ot.k === "record") return ot.fields.find((f) => f.name === target.name)?.type ?? target.t;
  }
  return target.t;
}
