// A spec whose tools an argument can drive too far (loops, lists, inserts, recursion), shared
// by the step budget tests in tests/runtime and tests/server. Line numbers are asserted there.
export const RUNAWAY = `env Runaway "Tools an argument can drive too far"

entity Log key log_id {
  log_id: string
  n: int
}

state {
  logs: table Log
  total: int = 0
}

query count_up(n: int) -> int "Sum the numbers below n." {
  let t = 0
  for i in range(n) {
    t += i
  }
  return t
}

action fill(n: int) -> int "Add n logs, after bumping the total." {
  total += 1
  for i in range(n) {
    insert logs { log_id: new_id("L"), n: i }
  }
  return len(logs)
}

query numbers(n: int) -> int "Build the list of numbers below n." {
  let xs = range(n)
  return len(xs)
}

query doubled(n: int) -> int "Double a list n times." {
  let xs = [1]
  for i in range(n) {
    xs = xs + xs
  }
  return len(xs)
}

query pairs(n: int) -> int "Count the pairs of numbers below n." {
  let xs = range(n)
  return xs.map(a => xs.count(b => b < a)).sum()
}

fn down(n: int) -> int {
  if n <= 0 {
    return 0
  }
  return 1 + down(n - 1)
}

query depth(n: int) -> int "Recurse n deep." {
  return down(n)
}
`;
