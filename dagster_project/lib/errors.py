"""Errors a data engineer can act on: which file, which column or row, which rule."""

from __future__ import annotations

from pathlib import Path


class ExtractError(Exception):
    """A delivered extract cannot be loaded as it is.

    The message names the file, the rule broken, where (column, line) and what to do,
    because the person reading it is on call and has a supplier to phone.
    """

    def __init__(
        self,
        file: Path | str,
        rule: str,
        detail: str,
        *,
        column: str | None = None,
        lines: list[int] | None = None,
        hint: str | None = None,
    ) -> None:
        self.file = str(file)
        self.rule = rule
        self.detail = detail
        self.column = column
        self.lines = lines or []
        self.hint = hint
        where = []
        if column:
            where.append(f"column {column!r}")
        if self.lines:
            shown = ", ".join(str(n) for n in self.lines[:10])
            more = f" and {len(self.lines) - 10} more" if len(self.lines) > 10 else ""
            where.append(f"line {shown}{more}")
        at = f" ({'; '.join(where)})" if where else ""
        msg = f"{self.file}: rule '{rule}' broken{at}: {detail}"
        if hint:
            msg += f" What to do: {hint}"
        super().__init__(msg)

    def as_metadata(self) -> dict[str, str]:
        return {
            "file": self.file,
            "rule": self.rule,
            "column": self.column or "",
            "lines": ", ".join(map(str, self.lines[:20])),
            "detail": self.detail,
        }
