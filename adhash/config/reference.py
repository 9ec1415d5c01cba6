"""The settings reference in Markdown, generated from the model, for ``docs/config.md``."""

from __future__ import annotations

from adhash.config.catalog import fields, sections

__all__ = ["render_reference"]


def render_reference() -> str:
    """One table per section: key, what it accepts, default, environment variable, meaning.

    >>> "| `migration_batch` |" in render_reference()
    True
    """
    out: list[str] = []
    for section, description in sections():
        out += [f"### `[{section}]`", "", description, ""]
        out += ["| key | allowed | default | environment variable | meaning |"]
        out += ["| --- | --- | --- | --- | --- |"]
        for field in fields():
            if field.section != section:
                continue
            cells = [
                f"`{field.name}`",
                field.allowed(),
                f"`{field.format(field.default)}`",
                f"`{field.env_var}`",
                field.description,
            ]
            out.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
