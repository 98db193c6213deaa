"""The project's errors: one base class, and a user-input error that says what, where and how to fix it.

Every error a user can cause by what they feed the command line is an :class:`InputError`; the command line turns
it into one message on standard error and exit status 2, never a traceback.

>>> str(InputError("unknown key", file="s.yaml", line=3, key="deployments[0].tipe",
...                expected="one of: type, size", found="tipe"))
"s.yaml:3: deployments[0].tipe: unknown key; expected one of: type, size; found 'tipe'"
>>> str(InputError("unknown actor 'ru\\nssia'", file="s.yaml"))
"s.yaml: unknown actor 'ru\\\\nssia'"
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Exit status for every error caused by the user's input.
EXIT_INPUT = 2
#: Longest message printed for one error, in characters.
MAX_MESSAGE = 1500


class SimError(Exception):
    """Base class of every error the simulator raises on purpose."""

    exit_code: int = 1


class InputError(SimError):
    """Bad input from a user: a file, a YAML key, a value or a command-line option.

    Args:
        message: what is wrong, in a few words.
        file: the file the input came from, if any.
        line: the 1-based line in that file, where the YAML parser knows it.
        key: the key path inside the document, such as ``deployments[0].type``.
        expected: what was expected.
        found: what was found (its ``repr`` is shown).
        hint: how to fix it, where that can be said.
    """

    exit_code = EXIT_INPUT

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        key: str | None = None,
        expected: str | None = None,
        found: Any = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.key = key
        self.expected = expected
        self.found = found
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = self.file + (f":{self.line}" if self.line is not None else "") + ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        if self.key:
            where += f"{self.key}: "
        text = where + self.message
        if self.expected is not None:
            text += f"; expected {self.expected}"
        if self.found is not None:
            found = self.found if isinstance(self.found, str) and self.found.startswith("<") else repr(self.found)
            text += f"; found {found}"
        if self.hint:
            text += f". {self.hint}"
        # one line, whatever the input held: control characters are shown escaped, and the length is bounded
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
        return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 3] + "..."
