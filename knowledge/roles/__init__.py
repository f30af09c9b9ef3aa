"""The role catalog: which jobs the knowledge base describes, and how people ask for them.

- ``names``: job-title grammar (head nouns, Chinese title suffixes), normalising and merging spellings;
- ``document``: stored chunks back into documents (lines, sections, sentences);
- ``extract``: role candidates from document structure, evidence, outlook statements → ``build_catalog``;
- ``curated``: the alias file that enriches (never adds) roles;
- ``catalog``: ``Role``, ``Evidence``, ``RoleCatalog`` with matching (exact, alias, Chinese, fuzzy, free text);
- ``outlook``: outlook tags, skill and human-value readings of sentences.

``KnowledgeBase.role_catalog()`` is the public way in; it caches the catalog per store version.
"""

from .catalog import Evidence, MatchKind, Outlook, Role, RoleCatalog, RoleMatch
from .curated import CuratedRole, curated_roles
from .extract import build_catalog
from .names import normalize, slug
from .outlook import human_value_clauses, outlook_cues, skill_strength

__all__ = [
    "CuratedRole", "Evidence", "MatchKind", "Outlook", "Role", "RoleCatalog", "RoleMatch", "build_catalog",
    "curated_roles", "human_value_clauses", "normalize", "outlook_cues", "skill_strength", "slug",
]
