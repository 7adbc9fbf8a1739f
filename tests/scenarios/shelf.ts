// A small spec and scenarios shared by the scenario tests: a shelf of books with copies.
export const SHELF = `env Shelf "A tiny book shelf"

entity Book key book_id "A title" {
  book_id: string "Book id, e.g. B1"
  title: string
  copies: int
}

state {
  books: table Book
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

action rename(book_id: string, title: string) -> Book "Rename a book (faults on an unknown id)." {
  let b = books[book_id]
  b.title = title
  return b
}
`;

export const SHELF_STATE = { books: { B1: { book_id: "B1", title: "Dune", copies: 2 } } };

/** A passing scenario: three actions, checks that need all of them. */
export const RESTOCK = `scenarios for Shelf

scenario restock "Restock and add a title" {
  init { books: { B1: { book_id: "B1", title: "Dune", copies: 2 } } }
  task """Add three copies of Dune (B1), add the title Emma,
    then rename Dune to "Dune (2nd ed.)"."""
  check "Does Dune have five copies?": books["B1"].copies == 5
  check "Is there one more title, Emma?": len(books) == len(initial.books) + 1 and books.any(b => b.title == "Emma")
  check "Is Dune renamed?": books["B1"].title == "Dune (2nd ed.)"
  solution {
    add_copies(book_id: "B1", amount: 3)
    add_book(title: "Emma")
    rename(book_id: "B1", title: "Dune (2nd ed.)")
  }
}
`;
