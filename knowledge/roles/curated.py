"""The curated alias file (``knowledge/data/role_aliases.yaml``): names, Chinese names and aliases.

It only enriches roles the documents discuss (see ``extract``); an entry no document speaks about
never becomes a role.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class CuratedRole:
    name: str
    zh: str | None
    aliases: tuple[str, ...]
    mentions: tuple[str, ...]
    topics: tuple[str, ...]


@lru_cache(maxsize=1)
def curated_roles() -> tuple[CuratedRole, ...]:
    """The packaged alias file (knowledge/data/role_aliases.yaml)."""
    raw = resources.files("knowledge").joinpath("data/role_aliases.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(raw) or {}
    out = []
    for item in data.get("roles", []):
        out.append(
            CuratedRole(
                name=str(item["name"]),
                zh=str(item["zh"]) if item.get("zh") else None,
                aliases=tuple(str(a) for a in item.get("aliases") or []),
                mentions=tuple(str(a) for a in item.get("mentions") or []),
                topics=tuple(str(a) for a in item.get("topics") or []),
            )
        )
    return tuple(out)


