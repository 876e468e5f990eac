"""Small text checks shared by every layer."""


def is_ascii_number(text: str) -> bool:
    """Whether `text` is a non-empty run of the digits 0-9.

    str.isdigit() also accepts superscripts and other Unicode digits ('²', '①') that int() then
    refuses with a ValueError (a 500 where a 400 belongs), and codes must be ASCII anyway. Use this,
    never isdigit(), for anything a client sends (tests/test_ascii_numbers.py checks the tree)."""
    return text.isascii() and text.isdigit()
