// Text matching for answer checks: does an agent's reply mention a fact? Both texts are
// normalised the same way (case, accents' composed forms, punctuation, whitespace, number
// formats) and the fact's words must appear in the reply's words, in order and adjacent. A
// reply "Your refund is $1,234.50." mentions "1234.5", "refund is 1,234.50" and "REFUND";
// it does not mention "1234" or "refund of". Pure functions; no state, no compiler.

// a number as people write it: thousands separated by commas (or not), an optional fraction
const NUMBER = /\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?/g;

/** A number's canonical text: no thousands separators, no trailing fraction zeros (`1,234.50` -> `1234.5`, `007` -> `7`). */
function canonicalNumber(text: string): string {
  const plain = text.replace(/,/g, "");
  const [whole, fraction = ""] = plain.split(".");
  const w = whole!.replace(/^0+(?=\d)/, "");
  const f = fraction.replace(/0+$/, "");
  return f ? `${w}.${f}` : w;
}

/**
 * The words of a text for matching: lower case (Unicode NFKC first, so full-width digits and
 * ligatures match their plain forms), each number in canonical form, every other run of
 * characters that are not letters or digits a word break.
 */
export function answerWords(text: string): string[] {
  const lowered = text.normalize("NFKC").toLowerCase();
  const words: string[] = [];
  let last = 0;
  const pushText = (s: string) => {
    for (const w of s.split(/[^\p{L}\p{N}]+/u)) if (w) words.push(w);
  };
  for (const m of lowered.matchAll(NUMBER)) {
    const at = m.index!;
    // a digit run glued to letters ("v2", "2nd", "A1") stays a word as written
    const before = at > 0 ? lowered[at - 1]! : "";
    const after = lowered[at + m[0].length] ?? "";
    if (/[\p{L}]/u.test(before) || /[\p{L}]/u.test(after)) continue;
    pushText(lowered.slice(last, at));
    words.push(canonicalNumber(m[0]));
    last = at + m[0].length;
  }
  pushText(lowered.slice(last));
  return words;
}

/**
 * Whether `text` mentions `fact`: the fact's words (answerWords) occur in the text's words as
 * one adjacent run. A fact with no words (only punctuation) is mentioned by any text.
 */
export function mentions(text: string, fact: string): boolean {
  const need = answerWords(fact);
  if (need.length === 0) return true;
  const have = answerWords(text);
  outer: for (let i = 0; i + need.length <= have.length; i++) {
    for (let j = 0; j < need.length; j++) if (have[i + j] !== need[j]) continue outer;
    return true;
  }
  return false;
}
