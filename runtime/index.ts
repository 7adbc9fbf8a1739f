// The runtime's public surface: what generated environments import (as `rt`), and what users
// of a compiled environment need. Nothing here imports the compiler.
export * from "./env.js";
export * from "./budget.js";
export * from "./ops.js";
export * from "./render.js";
export * from "./scenario.js";
export * from "./replay.js";
export { mentions, answerWords } from "./answers.js";
export { arith } from "./arith.js";
export {
  DATE_PATTERN, DATETIME_PATTERN, isDate, isDatetime, dateProblem, datetimeProblem, dateValueProblem, daysInMonth, DateSchema, DatetimeSchema,
  dayNumber, dateOfDay, minuteNumber, datetimeOfMinute, shiftDay, dateAdd, datetimeAdd, daysBetween, dateOf, EDGE_DATES, EDGE_DATETIMES,
} from "./dates.js";
export { Store, Table } from "./store.js";
export { mapOf, mapOfByTransform, mapSet, mapAdd, mapSub, JsonValueSchema } from "./own-keys.js";
export {
  pyRound, pyFloatStr, pyMod, deepEqual, cloneJson, deepFreeze, parseJsonOrdered, stringifyOrdered, orderedKeys,
  KEY_ORDER, toText, JsonSyntaxError, JsonLinesError, parseJsonLines,
} from "./values.js";
