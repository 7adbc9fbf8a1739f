// `arith(text)`: evaluates an arithmetic expression the way Python's eval would for numbers,
// + - * / // % ** and parentheses on integers and decimals, giving null for anything else
// (a syntax error, division by zero, a complex result). Ports of Python tools use it where
// they called eval on a calculator string; no other code is ever evaluated.

type Tok = { k: "num"; v: number; int: boolean } | { k: "op"; v: string };

function tokenize(s: string): Tok[] | null {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === " " || c === "\t") {
      i++;
      continue;
    }
    const num = /^(?:\d+\.\d*|\.\d+|\d+)/.exec(s.slice(i));
    if (num) {
      const text = num[0];
      // Python 3 refuses leading zeros in integer literals ("007"), but not in "0" or decimals
      if (!text.includes(".") && text.length > 1 && text[0] === "0" && /[1-9]/.test(text)) return null;
      out.push({ k: "num", v: Number(text), int: !text.includes(".") });
      i += text.length;
      continue;
    }
    const two = s.slice(i, i + 2);
    if (two === "**" || two === "//") {
      out.push({ k: "op", v: two });
      i += 2;
      continue;
    }
    if ("+-*/%()".includes(c)) {
      out.push({ k: "op", v: c });
      i++;
      continue;
    }
    return null;
  }
  return out;
}

/** A Python number: the value and whether it is an int (ints stay ints under + - * // % **). */
type Num = { v: number; int: boolean };

class ArithError extends Error {}

function pyFloorMod(a: number, b: number): number {
  const m = a % b;
  return m !== 0 && m < 0 !== b < 0 ? m + b : m;
}

function binary(op: string, a: Num, b: Num): Num {
  const int = a.int && b.int;
  switch (op) {
    case "+": return { v: a.v + b.v, int };
    case "-": return { v: a.v - b.v, int };
    case "*": return { v: a.v * b.v, int };
    case "/":
      if (b.v === 0) throw new ArithError("division by zero");
      return { v: a.v / b.v, int: false };
    case "//":
      if (b.v === 0) throw new ArithError("division by zero");
      return { v: Math.floor(a.v / b.v), int };
    case "%":
      if (b.v === 0) throw new ArithError("modulo by zero");
      return { v: pyFloorMod(a.v, b.v), int };
    case "**": {
      if (a.v === 0 && b.v < 0) throw new ArithError("zero to a negative power");
      if (a.v < 0 && !Number.isInteger(b.v)) throw new ArithError("complex result");
      // an int to a negative int power is a float in Python
      return { v: Math.pow(a.v, b.v), int: int && b.v >= 0 };
    }
  }
  throw new ArithError(`unknown operator ${op}`);
}

/** Python's grammar for these operators: ** binds tighter than unary minus on its left. */
function parse(toks: Tok[]): Num {
  let p = 0;
  const peek = () => toks[p];
  const isOp = (v: string) => {
    const t = toks[p];
    return t !== undefined && t.k === "op" && t.v === v;
  };
  const atom = (): Num => {
    const t = toks[p++];
    if (!t) throw new ArithError("unexpected end");
    if (t.k === "num") return { v: t.v, int: t.int };
    if (t.v === "(") {
      const v = sum();
      if (!isOp(")")) throw new ArithError("unclosed parenthesis");
      p++;
      return v;
    }
    throw new ArithError(`unexpected ${t.v}`);
  };
  const power = (): Num => {
    const base = atom();
    if (isOp("**")) {
      p++;
      return binary("**", base, unary()); // right-associative; the exponent may be signed
    }
    return base;
  };
  const unary = (): Num => {
    if (isOp("-")) {
      p++;
      const v = unary();
      return { v: -v.v, int: v.int };
    }
    if (isOp("+")) {
      p++;
      return unary();
    }
    return power();
  };
  const product = (): Num => {
    let v = unary();
    for (let t = peek(); t && t.k === "op" && (t.v === "*" || t.v === "/" || t.v === "//" || t.v === "%"); t = peek()) {
      p++;
      v = binary(t.v, v, unary());
    }
    return v;
  };
  const sum = (): Num => {
    let v = product();
    for (let t = peek(); t && t.k === "op" && (t.v === "+" || t.v === "-"); t = peek()) {
      p++;
      v = binary(t.v, v, product());
    }
    return v;
  };
  const v = sum();
  if (p !== toks.length) throw new ArithError("unexpected text after the expression");
  return v;
}

/** The value of an arithmetic expression, or null when Python's eval would not give a number. */
export function arith(text: string): number | null {
  const toks = tokenize(text);
  if (!toks || toks.length === 0) return null;
  try {
    const r = parse(toks);
    return Number.isFinite(r.v) ? r.v : null;
  } catch (err) {
    if (err instanceof ArithError) return null;
    throw err;
  }
}
