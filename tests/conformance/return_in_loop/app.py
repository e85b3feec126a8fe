"""A library catalogue: lookups that return from inside for/while loops (nested, over remote
results, right after a remote call), so the remaining iterations must not run."""
from typing import Dict, List, Optional

from stateflow import stateflow


@stateflow
class Book:
    def __init__(self, isbn: str, title: str, copies: int):
        self.isbn: str = isbn
        self.title: str = title
        self.copies: int = copies
        self.asked: int = 0

    def __key__(self):
        return self.isbn

    def get_title(self) -> str:
        self.asked += 1
        return self.title

    def available(self) -> bool:
        self.asked += 1
        return self.copies > 0

    def lend(self) -> int:
        self.copies -= 1
        return self.copies

    def words(self) -> List[str]:
        self.asked += 1
        return self.title.lower().split()


@stateflow
class Library:
    def __init__(self, name: str):
        self.name: str = name
        self.books: List[Book] = []
        self.sections: Dict[str, List[Book]] = {}
        self.loans: List[str] = []

    def __key__(self):
        return self.name

    def add(self, section: str, book: Book) -> int:
        self.books.append(book)
        if section not in self.sections:
            self.sections[section] = []
        self.sections[section].append(book)
        return len(self.books)

    def find(self, title: str) -> Optional[Book]:
        for b in self.books:
            if b.get_title() == title:
                return b
        return None

    def borrow_any(self, section: str) -> str:
        for b in self.sections.get(section, []):
            if b.available():
                left = b.lend()
                self.loans.append(b.isbn)
                return f"{b.isbn} ({left} left)"
        return "none available"

    def find_word(self, word: str) -> List[str]:
        for sec, books in self.sections.items():
            for b in books:
                for w in b.words():
                    if w == word:
                        return [sec, b.isbn]
        return []

    def first_with_copies(self, n: int) -> int:
        i = 0
        while i < len(self.books):
            b = self.books[i]
            if b.lend() >= n:
                return i
            i += 1
        return -1

    def title_of_found(self, title: str) -> str:
        b = self.find(title)
        if b is None:
            return "?"
        return b.get_title().upper()
