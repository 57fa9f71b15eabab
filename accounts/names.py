"""User names that read as one person: a bill's history names its actor, so no two users may
have names that render the same.

A name with an invisible or direction-control character is refused outright (it renders as
another name, or reorders the text around it). Otherwise a name is reduced to its *skeleton*:
compatibility-decomposed (NFKD: fullwidth, mathematical and ligature letters become plain ones,
accents come apart), case-folded, Latin look-alikes from Cyrillic, Greek and IPA mapped to the
Latin letter they imitate, recomposed, and runs of white space collapsed (a page shows "a  b" as
"a b"). Two names with one skeleton are one name; `User.name_key` stores a digest of it under a
unique constraint, so the rule also holds when two sign-ups race.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

# Characters that render as nothing (or as blank space) but are letters or marks to Unicode,
# so the category test below does not catch them: combining grapheme joiner, Hangul fillers,
# Khmer inherent vowels, Mongolian variation selectors, variation selectors, braille blank.
_INVISIBLE = {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0}
_INVISIBLE_RANGES = ((0x180B, 0x180F), (0xFE00, 0xFE0F), (0xE0100, 0xE01EF))

# Look-alikes after case folding (so each capital is caught through its small letter). A small
# table of the common Cyrillic, Greek and IPA imitations of Latin letters, not all of UTS #39.
_CONFUSABLES = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "е": "e", "ѕ": "s", "і": "i", "ј": "j", "к": "k", "м": "m",
        "н": "h", "о": "o", "п": "n", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x",
        "һ": "h", "ӏ": "l", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ү": "y", "ɡ": "g",
        # Greek
        "α": "a", "β": "b", "γ": "y", "ε": "e", "ζ": "z", "η": "n", "ι": "i", "κ": "k",
        "μ": "m", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w",
        "ϲ": "c", "ϳ": "j",
        # Latin and IPA
        "ı": "i", "ȷ": "j", "ɑ": "a", "ɩ": "i", "ʏ": "y", "ɪ": "i",
    }
)  # fmt: skip

_SPACES = re.compile(r"\s+")


def is_invisible(char: str) -> bool:
    """Whether `char` is a control, format (zero-width, bidi), private, unassigned or blank
    character: one that a page would not show as itself."""
    code = ord(char)
    if code in _INVISIBLE or any(low <= code <= high for low, high in _INVISIBLE_RANGES):
        return True
    category = unicodedata.category(char)
    return category[0] == "C" or category in ("Zl", "Zp")


def name_problem(name: str) -> str | None:
    """The message refusing `name` for its characters, or None when every character shows."""
    bad = sorted({f"U+{ord(c):04X}" for c in name if is_invisible(c)})
    if bad:
        return (
            "Use only visible characters: invisible and direction-control characters "
            f"({', '.join(bad)}) would make this name read as another."
        )
    return None


def name_skeleton(name: str) -> str:
    """The form of `name` that every name rendering like it shares (see the module docstring)."""
    text = unicodedata.normalize("NFKD", name).casefold().translate(_CONFUSABLES)
    text = "".join(c for c in text if not is_invisible(c))
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def name_key(name: str) -> str:
    """The digest of the name's skeleton that `User.name_key` stores (unique)."""
    return hashlib.sha256(name_skeleton(name).encode("utf-8", "surrogatepass")).hexdigest()


def name_clash_message(taken: str) -> str:
    """The message refusing a name that reads the same as the existing user's name `taken`."""
    return f"That name reads the same as the existing user “{taken}”; choose another."


def name_errors(name: str, *, exclude_pk: int | None = None) -> list[str]:
    """Why `name` cannot be a user's name (empty list: it can): invisible characters, or it
    reads the same as another user's name (ignoring case, look-alike letters and spacing).
    `exclude_pk` is the user being edited, whose own name is no clash."""
    from accounts.models import User

    problem = name_problem(name)
    if problem:
        return [problem]
    clash = User.objects.filter(name_key=name_key(name))
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    taken = clash.values_list("name", flat=True).first()
    return [name_clash_message(taken)] if taken is not None else []
