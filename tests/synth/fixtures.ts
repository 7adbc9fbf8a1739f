// What the scripted model of the synth tests answers: a small sound spec (a shelf of books)
// under any env name, broken variants of it (a compile error, a tool that faults), its sample
// state, and scenario answers. The answers are written as a model would: fenced blocks for
// specs, JSON objects for the structured stages.
export const GOOD_STATE = {
  books: { B1: { book_id: "B1", title: "Dune", copies: 2 }, B2: { book_id: "B2", title: "Emma", copies: 1 } },
  members: { M1: { member_id: "M1", name: "Ada" } },
};

export function shelfSpec(envName: string): string {
  return `env ${envName} "A small book shelf"
"""Members borrow copies of the books on a shelf."""

entity Book key book_id "A title" {
  book_id: string "Book id, e.g. B1"
  title: string
  copies: int
}

entity Member key member_id {
  member_id: string
  name: string
}

state {
  books: table Book
  members: table Member
  today: date = "2024-01-01"
}

invariant copies_not_negative "No book has fewer than zero copies": all b in books: b.copies >= 0

query get_book(book_id: string) -> Book "Read one book." {
  let b = books[book_id] else "Book not found"
  return b
}

action add_copies(book_id: string, amount: int) -> Book "Add copies of a book." {
  let b = books[book_id] else "Book not found"
  require amount > 0 else "The amount must be positive"
  b.copies += amount
  return b
}

action add_book(title: string) -> Book "Add a new title with one copy." {
  let b = insert books { book_id: new_id("B"), title, copies: 1 }
  return b
}

action rename(book_id: string, title: string) -> Book "Rename a book." {
  let b = books[book_id] else "Book not found"
  b.title = title
  return b
}
`;
}

/** A spec answer as a model writes it: the spec, then the sample state. */
export function specAnswer(spec: string, state: unknown = GOOD_STATE): string {
  return `Here is the environment.\n\n\`\`\`env\n${spec}\`\`\`\n\n\`\`\`json\n${JSON.stringify(state, null, 2)}\n\`\`\`\n`;
}

/** A compile error: an unknown type on line 7 (ENV2002). */
export const withTypo = (spec: string) => spec.replace("  copies: int\n", "  copies: integer\n");

/** A tool that faults on an unknown id: fuzzing finds it (env_fault). */
export const withFault = (spec: string) => spec.replace(`action rename(book_id: string, title: string) -> Book "Rename a book." {
  let b = books[book_id] else "Book not found"`, `action rename(book_id: string, title: string) -> Book "Rename a book." {
  let b = books[book_id]`);

/** The env name a spec request asks for (`Header: \`env Name "..."\``). */
export function requestedEnv(text: string): string {
  const m = /Header: `env (\w+)/.exec(text);
  if (!m) throw new Error(`no requested env name in: ${text.slice(0, 200)}`);
  return m[1]!;
}

export const scenarioState = { json: { idea: "restock and rename", state_json: JSON.stringify(GOOD_STATE) } };
export const scenarioTask = (id = "restock_dune") => ({ json: { id, task: "Add three copies of Dune (B1), then rename it to \"Dune (2nd ed.)\".", persona: null } });

/** Checks and solution that verify against GOOD_STATE. */
export const goodChecks = {
  json: {
    checks: [
      { text: "Does Dune have five copies?", expr: 'books["B1"].copies == 5' },
      { text: "Is Dune renamed?", expr: 'books["B1"].title == "Dune (2nd ed.)"' },
    ],
    solution: [
      { name: "add_copies", arguments_json: '{"book_id": "B1", "amount": 3}' },
      { name: "rename", arguments_json: '{"book_id": "B1", "title": "Dune (2nd ed.)"}' },
    ],
  },
};

/** The same with a check that already holds at the start (ENV5008). */
export const alreadyTrueChecks = {
  json: {
    checks: [
      { text: "Does Dune have copies?", expr: 'books["B1"].copies >= 2' },
      { text: "Is Dune renamed?", expr: 'books["B1"].title == "Dune (2nd ed.)"' },
    ],
    solution: goodChecks.json.solution,
  },
};
